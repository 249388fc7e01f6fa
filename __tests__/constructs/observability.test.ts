import { parser } from "@prometheus-io/lezer-promql";
import {
  DEFAULT_ALERT_THRESHOLDS,
  inferenceDashboard,
  inferencePanels,
  modelMonitoringPanels,
  platformAlerts,
} from "../../constructs/platform/observability";

const NAMESPACES = { serving: "mlops", mlflow: "mlflow", pipelines: "kubeflow" };

/** Parse errors of a PromQL expression, with the text around each. */
function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(`at ${node.from}: "${expr.slice(Math.max(0, node.from - 10), node.to + 10)}"`);
    },
  });
  return errors;
}

describe("PromQL grammar check", () => {
  it("flags a broken expression", () => {
    expect(promqlErrors("sum(rate(http_requests_total[5m])")).not.toEqual([]);
    expect(promqlErrors("rate(x[5m]) >")).not.toEqual([]);
    expect(promqlErrors("histogram_quantil(0.95, x)")).not.toEqual([]);
  });
});

describe("platform alerts", () => {
  const alerts = platformAlerts(NAMESPACES);
  const byName = Object.fromEntries(alerts.map((a) => [a.alert, a]));

  it("has the six alerts of the platform and the four of model monitoring", () => {
    expect(alerts.map((a) => a.alert)).toEqual([
      "HighInferenceLatency",
      "HighInferenceErrorRate",
      "InferenceServiceRestarts",
      "MLflowDown",
      "HighPipelineFailureRate",
      "LowGPUUtilization",
      "ModelDriftDetected",
      "ModelPerformanceDegraded",
      "PredictionLoggingStalled",
      "ModelMonitoringJobFailed",
    ]);
  });

  it.each(alerts.map((a) => [a.alert, a.expr]))("%s parses as PromQL", (_name, expr) => {
    expect(promqlErrors(expr)).toEqual([]);
  });

  it("fires on P95 latency above 1s for 5m, as a warning, over the serving Deployment and MLServer predictors", () => {
    const expr = byName.HighInferenceLatency.expr;
    expect(byName.HighInferenceLatency).toMatchObject({ for: "5m", severity: "warning" });
    // Per serving path, and per predictor version and track: a slow canary is not averaged away.
    expect(expr).toMatch(
      /^histogram_quantile\(0\.95, sum by \(model, serving_path, version, track, le\) \(.*\)\) > 1$/,
    );
    expect(expr).toContain('"serving_path", "deployment", "", ""');
    expect(expr).toContain('"serving_path", "inferenceservice", "", ""');
    expect(expr).toContain('rate(mlops_inference_request_duration_seconds_bucket{namespace="mlops"}[5m])');
    expect(expr).toContain(
      'rate(rest_server_request_duration_seconds_bucket{namespace="mlops",path=~"/v2/models/[^/]+(/versions/[^/]+)?/infer"}[5m])',
    );
    expect(expr).toContain('"model", "$1", "inferenceservice", "(.+)"');
    // The KServe Python servers' name, which MLServer never exports.
    expect(expr).not.toContain("request_predict_seconds");
  });

  it("fires on more than 5% errors for 5m, as critical, over both kinds of workload", () => {
    const expr = byName.HighInferenceErrorRate.expr;
    expect(byName.HighInferenceErrorRate).toMatchObject({ for: "5m", severity: "critical" });
    expect(expr).toContain('mlops_inference_requests_total{namespace="mlops",code=~"5.."}');
    expect(expr).toContain(
      'rest_server_requests_total{namespace="mlops",path=~"/v2/models/[^/]+(/versions/[^/]+)?/infer",status_code=~"5.."}',
    );
    expect(expr).toMatch(
      /^sum by \(model, serving_path, version, track\) \(.*\) \/ sum by \(model, serving_path, version, track\) \(.*\) > 0\.05$/,
    );
  });

  it("counts restarts as the difference to an hour ago, not with extrapolating increase()", () => {
    const expr = byName.InferenceServiceRestarts.expr;
    expect(byName.InferenceServiceRestarts).toMatchObject({ for: "0m", severity: "warning" });
    expect(expr).not.toContain("increase(");
    expect(expr).toContain(
      'max by (namespace, pod, container) (kube_pod_container_status_restarts_total{namespace="mlops"} offset 1h)',
    );
    expect(expr).toMatch(/ > 3$/);
  });

  it("fires when MLflow is unreachable for 2m, as critical", () => {
    expect(byName.MLflowDown).toMatchObject({ for: "2m", severity: "critical" });
    expect(byName.MLflowDown.expr).toBe('absent(up{namespace="mlflow",service="mlflow"} == 1)');
  });

  it("fires on more than 10% failed pipeline runs in an hour, as a warning, counting phases born in the hour", () => {
    const expr = byName.HighPipelineFailureRate.expr;
    const failed = 'argo_workflows_total_count{namespace="kubeflow",phase=~"Failed|Error"}';
    expect(byName.HighPipelineFailureRate).toMatchObject({ for: "0m", severity: "warning" });
    expect(expr).toContain(`(${failed} unless ${failed} offset 1h)`);
    expect(expr).toContain(`(increase(${failed}[1h]) and ${failed} offset 1h)`);
    expect(expr).toMatch(/ > 0\.1$/);
  });

  it("reports GPUs below 20% for 30m, as info", () => {
    expect(byName.LowGPUUtilization).toMatchObject({ for: "30m", severity: "info" });
    expect(byName.LowGPUUtilization.expr).toBe("avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL) < 20");
  });

  it("takes its thresholds from configuration", () => {
    const strict = platformAlerts(NAMESPACES, {
      ...DEFAULT_ALERT_THRESHOLDS,
      p95LatencySeconds: 0.25,
      restartsPerHour: 5,
    });
    expect(strict[0].expr).toMatch(/ > 0\.25$/);
    expect(strict[2].expr).toMatch(/ > 5$/);
  });
});

describe("model-monitoring alerts", () => {
  const alerts = platformAlerts(NAMESPACES);
  const byName = Object.fromEntries(alerts.map((a) => [a.alert, a]));

  it("read what the jobs push by its pushed job label, never the Pushgateway's namespace", () => {
    for (const name of ["ModelDriftDetected", "ModelPerformanceDegraded", "PredictionLoggingStalled"]) {
      expect(byName[name].expr).toContain('{job="model-monitoring"}');
      expect(byName[name].expr).not.toContain('namespace="monitoring"');
    }
    expect(byName.ModelDriftDetected.expr).toContain(
      'max by (model, version) (mlops_model_drift_score{job="model-monitoring"}) > on (model) group_left () mlops:model_drift_threshold',
    );
  });

  it("compare performance in the direction the threshold series names", () => {
    const expr = byName.ModelPerformanceDegraded.expr;
    expect(expr).toContain(
      '< on (model, metric) group_left () mlops:model_performance_threshold{direction="at-least"}',
    );
    expect(expr).toContain(
      '> on (model, metric) group_left () mlops:model_performance_threshold{direction="at-most"}',
    );
    expect(byName.ModelPerformanceDegraded).toMatchObject({ severity: "critical", for: "10m" });
  });

  it("count the requests the inference alerts count, for models that log", () => {
    const expr = byName.PredictionLoggingStalled.expr;
    expect(expr).toContain('rate(mlops_inference_requests_total{namespace="mlops"}[5m])');
    expect(expr).toContain("[120m:5m]");
    expect(expr).toContain("(mlops:model_prediction_logging == 1)");
    expect(expr).toMatch(
      /^time\(\) - max by \(model\) \(mlops_prediction_log_newest_object_timestamp_seconds\{job="model-monitoring"\}\) > 7200 /,
    );
  });

  it("watch the monitor-<model> Jobs with kube-state-metrics v2.20.0's names", () => {
    const expr = byName.ModelMonitoringJobFailed.expr;
    expect(expr).toContain('kube_job_owner{namespace="mlops",owner_kind="CronJob",owner_name=~"monitor-.+"}');
    expect(expr).toContain('kube_job_failed{namespace="mlops",condition="true"} == 1');
    expect(expr).toContain('kube_job_complete{namespace="mlops",condition="true"} == 1');
    expect(expr).toContain('kube_cronjob_created{namespace="mlops",cronjob=~"monitor-.+"}');
    expect(expr).toContain(
      'kube_cronjob_status_last_successful_time{namespace="mlops",cronjob=~"monitor-.+"}',
    );
    expect(expr).toContain('"model", "$1", "owner_name", "monitor-(.+)"');
  });

  it("take how old a run may be from each model's recorded max age, not a fixed window", () => {
    for (const name of ["ModelDriftDetected", "ModelPerformanceDegraded", "ModelMonitoringJobFailed"]) {
      expect(byName[name].expr).toContain("mlops:model_monitoring_max_age_seconds");
      expect(byName[name].expr).toContain("mlops:model_prediction_logging == 1");
      expect(byName[name].expr).not.toMatch(/> 93600|< 93600/);
    }
  });

  it("take the stall window from configuration", () => {
    const custom = platformAlerts(NAMESPACES, {
      ...DEFAULT_ALERT_THRESHOLDS,
      predictionLogStallMinutes: 45,
    });
    const named = Object.fromEntries(custom.map((a) => [a.alert, a]));
    expect(named.PredictionLoggingStalled.expr).toContain("> 2700 ");
    expect(named.PredictionLoggingStalled.expr).toContain("[45m:5m]");
    expect(named.PredictionLoggingStalled.summary).toContain("45 minutes");
  });

  it("tell the on-call the retraining command in the serving namespace", () => {
    for (const name of ["ModelDriftDetected", "ModelPerformanceDegraded"])
      expect(byName[name].runbook).toContain(
        "kubectl -n mlops create job --from=cronjob/model-retraining model-retraining-manual-$(date -u +%Y%m%d%H%M)",
      );
  });
});

describe("inference dashboard", () => {
  const panels = inferencePanels(NAMESPACES);

  it("shows requests/s, P95 latency by model, active models, error rate % and request rate by model", () => {
    expect(panels.map((p) => p.title)).toEqual([
      "Inference requests/s",
      "P95 latency by model",
      "Active models",
      "Error rate %",
      "Request rate by model",
    ]);
  });

  it.each(panels.map((p) => [p.title, p.expr]))("%s parses as PromQL", (_title, expr) => {
    expect(promqlErrors(expr)).toEqual([]);
  });

  it.each(panels.map((p) => [p.title, p.expr]))(
    "%s reads the serving Deployment's and MLServer's metrics",
    (_title, expr) => {
      expect(expr).toMatch(/mlops_inference_request(s_total|_duration_seconds_bucket)\{namespace="mlops"/);
      expect(expr).toMatch(/rest_server_request(s_total|_duration_seconds_bucket)\{namespace="mlops",path=~/);
    },
  );

  it("is Grafana JSON without Terraform interpolation markers", () => {
    const json = JSON.stringify(inferenceDashboard(NAMESPACES));
    expect(json).not.toContain("${");
    expect(json).not.toContain("%{");
    expect(JSON.parse(json).panels).toHaveLength(9);
  });
});

describe("model-monitoring panels", () => {
  const panels = modelMonitoringPanels();

  it("show drift and performance against their thresholds, log object age and the last successful run", () => {
    expect(panels.map((p) => [p.title, p.unit])).toEqual([
      ["Drift score vs threshold", "percentunit"],
      ["Performance vs threshold", "short"],
      ["Newest prediction log object age", "s"],
      ["Time since last successful monitoring run", "s"],
    ]);
  });

  it.each(panels.map((p) => [p.title, p.expr]))("%s parses as PromQL", (_title, expr) => {
    expect(promqlErrors(expr)).toEqual([]);
  });

  it.each(panels.map((p) => [p.title, p.expr, p.legend]))(
    "%s keeps model and version apart, on what the jobs push",
    (_title, expr, legend) => {
      expect(expr).toMatch(
        /max by \(model, version(, metric)?\) \(mlops_[a-z_]+\{job="model-monitoring"\}\)/,
      );
      expect(legend).toMatch(/^\{\{model\}\} \{\{version\}\}/);
    },
  );

  it("follow the inference panels on the platform dashboard", () => {
    const titles = (inferenceDashboard(NAMESPACES).panels as { title: string }[]).map((p) => p.title);
    expect(titles.slice(5)).toEqual(panels.map((p) => p.title));
  });
});
