/** The GpuOperator the construct and integration tests build: its props, and the placement they expect. */
import { Testing, TerraformStack } from "cdktf";
import { ChartCatalog } from "../../constructs/platform/chart-catalog";
import { GpuOperator, type GpuOperatorProps } from "../../constructs/platform/gpu-operator";

/** The label of the GPU nodes. */
export const GPU_LABEL = { key: "mlops.example.com/node-group", value: "gpu-prod" };

/** GpuOperator props but the chart catalog: container driver, NFD from the chart. */
export const baseProps: Omit<GpuOperatorProps, "charts"> = {
  namespace: "gpu-operator",
  gpuNodes: { labelKey: GPU_LABEL.key, labelValue: GPU_LABEL.value, taintKey: "mlops.example.com/gpu" },
  driver: "container",
  nodeFeatureDiscovery: "chart",
  resources: { requests: { cpu: "200m", memory: "128Mi" }, limits: { cpu: "500m", memory: "384Mi" } },
};

/** A GpuOperator with `baseProps` changed by `change`, in a stack of its own, synthesized. */
export function build(change: Partial<GpuOperatorProps> = {}) {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  const charts = new ChartCatalog({ versions: { "gpu-operator": "v26.7.0" }, values: {} });
  const operator = new GpuOperator(stack, "Gpu", { charts, ...baseProps, ...change });
  return { operator, json: JSON.parse(Testing.synth(stack)) };
}

/** The affinity that keeps a pod off the GPU nodes. */
export const offGpuNodes = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: GPU_LABEL.key, operator: "NotIn", values: [GPU_LABEL.value] }] },
      ],
    },
  },
};

/** The tolerations of the GPU nodes' taints. */
export const tolerations = [
  { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
  { key: "mlops.example.com/gpu", operator: "Exists", effect: "NoSchedule" },
];
