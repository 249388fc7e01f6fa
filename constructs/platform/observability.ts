/**
 * The platform's alerts and its inference dashboard, as data. Every PromQL expression here is
 * parsed in a test with the official PromQL grammar, and every alert is unit-tested with
 * `promtool test rules`.
 *
 * Metric sources, each with the names it really exports:
 * - the serving Deployment (port `http`): `mlops_inference_requests_total{model,code}` and the
 *   histogram `mlops_inference_request_duration_seconds{model}`, the serving image's metric
 *   contract documented in docs/alerts.md;
 * - KServe predictors of `format: mlflow` run MLServer 1.5.0 (the `kserve-mlserver` runtime of
 *   KServe v0.20.0), which serves its metrics on a separate port, 8082. Its REST middleware
 *   (starlette_exporter, prefix `rest_server`) exports `rest_server_requests_total` and the
 *   histogram `rest_server_request_duration_seconds`, both labelled `method`, `path` (the route
 *   template, e.g. `/v2/models/{model_name}/infer`), `status_code` and `app_name`. They carry
 *   no model: the scrape adds the InferenceService's name as `inferenceservice`
 *   (`PREDICTOR_MODEL_LABEL`), and the expressions below turn it into `model`;
 * - kube-state-metrics (restarts), MLflow's scrape target (`up`), the Argo Workflows controller
 *   (Kubeflow Pipelines' engine: `argo_workflows_total_count{phase}`, a counter of workflows
 *   entering each phase) and the DCGM exporter (`DCGM_FI_DEV_GPU_UTIL`).
 */

export type AlertSeverity = "critical" | "warning" | "info";

/** Label every platform alert carries, so routing and inhibition can tell them apart. */
export const PLATFORM_ALERT_LABELS = { platform: "mlops" } as const;

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  /** Prometheus duration the condition must hold. */
  readonly for: string;
  readonly severity: AlertSeverity;
  readonly summary: string;
  readonly description: string;
}

export interface AlertThresholds {
  /** P95 inference latency, seconds. @default 1 */
  readonly p95LatencySeconds: number;
  /** Share of 5xx answers. @default 0.05 */
  readonly errorRatio: number;
  /** Container restarts in an hour. @default 3 */
  readonly restartsPerHour: number;
  /** Share of failed pipeline runs in an hour. @default 0.1 */
  readonly pipelineFailureRatio: number;
  /** Average GPU utilisation, percent. @default 20 */
  readonly gpuUtilisationPercent: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  p95LatencySeconds: 1,
  errorRatio: 0.05,
  restartsPerHour: 3,
  pipelineFailureRatio: 0.1,
  gpuUtilisationPercent: 20,
};

export interface ObservedNamespaces {
  /** Namespace of the serving Deployment and InferenceServices. */
  readonly serving: string;
  readonly mlflow: string;
  readonly pipelines: string;
}

/**
 * MLServer as KServe v0.20.0 runs it (`kserve-mlserver` ClusterServingRuntime): the container,
 * its metrics port (MLServer's `metrics_port` default; the runtime's
 * `prometheus.kserve.io/port: "8080"` annotation points at the inference port, which has no
 * `/metrics`), and the label KServe puts on the pods of MLServer predictors only.
 */
export const MLSERVER = {
  container: "kserve-container",
  metricsPort: 8082,
  metricsPath: "/metrics",
  /** Set by KServe's MLServer defaults (`mlserver_mlflow.MLflowRuntime` for MLflow models). */
  podLabel: "modelClass",
  /** Route templates of the V2 inference endpoints, as the `path` label holds them. */
  inferPaths: "/v2/models/[^/]+(/versions/[^/]+)?/infer",
} as const;

/** Pod label KServe gives every pod of an InferenceService (value: its name). */
export const INFERENCE_SERVICE_POD_LABEL = "serving.kserve.io/inferenceservice";
/** Target label the predictor scrape adds, holding the InferenceService's name. */
export const PREDICTOR_MODEL_LABEL = "inferenceservice";

/**
 * Target labels the predictor scrape adds from the predictor's pod labels: the model version a
 * predictor serves (`v<N>`) and its track (`primary` or `canary`), so a canary is compared with
 * its primary. The serving Deployment's series carry neither.
 */
export const PREDICTOR_VERSION_TARGET_LABEL = "version";
export const PREDICTOR_TRACK_TARGET_LABEL = "track";

/**
 * Label the expressions add to tell the two ways a model is served apart: `deployment` (the
 * serving Deployment) or `inferenceservice` (a KServe predictor). A model served both ways is two
 * series, never one sum.
 */
export const SERVING_PATH_LABEL = "serving_path";

/** What the inference alerts and panels keep apart: model, serving path, version and track. */
const BY_SERVED = `model, ${SERVING_PATH_LABEL}, ${PREDICTOR_VERSION_TARGET_LABEL}, ${PREDICTOR_TRACK_TARGET_LABEL}`;

/**
 * Deployment series or MLServer series with the InferenceService as `model`, as a 5m rate, each
 * labelled with its serving path.
 */
function inferenceRate(deployment: string, predictor: string): string {
  const path = (expr: string, value: string) =>
    `label_replace(${expr}, "${SERVING_PATH_LABEL}", "${value}", "", "")`;
  return (
    path(`rate(${deployment}[5m])`, "deployment") +
    " or " +
    path(
      `label_replace(rate(${predictor}[5m]), "model", "$1", "${PREDICTOR_MODEL_LABEL}", "(.+)")`,
      "inferenceservice",
    )
  );
}

function inferenceSeries(ns: ObservedNamespaces) {
  const served = `namespace="${ns.serving}"`;
  const infer = `path=~"${MLSERVER.inferPaths}"`;
  return {
    requests: inferenceRate(
      `mlops_inference_requests_total{${served}}`,
      `rest_server_requests_total{${served},${infer}}`,
    ),
    errors: inferenceRate(
      `mlops_inference_requests_total{${served},code=~"5.."}`,
      `rest_server_requests_total{${served},${infer},status_code=~"5.."}`,
    ),
    buckets: inferenceRate(
      `mlops_inference_request_duration_seconds_bucket{${served}}`,
      `rest_server_request_duration_seconds_bucket{${served},${infer}}`,
    ),
  };
}

/**
 * Increments of a counter in the last hour, summed over its series, where a series that
 * appeared within the hour counts from zero: Argo Workflows creates a phase's series at the
 * first workflow entering it, so `increase()` alone never sees the first failure.
 */
function countedInLastHour(counter: string): string {
  return `sum((increase(${counter}[1h]) and ${counter} offset 1h) or (${counter} unless ${counter} offset 1h))`;
}

/** An alert's model, serving path and, for predictors, track and version, e.g. `churn (inferenceservice canary v8)`. */
const SERVED_AS =
  "{{ $labels.model }} ({{ $labels." +
  SERVING_PATH_LABEL +
  " }}{{ with $labels." +
  PREDICTOR_TRACK_TARGET_LABEL +
  " }} {{ . }}{{ end }}{{ with $labels." +
  PREDICTOR_VERSION_TARGET_LABEL +
  " }} {{ . }}{{ end }})";

export function platformAlerts(
  ns: ObservedNamespaces,
  t: AlertThresholds = DEFAULT_ALERT_THRESHOLDS,
): AlertRule[] {
  const inference = inferenceSeries(ns);
  const phases = (pattern: string) =>
    `argo_workflows_total_count{namespace="${ns.pipelines}",phase=~"${pattern}"}`;
  // One series per container, whichever kube-state-metrics instance reported it.
  const restarts = (offset: string) =>
    `max by (namespace, pod, container) (kube_pod_container_status_restarts_total{namespace="${ns.serving}"}${offset})`;
  return [
    {
      alert: "HighInferenceLatency",
      expr: `histogram_quantile(0.95, sum by (${BY_SERVED}, le) (${inference.buckets})) > ${t.p95LatencySeconds}`,
      for: "5m",
      severity: "warning",
      summary: `P95 inference latency of ${SERVED_AS} is above ${t.p95LatencySeconds}s`,
      description:
        "The 95th percentile of inference latency of one serving path (the serving Deployment, or one predictor version of an InferenceService) has exceeded the threshold for 5 minutes.",
    },
    {
      alert: "HighInferenceErrorRate",
      expr: `sum by (${BY_SERVED}) (${inference.errors}) / sum by (${BY_SERVED}) (${inference.requests}) > ${t.errorRatio}`,
      for: "5m",
      severity: "critical",
      summary: `More than ${t.errorRatio * 100}% of ${SERVED_AS} inference requests fail`,
      description:
        "The share of 5xx answers of one serving path (the serving Deployment, or one predictor version of an InferenceService) has exceeded the threshold for 5 minutes.",
    },
    {
      alert: "InferenceServiceRestarts",
      // The restart count now minus an hour ago (zero for younger containers): exact, where
      // increase() extrapolates 3 restarts to slightly more than 3.
      expr: `${restarts("")} - (${restarts(" offset 1h")} or ${restarts("")} * 0) > ${t.restartsPerHour}`,
      for: "0m",
      severity: "warning",
      summary: "{{ $labels.pod }} restarted more than " + `${t.restartsPerHour} times in an hour`,
      description: "A serving or predictor container keeps restarting: check its logs and probes.",
    },
    {
      alert: "MLflowDown",
      expr: `absent(up{namespace="${ns.mlflow}",service="mlflow"} == 1)`,
      for: "2m",
      severity: "critical",
      summary: "MLflow tracking server is unreachable",
      description:
        "No MLflow target has answered a scrape for 2 minutes; training runs cannot log and serving cannot resolve models.",
    },
    {
      alert: "HighPipelineFailureRate",
      expr: `${countedInLastHour(phases("Failed|Error"))} / ${countedInLastHour(phases("Succeeded|Failed|Error"))} > ${t.pipelineFailureRatio}`,
      for: "0m",
      severity: "warning",
      summary: `More than ${t.pipelineFailureRatio * 100}% of pipeline runs failed in the last hour`,
      description: "Kubeflow Pipelines runs (Argo Workflows) fail more often than the threshold.",
    },
    {
      alert: "LowGPUUtilization",
      expr: `avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL) < ${t.gpuUtilisationPercent}`,
      for: "30m",
      severity: "info",
      summary:
        "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} is below " +
        `${t.gpuUtilisationPercent}% utilisation`,
      description:
        "A (SPOT) GPU node is mostly idle: the work may fit a smaller instance, or the node may be kept up needlessly.",
    },
  ];
}

export interface DashboardPanel {
  readonly title: string;
  readonly type: "timeseries" | "stat";
  readonly unit: string;
  readonly expr: string;
  readonly legend: string;
}

/**
 * Panels over the serving Deployment and the InferenceServices, kept apart by serving path and,
 * for predictors, version and track (a canary beside its primary). Healthy traffic shows 0, not
 * "No data": where no 5xx series exists the error share is 0 per request series, and no model
 * with traffic counts 0 models.
 */
export function inferencePanels(ns: ObservedNamespaces): DashboardPanel[] {
  const inference = inferenceSeries(ns);
  const served =
    "{{model}} {{" +
    SERVING_PATH_LABEL +
    "}} {{" +
    PREDICTOR_TRACK_TARGET_LABEL +
    "}} {{" +
    PREDICTOR_VERSION_TARGET_LABEL +
    "}}";
  const requests = `sum by (${BY_SERVED}) (${inference.requests})`;
  return [
    {
      title: "Inference requests/s",
      type: "timeseries",
      unit: "reqps",
      expr: `sum by (${SERVING_PATH_LABEL}) (${inference.requests})`,
      legend: `{{${SERVING_PATH_LABEL}}}`,
    },
    {
      title: "P95 latency by model",
      type: "timeseries",
      unit: "s",
      expr: `histogram_quantile(0.95, sum by (${BY_SERVED}, le) (${inference.buckets}))`,
      legend: served,
    },
    {
      title: "Active models",
      type: "stat",
      unit: "short",
      expr: `count(sum by (model, ${SERVING_PATH_LABEL}) (${inference.requests}) > 0) or vector(0)`,
      legend: "models",
    },
    {
      title: "Error rate %",
      type: "stat",
      unit: "percent",
      expr: `100 * (sum by (${BY_SERVED}) (${inference.errors}) or ${requests} * 0) / ${requests}`,
      legend: served,
    },
    {
      title: "Request rate by model",
      type: "timeseries",
      unit: "reqps",
      expr: requests,
      legend: served,
    },
  ];
}

/** Grafana dashboard JSON (schema 39) with one panel per entry, two per row. No `${`: Terraform would read it as interpolation. */
export function inferenceDashboard(ns: ObservedNamespaces): Record<string, unknown> {
  const panels = inferencePanels(ns).map((panel, index) => ({
    id: index + 1,
    title: panel.title,
    type: panel.type,
    // kube-prometheus-stack provisions its Prometheus data source with this uid.
    datasource: { type: "prometheus", uid: "prometheus" },
    gridPos: { h: 8, w: 12, x: (index % 2) * 12, y: Math.floor(index / 2) * 8 },
    fieldConfig: { defaults: { unit: panel.unit }, overrides: [] },
    targets: [{ refId: "A", expr: panel.expr, legendFormat: panel.legend }],
  }));
  return {
    uid: "mlops-inference",
    title: "MLOps / Inference",
    tags: ["mlops", "inference"],
    schemaVersion: 39,
    time: { from: "now-6h", to: "now" },
    refresh: "30s",
    panels,
  };
}
