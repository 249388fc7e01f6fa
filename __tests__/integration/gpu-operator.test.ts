/**
 * The GPU Operator on RKE2 as rendered: the objects the pinned chart gpu-operator v26.7.0 (with
 * its node-feature-discovery 0.19.0) renders from GpuOperator's values, the ClusterPolicy checked
 * against the pinned CRD. Skipped, with the reason printed, when the pinned sources are not on
 * this machine.
 */
import type { HelmValues } from "../../constructs/lib/values";
import { RKE2_CONTAINERD } from "../../constructs/platform/gpu-operator";
import {
  crdSchema,
  describeWithUpstream,
  renderPinnedChart,
  schemaValidator,
  type KubernetesObject,
} from "../support/upstream";
import { baseProps, build, GPU_LABEL, offGpuNodes, tolerations } from "../support/gpu-operator";

const rendered = describeWithUpstream("__tests__/integration/gpu-operator.test.ts", "chart renders");
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

  it("the ClusterPolicy gives the toolkit RKE2's containerd socket only, as RKE2 documents, and the nvidia runtime class", () => {
    for (const rendered of [objects, preinstalled]) {
      const spec = named(rendered, "ClusterPolicy", "cluster-policy").spec;
      expect(spec.toolkit.enabled).toBe(true);
      expect(spec.toolkit.env).toEqual([{ name: "CONTAINERD_SOCKET", value: RKE2_CONTAINERD.socket }]);
      // Nothing hands the toolkit RKE2's own containerd config or its template to rewrite: the
      // variables the toolkit (nvidia-ctk-installer v1.20.0) and the operator read for it are unset.
      const names = spec.toolkit.env.map((e: any) => e.name);
      for (const variable of [
        "CONTAINERD_CONFIG",
        "RUNTIME_CONFIG",
        "RUNTIME_CONFIG_SOURCE",
        "RUNTIME_CONFIG_SOURCES",
        "RUNTIME_DROP_IN_CONFIG",
      ])
        expect(names).not.toContain(variable);
      expect(JSON.stringify(spec)).not.toContain(RKE2_CONTAINERD.config.replace(/config\.toml$/, ""));
      expect(spec.operator.runtimeClass).toBe("nvidia");
      expect(spec.psa.enabled).toBe(false);
    }
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
