/**
 * The GPU Operator on RKE2: the values the construct passes, the validation of its props, and
 * the objects the pinned chart gpu-operator v26.7.0 (with its node-feature-discovery 0.19.0)
 * renders from them, the ClusterPolicy checked against the pinned CRD. The renders are skipped,
 * with the reason printed, when the pinned sources are not on this machine.
 */
import { Testing, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { renderValues, type HelmValues } from "../../constructs/lib/values";
import { ChartCatalog } from "../../constructs/platform/chart-catalog";
import { GpuOperator, RKE2_CONTAINERD, type GpuOperatorProps } from "../../constructs/platform/gpu-operator";
import { DEFAULT_ALERT_THRESHOLDS, platformAlerts } from "../../constructs/platform/observability";
import {
  crdSchema,
  describeWithUpstream,
  renderPinnedChart,
  schemaValidator,
  type KubernetesObject,
} from "../support/upstream";

const GPU_LABEL = { key: "mlops.example.com/node-group", value: "gpu-prod" };

const baseProps: Omit<GpuOperatorProps, "charts"> = {
  namespace: "gpu-operator",
  gpuNodes: { labelKey: GPU_LABEL.key, labelValue: GPU_LABEL.value, taintKey: "mlops.example.com/gpu" },
  driver: "container",
  nodeFeatureDiscovery: "chart",
  resources: { requests: { cpu: "200m", memory: "128Mi" }, limits: { cpu: "500m", memory: "384Mi" } },
};

function build(change: Partial<GpuOperatorProps> = {}) {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  const charts = new ChartCatalog({ versions: { "gpu-operator": "v26.7.0" }, values: {} });
  const operator = new GpuOperator(stack, "Gpu", { charts, ...baseProps, ...change });
  return { operator, json: JSON.parse(Testing.synth(stack)) };
}

const helmValues = (values: HelmValues): any => parse(renderValues(values));

const offGpuNodes = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: GPU_LABEL.key, operator: "NotIn", values: [GPU_LABEL.value] }] },
      ],
    },
  },
};

const tolerations = [
  { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
  { key: "mlops.example.com/gpu", operator: "Exists", effect: "NoSchedule" },
];

describe("GpuOperator values", () => {
  const { operator, json } = build();
  const values = helmValues(operator.release.values);

  it("installs the pinned chart in its namespace", () => {
    const [release] = Object.values(json.resource.helm_release) as any[];
    expect(release).toMatchObject({
      chart: "gpu-operator",
      version: "v26.7.0",
      namespace: "gpu-operator",
      repository: "https://helm.ngc.nvidia.com/nvidia",
    });
  });

  it("configures the toolkit for RKE2's containerd", () => {
    expect(values.toolkit).toEqual({
      enabled: true,
      env: [
        { name: "CONTAINERD_CONFIG", value: "/var/lib/rancher/rke2/agent/etc/containerd/config.toml.tmpl" },
        {
          name: "RUNTIME_CONFIG_SOURCE",
          value: "file=/var/lib/rancher/rke2/agent/etc/containerd/config.toml",
        },
        { name: "CONTAINERD_SOCKET", value: "/run/k3s/containerd/containerd.sock" },
      ],
    });
    expect(values.operator.runtimeClass).toBe("nvidia");
  });

  it("installs the driver in a container, or not when the hosts carry it", () => {
    expect(values.driver).toEqual({ enabled: true });
    expect(helmValues(build({ driver: "preinstalled" }).operator.release.values).driver).toEqual({
      enabled: false,
    });
  });

  it("runs NFD's worker, and so the operands, on the GPU nodes only; the operator and NFD's control off them", () => {
    expect(values.nfd).toEqual({ enabled: true });
    expect(values["node-feature-discovery"].worker).toEqual({
      nodeSelector: { [GPU_LABEL.key]: GPU_LABEL.value },
      tolerations,
    });
    expect(values["node-feature-discovery"].master.affinity).toEqual(offGpuNodes);
    expect(values["node-feature-discovery"].gc.affinity).toEqual(offGpuNodes);
    expect(values.operator.affinity).toEqual(offGpuNodes);
    expect(values.daemonsets.tolerations).toEqual(tolerations);
  });

  it("leaves NFD out where the cluster runs one", () => {
    const existing = helmValues(build({ nodeFeatureDiscovery: "existing" }).operator.release.values);
    expect(existing.nfd).toEqual({ enabled: false });
    expect(existing["node-feature-discovery"]).toBeUndefined();
  });

  it("turns the DCGM exporter and its ServiceMonitor on, and leaves the namespace's labels alone", () => {
    expect(values.dcgmExporter).toEqual({
      enabled: true,
      serviceMonitor: { enabled: true, interval: "15s", honorLabels: false },
    });
    expect(values.psa).toEqual({ enabled: false });
  });

  it("sets the operator's resources", () => {
    expect(values.operator.resources).toEqual(baseProps.resources);
  });
});

describe("validation", () => {
  it.each([
    [
      "a label key with spaces",
      { gpuNodes: { labelKey: "gpu node", labelValue: "yes" } },
      /GpuOperator: gpuNodes\.labelKey is "gpu node"; allowed: a label key.*fix:/,
    ],
    [
      "an empty label value",
      { gpuNodes: { labelKey: GPU_LABEL.key, labelValue: "" } },
      /gpuNodes\.labelValue is ""; allowed: a non-empty label value/,
    ],
    [
      "an unknown driver mode",
      { driver: "host" as never },
      /driver is "host"; allowed: "container" or "preinstalled"/,
    ],
    [
      "an unknown NFD mode",
      { nodeFeatureDiscovery: "none" as never },
      /nodeFeatureDiscovery is "none"; allowed: "chart" or "existing"/,
    ],
    [
      "resources that are not quantities",
      { resources: { requests: { cpu: "1 core", memory: "1Gi" }, limits: { cpu: "1", memory: "1Gi" } } },
      /resources\.requests\.cpu is "1 core"/,
    ],
    ["an upper-case namespace", { namespace: "GPU" }, /namespace is "GPU"/],
  ])("refuses %s, naming the field, the value, what is allowed and the fix", (_what, change, message) => {
    expect(() => build(change as Partial<GpuOperatorProps>)).toThrow(message);
  });
});

describe("the LowGPUUtilization alert", () => {
  it("reads the metric and labels the DCGM exporter exports", () => {
    // dcgm-exporter (internal/pkg/rendermetrics) labels GPU metrics `gpu` and, unless run with
    // --no-hostname, `Hostname` (NODE_NAME, which the operator sets); DCGM_FI_DEV_GPU_UTIL is
    // in the exporter's default collectors (etc/dcp-metrics-included.csv).
    const alert = platformAlerts(
      { serving: "serving", mlflow: "mlflow", pipelines: "kubeflow" },
      DEFAULT_ALERT_THRESHOLDS,
    ).find((a) => a.alert === "LowGPUUtilization")!;
    expect(alert.expr).toMatch(/^avg by \(Hostname, gpu\) \(DCGM_FI_DEV_GPU_UTIL\)/);
  });
});

const rendered = describeWithUpstream("__tests__/constructs/gpu-operator.test.ts", "chart renders");
const render = (values: HelmValues) =>
  renderPinnedChart({
    name: "gpu-operator",
    namespace: "gpu-operator",
    chart: "gpu-operator",
    version: "v26.7.0",
    values,
  });

function named(objects: KubernetesObject[], kind: string, name: string): any {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`,
    );
  return found;
}

rendered("gpu-operator v26.7.0 with GpuOperator's values", () => {
  let objects: KubernetesObject[];
  let preinstalled: KubernetesObject[];
  beforeAll(async () => {
    objects = await render(build().operator.release.values);
    preinstalled = await render(
      build({ driver: "preinstalled", nodeFeatureDiscovery: "existing" }).operator.release.values,
    );
  }, 180_000);

  it("the ClusterPolicy matches the pinned CRD, unknown fields refused", () => {
    const policy = named(objects, "ClusterPolicy", "cluster-policy");
    const validate = schemaValidator(crdSchema("gpu-operator-v26.7.0", "nvidia.com", "ClusterPolicy", "v1"));
    expect(validate(policy)).toEqual([]);
    expect(validate(named(preinstalled, "ClusterPolicy", "cluster-policy"))).toEqual([]);
  });

  it("the ClusterPolicy gives the toolkit RKE2's containerd paths and the nvidia runtime class", () => {
    const spec = named(objects, "ClusterPolicy", "cluster-policy").spec;
    expect(spec.toolkit.enabled).toBe(true);
    expect(Object.fromEntries(spec.toolkit.env.map((e: any) => [e.name, e.value]))).toEqual({
      CONTAINERD_CONFIG: RKE2_CONTAINERD.configTemplate,
      RUNTIME_CONFIG_SOURCE: `file=${RKE2_CONTAINERD.config}`,
      CONTAINERD_SOCKET: RKE2_CONTAINERD.socket,
    });
    expect(spec.operator.runtimeClass).toBe("nvidia");
    expect(spec.psa.enabled).toBe(false);
  });

  it("the driver is enabled with the container driver and disabled with a preinstalled one", () => {
    expect(named(objects, "ClusterPolicy", "cluster-policy").spec.driver.enabled).toBe(true);
    expect(named(preinstalled, "ClusterPolicy", "cluster-policy").spec.driver.enabled).toBe(false);
  });

  it("the DCGM exporter runs with its ServiceMonitor and the image's default collectors", () => {
    const exporter = named(objects, "ClusterPolicy", "cluster-policy").spec.dcgmExporter;
    expect(exporter.enabled).toBe(true);
    expect(exporter.serviceMonitor).toMatchObject({ enabled: true, interval: "15s", honorLabels: false });
    // No custom metrics ConfigMap and no arguments such as --no-hostname.
    expect(exporter.config).toBeUndefined();
    expect(exporter.args).toBeUndefined();
  });

  it("the operands tolerate the GPU nodes' taints", () => {
    expect(named(objects, "ClusterPolicy", "cluster-policy").spec.daemonsets.tolerations).toEqual(
      tolerations,
    );
  });

  it("NFD's worker runs on the GPU nodes only; its master, its collector and the operator stay off them", () => {
    const worker = named(objects, "DaemonSet", "gpu-operator-node-feature-discovery-worker").spec.template
      .spec;
    expect(worker.nodeSelector).toEqual({ [GPU_LABEL.key]: GPU_LABEL.value });
    expect(worker.tolerations).toEqual(expect.arrayContaining(tolerations));
    for (const name of [
      "gpu-operator",
      "gpu-operator-node-feature-discovery-master",
      "gpu-operator-node-feature-discovery-gc",
    ]) {
      const pod = named(objects, "Deployment", name).spec.template.spec;
      expect({
        name,
        required: pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution,
      }).toEqual({
        name,
        required: offGpuNodes.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution,
      });
    }
    const operator = named(objects, "Deployment", "gpu-operator").spec.template.spec.containers[0];
    expect(operator.resources).toEqual(baseProps.resources);
  });

  it("renders no NFD where the cluster runs one", () => {
    expect(preinstalled.filter((o) => o.metadata.name.includes("node-feature-discovery"))).toEqual([]);
  });
});
