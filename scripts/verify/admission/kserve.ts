/**
 * KServe v0.20.0's validating webhooks for the kinds the platform creates: InferenceService
 * (pkg/apis/serving/v1beta1/inference_service_validation.go) and ServingRuntime /
 * ClusterServingRuntime (pkg/webhook/admission/servingruntime/servingruntime_webhook.go).
 * The chart registers each with failurePolicy Fail.
 */
import type { Decoded, KubernetesObject } from "../convert";
import type { AdmissionCheck, Refusal } from "./types";

const COMPONENT = "KServe v0.20.0";
/** IsvcNameFmt */
const ISVC_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** constants.AutoscalerAllowedClassList */
const AUTOSCALER_CLASSES = ["hpa", "external", "keda", "none"];
/** The framework fields of a predictor (PredictorSpec's implementations besides `model`). */
const FRAMEWORKS = [
  "sklearn",
  "xgboost",
  "tensorflow",
  "pytorch",
  "triton",
  "onnx",
  "huggingface",
  "pmml",
  "lightgbm",
  "paddle",
  "model",
];
/** validation.DefaultBlockedEnvVars (pkg/validation/env_policy.go). */
const BLOCKED_ENV = ["PYTHONPATH"];

type Predictor = Record<string, Decoded>;

function implementations(predictor: Predictor): string[] {
  const present = FRAMEWORKS.filter((f) => predictor[f] !== undefined && predictor[f] !== null);
  // A predictor with its own containers is a custom predictor (GetImplementations).
  if (present.length === 0 && Array.isArray(predictor.containers) && predictor.containers.length > 0)
    return ["containers"];
  return present;
}

export const inferenceServiceAdmission: AdmissionCheck = {
  group: "serving.kserve.io",
  resource: "inferenceservices",
  kind: "InferenceService",
  component: COMPONENT,
  check(object) {
    const out: Refusal[] = [];
    const name = object.metadata.name ?? "";
    const annotations = object.metadata.annotations ?? {};
    const spec = (object.spec ?? {}) as {
      predictor?: Predictor;
      canary?: { predictor?: Predictor; trafficPercent?: number }[];
    };
    const predictor = spec.predictor ?? {};
    // validateInferenceServiceName
    if (!ISVC_NAME.test(name))
      out.push({
        field: "metadata.name",
        message: `"${name}" does not match ${ISVC_NAME.source}`,
        fix: "use a lower-case DNS label starting with a letter",
      });
    // validateInferenceServiceAutoscaler
    const autoscaler = annotations["serving.kserve.io/autoscalerClass"];
    if (autoscaler !== undefined && !AUTOSCALER_CLASSES.includes(autoscaler))
      out.push({
        field: "metadata.annotations[serving.kserve.io/autoscalerClass]",
        message: `"${autoscaler}" is not a supported autoscaler class (${AUTOSCALER_CLASSES.join(", ")})`,
        fix: "use one of the supported classes or remove the annotation",
      });
    // validateBlockedEnvVars: the predictor's containers and its framework container.
    const containers = [
      ...((predictor.containers ?? []) as { env?: { name: string }[] }[]),
      ...((predictor.initContainers ?? []) as { env?: { name: string }[] }[]),
      ...FRAMEWORKS.filter((f) => predictor[f]).map((f) => predictor[f] as { env?: { name: string }[] }),
    ];
    for (const c of containers)
      for (const e of c.env ?? [])
        if (BLOCKED_ENV.includes(e.name))
          out.push({
            field: "spec.predictor env",
            message: `sets the blocked environment variable ${e.name}`,
            fix: `remove ${e.name}; KServe refuses it in every predictor container`,
          });
    // validatePredictor: no framework of the primary predictor may carry a name.
    for (const framework of FRAMEWORKS) {
      const impl = predictor[framework] as { name?: string } | undefined;
      if (impl?.name)
        out.push({
          field: `spec.predictor.${framework}.name`,
          message: `"${impl.name}": the 'name' field is not allowed in standard predictor`,
          fix: `remove spec.predictor.${framework}.name (KServe names the container kserve-container itself)`,
        });
    }
    // validateExactlyOneImplementation
    const impls = implementations(predictor);
    if (impls.length !== 1)
      out.push({
        field: "spec.predictor",
        message: `sets ${impls.length === 0 ? "no implementation" : impls.join(", ")}; exactly one of ${FRAMEWORKS.join(", ")} or containers is allowed`,
        fix: "give the predictor exactly one model (spec.predictor.model)",
      });
    // validateCanarySpecs
    const canaries = spec.canary ?? [];
    if (canaries.length > 0) {
      const mode = annotations["serving.kserve.io/deploymentMode"];
      if (mode !== "Standard")
        out.push({
          field: "metadata.annotations[serving.kserve.io/deploymentMode]",
          message: `is ${mode === undefined ? "unset" : `"${mode}"`}: canary is only supported in Standard deployment mode`,
          fix: 'set serving.kserve.io/deploymentMode: "Standard" or remove spec.canary',
        });
      if (!predictor.model && !FRAMEWORKS.some((f) => (predictor[f] as Predictor | undefined)?.storageUri))
        out.push({
          field: "spec.predictor.model",
          message: "is unset: canary requires a stable predictor with a model",
          fix: "serve the stable version through spec.predictor.model",
        });
      const names = new Set<string>();
      let total = 0;
      const stableMin = typeof predictor.minReplicas === "number" ? predictor.minReplicas : 1;
      canaries.forEach((canary, i) => {
        const at = `spec.canary[${i}]`;
        const p = canary.predictor ?? {};
        const canaryName = p.name as string | undefined;
        if (!canaryName)
          out.push({
            field: `${at}.predictor.name`,
            message: "is required",
            fix: "name the canary predictor (e.g. canary)",
          });
        else if (names.has(canaryName))
          out.push({
            field: `${at}.predictor.name`,
            message: `"${canaryName}" is duplicated`,
            fix: "give every canary its own name",
          });
        else if (canaryName === predictor.name)
          out.push({
            field: `${at}.predictor.name`,
            message: `"${canaryName}" conflicts with the stable predictor's name`,
            fix: "name the canary after its own model version",
          });
        if (canaryName) names.add(canaryName);
        const percent = canary.trafficPercent ?? 0;
        if (percent < 0 || percent > 100)
          out.push({
            field: `${at}.trafficPercent`,
            message: `${percent} is not between 0 and 100`,
            fix: "use a percentage from 0 to 100",
          });
        total += percent;
        if (implementations(p).length !== 1)
          out.push({
            field: `${at}.predictor`,
            message: "must set exactly one implementation",
            fix: "give the canary predictor exactly one model",
          });
        for (const key of ["workerSpec", "maxReplicas", "scaleTarget", "scaleMetric", "autoScaling"])
          if (p[key] !== undefined && !(key === "maxReplicas" && p[key] === 0))
            out.push({
              field: `${at}.predictor.${key}`,
              message: "must not be set (canary uses fixed replicas)",
              fix: `remove ${at}.predictor.${key}`,
            });
        if (typeof p.minReplicas === "number" && p.minReplicas > stableMin)
          out.push({
            field: `${at}.predictor.minReplicas`,
            message: `${p.minReplicas} exceeds the stable predictor's minReplicas (${stableMin})`,
            fix: `set it to at most ${stableMin}`,
          });
      });
      if (total > 100)
        out.push({
          field: "spec.canary[*].trafficPercent",
          message: `sum ${total} must be <= 100`,
          fix: "lower the canaries' shares",
        });
    }
    return out;
  },
};

interface RuntimeSpec {
  disabled?: boolean;
  multiModel?: boolean;
  protocolVersions?: string[];
  supportedModelFormats?: { name: string; version?: string; autoSelect?: boolean; priority?: number }[];
  containers?: { env?: { name: string }[] }[];
}

/** validateModelFormatPrioritySame and validateServingRuntimePriority against the other runtimes of its scope. */
function runtimeRefusals(object: KubernetesObject, others: readonly KubernetesObject[]): Refusal[] {
  const spec = (object.spec ?? {}) as RuntimeSpec;
  if (spec.disabled) return [];
  const out: Refusal[] = [];
  const formats = (spec.supportedModelFormats ?? []).filter((f) => f.autoSelect === true);
  const byName = new Map<string, number | undefined>();
  for (const f of formats) {
    if (byName.has(f.name)) {
      const p = byName.get(f.name);
      if (p !== undefined && f.priority !== undefined && p !== f.priority)
        out.push({
          field: "spec.supportedModelFormats",
          message: `different priorities assigned for the model format ${f.name}`,
          fix: `give every auto-selected ${f.name} entry the same priority`,
        });
    } else byName.set(f.name, f.priority);
  }
  // The runtime applied later is the one refused: compare with those before it in the state.
  const earlier = others.slice(0, Math.max(others.indexOf(object), 0));
  for (const other of earlier) {
    if (other.metadata.name === object.metadata.name) continue;
    const o = (other.spec ?? {}) as RuntimeSpec;
    if (o.disabled || Boolean(o.multiModel) !== Boolean(spec.multiModel)) continue;
    if (!(o.protocolVersions ?? []).some((v) => (spec.protocolVersions ?? []).includes(v))) continue;
    for (const mine of formats)
      for (const theirs of (o.supportedModelFormats ?? []).filter((f) => f.autoSelect === true))
        if (
          mine.name.toLowerCase() === theirs.name.toLowerCase() &&
          (mine.version ?? null) === (theirs.version ?? null) &&
          mine.priority !== undefined &&
          mine.priority === theirs.priority
        )
          out.push({
            field: "spec.supportedModelFormats",
            message: `same priority ${mine.priority} assigned for the model format ${mine.name} as ${other.kind} ${other.metadata.name}`,
            fix: `give ${mine.name} a priority no other auto-selecting runtime of the same protocol uses`,
          });
  }
  for (const c of spec.containers ?? [])
    for (const e of c.env ?? [])
      if (BLOCKED_ENV.includes(e.name))
        out.push({
          field: "spec.containers env",
          message: `sets the blocked environment variable ${e.name}`,
          fix: `remove ${e.name}`,
        });
  return out;
}

export const clusterServingRuntimeAdmission: AdmissionCheck = {
  group: "serving.kserve.io",
  resource: "clusterservingruntimes",
  kind: "ClusterServingRuntime",
  component: COMPONENT,
  check: (object, objects) =>
    runtimeRefusals(
      object,
      objects.filter((o) => o.kind === "ClusterServingRuntime"),
    ),
};

export const servingRuntimeAdmission: AdmissionCheck = {
  group: "serving.kserve.io",
  resource: "servingruntimes",
  kind: "ServingRuntime",
  component: COMPONENT,
  check: (object, objects) =>
    runtimeRefusals(
      object,
      objects.filter(
        (o) => o.kind === "ServingRuntime" && o.metadata.namespace === object.metadata.namespace,
      ),
    ),
};
