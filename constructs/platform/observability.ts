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
 * - the model-monitoring jobs, through the Pushgateway (scraped with honorLabels): drift,
 *   performance, newest prediction log object and last success per model and version, beside
 *   the thresholds the serving stack records per model (lib/monitoring-contract.ts);
 * - kube-state-metrics (restarts, the monitoring CronJobs' Jobs), MLflow's scrape target (`up`), the Argo Workflows controller
 *   (Kubeflow Pipelines' engine: `argo_workflows_total_count{phase}`, a counter of workflows
 *   entering each phase) and the DCGM exporter (`DCGM_FI_DEV_GPU_UTIL`).
 */

import {
  MONITORING_CRONJOB_PREFIX,
  MONITORING_DEFAULTS,
  MONITORING_METRICS,
  MONITORING_PUSH_JOB,
  THRESHOLD_SERIES,
} from "../lib/monitoring-contract";

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
  /** What the on-call does, step by step (the `runbook` annotation). */
  readonly runbook?: string;
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
  /**
   * Minutes without a new prediction log object, while requests flow, before
   * PredictionLoggingStalled (the environment's `monitoring.predictionLogStallMinutes`).
   * @default 120
   */
  readonly predictionLogStallMinutes: number;
}

export const DEFAULT_ALERT_THRESHOLDS: AlertThresholds = {
  p95LatencySeconds: 1,
  errorRatio: 0.05,
  restartsPerHour: 3,
  pipelineFailureRatio: 0.1,
  gpuUtilisationPercent: 20,
  predictionLogStallMinutes: MONITORING_DEFAULTS.predictionLogStallMinutes,
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
    ...modelMonitoringAlerts(ns, t),
  ];
}

/** The command that starts a retraining run now, from the monthly CronJob, in the serving namespace. */
export function retrainingCommand(servingNamespace: string): string {
  return `kubectl -n ${servingNamespace} create job --from=cronjob/model-retraining model-retraining-manual-$(date -u +%Y%m%d%H%M)`;
}

/**
 * The four model-monitoring alerts, over what the monitoring jobs push to the Pushgateway
 * (scraped with honorLabels: `job="model-monitoring"`, `model`, `version`, beside the
 * Pushgateway's own target labels, which the expressions aggregate away), the thresholds the
 * serving stack records per model (THRESHOLD_SERIES), the requests the inference alerts count,
 * and kube-state-metrics v2.20.0's Job and CronJob series of the `monitor-<model>` CronJobs.
 *
 * How old a successful run may be is the model's own (THRESHOLD_SERIES.maxAge, from its schedule:
 * the longest gap between runs, the run's deadline and a margin). The Pushgateway keeps a group
 * until it is deleted or the Pushgateway restarts: a version no longer served keeps its last push,
 * so drift and performance alert only on versions whose run succeeded within the model's max age,
 * and every alert over pushed series needs the model to log now (`THRESHOLD_SERIES.logging == 1`:
 * a model that stopped logging, or left the release, has no such series). Whether a CronJob ever
 * succeeded is read from kube-state-metrics, which a Pushgateway restart does not empty.
 */
export function modelMonitoringAlerts(ns: ObservedNamespaces, t: AlertThresholds): AlertRule[] {
  const pushed = (metric: string) => `${metric}{job="${MONITORING_PUSH_JOB}"}`;
  const perVersion = (metric: string) => `max by (model, version) (${pushed(metric)})`;
  const logging = `(${THRESHOLD_SERIES.logging} == 1)`;
  const maxAge = THRESHOLD_SERIES.maxAge;
  const fresh = `(time() - ${perVersion(MONITORING_METRICS.lastSuccess)} < on (model) group_left () ${maxAge})`;
  const performance = `max by (model, version, metric) (${pushed(MONITORING_METRICS.performance)})`;
  const threshold = (direction: string) => `${THRESHOLD_SERIES.performance}{direction="${direction}"}`;
  const stallSeconds = t.predictionLogStallMinutes * 60;
  const requests = `sum by (model) (${inferenceSeries(ns).requests})`;
  // kube-state-metrics v2.20.0 (internal/store/job.go, cronjob.go): Jobs by namespace and
  // job_name, their CronJob in kube_job_owner{owner_kind,owner_name}; Failed and Complete
  // conditions as kube_job_failed / kube_job_complete{condition="true"}; a CronJob's
  // kube_cronjob_status_last_successful_time exists only once one of its Jobs completed
  // (status.lastSuccessfulTime set), its value that time in Unix seconds.
  const serving = `namespace="${ns.serving}"`;
  const monitorCronJobs = `"${MONITORING_CRONJOB_PREFIX}.+"`;
  const newestJob = (condition: string) =>
    `max by (namespace, owner_name) (max by (namespace, job_name) (kube_job_created{${serving}}) * on (namespace, job_name) group_left (owner_name) max by (namespace, job_name, owner_name) (kube_job_owner{${serving},owner_kind="CronJob",owner_name=~${monitorCronJobs}}) and on (namespace, job_name) (${condition}{${serving},condition="true"} == 1))`;
  const failed = newestJob("kube_job_failed");
  const succeeded = newestJob("kube_job_complete");
  const modelOf = (expr: string, label: string) =>
    `label_replace(${expr}, "model", "$1", "${label}", "${MONITORING_CRONJOB_PREFIX}(.+)")`;
  const problem = (expr: string, name: string) =>
    `label_replace(max by (model) (${expr}), "problem", "${name}", "", "")`;
  const dashboard = "Grafana's MLOps / Inference dashboard";
  const retrain = retrainingCommand(ns.serving);
  const jobLogs = `kubectl -n ${ns.serving} logs job/<the newest ${MONITORING_CRONJOB_PREFIX}{{ $labels.model }}-<n> Job>`;
  const runNow = `kubectl -n ${ns.serving} create job --from=cronjob/${MONITORING_CRONJOB_PREFIX}{{ $labels.model }} ${MONITORING_CRONJOB_PREFIX}{{ $labels.model }}-manual`;
  return [
    {
      alert: "ModelDriftDetected",
      expr: `${perVersion(MONITORING_METRICS.driftScore)} > on (model) group_left () ${THRESHOLD_SERIES.drift} and on (model, version) ${fresh} and on (model) ${logging}`,
      for: "10m",
      severity: "warning",
      summary: "{{ $labels.model }} version {{ $labels.version }} drifted from its reference data",
      description:
        "The share of input features whose distribution drifted from the model's reference data set, in the last monitoring run, is above the model's drift threshold (models[].monitoring.driftThreshold of the release, or the environment's monitoring.driftThreshold).",
      runbook: `1. In ${dashboard}, compare "Drift score vs threshold" and "Performance vs threshold" of {{ $labels.model }}: a canary version drifting alone points at the new version, every version at the traffic. 2. If performance holds and the drift is expected (a season, a new market), raise the model's monitoring.driftThreshold in the release file and promote the change. 3. If the data really moved, retrain: ${retrain} (it trains the release's serving.model.name; for another model see docs/model-monitoring.md, From alert to retraining), then release the new version as a canary.`,
    },
    {
      alert: "ModelPerformanceDegraded",
      expr: `(${performance} < on (model, metric) group_left () ${threshold("at-least")} or ${performance} > on (model, metric) group_left () ${threshold("at-most")}) and on (model, version) ${fresh} and on (model) ${logging}`,
      for: "10m",
      severity: "critical",
      summary:
        "{{ $labels.model }} version {{ $labels.version }}: {{ $labels.metric }} against ground truth is past its threshold",
      description:
        "The model's performance metric, computed by the last monitoring run from the labelled outcomes the team writes to the ground-truth location, is below its threshold (accuracy, f1, auc) or above it (rmse, mae): the model's answers are measurably worse than the release accepts.",
      runbook: `1. In ${dashboard}, check "Performance vs threshold" per version of {{ $labels.model }}: if only a canary is worse, stop it (remove canary from the release and promote). 2. Check the ground truth is current and complete (the job reads what the team wrote; late or partial labels lower the metric). 3. Retrain: ${retrain} (it trains the release's serving.model.name; for another model see docs/model-monitoring.md, From alert to retraining); meanwhile consider rolling back to the previous version in the release file.`,
    },
    {
      alert: "PredictionLoggingStalled",
      expr: `time() - max by (model) (${pushed(MONITORING_METRICS.newestLogObject)}) > ${stallSeconds} and on (model) (${THRESHOLD_SERIES.logging} == 1) and on (model) (min_over_time(${requests}[${t.predictionLogStallMinutes}m:5m]) > 0)`,
      for: "10m",
      severity: "warning",
      summary: `{{ $labels.model }} serves requests but no prediction log object is newer than ${t.predictionLogStallMinutes} minutes`,
      description: `Requests to the model have flowed for ${t.predictionLogStallMinutes} minutes, but the newest object the monitoring job found under predictions/{{ $labels.model }}/ of the data bucket is older than that: drift and performance are computed from stale predictions. When ModelMonitoringJobFailed fires for the same model, the job, not the logging, is what stopped.`,
      runbook: `1. If ModelMonitoringJobFailed fires for {{ $labels.model }}, follow it first: the newest object is only as new as the last run. 2. Otherwise check KServe's agent container of the predictor pods: kubectl -n ${ns.serving} logs -l serving.kserve.io/inferenceservice={{ $labels.model }} -c agent (write errors name the bucket and key). 3. Check the predictor's identity may still put objects under predictions/ of the data bucket (AWS: the kserve-predictor role; on-prem: the store's keys), and that the store is reachable from the serving namespace.`,
    },
    {
      alert: "ModelMonitoringJobFailed",
      expr:
        `${problem(modelOf(`${failed} > ${succeeded} or ${failed} unless ${succeeded}`, "owner_name"), "newest-run-failed")}` +
        ` or ${problem(`time() - max by (model) (${pushed(MONITORING_METRICS.lastSuccess)}) > on (model) ${maxAge} and on (model) ${logging}`, "no-recent-success")}` +
        ` or ${problem(`${modelOf(`time() - max by (namespace, cronjob) (kube_cronjob_created{${serving},cronjob=~${monitorCronJobs}})`, "cronjob")} > on (model) group_left () ${maxAge} unless on (model) ${modelOf(`kube_cronjob_status_last_successful_time{${serving},cronjob=~${monitorCronJobs}}`, "cronjob")}`, "never-succeeded")}`,
      for: "5m",
      severity: "warning",
      summary: "Monitoring of {{ $labels.model }} is not running successfully ({{ $labels.problem }})",
      description: `newest-run-failed: the newest finished Job of CronJob ${MONITORING_CRONJOB_PREFIX}{{ $labels.model }} failed. no-recent-success: no run of the model, which logs, has pushed a success for longer than its schedule allows (the longest gap between its runs, the run's deadline and a margin). never-succeeded: the CronJob is older than that and none of its Jobs ever completed. Until it runs, drift and performance of the model are not watched.`,
      runbook: `1. kubectl -n ${ns.serving} get jobs --sort-by=.metadata.creationTimestamp, then ${jobLogs}: the job names what it could not read (reference data in the artifacts bucket, predictions or ground truth in the data bucket) or push (the Pushgateway). 2. A Job that never started: kubectl -n ${ns.serving} describe cronjob ${MONITORING_CRONJOB_PREFIX}{{ $labels.model }} (suspended, image not pullable, quota of the serving namespace, no training node). 3. After the fix, run it once now: ${runNow}. 4. When a model's monitoring is removed on purpose (logging off, or the model left the release), delete its groups, one per version, from the Pushgateway (in the monitoring namespace, port 9091; the alerts ignore them, the dashboard still shows them until a restart): curl -X DELETE http://<pushgateway>:9091/metrics/job/${MONITORING_PUSH_JOB}/model/<model>/version/<version>; GET /api/v1/metrics lists the groups.`,
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

/**
 * Panels of the model-monitoring jobs' results per model and version (a canary beside its
 * primary): the drift score and the performance each beside its model's recorded threshold
 * (the threshold as a series of its own, `version="threshold"`), the age of the newest logged
 * prediction object and of the last successful run.
 */
export function modelMonitoringPanels(): DashboardPanel[] {
  const pushed = (metric: string) => `${metric}{job="${MONITORING_PUSH_JOB}"}`;
  const asThreshold = (expr: string) => `label_replace(${expr}, "version", "threshold", "", "")`;
  const byVersion = "{{model}} {{version}}";
  return [
    {
      title: "Drift score vs threshold",
      type: "timeseries",
      unit: "percentunit",
      expr: `max by (model, version) (${pushed(MONITORING_METRICS.driftScore)}) or ${asThreshold(
        `max by (model) (${THRESHOLD_SERIES.drift} and on (model) (${THRESHOLD_SERIES.logging} == 1))`,
      )}`,
      legend: byVersion,
    },
    {
      title: "Performance vs threshold",
      type: "timeseries",
      unit: "short",
      expr: `max by (model, version, metric) (${pushed(MONITORING_METRICS.performance)}) or ${asThreshold(
        `max by (model, metric) (${THRESHOLD_SERIES.performance})`,
      )}`,
      legend: `${byVersion} {{metric}}`,
    },
    {
      title: "Newest prediction log object age",
      type: "timeseries",
      unit: "s",
      expr: `time() - max by (model, version) (${pushed(MONITORING_METRICS.newestLogObject)})`,
      legend: byVersion,
    },
    {
      title: "Time since last successful monitoring run",
      type: "timeseries",
      unit: "s",
      expr: `time() - max by (model, version) (${pushed(MONITORING_METRICS.lastSuccess)})`,
      legend: byVersion,
    },
  ];
}

/** Grafana dashboard JSON (schema 39) with one panel per entry, two per row. No `${`: Terraform would read it as interpolation. */
export function inferenceDashboard(ns: ObservedNamespaces): Record<string, unknown> {
  const panels = [...inferencePanels(ns), ...modelMonitoringPanels()].map((panel, index) => ({
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
