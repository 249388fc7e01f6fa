/**
 * The pods the state would run: every pod template with its namespace, labels and the replica
 * counts the environment allows (HPAs at their maximum, DaemonSets on every node they fit).
 */
import type { KubernetesObject, Decoded } from "./convert";
import type { ClusterState, NodeGroupFacts, StateObject } from "./state";

export interface Container {
  name: string;
  image?: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  securityContext?: Record<string, Decoded>;
  env?: { name: string; value?: string; valueFrom?: Record<string, Decoded> }[];
  envFrom?: Record<string, Decoded>[];
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  volumes?: Record<string, Decoded>[];
  securityContext?: Record<string, Decoded>;
  serviceAccountName?: string;
  serviceAccount?: string;
  automountServiceAccountToken?: boolean;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  affinity?: Record<string, Decoded>;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  imagePullSecrets?: { name: string }[];
  [key: string]: unknown;
}

export interface Workload {
  readonly owner: StateObject;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: PodSpec;
  /** Pods at the most the environment allows (HPA maximum, DaemonSet on every fitting node). */
  readonly maxPods: number;
  /** Extra pods a rolling update adds on top (Deployment maxSurge). */
  readonly surgePods: number;
  /** Pods at the least (replicas, or the HPA minimum): what a PDB must leave room in. */
  readonly minPods: number;
}

export function objectName(object: KubernetesObject): string {
  const ns = object.metadata?.namespace;
  return `${object.kind} ${ns ? `${ns}/` : ""}${object.metadata?.name ?? "(unnamed)"}`;
}

function tolerates(tolerations: PodSpec["tolerations"], taint: NodeGroupFacts["taints"][number]): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === "Exists") return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
  });
}

function matchesExpression(
  labels: Readonly<Record<string, string>>,
  e: { key: string; operator: string; values?: string[] },
): boolean {
  const value = labels[e.key];
  switch (e.operator) {
    case "In":
      return value !== undefined && (e.values ?? []).includes(value);
    case "NotIn":
      return value === undefined || !(e.values ?? []).includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    default:
      return true;
  }
}

/** Node groups a pod template can be scheduled on (node selector, required node affinity, taints). */
export function fittingNodeGroups(spec: PodSpec, groups: readonly NodeGroupFacts[]): NodeGroupFacts[] {
  return groups.filter((group) => {
    const labels = { ...group.labels, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" };
    for (const [k, v] of Object.entries(spec.nodeSelector ?? {}))
      if (labels[k as keyof typeof labels] !== v) return false;
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.nodeSelectorTerms as
      { matchExpressions?: { key: string; operator: string; values?: string[] }[] }[] | undefined;
    if (
      terms &&
      terms.length > 0 &&
      !terms.some((t) => (t.matchExpressions ?? []).every((e) => matchesExpression(labels, e)))
    ) {
      return false;
    }
    return group.taints.every(
      (taint) => taint.effect === "PreferNoSchedule" || tolerates(spec.tolerations, taint),
    );
  });
}

/** Whether a label selector (`matchLabels`/`matchExpressions`) selects these labels. */
export function selects(
  selector:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  return (selector.matchExpressions ?? []).every((e) => matchesExpression(labels, e));
}

function surgeOf(object: KubernetesObject, replicas: number): number {
  const strategy = (
    object.spec as { strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string } } }
  ).strategy;
  if (strategy?.type === "Recreate") return 0;
  const surge = strategy?.rollingUpdate?.maxSurge ?? "25%";
  if (typeof surge === "number") return surge;
  const percent = /^(\d+)%$/.exec(surge);
  return percent ? Math.ceil((replicas * Number(percent[1])) / 100) : Number(surge) || 0;
}

function hpaFor(state: ClusterState, object: KubernetesObject) {
  return state.objects.find(
    (o) =>
      o.object.kind === "HorizontalPodAutoscaler" &&
      o.object.metadata.namespace === object.metadata.namespace &&
      (o.object.spec as { scaleTargetRef?: { kind?: string; name?: string } }).scaleTargetRef?.kind ===
        object.kind &&
      (o.object.spec as { scaleTargetRef?: { name?: string } }).scaleTargetRef?.name === object.metadata.name,
  )?.object.spec as { minReplicas?: number; maxReplicas?: number } | undefined;
}

export interface ServingRuntimeSpec {
  disabled?: boolean;
  protocolVersions?: string[];
  supportedModelFormats?: { name: string; version?: string; autoSelect?: boolean; priority?: number }[];
  containers?: Container[];
}

/**
 * The runtime KServe picks for a model: the one named, else the enabled runtime (namespace ones
 * first) that auto-selects the model's format and protocol, highest priority first.
 */
export function selectRuntime(
  objects: readonly KubernetesObject[],
  namespace: string,
  model: { runtime?: string; modelFormat?: { name?: string; version?: string }; protocolVersion?: string },
): { name: string; spec: ServingRuntimeSpec } | undefined {
  const runtimes = objects
    .filter(
      (o) =>
        (o.kind === "ServingRuntime" && o.metadata.namespace === namespace) ||
        o.kind === "ClusterServingRuntime",
    )
    .map((o) => ({
      name: o.metadata.name ?? "",
      spec: (o.spec ?? {}) as ServingRuntimeSpec,
      namespaced: o.kind === "ServingRuntime",
    }));
  if (model.runtime) return runtimes.find((r) => r.name === model.runtime);
  const protocol = model.protocolVersion ?? "v1";
  const format = model.modelFormat ?? {};
  const candidates = runtimes
    .filter((r) => !r.spec.disabled && (r.spec.protocolVersions ?? ["v1"]).includes(protocol))
    .map((r) => ({
      runtime: r,
      match: (r.spec.supportedModelFormats ?? []).find(
        (f) => f.autoSelect && f.name === format.name && (!format.version || f.version === format.version),
      ),
    }))
    .filter((c) => c.match)
    .sort(
      (a, b) =>
        Number(b.runtime.namespaced) - Number(a.runtime.namespaced) ||
        (b.match!.priority ?? 0) - (a.match!.priority ?? 0),
    );
  return candidates[0]?.runtime;
}

/** Resources prometheus-operator gives its config-reloader sidecars, from the operator's arguments. */
function configReloaderResources(state: ClusterState): Container["resources"] {
  const args = state.objects
    .filter((o) => o.object.kind === "Deployment")
    .flatMap((o) => ((o.object.spec as Decoded)?.template?.spec?.containers ?? []) as Container[])
    .flatMap((c) => (c.args as string[] | undefined) ?? [])
    .filter((a) => a.startsWith("--config-reloader-"));
  const flag = (name: string) => {
    const value = args.find((a) => a.startsWith(`--config-reloader-${name}=`))?.split("=")[1];
    return value && value !== "0" ? value : undefined;
  };
  const pick = (cpu?: string, memory?: string) =>
    Object.fromEntries(Object.entries({ cpu, memory }).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
  return {
    requests: pick(flag("cpu-request"), flag("memory-request")),
    limits: pick(flag("cpu-limit"), flag("memory-limit")),
  };
}

/** Every pod template in the state. */
export function workloads(state: ClusterState): Workload[] {
  const out: Workload[] = [];
  for (const owner of state.objects) {
    const object = owner.object;
    const namespace = object.metadata?.namespace ?? "default";
    const spec = object.spec as Record<string, Decoded> | undefined;
    const template = (t: Decoded) => ({
      spec: (t?.spec ?? { containers: [] }) as PodSpec,
      labels: (t?.metadata?.labels ?? {}) as Record<string, string>,
    });
    switch (object.kind) {
      case "StatefulSet": {
        // The controller labels each pod with its name and index; per-pod Services select on them.
        const replicas = typeof spec?.replicas === "number" ? spec.replicas : 1;
        const t = template(spec?.template);
        for (let i = 0; i < replicas; i++) {
          const labels = {
            ...t.labels,
            "statefulset.kubernetes.io/pod-name": `${object.metadata.name}-${i}`,
            "apps.kubernetes.io/pod-index": String(i),
          };
          out.push({ owner, namespace, spec: t.spec, labels, maxPods: 1, surgePods: 0, minPods: 1 });
        }
        break;
      }
      case "Deployment":
      case "ReplicaSet": {
        const replicas = typeof spec?.replicas === "number" ? spec.replicas : 1;
        const hpa = hpaFor(state, object);
        const max = hpa ? (hpa.maxReplicas ?? replicas) : replicas;
        const t = template(spec?.template);
        out.push({
          owner,
          namespace,
          ...t,
          maxPods: max,
          surgePods: object.kind === "Deployment" ? surgeOf(object, max) : 0,
          minPods: hpa ? (hpa.minReplicas ?? 1) : replicas,
        });
        break;
      }
      case "DaemonSet": {
        const t = template(spec?.template);
        const nodes = fittingNodeGroups(t.spec, state.environment.nodeGroups).reduce(
          (n, g) => n + g.maxSize,
          0,
        );
        out.push({ owner, namespace, ...t, maxPods: nodes, surgePods: 0, minPods: nodes });
        break;
      }
      case "Job": {
        const t = template(spec?.template);
        const parallel = typeof spec?.parallelism === "number" ? spec.parallelism : 1;
        out.push({ owner, namespace, ...t, maxPods: parallel, surgePods: 0, minPods: 0 });
        break;
      }
      case "CronJob": {
        const job = spec?.jobTemplate?.spec;
        const t = template(job?.template);
        const parallel = typeof job?.parallelism === "number" ? job.parallelism : 1;
        out.push({ owner, namespace, ...t, maxPods: parallel, surgePods: 0, minPods: 0 });
        break;
      }
      case "Pod":
        out.push({
          owner,
          namespace,
          spec: object.spec as PodSpec,
          labels: object.metadata.labels ?? {},
          maxPods: 1,
          surgePods: 0,
          minPods: 1,
        });
        break;
      case "Prometheus":
      case "Alertmanager": {
        if (!object.apiVersion.startsWith("monitoring.coreos.com/")) break;
        const name = object.metadata.name ?? "";
        const app = object.kind.toLowerCase();
        const replicas = typeof spec?.replicas === "number" ? spec.replicas : 1;
        // The operator's pod labels, and its config-reloader sidecar with the resources the
        // operator is started with (`--config-reloader-*`; 0 means none).
        const labels = {
          ...(spec?.podMetadata?.labels ?? {}),
          "app.kubernetes.io/name": app,
          "app.kubernetes.io/managed-by": "prometheus-operator",
          "app.kubernetes.io/instance": name,
          "operator.prometheus.io/name": name,
          ...(app === "prometheus" ? { "operator.prometheus.io/shard": "0" } : {}),
          [app]: name,
        };
        const reloader = {
          name: "config-reloader",
          ports: [{ name: "reloader-web", containerPort: 8080, protocol: "TCP" }],
          resources: configReloaderResources(state),
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
        };
        const generated: Container[] = [
          {
            name: app,
            image: spec?.image,
            ports: [{ name: "web", containerPort: app === "prometheus" ? 9090 : 9093, protocol: "TCP" }],
            resources: spec?.resources,
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
          reloader,
        ];
        // `spec.containers` patches the generated containers by name and adds the others.
        const patches = (spec?.containers as Container[] | undefined) ?? [];
        const containers = [
          ...generated.map((c) => ({ ...c, ...(patches.find((p) => p.name === c.name) ?? {}) })),
          ...patches.filter((p) => !generated.some((c) => c.name === p.name)),
        ];
        const podSpec: PodSpec = {
          containers,
          securityContext: spec?.securityContext,
          serviceAccountName: spec?.serviceAccountName,
          nodeSelector: spec?.nodeSelector,
          tolerations: spec?.tolerations,
          affinity: spec?.affinity,
          volumes: spec?.volumes,
          hostNetwork: spec?.hostNetwork,
          imagePullSecrets: spec?.imagePullSecrets,
        };
        out.push({
          owner,
          namespace,
          spec: podSpec,
          labels,
          maxPods: replicas,
          surgePods: 0,
          minPods: replicas,
        });
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** All containers of a pod spec, init and ephemeral ones included. */
export function allContainers(
  spec: PodSpec,
): { container: Container; kind: "container" | "initContainer" | "ephemeralContainer" }[] {
  return [
    ...(spec.containers ?? []).map((container) => ({ container, kind: "container" as const })),
    ...(spec.initContainers ?? []).map((container) => ({ container, kind: "initContainer" as const })),
    ...(spec.ephemeralContainers ?? []).map((container) => ({
      container,
      kind: "ephemeralContainer" as const,
    })),
  ];
}

/** The ServiceAccount a workload's pods run as, and the object, if the state holds it. */
export function serviceAccountOf(
  state: ClusterState,
  w: Workload,
): { readonly name: string; readonly object?: KubernetesObject } {
  const name = w.spec.serviceAccountName ?? w.spec.serviceAccount ?? "default";
  const object = state.objects.find(
    (o) =>
      o.object.kind === "ServiceAccount" &&
      o.object.metadata.namespace === w.namespace &&
      o.object.metadata.name === name,
  )?.object;
  return { name, object };
}
