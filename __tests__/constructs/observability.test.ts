import { parser } from "@prometheus-io/lezer-promql";
import {
  DEFAULT_ALERT_THRESHOLDS,
  inferenceDashboard,
  inferencePanels,
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

  it("has the six alerts of the platform", () => {
    expect(alerts.map((a) => a.alert)).toEqual([
      "HighInferenceLatency",
      "HighInferenceErrorRate",
      "InferenceServiceRestarts",
      "MLflowDown",
      "HighPipelineFailureRate",
      "LowGPUUtilization",
    ]);
  });

  it.each(alerts.map((a) => [a.alert, a.expr]))("%s parses as PromQL", (_name, expr) => {
    expect(promqlErrors(expr)).toEqual([]);
  });

  it("fires on P95 latency above 1s for 5m, as a warning", () => {
    expect(byName.HighInferenceLatency).toMatchObject({ for: "5m", severity: "warning" });
    expect(byName.HighInferenceLatency.expr).toMatch(/^histogram_quantile\(0\.95, .*\) > 1$/);
  });

  it("fires on more than 5% errors for 5m, as critical", () => {
    expect(byName.HighInferenceErrorRate).toMatchObject({ for: "5m", severity: "critical" });
    expect(byName.HighInferenceErrorRate.expr).toMatch(/code=~"5\.\."/);
    expect(byName.HighInferenceErrorRate.expr).toMatch(/ > 0\.05$/);
  });

  it("fires on more than 3 restarts in an hour, as a warning", () => {
    expect(byName.InferenceServiceRestarts).toMatchObject({ severity: "warning" });
    expect(byName.InferenceServiceRestarts.expr).toBe(
      'increase(kube_pod_container_status_restarts_total{namespace="mlops"}[1h]) > 3',
    );
  });

  it("fires when MLflow is unreachable for 2m, as critical", () => {
    expect(byName.MLflowDown).toMatchObject({ for: "2m", severity: "critical" });
    expect(byName.MLflowDown.expr).toBe('absent(up{namespace="mlflow",service="mlflow"} == 1)');
  });

  it("fires on more than 10% failed pipeline runs in an hour, as a warning", () => {
    expect(byName.HighPipelineFailureRate).toMatchObject({ severity: "warning" });
    expect(byName.HighPipelineFailureRate.expr).toMatch(/\[1h\]\)\) > 0\.1$/);
  });

  it("reports GPUs below 20% for 30m, as info", () => {
    expect(byName.LowGPUUtilization).toMatchObject({ for: "30m", severity: "info" });
    expect(byName.LowGPUUtilization.expr).toBe("avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL) < 20");
  });

  it("takes its thresholds from configuration", () => {
    const strict = platformAlerts(NAMESPACES, { ...DEFAULT_ALERT_THRESHOLDS, p95LatencySeconds: 0.25 });
    expect(strict[0].expr).toMatch(/ > 0\.25$/);
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

  it("is Grafana JSON without Terraform interpolation markers", () => {
    const json = JSON.stringify(inferenceDashboard(NAMESPACES));
    expect(json).not.toContain("${");
    expect(json).not.toContain("%{");
    expect(JSON.parse(json).panels).toHaveLength(5);
  });
});
