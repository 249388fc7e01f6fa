/**
 * The admission rule: every object a registered validating webhook would refuse. A check runs
 * on an object when a ValidatingWebhookConfiguration in the state registers its group and
 * resource, whatever its failurePolicy (a webhook that answers and refuses stops the apply
 * either way).
 */
import type { KubernetesObject } from "../convert";
import type { Finding } from "../finding";
import { findingFor, type Rule } from "../rules/rule";
import { certificateAdmission, clusterIssuerAdmission, issuerAdmission } from "./cert-manager";
import { clusterAdmission, scheduledBackupAdmission } from "./cloudnative-pg";
import { externalSecretAdmission } from "./external-secrets";
import { clusterServingRuntimeAdmission, inferenceServiceAdmission, servingRuntimeAdmission } from "./kserve";
import { prometheusRuleAdmission } from "./prometheus-operator";
import type { AdmissionCheck } from "./types";

export const ADMISSION_CHECKS: readonly AdmissionCheck[] = [
  inferenceServiceAdmission,
  servingRuntimeAdmission,
  clusterServingRuntimeAdmission,
  certificateAdmission,
  issuerAdmission,
  clusterIssuerAdmission,
  clusterAdmission,
  scheduledBackupAdmission,
  externalSecretAdmission,
  prometheusRuleAdmission,
];

/** The ValidatingWebhookConfiguration webhook registered for a group and resource, if any. */
export function registeredWebhook(
  objects: readonly KubernetesObject[],
  group: string,
  resource: string,
): { configuration: string; webhook: string; failurePolicy: string } | undefined {
  for (const o of objects) {
    if (o.kind !== "ValidatingWebhookConfiguration") continue;
    const webhooks = ((o as { webhooks?: unknown[] }).webhooks ?? []) as {
      name: string;
      failurePolicy?: string;
      rules?: { apiGroups?: string[]; resources?: string[]; operations?: string[] }[];
    }[];
    for (const w of webhooks) {
      const covers = (w.rules ?? []).some(
        (r) =>
          (r.apiGroups ?? []).some((g) => g === "*" || g === group) &&
          (r.resources ?? []).some((x) => x === "*" || x === "*/*" || x === resource) &&
          (r.operations ?? ["*"]).some((op) => op === "*" || op === "CREATE"),
      );
      if (covers)
        return {
          configuration: o.metadata.name ?? "",
          webhook: w.name,
          failurePolicy: w.failurePolicy ?? "Fail",
        };
    }
  }
  return undefined;
}

export function admissionRule(checks: readonly AdmissionCheck[] = ADMISSION_CHECKS): Rule {
  return {
    name: "admission",
    summary:
      "objects pass the validating webhooks registered for them (KServe, cert-manager, CloudNativePG, External Secrets, prometheus-operator), as their sources at the pinned tags validate",
    check(state) {
      const findings: Finding[] = [];
      const objects = state.objects.map((o) => o.object);
      for (const check of checks) {
        const webhook = registeredWebhook(objects, check.group, check.resource);
        if (!webhook) continue;
        for (const at of state.objects) {
          const o = at.object;
          if (o.kind !== check.kind || !o.apiVersion.startsWith(`${check.group}/`)) continue;
          for (const refusal of check.check(o, objects))
            findings.push(
              findingFor(
                state,
                "admission",
                at,
                `${refusal.field}: ${refusal.message} (${check.component} webhook ${webhook.webhook}, failurePolicy ${webhook.failurePolicy}${refusal.severity === "warning" ? ", admitted with a warning" : ", refused"})`,
                refusal.fix,
                refusal.severity === "warning" ? "warning" : "error",
              ),
            );
        }
      }
      return findings;
    },
  };
}
