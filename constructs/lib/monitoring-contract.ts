/**
 * The names the per-model monitoring jobs, the serving stack's threshold rules and the platform's
 * alerts and dashboard agree on (docs/model-monitoring.md). The jobs push to the Pushgateway under
 * `/metrics/job/model-monitoring/model/<model>/version/<version>`; Prometheus scrapes it with
 * `honorLabels`, so every series keeps the pushed `job`, `model` and `version` labels.
 */

/** The `job` label of every series the monitoring jobs push (the grouping key's first pair). */
export const MONITORING_PUSH_JOB = "model-monitoring";

/** The monitoring CronJob of a model is `monitor-<model>`, in the serving namespace. */
export const MONITORING_CRONJOB_PREFIX = "monitor-";

/** Gauges each monitoring run pushes per model version. */
export const MONITORING_METRICS = {
  /** Share (0..1) of features whose distribution drifted from the reference data. */
  driftScore: "mlops_model_drift_score",
  /** The release's performance metric against ground truth, labelled `metric`. */
  performance: "mlops_model_performance",
  /** Prediction records the run read. */
  predictionsRead: "mlops_model_monitoring_predictions_read",
  /** Unix time of the newest logged prediction object the run saw. */
  newestLogObject: "mlops_prediction_log_newest_object_timestamp_seconds",
  /** Unix time the run finished. */
  lastSuccess: "mlops_model_monitoring_last_success_timestamp_seconds",
} as const;

/** Series the serving stack records from the release (PrometheusRule `model-monitoring-thresholds`). */
export const THRESHOLD_SERIES = {
  /** `{model}`: the drift score above which ModelDriftDetected fires. */
  drift: "mlops:model_drift_threshold",
  /** `{model, metric, direction}`: the performance the model must keep. */
  performance: "mlops:model_performance_threshold",
  /** `{model}`: 1 for a model that logs its predictions, 0 for one that does not. */
  logging: "mlops:model_prediction_logging",
  /**
   * `{model}`, for a model that logs: seconds a successful run may be old before the model's
   * monitoring counts as late, from its schedule (longest gap between runs, the run's deadline
   * and a margin); drift and performance older than this no longer alert.
   */
  maxAge: "mlops:model_monitoring_max_age_seconds",
} as const;

/** Name of the PrometheusRule holding the per-model thresholds. */
export const THRESHOLDS_RULE_NAME = "model-monitoring-thresholds";

/** Whether a performance metric must stay at least or at most its threshold. */
export type PerformanceDirection = "at-least" | "at-most";

/** The performance metrics a release may name, and which way each must stay. */
export const PERFORMANCE_DIRECTIONS = {
  accuracy: "at-least",
  f1: "at-least",
  auc: "at-least",
  rmse: "at-most",
  mae: "at-most",
} as const satisfies Record<string, PerformanceDirection>;

export type PerformanceMetric = keyof typeof PERFORMANCE_DIRECTIONS;

/** Environment defaults of the monitoring settings (the environment file's `monitoring`). */
export const MONITORING_DEFAULTS = {
  driftThreshold: 0.25,
  predictionLogStallMinutes: 120,
} as const;
