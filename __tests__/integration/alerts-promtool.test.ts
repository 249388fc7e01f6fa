/**
 * Unit tests of the platform's alert rules with `promtool test rules`: for each of the six
 * alerts over serving, MLflow, pipelines and GPUs (the model-monitoring alerts have their own
 * file, model-monitoring-alerts-promtool.test.ts), series that must make it fire and series just under the threshold, or held too
 * briefly, that must not. The rule file is generated from `platformAlerts()` exactly as the
 * chart receives it. Skipped, with the reason printed, when promtool is not installed
 * (Debian/Ubuntu: `apt-get install prometheus`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  DEFAULT_ALERT_THRESHOLDS,
  modelMonitoringAlerts,
  platformAlerts,
  PLATFORM_ALERT_LABELS,
  type AlertRule,
} from "../../constructs/platform/observability";
import { platformRuleGroups } from "../../constructs/platform/monitoring";
import { OBSERVED, expand, promtoolFor } from "../support/alerting";

const FOUND = promtoolFor("__tests__/integration/alerts-promtool.test.ts");
const PROMTOOL = FOUND ?? "promtool";
const suite = FOUND ? describe : describe.skip;

const NS = OBSERVED;
const ALERTS = platformAlerts(NS);
/** Tested in model-monitoring-alerts-promtool.test.ts, with the thresholds the serving stack records. */
const MODEL_MONITORING = new Set(modelMonitoringAlerts(NS, DEFAULT_ALERT_THRESHOLDS).map((a) => a.alert));
const RULE_FILE = "rules.yaml";

/** One scrape a minute; `undefined` is a missed scrape. */
type Samples = (number | undefined)[];

interface Series {
  readonly series: string;
  readonly values: Samples;
}

interface AlertCase {
  readonly alert: string;
  readonly title: string;
  readonly series: Series[];
  /**
   * Minutes after the first sample; evaluated half a minute later, so that samples never sit
   * on a window's edge (as with real scrapes, and alike for Prometheus 2 and 3 range semantics).
   */
  readonly evalMinute: number;
  /** Label sets of the alerts expected to fire (beyond severity and the platform label); empty: none. */
  readonly fires: Record<string, string>[];
}

/** `count` samples: `from` for the first, then each the previous plus `step`. */
function ramp(count: number, from: number, step: number): number[] {
  return Array.from({ length: count }, (_, index) => from + index * step);
}
function flat(count: number, value: number): number[] {
  return ramp(count, value, 0);
}
function missing(count: number): undefined[] {
  return Array.from({ length: count }, () => undefined);
}

function promtoolValues(samples: Samples): string {
  return samples.map((value) => (value === undefined ? "_" : String(value))).join(" ");
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(",");
}

const INFER_PATH = "/v2/models/{model_name}/infer";

/** The primary predictor of every InferenceService below serves v7, a canary v8. */
const PRIMARY = { version: "v7", track: "primary" };
const CANARY = { version: "v8", track: "canary" };

/**
 * An MLServer REST series of InferenceService `isvc`, as the predictor PodMonitor labels it
 * (`inferenceservice`, and `version` and `track` from the predictor's pod labels).
 */
function mlserver(
  name: string,
  isvc: string,
  extra: Record<string, string>,
  predictor: Record<string, string> = PRIMARY,
): string {
  return `${name}{${labelText({
    namespace: NS.serving,
    inferenceservice: isvc,
    ...predictor,
    app_name: "mlserver",
    method: "POST",
    ...extra,
  })}}`;
}

/** Histogram buckets whose per-minute increments are `perMinute[le]`, for `minutes` minutes. */
function histogram(
  base: (le: string) => string,
  perMinute: Record<string, number>,
  minutes: number,
): Series[] {
  return Object.entries(perMinute).map(([le, step]) => ({
    series: base(le),
    values: ramp(minutes + 1, 0, step),
  }));
}

/** P95 around 2.4s: 10% of requests under 0.5s, the rest between 1s and 2.5s. */
const SLOW = { "0.5": 10, "1": 10, "2.5": 100, "+Inf": 100 };
/** P95 around 0.92s, just under 1s: 90% under 0.5s, 96% under 1s. */
const JUST_FAST_ENOUGH = { "0.5": 90, "1": 96, "2.5": 100, "+Inf": 100 };

const deploymentBuckets = (model: string) => (le: string) =>
  `mlops_inference_request_duration_seconds_bucket{${labelText({ namespace: NS.serving, model, le })}}`;
const predictorBuckets =
  (isvc: string, path: string, predictor: Record<string, string> = PRIMARY) =>
  (le: string) =>
    mlserver(
      "rest_server_request_duration_seconds_bucket",
      isvc,
      { path, status_code: "200", le },
      predictor,
    );
const deploymentRequests = (model: string, code: string) =>
  `mlops_inference_requests_total{${labelText({ namespace: NS.serving, model, code })}}`;
const predictorRequests = (
  isvc: string,
  path: string,
  status: string,
  predictor: Record<string, string> = PRIMARY,
) => mlserver("rest_server_requests_total", isvc, { path, status_code: status }, predictor);

/** What an inference alert names: the model, its serving path, and a predictor's version and track. */
const viaDeployment = (model: string) => ({ model, serving_path: "deployment" });
const viaPredictor = (model: string, predictor: Record<string, string> = PRIMARY) => ({
  model,
  serving_path: "inferenceservice",
  ...predictor,
});

/** P95 around 0.3s: every request under 0.5s. */
const FAST = { "0.5": 100, "1": 100, "2.5": 100, "+Inf": 100 };

const restarts = (pod: string, instance: string) =>
  `kube_pod_container_status_restarts_total{${labelText({
    namespace: NS.serving,
    pod,
    container: "kserve-container",
    job: "kube-state-metrics",
    instance,
  })}}`;

const workflows = (phase: string, pod = "workflow-controller-7d9f8") =>
  `argo_workflows_total_count{${labelText({
    namespace: NS.pipelines,
    exported_namespace: NS.pipelines,
    phase,
    pod,
    job: "kubeflow/argo-workflows-controller",
  })}}`;

const mlflowUp = `up{${labelText({ namespace: NS.mlflow, service: "mlflow", job: "mlflow", pod: "mlflow-0" })}}`;
const gpuUtil = (hostname: string, gpu: string) =>
  `DCGM_FI_DEV_GPU_UTIL{${labelText({ Hostname: hostname, gpu, UUID: `GPU-${hostname}-${gpu}` })}}`;

const CASES: AlertCase[] = [
  // HighInferenceLatency: P95 > 1s for 5m.
  {
    alert: "HighInferenceLatency",
    title: "fires on a slow serving Deployment model",
    series: histogram(deploymentBuckets("churn"), SLOW, 15),
    evalMinute: 12,
    fires: [viaDeployment("churn")],
  },
  {
    alert: "HighInferenceLatency",
    title: "fires on a slow InferenceService (MLServer), named by the InferenceService",
    series: histogram(predictorBuckets("fraud", INFER_PATH), SLOW, 15),
    evalMinute: 12,
    fires: [viaPredictor("fraud")],
  },
  {
    alert: "HighInferenceLatency",
    title: "fires on the slow serving path of a model whose other path is fast and busier",
    series: [
      ...histogram(deploymentBuckets("churn"), { "0.5": 2000, "1": 2000, "2.5": 2000, "+Inf": 2000 }, 15),
      ...histogram(predictorBuckets("churn", INFER_PATH), SLOW, 15),
    ],
    evalMinute: 12,
    fires: [viaPredictor("churn")],
  },
  {
    alert: "HighInferenceLatency",
    title: "fires on a slow canary beside a fast primary, naming the canary's version",
    series: [
      ...histogram(
        predictorBuckets("churn", INFER_PATH),
        { "0.5": 900, "1": 900, "2.5": 900, "+Inf": 900 },
        15,
      ),
      ...histogram(predictorBuckets("churn", INFER_PATH, CANARY), SLOW, 15),
    ],
    evalMinute: 12,
    fires: [viaPredictor("churn", CANARY)],
  },
  {
    alert: "HighInferenceLatency",
    title: "stays quiet when both paths of a model are fast",
    series: [
      ...histogram(deploymentBuckets("churn"), FAST, 15),
      ...histogram(predictorBuckets("churn", INFER_PATH), FAST, 15),
      ...histogram(predictorBuckets("churn", INFER_PATH, CANARY), FAST, 15),
    ],
    evalMinute: 12,
    fires: [],
  },
  {
    alert: "HighInferenceLatency",
    title: "stays quiet at a P95 just under 1s",
    series: [
      ...histogram(deploymentBuckets("churn"), JUST_FAST_ENOUGH, 15),
      ...histogram(predictorBuckets("fraud", INFER_PATH), JUST_FAST_ENOUGH, 15),
    ],
    evalMinute: 12,
    fires: [],
  },
  {
    alert: "HighInferenceLatency",
    title: "stays quiet while slow for less than 5 minutes",
    series: histogram(deploymentBuckets("churn"), SLOW, 15),
    evalMinute: 4,
    fires: [],
  },
  {
    alert: "HighInferenceLatency",
    title: "ignores MLServer requests other than inference",
    series: histogram(predictorBuckets("fraud", "/v2/models/{model_name}"), SLOW, 15),
    evalMinute: 12,
    fires: [],
  },

  // HighInferenceErrorRate: more than 5% 5xx for 5m.
  {
    alert: "HighInferenceErrorRate",
    title: "fires at 6% errors of a serving Deployment model",
    series: [
      { series: deploymentRequests("churn", "200"), values: ramp(16, 0, 94) },
      { series: deploymentRequests("churn", "500"), values: ramp(16, 0, 6) },
    ],
    evalMinute: 12,
    fires: [viaDeployment("churn")],
  },
  {
    alert: "HighInferenceErrorRate",
    title: "fires at 10% errors of an InferenceService (MLServer)",
    series: [
      { series: predictorRequests("fraud", INFER_PATH, "200"), values: ramp(16, 0, 90) },
      { series: predictorRequests("fraud", INFER_PATH, "500"), values: ramp(16, 0, 10) },
    ],
    evalMinute: 12,
    fires: [viaPredictor("fraud")],
  },
  {
    alert: "HighInferenceErrorRate",
    title: "fires on a serving path at 50% errors beside a healthy, busier path of the same model",
    series: [
      { series: deploymentRequests("churn", "200"), values: ramp(16, 0, 1000) },
      { series: predictorRequests("churn", INFER_PATH, "200"), values: ramp(16, 0, 25) },
      { series: predictorRequests("churn", INFER_PATH, "500"), values: ramp(16, 0, 25) },
    ],
    evalMinute: 12,
    fires: [viaPredictor("churn")],
  },
  {
    alert: "HighInferenceErrorRate",
    title: "fires on a canary at 50% errors beside a healthy primary, naming the canary's version",
    series: [
      { series: predictorRequests("churn", INFER_PATH, "200"), values: ramp(16, 0, 900) },
      { series: predictorRequests("churn", INFER_PATH, "200", CANARY), values: ramp(16, 0, 50) },
      { series: predictorRequests("churn", INFER_PATH, "503", CANARY), values: ramp(16, 0, 50) },
    ],
    evalMinute: 12,
    fires: [viaPredictor("churn", CANARY)],
  },
  {
    alert: "HighInferenceErrorRate",
    title: "stays quiet at 4.9% errors",
    series: [
      { series: deploymentRequests("churn", "200"), values: ramp(16, 0, 95.1) },
      { series: deploymentRequests("churn", "503"), values: ramp(16, 0, 4.9) },
      { series: predictorRequests("fraud", INFER_PATH, "200"), values: ramp(16, 0, 95.1) },
      { series: predictorRequests("fraud", INFER_PATH, "500"), values: ramp(16, 0, 4.9) },
    ],
    evalMinute: 12,
    fires: [],
  },
  {
    alert: "HighInferenceErrorRate",
    title: "does not count 4xx answers",
    series: [
      { series: deploymentRequests("churn", "200"), values: ramp(16, 0, 50) },
      { series: deploymentRequests("churn", "400"), values: ramp(16, 0, 50) },
    ],
    evalMinute: 12,
    fires: [],
  },
  {
    alert: "HighInferenceErrorRate",
    title: "stays quiet while failing for less than 5 minutes",
    series: [
      { series: deploymentRequests("churn", "200"), values: ramp(16, 0, 50) },
      { series: deploymentRequests("churn", "500"), values: ramp(16, 0, 50) },
    ],
    evalMinute: 4,
    fires: [],
  },

  // InferenceServiceRestarts: more than 3 restarts in an hour.
  {
    alert: "InferenceServiceRestarts",
    title: "fires on the 4th restart within an hour",
    series: [
      {
        series: restarts("fraud-predictor-1", "10.0.1.5:8080"),
        values: [...flat(71, 0), ...flat(10, 1), 2, 3, ...flat(40, 4)],
      },
    ],
    evalMinute: 110,
    fires: [{ namespace: NS.serving, pod: "fraud-predictor-1", container: "kserve-container" }],
  },
  {
    alert: "InferenceServiceRestarts",
    title: "stays quiet at exactly 3 restarts within an hour",
    series: [
      {
        series: restarts("fraud-predictor-1", "10.0.1.5:8080"),
        values: [...flat(70, 0), ...flat(10, 1), ...flat(10, 2), ...flat(41, 3)],
      },
    ],
    evalMinute: 120,
    fires: [],
  },
  {
    alert: "InferenceServiceRestarts",
    title: "fires on a container younger than an hour with 4 restarts",
    series: [
      {
        series: restarts("fraud-predictor-2", "10.0.1.5:8080"),
        values: [...missing(90), 0, ...flat(5, 1), ...flat(5, 2), ...flat(5, 3), ...flat(15, 4)],
      },
    ],
    evalMinute: 120,
    fires: [{ namespace: NS.serving, pod: "fraud-predictor-2", container: "kserve-container" }],
  },
  {
    alert: "InferenceServiceRestarts",
    title: "stays quiet on old restarts when kube-state-metrics moves to a new address",
    series: [
      { series: restarts("fraud-predictor-1", "10.0.1.5:8080"), values: [...flat(91, 10), ...missing(30)] },
      { series: restarts("fraud-predictor-1", "10.0.2.9:8080"), values: [...missing(91), ...flat(30, 10)] },
    ],
    evalMinute: 120,
    fires: [],
  },
  {
    alert: "InferenceServiceRestarts",
    title: "stays quiet on restarts more than an hour ago",
    series: [
      {
        series: restarts("fraud-predictor-1", "10.0.1.5:8080"),
        values: [...ramp(11, 0, 1), ...flat(140, 10)],
      },
    ],
    evalMinute: 120,
    fires: [],
  },

  // MLflowDown: no MLflow target up for 2m.
  {
    alert: "MLflowDown",
    title: "fires when MLflow fails its scrapes for more than 2 minutes",
    series: [{ series: mlflowUp, values: [...flat(2, 1), ...flat(8, 0)] }],
    evalMinute: 6,
    fires: [{}],
  },
  {
    alert: "MLflowDown",
    title: "fires when MLflow has no scrape target at all",
    series: [{ series: 'up{job="prometheus"}', values: flat(10, 1) }],
    evalMinute: 5,
    fires: [{}],
  },
  {
    alert: "MLflowDown",
    title: "stays quiet on a failed scrape shorter than 2 minutes",
    series: [{ series: mlflowUp, values: [...flat(3, 1), 0, 0, ...flat(5, 1)] }],
    evalMinute: 6,
    fires: [],
  },
  {
    alert: "MLflowDown",
    title: "stays quiet while one of two MLflow replicas answers",
    series: [
      { series: mlflowUp, values: flat(10, 0) },
      { series: mlflowUp.replace("mlflow-0", "mlflow-1"), values: flat(10, 1) },
    ],
    evalMinute: 6,
    fires: [],
  },

  // HighPipelineFailureRate: more than 10% of the runs finished in the last hour failed.
  {
    alert: "HighPipelineFailureRate",
    title: "fires on the first failure ever (its series appears with it)",
    series: [
      { series: workflows("Succeeded"), values: flat(121, 5) },
      { series: workflows("Failed"), values: [...missing(100), ...flat(21, 1)] },
    ],
    evalMinute: 110,
    fires: [{}],
  },
  {
    alert: "HighPipelineFailureRate",
    title: "fires at 2 failed of 18 runs in the hour",
    series: [
      { series: workflows("Succeeded"), values: [...flat(75, 40), ...ramp(16, 41, 1), ...flat(30, 56)] },
      { series: workflows("Failed"), values: [...flat(80, 3), ...flat(10, 4), ...flat(31, 5)] },
    ],
    evalMinute: 120,
    fires: [{}],
  },
  {
    alert: "HighPipelineFailureRate",
    title: "counts Error like Failed",
    series: [
      { series: workflows("Succeeded"), values: [...flat(75, 40), ...ramp(16, 41, 1), ...flat(30, 56)] },
      { series: workflows("Error"), values: [...missing(80), ...flat(10, 1), ...flat(31, 2)] },
    ],
    evalMinute: 120,
    fires: [{}],
  },
  {
    alert: "HighPipelineFailureRate",
    title: "stays quiet at 1 failed of 11 runs in the hour",
    series: [
      { series: workflows("Succeeded"), values: [...flat(75, 40), ...ramp(10, 41, 1), ...flat(36, 50)] },
      { series: workflows("Failed"), values: [...flat(80, 3), ...flat(41, 4)] },
    ],
    evalMinute: 120,
    fires: [],
  },
  {
    alert: "HighPipelineFailureRate",
    title: "stays quiet on failures more than an hour ago",
    series: [
      { series: workflows("Succeeded"), values: [...flat(75, 40), ...ramp(10, 41, 1), ...flat(36, 50)] },
      { series: workflows("Failed"), values: [...missing(20), ...ramp(10, 1, 1), ...flat(91, 10)] },
    ],
    evalMinute: 120,
    fires: [],
  },
  {
    alert: "HighPipelineFailureRate",
    title: "counts the runs of a restarted controller (new pod, new series) from zero",
    series: [
      { series: workflows("Succeeded"), values: [...flat(80, 40), ...missing(41)] },
      {
        series: workflows("Succeeded", "workflow-controller-5c6b1"),
        values: [...missing(82), ...ramp(10, 1, 1), ...flat(29, 10)],
      },
      { series: workflows("Failed", "workflow-controller-5c6b1"), values: [...missing(100), ...flat(21, 2)] },
    ],
    evalMinute: 120,
    fires: [{}],
  },

  // LowGPUUtilization: a GPU below 20% on average for 30m.
  {
    alert: "LowGPUUtilization",
    title: "fires on a GPU at 10% for more than 30 minutes",
    series: [
      { series: gpuUtil("ip-10-10-1-7", "0"), values: flat(41, 10) },
      { series: gpuUtil("ip-10-10-1-7", "1"), values: flat(41, 85) },
    ],
    evalMinute: 40,
    fires: [{ Hostname: "ip-10-10-1-7", gpu: "0" }],
  },
  {
    alert: "LowGPUUtilization",
    title: "stays quiet at 20%",
    series: [{ series: gpuUtil("ip-10-10-1-7", "0"), values: flat(41, 20) }],
    evalMinute: 40,
    fires: [],
  },
  {
    alert: "LowGPUUtilization",
    title: "stays quiet when idle for less than 30 minutes",
    series: [{ series: gpuUtil("ip-10-10-1-7", "0"), values: [...flat(15, 90), ...flat(26, 5)] }],
    evalMinute: 40,
    fires: [],
  },
];

/** A promtool unit test file for one case. */
function unitTest(rule: AlertRule, testCase: AlertCase): string {
  const fixed = { severity: rule.severity, ...PLATFORM_ALERT_LABELS };
  return stringify({
    rule_files: [RULE_FILE],
    evaluation_interval: "30s",
    tests: [
      {
        interval: "1m",
        input_series: testCase.series.map((s) => ({ series: s.series, values: promtoolValues(s.values) })),
        alert_rule_test: [
          {
            eval_time: `${testCase.evalMinute}m30s`,
            alertname: testCase.alert,
            exp_alerts: testCase.fires.map((labels) => {
              const all = { ...labels, ...fixed };
              return {
                exp_labels: all,
                exp_annotations: {
                  summary: expand(rule.summary, all),
                  description: expand(rule.description, all),
                },
              };
            }),
          },
        ],
      },
    ],
  });
}

suite("alert rules under promtool", () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "alert-rules-"));
    writeFileSync(join(work, RULE_FILE), stringify({ groups: platformRuleGroups(ALERTS) }));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const result = spawnSync(PROMTOOL, args, { cwd: work, encoding: "utf8" });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  };

  it("accepts the rule file (promtool check rules)", () => {
    const result = run(["check", "rules", RULE_FILE]);
    expect(result.output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    expect(result.ok).toBe(true);
  });

  it("has firing and quiet cases for each of the six alerts", () => {
    const covered = ALERTS.filter((rule) => !MODEL_MONITORING.has(rule.alert));
    expect(covered).toHaveLength(6);
    for (const rule of covered) {
      const cases = CASES.filter((c) => c.alert === rule.alert);
      expect({ alert: rule.alert, fires: cases.some((c) => c.fires.length > 0) }).toEqual({
        alert: rule.alert,
        fires: true,
      });
      expect({ alert: rule.alert, quiet: cases.some((c) => c.fires.length === 0) }).toEqual({
        alert: rule.alert,
        quiet: true,
      });
    }
  });

  it.each(CASES.map((c, index) => [`${c.alert} ${c.title}`, index]))("%s", (_title, index) => {
    const testCase = CASES[index as number];
    const rule = ALERTS.find((a) => a.alert === testCase.alert);
    if (!rule) throw new Error(`no alert ${testCase.alert}`);
    const file = `case-${index}.yaml`;
    writeFileSync(join(work, file), unitTest(rule, testCase));
    const result = run(["test", "rules", file]);
    if (!result.ok) throw new Error(`promtool test rules failed:\n${result.output}`);
    expect(result.output).toContain("SUCCESS");
  });

  // The defects the rules replace, shown on the same series: the tests above would catch them.
  describe("the replaced expressions, on the same series", () => {
    const replaced = (alert: string, expr: string): AlertRule => {
      const rule = ALERTS.find((a) => a.alert === alert);
      if (!rule) throw new Error(`no alert ${alert}`);
      return { ...rule, expr };
    };
    const runWith = (rule: AlertRule, testCase: AlertCase, index: number) => {
      const rules = `replaced-${index}.rules.yaml`;
      writeFileSync(join(work, rules), stringify({ groups: platformRuleGroups([rule]) }));
      const file = `replaced-${index}.yaml`;
      writeFileSync(join(work, file), unitTest(rule, testCase).replace(RULE_FILE, rules));
      return run(["test", "rules", file]);
    };

    const inference = (title: string) => {
      const found = CASES.find((c) => c.title === title);
      if (!found) throw new Error(`case missing: ${title}`);
      return found;
    };
    const served = `namespace="${NS.serving}"`;
    const infer = `path=~"/v2/models/[^/]+(/versions/[^/]+)?/infer"`;
    const byModel = (deployment: string, predictor: string) =>
      `rate(${deployment}[5m]) or label_replace(rate(${predictor}[5m]), "model", "$1", "inferenceservice", "(.+)")`;

    it("by (model) alone misses a path at 50% errors beside a healthy one", () => {
      const requests = byModel(
        `mlops_inference_requests_total{${served}}`,
        `rest_server_requests_total{${served},${infer}}`,
      );
      const errors = byModel(
        `mlops_inference_requests_total{${served},code=~"5.."}`,
        `rest_server_requests_total{${served},${infer},status_code=~"5.."}`,
      );
      const old = replaced(
        "HighInferenceErrorRate",
        `sum by (model) (${errors}) / sum by (model) (${requests}) > 0.05`,
      );
      // Stays quiet (promtool passes expecting no alert) where the rule above fires.
      const result = runWith(
        old,
        {
          ...inference(
            "fires on a serving path at 50% errors beside a healthy, busier path of the same model",
          ),
          fires: [],
        },
        3,
      );
      expect(result.output).toContain("SUCCESS");
      expect(result.ok).toBe(true);
    });

    it("by (model, le) alone blends a slow path into a fast one", () => {
      const buckets = byModel(
        `mlops_inference_request_duration_seconds_bucket{${served}}`,
        `rest_server_request_duration_seconds_bucket{${served},${infer}}`,
      );
      const old = replaced(
        "HighInferenceLatency",
        `histogram_quantile(0.95, sum by (model, le) (${buckets})) > 1`,
      );
      // Stays quiet (promtool passes expecting no alert) where the rule above fires.
      const result = runWith(
        old,
        {
          ...inference("fires on the slow serving path of a model whose other path is fast and busier"),
          fires: [],
        },
        4,
      );
      expect(result.output).toContain("SUCCESS");
      expect(result.ok).toBe(true);
    });

    it("increase() fires at exactly 3 restarts", () => {
      const exactlyThree = CASES.find((c) => c.title === "stays quiet at exactly 3 restarts within an hour");
      if (!exactlyThree) throw new Error("case missing");
      const old = replaced(
        "InferenceServiceRestarts",
        `increase(kube_pod_container_status_restarts_total{namespace="${NS.serving}"}[1h]) > 3`,
      );
      const result = runWith(old, exactlyThree, 1);
      expect(result.ok).toBe(false);
      expect(result.output).toContain("InferenceServiceRestarts");
    });

    it("increase() alone misses the first failure", () => {
      const first = CASES.find((c) => c.title.startsWith("fires on the first failure ever"));
      if (!first) throw new Error("case missing");
      const phases = (p: string) => `argo_workflows_total_count{namespace="${NS.pipelines}",phase=~"${p}"}`;
      const old = replaced(
        "HighPipelineFailureRate",
        `sum(increase(${phases("Failed|Error")}[1h])) / sum(increase(${phases("Succeeded|Failed|Error")}[1h])) > 0.1`,
      );
      const result = runWith(old, first, 2);
      expect(result.ok).toBe(false);
      expect(result.output).toContain("HighPipelineFailureRate");
    });
  });
});
