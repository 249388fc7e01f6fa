/**
 * Converts the Kubernetes provider's typed resources (`kubernetes_deployment_v1`, ...) into the
 * objects the provider sends to the API server. The provider's schema is the Kubernetes schema
 * in snake_case, with blocks as lists or single objects and singular names for repeated blocks
 * (`container`, `port`, `volume_mount`); the Kubernetes schema tells which is which.
 */
import { kindSchemas, type KindSchemas, type SchemaNode } from "./k8s-schema";

export interface KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

/** Provider resource type to apiVersion and kind. */
export const TYPED_RESOURCES: Readonly<
  Record<string, { readonly apiVersion: string; readonly kind: string }>
> = {
  kubernetes_namespace_v1: { apiVersion: "v1", kind: "Namespace" },
  kubernetes_config_map_v1: { apiVersion: "v1", kind: "ConfigMap" },
  kubernetes_secret_v1: { apiVersion: "v1", kind: "Secret" },
  kubernetes_service_v1: { apiVersion: "v1", kind: "Service" },
  kubernetes_service_account_v1: { apiVersion: "v1", kind: "ServiceAccount" },
  kubernetes_resource_quota_v1: { apiVersion: "v1", kind: "ResourceQuota" },
  kubernetes_limit_range_v1: { apiVersion: "v1", kind: "LimitRange" },
  kubernetes_persistent_volume_claim_v1: { apiVersion: "v1", kind: "PersistentVolumeClaim" },
  kubernetes_deployment_v1: { apiVersion: "apps/v1", kind: "Deployment" },
  kubernetes_stateful_set_v1: { apiVersion: "apps/v1", kind: "StatefulSet" },
  kubernetes_daemon_set_v1: { apiVersion: "apps/v1", kind: "DaemonSet" },
  kubernetes_job_v1: { apiVersion: "batch/v1", kind: "Job" },
  kubernetes_cron_job_v1: { apiVersion: "batch/v1", kind: "CronJob" },
  kubernetes_horizontal_pod_autoscaler_v2: { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler" },
  kubernetes_pod_disruption_budget_v1: { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  kubernetes_network_policy_v1: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  kubernetes_ingress_v1: { apiVersion: "networking.k8s.io/v1", kind: "Ingress" },
  kubernetes_storage_class_v1: { apiVersion: "storage.k8s.io/v1", kind: "StorageClass" },
  kubernetes_role_v1: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role" },
  kubernetes_role_binding_v1: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding" },
  kubernetes_cluster_role_v1: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole" },
  kubernetes_cluster_role_binding_v1: {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
  },
};

/** Terraform's own arguments and provider behaviour switches: not part of the object. */
const TERRAFORM_ARGUMENTS = new Set([
  "//",
  "count",
  "for_each",
  "provider",
  "depends_on",
  "lifecycle",
  "timeouts",
  "connection",
  "provisioner",
  "wait_for_rollout",
  "wait_for_completion",
  "wait_for_load_balancer",
  "wait_for_default_service_account",
]);

/** Provider names that are not the camelCase of the Kubernetes field. */
const RENAMED: Readonly<Record<string, string>> = {
  storage_provisioner: "provisioner",
  image_pull_secret: "imagePullSecrets",
};

export interface ConversionProblem {
  readonly path: string;
  readonly message: string;
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

/** Candidate Kubernetes names of a provider key: as is, then the plural of singular blocks. */
function candidates(key: string): string[] {
  if (RENAMED[key]) return [RENAMED[key]];
  const base = camel(key);
  return [base, `${base}s`, `${base}es`, base.replace(/y$/, "ies")];
}

function convertValue(
  schemas: KindSchemas,
  node: SchemaNode,
  value: unknown,
  path: string,
  problems: ConversionProblem[],
): unknown {
  if (value === null || value === undefined) return value;
  switch (node.type) {
    case "object": {
      const unwrapped = Array.isArray(value) && value.length === 1 ? value[0] : value;
      if (Array.isArray(unwrapped)) {
        if (unwrapped.length === 0) return undefined;
        problems.push({ path, message: `holds ${unwrapped.length} blocks where Kubernetes takes one` });
        return unwrapped;
      }
      if (typeof unwrapped !== "object") return unwrapped;
      const definition = schemas.definitions[node.ref];
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(unwrapped as Record<string, unknown>)) {
        if (TERRAFORM_ARGUMENTS.has(key)) continue;
        const name =
          candidates(key).find((c) => definition.properties[c]) ??
          // `timezone` is the provider's spelling of `timeZone`.
          Object.keys(definition.properties).find((p) => p.toLowerCase() === camel(key).toLowerCase()) ??
          camel(key);
        const property = definition.properties[name];
        const converted = property
          ? convertValue(schemas, property.schema, child, `${path}.${name}`, problems)
          : child;
        if (converted !== undefined) out[name] = converted;
      }
      return out;
    }
    case "array": {
      const list = Array.isArray(value) ? value : [value];
      return list.map((item, i) => convertValue(schemas, node.items, item, `${path}[${i}]`, problems));
    }
    case "map":
      return value;
    case "number":
      return typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    case "boolean":
      return value === "true" ? true : value === "false" ? false : value;
    case "int-or-string":
      // The provider parses ports and counts with intstr.Parse: digits become numbers.
      return typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
    case "string":
      return typeof value === "number" || typeof value === "boolean" ? String(value) : value;
    default:
      return value;
  }
}

/** Kubernetes object of one typed provider resource (its interpolations already resolved). */
export function convertTypedResource(
  type: string,
  config: Record<string, unknown>,
): { object: KubernetesObject; problems: ConversionProblem[] } {
  const target = TYPED_RESOURCES[type];
  if (!target)
    throw new Error(
      `${type} has no Kubernetes mapping; add it to TYPED_RESOURCES in scripts/verify/convert.ts`,
    );
  const schemas = kindSchemas([target]);
  const ref = schemas.kinds[`${target.apiVersion}/${target.kind}`];
  const problems: ConversionProblem[] = [];
  const body = convertValue(schemas, { type: "object", ref }, config, "", problems) as Record<
    string,
    unknown
  >;
  const object = { apiVersion: target.apiVersion, kind: target.kind, ...body } as KubernetesObject;
  object.metadata = (object.metadata as KubernetesObject["metadata"]) ?? {};
  return { object, problems };
}

/**
 * Decoded YAML or JSON of a third-party object, read field by field by the rules (which check
 * every value before using it).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Decoded = any;
