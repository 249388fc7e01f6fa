/**
 * The GPU Operator on RKE2: the values the construct passes and the validation of its props.
 * The objects the pinned chart gpu-operator v26.7.0 renders from them are checked in
 * __tests__/integration/gpu-operator.test.ts.
 */
import { parse } from "yaml";
import { renderValues, type HelmValues } from "../../constructs/lib/values";
import type { GpuOperatorProps } from "../../constructs/platform/gpu-operator";
import { DEFAULT_ALERT_THRESHOLDS, platformAlerts } from "../../constructs/platform/observability";
import { baseProps, build, GPU_LABEL, offGpuNodes, tolerations } from "../support/gpu-operator";

const helmValues = (values: HelmValues): any => parse(renderValues(values));

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

  it("gives the toolkit RKE2's containerd socket only, leaving RKE2 its own config", () => {
    expect(values.toolkit).toEqual({
      enabled: true,
      env: [{ name: "CONTAINERD_SOCKET", value: "/run/k3s/containerd/containerd.sock" }],
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
