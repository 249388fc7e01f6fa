/**
 * Objects operators create from the custom resources in the state, modelled from the operators'
 * sources at the pinned versions so the rules see the pods, Services, Secrets and budgets that
 * will run: CloudNativePG 1.30.0 (chart `cloudnative-pg` 0.29.0) for each `Cluster`, and the
 * GPU Operator v26.7.0 for its `ClusterPolicy`.
 */
import type { Decoded, KubernetesObject } from "./convert";
import type { Container, PodSpec } from "./workloads";
import { kserveObjects } from "./controllers/kserve";

/** An object an operator creates, with who creates it (the state's `source`). */
export interface OperandObject {
  readonly object: KubernetesObject;
  readonly source: string;
}

const CNPG_SOURCE = "operator (CloudNativePG 1.30.0, from Cluster";
/** Labels CloudNativePG gives everything it creates for a Cluster (pkg/specs: services.go, pods.go). */
function cnpgLabels(cluster: string, major: string): Record<string, string> {
  return {
    "cnpg.io/cluster": cluster,
    "app.kubernetes.io/name": "postgresql",
    "app.kubernetes.io/instance": cluster,
    "app.kubernetes.io/version": major,
    "app.kubernetes.io/component": "database",
    "app.kubernetes.io/managed-by": "cloudnative-pg",
  };
}

/** PostgreSQL's port, the instance manager's status port and the exporter's (pkg/management/url). */
export const CNPG_PORTS = { postgresql: 5432, status: 8000, metrics: 9187 } as const;

/** The image the operator puts in the instances' `bootstrap-controller` init container. */
function cnpgOperatorImage(objects: readonly KubernetesObject[]): string | undefined {
  for (const o of objects) {
    if (o.kind !== "Deployment") continue;
    for (const c of ((o.spec as Decoded)?.template?.spec?.containers ?? []) as Container[]) {
      const value = (c.env ?? []).find((e) => e.name === "OPERATOR_IMAGE_NAME") as
        { value?: string } | undefined;
      if (value?.value) return value.value;
    }
  }
  return undefined;
}

/**
 * What CloudNativePG creates for one `Cluster` (internal/controller/cluster_create.go and
 * pkg/specs at v1.30.0): the ServiceAccount `<cluster>` carrying the Cluster's pull Secrets, its
 * Role and RoleBinding, the Services `-rw` (primary), `-ro` (replicas) and `-r` (any instance)
 * on 5432, the Secrets `-ca`, `-server`, `-replication` (and `-app` when initdb names no Secret,
 * `-superuser` when superuser access is on), the PodDisruptionBudgets when `enablePDB` (`-primary`
 * with minAvailable 1; `<cluster>` over the replicas, minAvailable instances-2, from 3 instances),
 * and one Pod per instance, `<cluster>-<n>`, the first the primary.
 */
export function cloudNativePgObjects(
  cluster: KubernetesObject,
  objects: readonly KubernetesObject[],
): OperandObject[] {
  const name = cluster.metadata.name ?? "";
  const namespace = cluster.metadata.namespace ?? "default";
  const spec = (cluster.spec ?? {}) as Record<string, Decoded>;
  const image: string = spec.imageName ?? "";
  const major = /:(\d+)/.exec(image)?.[1] ?? "";
  const labels = cnpgLabels(name, major);
  const instances = typeof spec.instances === "number" ? spec.instances : 1;
  const source = `${CNPG_SOURCE} ${namespace}/${name})`;
  const meta = (objectName: string, extra: Record<string, string> = {}) => ({
    name: objectName,
    namespace,
    labels: { ...labels, ...extra },
  });
  const out: KubernetesObject[] = [];
  const pullSecrets = ((spec.imagePullSecrets ?? []) as { name: string }[]).map((s) => ({ name: s.name }));
  out.push({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "cloudnative-pg" } },
    ...(pullSecrets.length > 0 ? { imagePullSecrets: pullSecrets } : {}),
  } as KubernetesObject);
  out.push({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "cloudnative-pg" } },
    // The instance manager reads its Cluster and the Secrets and ConfigMaps it uses (pkg/specs/roles.go).
    rules: [
      { apiGroups: ["postgresql.cnpg.io"], resources: ["clusters"], verbs: ["get", "list", "watch"] },
      { apiGroups: [""], resources: ["secrets", "configmaps"], verbs: ["get", "watch"] },
    ],
  } as KubernetesObject);
  out.push({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace, labels: { "app.kubernetes.io/managed-by": "cloudnative-pg" } },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
    subjects: [{ kind: "ServiceAccount", name, namespace }],
  } as KubernetesObject);
  const ports = [
    { name: "postgres", port: CNPG_PORTS.postgresql, targetPort: CNPG_PORTS.postgresql, protocol: "TCP" },
  ];
  const service = (suffix: string, selector: Record<string, string>): KubernetesObject => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(`${name}-${suffix}`),
    spec: { type: "ClusterIP", ports, selector },
  });
  out.push(service("rw", { "cnpg.io/cluster": name, "cnpg.io/instanceRole": "primary" }));
  out.push(service("ro", { "cnpg.io/cluster": name, "cnpg.io/instanceRole": "replica" }));
  out.push(service("r", { "cnpg.io/cluster": name, "cnpg.io/podRole": "instance" }));

  const initdb = (spec.bootstrap?.initdb ?? undefined) as { secret?: { name?: string } } | undefined;
  const secrets = ["ca", "server", "replication"];
  if (initdb && !initdb.secret?.name) secrets.push("app");
  if (spec.enableSuperuserAccess === true) secrets.push("superuser");
  for (const suffix of secrets)
    out.push({ apiVersion: "v1", kind: "Secret", metadata: meta(`${name}-${suffix}`) });

  // `enablePDB` defaults to true (api/v1 Cluster.GetEnablePDB).
  if (spec.enablePDB !== false) {
    out.push({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(`${name}-primary`),
      spec: {
        selector: { matchLabels: { "cnpg.io/cluster": name, "cnpg.io/instanceRole": "primary" } },
        minAvailable: 1,
      },
    });
    if (instances >= 3) {
      out.push({
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: meta(name),
        spec: {
          selector: { matchLabels: { "cnpg.io/cluster": name, "cnpg.io/instanceRole": "replica" } },
          minAvailable: instances - 2,
        },
      });
    }
  }

  // Pod and container security contexts (pkg/specs/pods.go GetPodSecurityContext,
  // containers.go GetSecurityContext): non-root as postgresUID/GID, RuntimeDefault seccomp, no
  // capabilities, read-only root.
  const seccompProfile = (spec.seccompProfile as Decoded) ?? { type: "RuntimeDefault" };
  const securityContext = {
    seccompProfile,
    capabilities: { drop: ["ALL"] },
    privileged: false,
    runAsNonRoot: true,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    ...((spec.securityContext as Decoded) ?? {}),
  };
  const resources = spec.resources as Container["resources"];
  const endpointCA = spec.backup?.barmanObjectStore?.endpointCA as { name?: string } | undefined;
  const affinity = (spec.affinity ?? {}) as Record<string, Decoded>;
  for (let serial = 1; serial <= instances; serial++) {
    const podName = `${name}-${serial}`;
    const podSpec: PodSpec = {
      serviceAccountName: name,
      securityContext: {
        runAsUser: spec.postgresUID ?? 26,
        runAsGroup: spec.postgresGID ?? 26,
        fsGroup: spec.postgresGID ?? 26,
        runAsNonRoot: true,
        seccompProfile,
      },
      initContainers: [
        {
          name: "bootstrap-controller",
          image: cnpgOperatorImage(objects),
          resources,
          securityContext,
        },
      ],
      containers: [
        {
          name: "postgres",
          image,
          resources,
          securityContext,
          env: (spec.env ?? []) as Container["env"],
          ports: [
            { name: "postgresql", containerPort: CNPG_PORTS.postgresql, protocol: "TCP" },
            { name: "metrics", containerPort: CNPG_PORTS.metrics, protocol: "TCP" },
            { name: "status", containerPort: CNPG_PORTS.status, protocol: "TCP" },
          ],
        },
      ],
      volumes: [
        { name: "pgdata", persistentVolumeClaim: { claimName: podName } },
        { name: "scratch-data", emptyDir: {} },
        { name: "shm", emptyDir: { medium: "Memory" } },
        ...(endpointCA?.name
          ? [{ name: "barman-endpoint-ca", secret: { secretName: endpointCA.name } }]
          : []),
      ],
      ...(affinity.nodeSelector ? { nodeSelector: affinity.nodeSelector } : {}),
      ...(affinity.tolerations ? { tolerations: affinity.tolerations } : {}),
    };
    const role = serial === 1 ? "primary" : "replica";
    out.push({
      apiVersion: "v1",
      kind: "Pod",
      metadata: meta(podName, {
        "cnpg.io/instanceName": podName,
        "cnpg.io/podRole": "instance",
        "cnpg.io/instanceRole": role,
        role,
      }),
      spec: podSpec,
    });
  }
  return out.map((object) => ({ object, source }));
}

/**
 * Whether a PodDisruptionBudget that leaves no eviction is released by its operator: the
 * CloudNativePG `-primary` budget of a Cluster with replicas. When the primary's node is cordoned
 * or drained the operator switches the primary over to a replica (mapNodeToClusters and the
 * switchover in internal/controller/cluster_controller.go), after which the old primary is a
 * replica covered by the replicas' budget, so the drain proceeds.
 */
export function releasedByOperator(
  pdb: KubernetesObject,
  objects: readonly KubernetesObject[],
): string | undefined {
  const selector = (pdb.spec as { selector?: { matchLabels?: Record<string, string> } })?.selector
    ?.matchLabels;
  const cluster = selector?.["cnpg.io/cluster"];
  if (!cluster || selector?.["cnpg.io/instanceRole"] !== "primary") return undefined;
  const owner = objects.find(
    (o) =>
      o.kind === "Cluster" &&
      o.apiVersion.startsWith("postgresql.cnpg.io/") &&
      o.metadata.name === cluster &&
      o.metadata.namespace === pdb.metadata.namespace,
  );
  const instances = (owner?.spec as { instances?: number } | undefined)?.instances ?? 1;
  return instances > 1
    ? `CloudNativePG switches the primary over to a replica when its node is cordoned`
    : undefined;
}

const GPU_SOURCE = "operator (GPU Operator v26.7.0, from ClusterPolicy";

/** A component of the ClusterPolicy as the operator reads it. */
interface GpuComponent {
  enabled?: boolean;
  repository?: string;
  image?: string;
  version?: string;
  imagePullSecrets?: string[];
  resources?: Container["resources"];
}

/** `<repository>/<image>:<version>`, or `@<version>` for a digest (the operator's image path). */
function gpuImage(component: GpuComponent | undefined): string | undefined {
  if (!component?.image) return undefined;
  const base = component.repository ? `${component.repository}/${component.image}` : component.image;
  if (!component.version) return base;
  return component.version.startsWith("sha256:")
    ? `${base}@${component.version}`
    : `${base}:${component.version}`;
}

/**
 * Node labels the GPU Operator puts on every node with an NVIDIA GPU (NFD's PCI vendor 10de
 * label), one `nvidia.com/gpu.deploy.<operand>` per operand it schedules there
 * (controllers/state_manager.go); operands select their nodes by them.
 */
export const GPU_OPERATOR_NODE_LABELS: Readonly<Record<string, string>> = {
  "nvidia.com/gpu.present": "true",
  "nvidia.com/gpu.deploy.driver": "true",
  "nvidia.com/gpu.deploy.container-toolkit": "true",
  "nvidia.com/gpu.deploy.device-plugin": "true",
  "nvidia.com/gpu.deploy.dcgm": "true",
  "nvidia.com/gpu.deploy.dcgm-exporter": "true",
  "nvidia.com/gpu.deploy.gpu-feature-discovery": "true",
  "nvidia.com/gpu.deploy.operator-validator": "true",
  "nvidia.com/gpu.deploy.node-status-exporter": "true",
};

/**
 * The operands the GPU Operator v26.7.0 creates in its namespace from the ClusterPolicy
 * (assets/state-*), for container workloads (sandbox workloads off): the driver when
 * `driver.enabled`, the container toolkit, device plugin, GPU feature discovery, DCGM exporter
 * (with its Service `nvidia-dcgm-exporter` on 9400 and, when asked, the ServiceMonitor), DCGM
 * when `dcgm.enabled` and the validator, each a privileged DaemonSet on the nodes the operator
 * labels, with the component's image and pull Secrets, the ClusterPolicy's common labels and
 * tolerations, and a ServiceAccount bound to a Role. The MIG manager runs only on MIG-capable
 * GPUs (`nvidia.com/mig.capable=true`, which the environments' GPUs do not report) and is not
 * modelled.
 */
export function gpuOperatorObjects(policy: KubernetesObject, namespace: string): OperandObject[] {
  const spec = (policy.spec ?? {}) as Record<string, Decoded>;
  const common = (spec.daemonsets ?? {}) as {
    labels?: Record<string, string>;
    tolerations?: PodSpec["tolerations"];
    priorityClassName?: string;
  };
  const validator = spec.validator as GpuComponent | undefined;
  const source = `${GPU_SOURCE} ${policy.metadata.name})`;
  const out: KubernetesObject[] = [];
  const privileged = { privileged: true };
  const validation = (component: string): Container => ({
    name: `${component}-validation`,
    image: gpuImage(validator),
    securityContext: privileged,
  });
  const daemonSet = (
    name: string,
    app: string,
    deployLabel: string,
    account: string,
    component: GpuComponent,
    pod: Pick<PodSpec, "containers" | "initContainers" | "hostPID">,
  ) => {
    const secrets = [
      ...new Set([...(component.imagePullSecrets ?? []), ...(validator?.imagePullSecrets ?? [])]),
    ];
    out.push({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: account, namespace },
    });
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: account, namespace },
      rules: [{ apiGroups: [""], resources: ["pods", "configmaps"], verbs: ["get", "list", "watch"] }],
    } as KubernetesObject);
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: account, namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: account },
      subjects: [{ kind: "ServiceAccount", name: account, namespace }],
    } as KubernetesObject);
    const labels = { ...(common.labels ?? {}), app };
    out.push({
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name, namespace, labels: { app } },
      spec: {
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: { [`nvidia.com/gpu.deploy.${deployLabel}`]: "true" },
            tolerations: common.tolerations ?? [],
            priorityClassName: common.priorityClassName ?? "system-node-critical",
            serviceAccountName: account,
            ...(secrets.length > 0 ? { imagePullSecrets: secrets.map((s) => ({ name: s })) } : {}),
            ...pod,
          },
        },
      },
    });
  };
  const enabled = (key: string, byDefault: boolean) =>
    ((spec[key] as GpuComponent | undefined)?.enabled ?? byDefault) === true;
  const component = (key: string) => (spec[key] ?? {}) as GpuComponent;

  if (enabled("driver", true)) {
    const driver = component("driver");
    daemonSet("nvidia-driver-daemonset", "nvidia-driver-daemonset", "driver", "nvidia-driver", driver, {
      hostPID: true,
      containers: [
        {
          name: "nvidia-driver-ctr",
          image: gpuImage(driver),
          securityContext: privileged,
          resources: driver.resources,
        },
      ],
    });
  }
  if (enabled("toolkit", true)) {
    const toolkit = component("toolkit");
    daemonSet(
      "nvidia-container-toolkit-daemonset",
      "nvidia-container-toolkit-daemonset",
      "container-toolkit",
      "nvidia-container-toolkit",
      toolkit,
      {
        hostPID: true,
        initContainers: [validation("driver")],
        containers: [
          {
            name: "nvidia-container-toolkit-ctr",
            image: gpuImage(toolkit),
            securityContext: privileged,
            resources: toolkit.resources,
          },
        ],
      },
    );
  }
  if (enabled("devicePlugin", true)) {
    const plugin = component("devicePlugin");
    daemonSet(
      "nvidia-device-plugin-daemonset",
      "nvidia-device-plugin-daemonset",
      "device-plugin",
      "nvidia-device-plugin",
      plugin,
      {
        initContainers: [validation("toolkit"), { name: "config-manager-init", image: gpuImage(plugin) }],
        containers: [
          {
            name: "nvidia-device-plugin",
            image: gpuImage(plugin),
            securityContext: privileged,
            resources: plugin.resources,
          },
          { name: "config-manager", image: gpuImage(plugin), securityContext: privileged },
        ],
      },
    );
  }
  if (enabled("gfd", true)) {
    const gfd = component("gfd");
    daemonSet(
      "gpu-feature-discovery",
      "gpu-feature-discovery",
      "gpu-feature-discovery",
      "nvidia-gpu-feature-discovery",
      gfd,
      {
        initContainers: [validation("toolkit"), { name: "config-manager-init", image: gpuImage(gfd) }],
        containers: [
          {
            name: "gpu-feature-discovery",
            image: gpuImage(gfd),
            securityContext: privileged,
            resources: gfd.resources,
          },
          { name: "config-manager", image: gpuImage(gfd), securityContext: privileged },
        ],
      },
    );
  }
  if (enabled("dcgm", false)) {
    const dcgm = component("dcgm");
    daemonSet("nvidia-dcgm", "nvidia-dcgm", "dcgm", "nvidia-dcgm", dcgm, {
      initContainers: [validation("toolkit")],
      containers: [
        {
          name: "nvidia-dcgm-ctr",
          image: gpuImage(dcgm),
          securityContext: privileged,
          resources: dcgm.resources,
        },
      ],
    });
  }
  if (enabled("dcgmExporter", true)) {
    const exporter = component("dcgmExporter") as GpuComponent & {
      serviceMonitor?: { enabled?: boolean; interval?: string; honorLabels?: boolean };
    };
    daemonSet(
      "nvidia-dcgm-exporter",
      "nvidia-dcgm-exporter",
      "dcgm-exporter",
      "nvidia-dcgm-exporter",
      exporter,
      {
        initContainers: [validation("toolkit")],
        containers: [
          {
            name: "nvidia-dcgm-exporter",
            image: gpuImage(exporter),
            securityContext: privileged,
            resources: exporter.resources,
            ports: [{ name: "metrics", containerPort: 9400, protocol: "TCP" }],
          },
        ],
      },
    );
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "nvidia-dcgm-exporter", namespace, labels: { app: "nvidia-dcgm-exporter" } },
      spec: {
        selector: { app: "nvidia-dcgm-exporter" },
        ports: [{ name: "gpu-metrics", port: 9400, targetPort: 9400, protocol: "TCP" }],
      },
    });
    if (exporter.serviceMonitor?.enabled) {
      out.push({
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { name: "nvidia-dcgm-exporter", namespace, labels: { app: "nvidia-dcgm-exporter" } },
        spec: {
          endpoints: [
            {
              port: "gpu-metrics",
              path: "/metrics",
              ...(exporter.serviceMonitor.interval ? { interval: exporter.serviceMonitor.interval } : {}),
              honorLabels: exporter.serviceMonitor.honorLabels ?? false,
            },
          ],
          jobLabel: "app",
          namespaceSelector: { matchNames: [namespace] },
          selector: { matchLabels: { app: "nvidia-dcgm-exporter" } },
        },
      });
    }
  }
  daemonSet(
    "nvidia-operator-validator",
    "nvidia-operator-validator",
    "operator-validator",
    "nvidia-operator-validator",
    validator ?? {},
    {
      initContainers: ["driver", "toolkit", "cuda", "plugin"].map(validation),
      containers: [
        { name: "nvidia-operator-validator", image: gpuImage(validator), securityContext: privileged },
      ],
    },
  );
  return out.map((object) => ({ object, source }));
}

/** Namespace of the GPU Operator: where its own Deployment runs. */
function gpuOperatorNamespace(objects: readonly KubernetesObject[]): string | undefined {
  return objects.find(
    (o) =>
      o.kind === "Deployment" &&
      ((o.spec as Decoded)?.template?.spec?.containers ?? []).some((c: Container) =>
        /\/gpu-operator(:|@)/.test(c.image ?? ""),
      ),
  )?.metadata.namespace;
}

/** Every object the operators and controllers in the state create from its custom resources. */
export function operandObjects(objects: readonly KubernetesObject[]): OperandObject[] {
  const out: OperandObject[] = [];
  for (const o of objects) {
    if (o.kind === "Cluster" && o.apiVersion.startsWith("postgresql.cnpg.io/"))
      out.push(...cloudNativePgObjects(o, objects));
    if (o.kind === "InferenceService" && o.apiVersion.startsWith("serving.kserve.io/"))
      out.push(...kserveObjects(o, objects));
    if (o.kind === "ClusterPolicy" && o.apiVersion.startsWith("nvidia.com/")) {
      const namespace = gpuOperatorNamespace(objects);
      if (namespace) out.push(...gpuOperatorObjects(o, namespace));
    }
  }
  return out;
}
