/**
 * The NVIDIA GPU Operator (chart `gpu-operator` v26.7.0) on RKE2: driver (in a container or
 * preinstalled on the hosts), container toolkit configured for RKE2's containerd, device
 * plugin, GPU feature discovery, MIG manager and the DCGM exporter, on the environment's GPU
 * nodes only.
 */
import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import type { ContainerResources } from "../lib/workload-defaults";
import type { HelmValues } from "../lib/values";

/**
 * RKE2's containerd: its socket, and the config RKE2 itself renders on every start (RKE2 adds
 * the `nvidia` runtimes it finds under `/usr/local/nvidia/toolkit`, where the toolkit installs
 * them). Nothing of the platform writes that config or its template.
 */
export const RKE2_CONTAINERD = {
  config: "/var/lib/rancher/rke2/agent/etc/containerd/config.toml",
  socket: "/run/k3s/containerd/containerd.sock",
} as const;

/** RuntimeClass the toolkit registers in containerd and the operator creates. */
export const NVIDIA_RUNTIME_CLASS = "nvidia";
/** Port of the DCGM exporter (`gpu-metrics`), scraped by Prometheus. */
export const DCGM_EXPORTER_PORT = 9400;

export interface GpuOperatorProps {
  readonly charts: ChartCatalog;
  /**
   * The operator's namespace, e.g. `gpu-operator`, created by the caller with Pod Security
   * `privileged`: the driver, toolkit and validator pods are privileged with host paths.
   */
  readonly namespace: string;
  /** The label the environment puts on its GPU nodes (GPU test / GPU prod); operands run there only. */
  readonly gpuNodes: {
    readonly labelKey: string;
    readonly labelValue: string;
    /** Taint that keeps other workloads off the GPU nodes, tolerated by the operands. */
    readonly taintKey?: string;
  };
  /**
   * `container`: the operator builds and loads the driver in a container (needs the RHEL
   * hosts' kernel headers or entitlement). `preinstalled`: the hosts carry the NVIDIA driver.
   */
  readonly driver: "container" | "preinstalled";
  /**
   * `chart`: the chart's Node Feature Discovery, its worker on the GPU nodes only (RKE2 ships
   * none; the operator finds GPU nodes by NFD's PCI labels). `existing`: an NFD already
   * running in the cluster labels the nodes.
   */
  readonly nodeFeatureDiscovery: "chart" | "existing";
  /** Resources of the operator's own pod. */
  readonly resources: ContainerResources;
  /** What must exist first: the namespace and the prometheus-operator CRDs (ServiceMonitor). */
  readonly dependsOn?: ITerraformDependable[];
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;
const QUANTITY = /^([0-9]+(\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

function fail(field: string, value: unknown, allowed: string, fix: string): never {
  throw new Error(`GpuOperator: ${field} is ${JSON.stringify(value)}; allowed: ${allowed}; fix: ${fix}`);
}

/**
 * The GPU Operator. Its operands are DaemonSets the operator creates on nodes it labels
 * `nvidia.com/gpu.present=true`, which it derives from NFD's PCI labels (vendor 10de); the
 * NFD worker runs on the environment's GPU nodes only, so only they get the operands. The
 * operator's own pod and NFD's master and garbage collector stay off the GPU nodes. The DCGM
 * exporter exports `DCGM_FI_DEV_GPU_UTIL` with the labels `gpu` and `Hostname` (the node)
 * and is scraped through the ServiceMonitor the operator creates.
 */
export class GpuOperator extends Construct {
  public readonly release: PlatformRelease;
  public readonly namespace: string;
  /** The chart values, for tests and the lead's wiring. */
  public readonly values: HelmValues;

  constructor(scope: Construct, id: string, props: GpuOperatorProps) {
    super(scope, id);
    validate(props);
    this.namespace = props.namespace;
    this.values = gpuOperatorValues(props);
    this.release = props.charts.install(this, "Operator", {
      chart: "gpu-operator",
      name: "gpu-operator",
      namespace: props.namespace,
      // The driver container compiles and loads the kernel module on first install.
      timeoutSeconds: 900,
      computedValues: this.values,
      dependsOn: props.dependsOn,
    });
  }
}

function validate(props: GpuOperatorProps): void {
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(props.namespace) || props.namespace.length > 63)
    fail("namespace", props.namespace, "a DNS label", "name the namespace created for the operator");
  const { labelKey, labelValue, taintKey } = props.gpuNodes;
  if (!LABEL_KEY.test(labelKey))
    fail(
      "gpuNodes.labelKey",
      labelKey,
      "a label key such as mlops.example.com/gpu-node",
      "use the label the environment puts on its GPU nodes",
    );
  if (!LABEL_VALUE.test(labelValue) || labelValue === "")
    fail(
      "gpuNodes.labelValue",
      labelValue,
      "a non-empty label value such as gpu-test or gpu-prod",
      "use the value of the environment's GPU nodes",
    );
  if (taintKey !== undefined && !LABEL_KEY.test(taintKey))
    fail("gpuNodes.taintKey", taintKey, "a taint key", "use the GPU nodes' taint key, or leave it unset");
  if (props.driver !== "container" && props.driver !== "preinstalled")
    fail(
      "driver",
      props.driver,
      '"container" or "preinstalled"',
      "say whether the hosts carry the NVIDIA driver",
    );
  if (props.nodeFeatureDiscovery !== "chart" && props.nodeFeatureDiscovery !== "existing")
    fail(
      "nodeFeatureDiscovery",
      props.nodeFeatureDiscovery,
      '"chart" or "existing"',
      "deploy the chart's NFD unless the cluster runs one",
    );
  for (const kind of ["requests", "limits"] as const)
    for (const name of ["cpu", "memory"] as const)
      if (!QUANTITY.test(props.resources[kind][name]))
        fail(
          `resources.${kind}.${name}`,
          props.resources[kind][name],
          "a Kubernetes quantity",
          "set a quantity such as 200m or 256Mi",
        );
}

/** The chart values of the GPU Operator v26.7.0. */
export function gpuOperatorValues(props: GpuOperatorProps): HelmValues {
  const { labelKey, labelValue, taintKey } = props.gpuNodes;
  const gpuTolerations = [
    { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
    ...(taintKey && taintKey !== "nvidia.com/gpu"
      ? [{ key: taintKey, operator: "Exists", effect: "NoSchedule" }]
      : []),
  ];
  const offGpuNodes = {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          { matchExpressions: [{ key: labelKey, operator: "NotIn", values: [labelValue] }] },
        ],
      },
    },
  };
  return {
    // The platform creates the namespace with its Pod Security labels; the operator leaves them.
    psa: { enabled: false },
    nfd: { enabled: props.nodeFeatureDiscovery === "chart" },
    operator: {
      runtimeClass: NVIDIA_RUNTIME_CLASS,
      resources: props.resources,
      nodeSelector: { "kubernetes.io/os": "linux" },
      affinity: offGpuNodes,
    },
    driver: { enabled: props.driver === "container" },
    toolkit: {
      enabled: true,
      // As RKE2 documents for the GPU Operator (docs.rke2.io, "Deploy NVIDIA operator"): the
      // socket only. The toolkit installs its runtimes under /usr/local/nvidia/toolkit and
      // RKE2 picks them up into the containerd config it renders itself on every start. A
      // `config.toml.tmpl` written by the toolkit would freeze a copy of RKE2's config, which
      // breaks nodes after a reboot or an RKE2 upgrade (NVIDIA/gpu-operator#992,
      // rancher/rke2#8752). Without CONTAINERD_CONFIG the operator (v26.7.0
      // getRuntimeConfigFiles) points the toolkit at /etc/containerd, which RKE2 does not read.
      env: [{ name: "CONTAINERD_SOCKET", value: RKE2_CONTAINERD.socket }],
    },
    daemonsets: { tolerations: gpuTolerations },
    dcgmExporter: {
      enabled: true,
      serviceMonitor: { enabled: true, interval: "15s", honorLabels: false },
    },
    ...(props.nodeFeatureDiscovery === "chart"
      ? {
          "node-feature-discovery": {
            // Only the GPU nodes get NFD's PCI labels, so only they get the operands.
            worker: { nodeSelector: { [labelKey]: labelValue }, tolerations: gpuTolerations },
            master: { affinity: offGpuNodes },
            gc: { affinity: offGpuNodes },
          },
        }
      : {}),
  };
}
