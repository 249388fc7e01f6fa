/**
 * The webhook configuration Kubeflow Pipelines' cache-deployer creates at run time, which no
 * manifest holds: modelled from backend/src/cache/deployer at 2.17.0 so the API server's call
 * to the cache server is a checked flow like every rendered webhook's.
 */
import type { Decoded, KubernetesObject } from "./convert";
import type { OperandObject } from "./operands";

/**
 * For each cache-deployer Deployment (image `kfp-cache-deployer`), the MutatingWebhookConfiguration
 * `cache-webhook-<namespace>` that `deploy-cache-service.sh` applies from
 * `cache-webhook-config.v1.yaml.template`: the `cache-server` Service of the deployer's own
 * namespace (NAMESPACE_TO_WATCH is its metadata.namespace) at `/mutate` on 443, for pods
 * created with `pipelines.kubeflow.org/cache_enabled: "true"`, failurePolicy Ignore, 5 s.
 */
export function kubeflowCacheWebhooks(objects: readonly KubernetesObject[]): OperandObject[] {
  const out: OperandObject[] = [];
  for (const o of objects) {
    if (o.kind !== "Deployment") continue;
    const containers = ((o.spec as Decoded)?.template?.spec?.containers ?? []) as { image?: string }[];
    const deployer = containers.find((c) => /\/kfp-cache-deployer(:|@)/.test(c.image ?? ""));
    if (!deployer) continue;
    const namespace = o.metadata.namespace ?? "default";
    const version = /:([^@:/]+)$/.exec(deployer.image ?? "")?.[1] ?? "unknown";
    out.push({
      source: `controller (Kubeflow Pipelines ${version} cache-deployer, Deployment ${namespace}/${o.metadata.name})`,
      object: {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "MutatingWebhookConfiguration",
        metadata: { name: `cache-webhook-${namespace}` },
        webhooks: [
          {
            name: `cache-server.${namespace}.svc`,
            clientConfig: { service: { name: "cache-server", namespace, path: "/mutate" } },
            failurePolicy: "Ignore",
            rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
            sideEffects: "None",
            timeoutSeconds: 5,
            objectSelector: { matchLabels: { "pipelines.kubeflow.org/cache_enabled": "true" } },
            admissionReviewVersions: ["v1beta1"],
          },
        ],
      } as KubernetesObject,
    });
  }
  return out;
}
