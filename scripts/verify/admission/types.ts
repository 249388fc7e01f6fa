/**
 * What a component's validating webhook refuses, written from its source at the pinned tag.
 * Each check names the upstream file and function it follows.
 */
import type { KubernetesObject } from "../convert";

/** One refusal: the field, what is wrong with its value, and the fix. */
export interface Refusal {
  readonly field: string;
  readonly message: string;
  readonly fix: string;
  /** A warning the webhook returns while admitting; refusals are errors. */
  readonly severity?: "warning";
}

export interface AdmissionCheck {
  /** `serving.kserve.io` */
  readonly group: string;
  /** `inferenceservices` (the resource a ValidatingWebhookConfiguration's rule names). */
  readonly resource: string;
  readonly kind: string;
  /** Component and tag the check follows: `KServe v0.20.0`. */
  readonly component: string;
  /** What the webhook refuses in this object; `objects` is the rest of the state (for cross-object rules). */
  check(object: KubernetesObject, objects: readonly KubernetesObject[]): Refusal[];
}
