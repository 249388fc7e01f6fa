/**
 * The platform's alerts and its inference dashboard, as data. Every PromQL expression here is
 * parsed in a test with the official PromQL grammar.
 *
 * Metric sources:
 * - the serving Deployment exports `mlops_inference_requests_total{model,code}` and
 *   `mlops_inference_request_duration_seconds` (histogram, label `model`): the serving image's
 *   metric contract, documented in the README;
 * - KServe predictors export `request_predict_seconds` (histogram, label `model_name`);
 * - kube-state-metrics, MLflow's scrape target (`up`), Argo Workflows (Kubeflow Pipelines'
 *   engine) and the DCGM exporter provide the rest.
 */

export type AlertSeverity = "critical" | "warning" | "info";

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

/** Inference request duration buckets of the serving Deployment and KServe predictors, by `model`. */
function inferenceLatencyBuckets(namespace: string): string {
  return (
    `rate(mlops_inference_request_duration_seconds_bucket{namespace="${namespace}"}[5m])` +
    ` or label_replace(rate(request_predict_seconds_bucket{namespace="${namespace}"}[5m]), "model", "$1", "model_name", "(.+)")`
  );
}

export function platformAlerts(
  ns: ObservedNamespaces,
  t: AlertThresholds = DEFAULT_ALERT_THRESHOLDS,
): AlertRule[] {
  const requests = `mlops_inference_requests_total{namespace="${ns.serving}"}`;
  const errors = `mlops_inference_requests_total{namespace="${ns.serving}",code=~"5.."}`;
  const finished = `argo_workflows_total_count{namespace="${ns.pipelines}",phase=~"Succeeded|Failed|Error"}`;
  const failed = `argo_workflows_total_count{namespace="${ns.pipelines}",phase=~"Failed|Error"}`;
  return [
    {
      alert: "HighInferenceLatency",
      expr: `histogram_quantile(0.95, sum by (model, le) (${inferenceLatencyBuckets(ns.serving)})) > ${t.p95LatencySeconds}`,
      for: "5m",
      severity: "warning",
      summary: "P95 inference latency of {{ $labels.model }} is above " + `${t.p95LatencySeconds}s`,
      description: "The 95th percentile of inference latency has exceeded the threshold for 5 minutes.",
    },
    {
      alert: "HighInferenceErrorRate",
      expr: `sum by (model) (rate(${errors}[5m])) / sum by (model) (rate(${requests}[5m])) > ${t.errorRatio}`,
      for: "5m",
      severity: "critical",
      summary: `More than ${t.errorRatio * 100}% of {{ $labels.model }} inference requests fail`,
      description: "The share of 5xx answers has exceeded the threshold for 5 minutes.",
    },
    {
      alert: "InferenceServiceRestarts",
      expr: `increase(kube_pod_container_status_restarts_total{namespace="${ns.serving}"}[1h]) > ${t.restartsPerHour}`,
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
      expr: `sum(increase(${failed}[1h])) / sum(increase(${finished}[1h])) > ${t.pipelineFailureRatio}`,
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

export function inferencePanels(ns: ObservedNamespaces): DashboardPanel[] {
  const requests = `mlops_inference_requests_total{namespace="${ns.serving}"}`;
  return [
    {
      title: "Inference requests/s",
      type: "timeseries",
      unit: "reqps",
      expr: `sum(rate(${requests}[5m]))`,
      legend: "all models",
    },
    {
      title: "P95 latency by model",
      type: "timeseries",
      unit: "s",
      expr: `histogram_quantile(0.95, sum by (model, le) (${inferenceLatencyBuckets(ns.serving)}))`,
      legend: "{{model}}",
    },
    {
      title: "Active models",
      type: "stat",
      unit: "short",
      expr: `count(sum by (model) (rate(${requests}[5m])) > 0)`,
      legend: "models",
    },
    {
      title: "Error rate %",
      type: "stat",
      unit: "percent",
      expr: `100 * sum(rate(mlops_inference_requests_total{namespace="${ns.serving}",code=~"5.."}[5m])) / sum(rate(${requests}[5m]))`,
      legend: "errors",
    },
    {
      title: "Request rate by model",
      type: "timeseries",
      unit: "reqps",
      expr: `sum by (model) (rate(${requests}[5m]))`,
      legend: "{{model}}",
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
