/**
 * The predictor Services KServe v0.20.0 makes for an InferenceService in Standard mode, which the
 * platform's routes point at: one per predictor, the primary and each canary
 * (`components/predictor.go`: `reconcileRawDeployment`, `reconcileCanaryDeployments`), named
 * `constants.PredictorServiceName` (`<isvc>-<predictor name>-predictor`, `<isvc>-predictor`
 * for an unnamed one), listening on `constants.CommonDefaultHttpPort` (80) and selecting
 * `app: isvc.<service name>` (`reconcilers/service/service_reconciler.go`).
 */
import type { Decoded, KubernetesObject } from "./convert";
import type { OperandObject } from "./operands";

/**
 * The target port: the runtime's inference port, 8080 in the ClusterServingRuntimes of chart
 * kserve-runtime-configs v0.20.0 (`--http_port=8080`, `--rest_api_port=8080`, MLServer's
 * `MLSERVER_HTTP_PORT: "8080"` in files/runtimes/clusterservingruntimes-patch.yaml).
 */
const RUNTIME_PORT = 8080;

const SOURCE = "controller (KServe v0.20.0, from InferenceService";

function serviceName(isvc: string, predictor: string | undefined): string {
  return predictor ? `${isvc}-${predictor}-predictor` : `${isvc}-predictor`;
}

export function kservePredictorServices(isvc: KubernetesObject): OperandObject[] {
  const name = isvc.metadata.name ?? "";
  const namespace = isvc.metadata.namespace ?? "default";
  const spec = (isvc.spec ?? {}) as Record<string, Decoded>;
  if (!spec.predictor) return [];
  const predictors: (string | undefined)[] = [
    spec.predictor.name as string | undefined,
    ...((spec.canary ?? []) as { predictor?: { name?: string } }[]).map((c) => c.predictor?.name),
  ];
  return predictors.map((predictor) => {
    const service = serviceName(name, predictor);
    const object: KubernetesObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: service,
        namespace,
        labels: { "serving.kserve.io/inferenceservice": name, component: "predictor" },
      },
      spec: {
        selector: { app: `isvc.${service}` },
        ports: [{ port: 80, targetPort: RUNTIME_PORT, protocol: "TCP" }],
      },
    };
    return { object, source: `${SOURCE} ${namespace}/${name})` };
  });
}
