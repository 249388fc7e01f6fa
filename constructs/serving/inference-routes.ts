import { Construct } from "constructs";
import { IngressV1 } from "@cdktf/provider-kubernetes/lib/ingress-v1";
import type { ITerraformDependable } from "cdktf";
import { PREDICTOR_SERVICE_PORT, predictorServiceName, type ServedModel } from "./inference-services";

/**
 * How the ingress controller splits one host's requests across two Services by weight (the
 * target's `weightedRouting`).
 */
export type WeightedRouting = "forward-action" | "canary-ingress";

export interface InferenceRoutesProps {
  readonly namespace: string;
  readonly models: readonly ServedModel[];
  /** Host a model is published at. */
  readonly host: (model: string) => string;
  /** Ingress class of the route (the target's). */
  readonly className: string;
  /**
   * Annotations of each model's route: the target's load balancer settings (group, scheme,
   * certificate, TLS policy) and the health check of the predictors' readiness path.
   */
  readonly annotations: Readonly<Record<string, string>>;
  /** Secret the route's certificate is kept in, where TLS ends at the ingress controller; unset: none. */
  readonly tlsSecret?: (host: string) => string;
  readonly weightedRouting: WeightedRouting;
  /**
   * Each model's InferenceService, by model name: its routes are applied after it, so a route
   * names a canary's Service only once the InferenceService's apply has waited for it
   * (`InferenceServices`), and never changes when KServe's webhook refuses the InferenceService.
   */
  readonly inferenceServices?: Readonly<Record<string, ITerraformDependable>>;
}

/** Annotation prefix of the AWS Load Balancer Controller (its `--annotations-prefix` default). */
const ALB = "alb.ingress.kubernetes.io";
/** Annotation prefix of ingress-nginx (its `--annotations-prefix` default). */
const NGINX = "nginx.ingress.kubernetes.io";
/** The port name that makes the load balancer controller read the backend from an action annotation. */
const USE_ANNOTATION = "use-annotation";

/**
 * Host of an InferenceService: KServe v0.20.0's default `domainTemplate`
 * (`{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}`, which the platform keeps), so the URL
 * KServe reports in the InferenceService's status is the route's.
 */
export function inferenceServiceHost(model: string, namespace: string, domain: string): string {
  return `${model}-${namespace}.${domain}`;
}

/** Name of the Ingress that publishes `model` (KServe's own Ingress for it was named `model`). */
export function inferenceRouteName(model: string): string {
  return `${model}-route`;
}

/** Name of the ingress-nginx canary Ingress of `model`. */
export function inferenceCanaryRouteName(model: string): string {
  return `${model}-canary`;
}

/** Name of the weighted forward action of `model` (`alb.ingress.kubernetes.io/actions.<name>`). */
export function inferenceSplitActionName(model: string): string {
  return `${model}-split`;
}

/**
 * The AWS Load Balancer Controller's forward action over several Services, as its `actions.<name>`
 * annotation takes it (v3.5.0, `pkg/ingress/config_types.go`: `Action` of type `forward` with
 * `forwardConfig.targetGroups[]` of `serviceName`, `servicePort` and `weight`, which it requires
 * on every target group once there is more than one).
 */
export function forwardAction(targets: readonly { service: string; port: number; weight: number }[]): string {
  return JSON.stringify({
    type: "forward",
    forwardConfig: {
      targetGroups: targets.map((target) => ({
        serviceName: target.service,
        servicePort: target.port,
        weight: target.weight,
      })),
    },
  });
}

/**
 * The routes in front of the InferenceServices, owned by the platform: KServe's controller is
 * told to make no Ingress (`disableIngressCreation`), because in Standard mode with a Kubernetes
 * Ingress KServe v0.20.0 sends every request to the primary predictor's Service whatever a
 * canary's `trafficPercent` says, and never updates its Ingress when only annotations change.
 *
 * Each model gets the Ingress `<model>-route` at its host. Without a canary it sends everything to
 * the primary predictor's Service (`<model>-primary-predictor`, port 80, whatever version it serves:
 * a version change is a rolling update behind the same Service). With a canary (`<model>-canary-predictor`):
 * - `forward-action` (ALB): the route's backend is the action `<model>-split`, a weighted forward
 *   to the primary's and the canary's Services (100 - trafficPercent and trafficPercent); one
 *   target group per Service, both with the route's health check;
 * - `canary-ingress` (ingress-nginx): a second Ingress `<model>-canary` for the same host and path
 *   to the canary's Service, with `canary: "true"` and `canary-weight: trafficPercent`. It carries
 *   no TLS and no certificate annotation: ingress-nginx serves the main Ingress's.
 *
 * Annotations are Terraform's, so a change of certificate, scheme or health check is a change of
 * this object, which the ingress controller reconciles.
 */
export class InferenceRoutes extends Construct {
  public readonly routes: IngressV1[] = [];
  public readonly canaryRoutes: IngressV1[] = [];

  constructor(scope: Construct, id: string, props: InferenceRoutesProps) {
    super(scope, id);
    for (const model of props.models) {
      const host = props.host(model.name);
      const labels = { "app.kubernetes.io/part-of": "mlops-platform", "mlops-platform/model": model.name };
      const primary = predictorServiceName(model.name, "primary");
      const canaryService = predictorServiceName(model.name, "canary");
      const after = props.inferenceServices?.[model.name];
      const dependsOn = after ? [after] : undefined;
      const canary = model.canary;
      const split = canary !== undefined && props.weightedRouting === "forward-action";
      if (
        canary &&
        (!Number.isInteger(canary.trafficPercent) || canary.trafficPercent < 1 || canary.trafficPercent > 99)
      ) {
        throw new Error(
          `InferenceRoutes ${model.name}: canary.trafficPercent (${canary.trafficPercent}) must be a whole number from 1 to 99; promote the canary or remove it instead`,
        );
      }
      const action = inferenceSplitActionName(model.name);
      const backend = split
        ? { service: { name: action, port: { name: USE_ANNOTATION } } }
        : { service: { name: primary, port: { number: PREDICTOR_SERVICE_PORT } } };
      const annotations: Record<string, string> = { ...props.annotations };
      if (split) {
        annotations[`${ALB}/actions.${action}`] = forwardAction([
          { service: primary, port: PREDICTOR_SERVICE_PORT, weight: 100 - canary.trafficPercent },
          { service: canaryService, port: PREDICTOR_SERVICE_PORT, weight: canary.trafficPercent },
        ]);
      }
      const tlsSecret = props.tlsSecret?.(host);
      const rule = (to: typeof backend) => [
        { host, http: { path: [{ path: "/", pathType: "Prefix", backend: to }] } },
      ];
      this.routes.push(
        new IngressV1(this, model.name, {
          dependsOn,
          metadata: { name: inferenceRouteName(model.name), namespace: props.namespace, labels, annotations },
          spec: {
            ingressClassName: props.className,
            rule: rule(backend),
            ...(tlsSecret ? { tls: [{ hosts: [host], secretName: tlsSecret }] } : {}),
          },
        }),
      );
      if (canary && props.weightedRouting === "canary-ingress") {
        this.canaryRoutes.push(
          new IngressV1(this, `${model.name}-canary`, {
            dependsOn,
            metadata: {
              name: inferenceCanaryRouteName(model.name),
              namespace: props.namespace,
              labels,
              annotations: {
                [`${NGINX}/canary`]: "true",
                [`${NGINX}/canary-weight`]: String(canary.trafficPercent),
              },
            },
            spec: {
              ingressClassName: props.className,
              rule: rule({
                service: { name: canaryService, port: { number: PREDICTOR_SERVICE_PORT } },
              }),
            },
          }),
        );
      }
    }
  }
}
