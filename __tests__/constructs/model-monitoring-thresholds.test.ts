import { Testing, TerraformStack } from "cdktf";
import {
  ModelMonitoringThresholds,
  thresholdRuleGroups,
  type MonitoredModel,
} from "../../constructs/serving/model-monitoring-thresholds";
import { prometheusRuleAdmission } from "../../scripts/verify/admission/prometheus-operator";

const synthesize = (models: MonitoredModel[]) => {
  const stack = new TerraformStack(Testing.app(), "unit");
  new ModelMonitoringThresholds(stack, "Thresholds", { namespace: "mlops", models });
  return JSON.parse(Testing.synth(stack));
};

const CHURN: MonitoredModel = {
  model: "churn",
  logs: true,
  schedule: "15 * * * *",
  driftThreshold: 0.2,
  performance: { metric: "auc", threshold: 0.75, direction: "at-least" },
};
const DEMAND: MonitoredModel = {
  model: "demand",
  logs: false,
  schedule: "15 * * * *",
  driftThreshold: 0.4,
  performance: { metric: "mae", threshold: 3.5, direction: "at-most" },
};

describe("ModelMonitoringThresholds", () => {
  it("records one drift, logging and performance series per model, labelled as the alerts match them", () => {
    expect(thresholdRuleGroups([CHURN, DEMAND])).toEqual([
      {
        name: "model-monitoring-thresholds",
        rules: [
          { record: "mlops:model_drift_threshold", expr: "vector(0.2)", labels: { model: "churn" } },
          { record: "mlops:model_prediction_logging", expr: "vector(1)", labels: { model: "churn" } },
          // Hourly: 60 minutes between runs, the 45-minute deadline and a 30-minute margin.
          {
            record: "mlops:model_monitoring_max_age_seconds",
            expr: `vector(${(60 + 45 + 30) * 60})`,
            labels: { model: "churn" },
          },
          {
            record: "mlops:model_performance_threshold",
            expr: "vector(0.75)",
            labels: { model: "churn", metric: "auc", direction: "at-least" },
          },
          { record: "mlops:model_drift_threshold", expr: "vector(0.4)", labels: { model: "demand" } },
          { record: "mlops:model_prediction_logging", expr: "vector(0)", labels: { model: "demand" } },
          {
            record: "mlops:model_performance_threshold",
            expr: "vector(3.5)",
            labels: { model: "demand", metric: "mae", direction: "at-most" },
          },
        ],
      },
    ]);
  });

  it("is a PrometheusRule in the serving namespace, applied as a kubernetes_manifest", () => {
    const manifests = Object.values<any>(synthesize([CHURN]).resource.kubernetes_manifest);
    expect(manifests).toHaveLength(1);
    expect(manifests[0].manifest).toEqual({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: {
        name: "model-monitoring-thresholds",
        namespace: "mlops",
        labels: {
          "app.kubernetes.io/part-of": "mlops-platform",
          "app.kubernetes.io/name": "model-monitoring",
        },
      },
      spec: { groups: thresholdRuleGroups([CHURN]) },
    });
  });

  it("passes prometheus-operator's admission as the verifier models it (record rules without for or annotations)", () => {
    const [rule] = Object.values<any>(synthesize([CHURN, DEMAND]).resource.kubernetes_manifest);
    expect(prometheusRuleAdmission.check(rule.manifest, [rule.manifest])).toEqual([]);
  });

  it.each([
    [
      "a drift threshold of 0",
      [{ ...CHURN, driftThreshold: 0 }],
      "models[0].driftThreshold of churn is 0; allowed: a share above 0 and at most 1; fix:",
    ],
    [
      "a drift threshold above 1",
      [{ ...CHURN, driftThreshold: 1.5 }],
      "models[0].driftThreshold of churn is 1.5; allowed: a share above 0 and at most 1",
    ],
    [
      "an accuracy above 1",
      [
        {
          ...CHURN,
          performance: { metric: "accuracy" as const, threshold: 80, direction: "at-least" as const },
        },
      ],
      "models[0].performance.threshold of churn is 80 for accuracy; allowed: 0 to 1; fix:",
    ],
    [
      "a negative rmse",
      [{ ...DEMAND, performance: { metric: "rmse" as const, threshold: -1, direction: "at-most" as const } }],
      "models[0].performance.threshold of demand is -1 for rmse; allowed: a number >= 0",
    ],
    [
      "an error metric said to be at least",
      [{ ...DEMAND, performance: { metric: "mae" as const, threshold: 2, direction: "at-least" as const } }],
      'models[0].performance.direction of demand is "at-least" for mae; allowed: "at-most"',
    ],
    [
      "a logging model whose schedule never runs",
      [{ ...CHURN, schedule: "0 3 30 2 *" }],
      'models[0].schedule of churn is "0 3 30 2 *"; allowed: a five-field cron expression (UTC) that runs; fix:',
    ],
    [
      "a model listed twice",
      [CHURN, { ...CHURN }],
      'models[1].model is "churn", which is listed twice; allowed: each model once',
    ],
  ])("refuses %s, naming the field, the value and what is allowed", (_title, models, message) => {
    expect(() => synthesize(models)).toThrow(message);
  });

  it("records a weekly model's max age from its week between runs", () => {
    const [group] = thresholdRuleGroups([{ ...CHURN, schedule: "0 4 * * mon" }]);
    expect(group.rules).toContainEqual({
      record: "mlops:model_monitoring_max_age_seconds",
      expr: `vector(${7 * 24 * 3600 + 45 * 60 + 30 * 60})`,
      labels: { model: "churn" },
    });
  });

  it("refuses an empty model list", () => {
    expect(() => synthesize([])).toThrow("models is empty; allowed: at least one served model");
  });
});
