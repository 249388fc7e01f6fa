/**
 * The four model-monitoring alerts under `promtool test rules`, with the thresholds the serving
 * stack records (thresholdRuleGroups, loaded as a second rule file) and the series as Prometheus
 * scrapes them: what the monitoring jobs push, from the Pushgateway with honorLabels (the pushed
 * `job`, `model` and `version`, beside the Pushgateway's own instance, namespace, pod, service,
 * endpoint and container), the inference request counters the inference alerts read, and
 * kube-state-metrics v2.20.0's Job and CronJob series. Each alert fires where it must and stays
 * quiet below its threshold, on a healthy version beside a failing canary, for a model that does
 * not log, without traffic. Skipped, with the reason printed, when promtool is not installed.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import {
  DEFAULT_ALERT_THRESHOLDS,
  PLATFORM_ALERT_LABELS,
  modelMonitoringAlerts,
} from "../../constructs/platform/observability";
import { platformRuleGroups } from "../../constructs/platform/monitoring";
import {
  thresholdRuleGroups,
  type MonitoredModel,
} from "../../constructs/serving/model-monitoring-thresholds";
import { OBSERVED, expand, labelText, promtoolFor, scrapedFromPushgateway } from "../support/alerting";

const FOUND = promtoolFor("__tests__/integration/model-monitoring-alerts-promtool.test.ts");
const PROMTOOL = FOUND ?? "promtool";
const suite = FOUND ? describe : describe.skip;

const NS = OBSERVED;
const ALERTS = modelMonitoringAlerts(NS, DEFAULT_ALERT_THRESHOLDS);
const ALERT_FILE = "model-monitoring-alerts.yaml";
const THRESHOLD_FILE = "model-monitoring-thresholds.yaml";

/** The release's models, as the serving stack hands them to ModelMonitoringThresholds. */
const MODELS: MonitoredModel[] = [
  // Hourly: a run may be 60 + 45 (deadline) + 30 (margin) = 135 minutes old.
  {
    model: "churn",
    logs: true,
    schedule: "15 * * * *",
    driftThreshold: 0.25,
    performance: { metric: "accuracy", threshold: 0.8, direction: "at-least" },
  },
  // Weekly: a run may be 7 days and 75 minutes old.
  {
    model: "fraud",
    logs: true,
    schedule: "0 4 * * mon",
    driftThreshold: 0.3,
    performance: { metric: "rmse", threshold: 12.5, direction: "at-most" },
  },
  // Stopped logging: its monitoring CronJob is gone, its last pushes stay in the Pushgateway.
  { model: "pricing", logs: false, schedule: "15 * * * *", driftThreshold: 0.25 },
];

const pushed = scrapedFromPushgateway;

/** A kube-state-metrics series of an object in the serving namespace (honorLabels keeps `namespace`). */
const ksm = (metric: string, labels: Record<string, string>) =>
  `${metric}{${labelText({
    namespace: NS.serving,
    ...labels,
    job: "kube-state-metrics",
    instance: "10.0.2.5:8080",
    service: "kube-prometheus-stack-kube-state-metrics",
    endpoint: "http",
    container: "kube-state-metrics",
    pod: "kube-prometheus-stack-kube-state-metrics-7f9c8-qx2mn",
  })}}`;

interface Series {
  readonly series: string;
  /** promtool's expanding notation, one sample a minute, e.g. `0.4x40` or `0+60x40`. */
  readonly values: string;
}

interface AlertCase {
  readonly alert: string;
  readonly title: string;
  readonly series: Series[];
  /** Minutes after the first sample; evaluated half a minute later. */
  readonly evalMinute: number;
  /** Label sets of the alerts expected to fire (beyond severity and the platform label); empty: none. */
  readonly fires: Record<string, string>[];
}

/** A version whose run succeeded at every sample (the run's time, in seconds, as the value). */
const succeeding = (model: string, version: string, minutes: number): Series => ({
  series: pushed("mlops_model_monitoring_last_success_timestamp_seconds", model, version),
  values: `0+60x${minutes}`,
});
const drift = (model: string, version: string, value: number, minutes: number): Series => ({
  series: pushed("mlops_model_drift_score", model, version),
  values: `${value}x${minutes}`,
});
const performance = (
  model: string,
  version: string,
  metric: string,
  value: number,
  minutes: number,
): Series => ({
  series: pushed("mlops_model_performance", model, version, { metric }),
  values: `${value}x${minutes}`,
});

/** The newest logged object stays at the Unix time `at` (logging stopped then). */
const newestObject = (model: string, version: string, values: string): Series => ({
  series: pushed("mlops_prediction_log_newest_object_timestamp_seconds", model, version),
  values,
});
/** The serving Deployment's request counter, `perMinute` requests a minute. */
const deploymentTraffic = (model: string, values: string): Series => ({
  series: `mlops_inference_requests_total{${labelText({ namespace: NS.serving, model, code: "200", pod: `mlops-serving-${model}` })}}`,
  values,
});
/** An MLServer predictor's request counter, as the predictor PodMonitor labels it. */
const predictorTraffic = (isvc: string, version: string, track: string, values: string): Series => ({
  series: `rest_server_requests_total{${labelText({
    namespace: NS.serving,
    inferenceservice: isvc,
    version,
    track,
    app_name: "mlserver",
    method: "POST",
    path: "/v2/models/{model_name}/infer",
    status_code: "200",
  })}}`,
  values,
});

/**
 * One Job of a CronJob as kube-state-metrics reports it: created at `createdAt` (seconds), owned
 * by `cronjob`, and finished `Complete` or `Failed` (each condition as true/false/unknown series).
 */
function job(cronjob: string, createdAt: number, outcome: "Complete" | "Failed", minutes: number): Series[] {
  const jobName = `${cronjob}-${createdAt / 60}`;
  const conditions = (metric: string, holds: boolean): Series[] =>
    (["true", "false", "unknown"] as const).map((condition) => ({
      series: ksm(metric, { job_name: jobName, condition }),
      values: `${(condition === "true") === holds ? 1 : 0}x${minutes}`,
    }));
  return [
    { series: ksm("kube_job_created", { job_name: jobName }), values: `${createdAt}x${minutes}` },
    {
      series: ksm("kube_job_owner", {
        job_name: jobName,
        owner_kind: "CronJob",
        owner_name: cronjob,
        owner_is_controller: "true",
      }),
      values: `1x${minutes}`,
    },
    ...(outcome === "Complete" ? conditions("kube_job_complete", true) : conditions("kube_job_failed", true)),
  ];
}
const cronjobCreated = (cronjob: string, at: number, minutes: number): Series => ({
  series: ksm("kube_cronjob_created", { cronjob }),
  values: `${at}x${minutes}`,
});
/** kube-state-metrics' time of the CronJob's last completed Job (present once one completed). */
const cronjobLastSuccess = (cronjob: string, values: string): Series => ({
  series: ksm("kube_cronjob_status_last_successful_time", { cronjob }),
  values,
});
/** A run that succeeded once, at 0, and never again: its last push stays in the Pushgateway. */
const succeededOnce = (model: string, version: string, minutes: number): Series => ({
  series: pushed("mlops_model_monitoring_last_success_timestamp_seconds", model, version),
  values: `0x${minutes}`,
});

/** Minutes past churn's (hourly) max age of 135 minutes without a successful run. */
const PAST_HOURLY = 135 + 10;
/** Past a day and two hours: the fixed window the alerts once had, well within a weekly schedule. */
const PAST_DAY = 26 * 60 + 10;

const CASES: AlertCase[] = [
  // ModelDriftDetected: the drift score above the model's recorded threshold for 10m.
  {
    alert: "ModelDriftDetected",
    title: "fires on a version whose drift score is above its model's threshold",
    series: [drift("churn", "v7", 0.4, 30), succeeding("churn", "v7", 30)],
    evalMinute: 25,
    fires: [{ model: "churn", version: "v7" }],
  },
  {
    alert: "ModelDriftDetected",
    title: "fires on a drifting canary beside a primary within its threshold, naming the canary's version",
    series: [
      drift("churn", "v7", 0.1, 30),
      succeeding("churn", "v7", 30),
      drift("churn", "v8", 0.5, 30),
      succeeding("churn", "v8", 30),
    ],
    evalMinute: 25,
    fires: [{ model: "churn", version: "v8" }],
  },
  {
    alert: "ModelDriftDetected",
    title: "stays quiet at each model's own threshold (0.25 for churn, 0.3 for fraud)",
    series: [
      drift("churn", "v7", 0.25, 30),
      succeeding("churn", "v7", 30),
      drift("fraud", "v3", 0.29, 30),
      succeeding("fraud", "v3", 30),
    ],
    evalMinute: 25,
    fires: [],
  },
  {
    alert: "ModelDriftDetected",
    title: "stays quiet while drifted for less than 10 minutes",
    series: [drift("churn", "v7", 0.4, 30), succeeding("churn", "v7", 30)],
    evalMinute: 8,
    fires: [],
  },
  {
    alert: "ModelDriftDetected",
    title: "stays quiet on a version no longer monitored, whose last push stays in the Pushgateway",
    series: [
      drift("churn", "v6", 0.9, PAST_DAY + 5),
      {
        series: pushed("mlops_model_monitoring_last_success_timestamp_seconds", "churn", "v6"),
        values: `0x${PAST_DAY + 5}`,
      },
      drift("churn", "v7", 0.1, PAST_DAY + 5),
      succeeding("churn", "v7", PAST_DAY + 5),
    ],
    evalMinute: PAST_DAY,
    fires: [],
  },
  {
    alert: "ModelDriftDetected",
    title: "fires on a weekly model's drift a day after its run, within its week between runs",
    series: [drift("fraud", "v3", 0.5, PAST_DAY + 5), succeededOnce("fraud", "v3", PAST_DAY + 5)],
    evalMinute: PAST_DAY,
    fires: [{ model: "fraud", version: "v3" }],
  },
  {
    alert: "ModelDriftDetected",
    title: "stays quiet on an hourly model's drift once its run is older than its max age",
    series: [drift("churn", "v7", 0.5, PAST_HOURLY + 5), succeededOnce("churn", "v7", PAST_HOURLY + 5)],
    evalMinute: PAST_HOURLY,
    fires: [],
  },
  {
    alert: "ModelDriftDetected",
    title: "stays quiet on a model that stopped logging, and on one that left the release",
    series: [
      drift("pricing", "v2", 0.9, 30),
      succeeding("pricing", "v2", 30),
      drift("legacy", "v1", 0.9, 30),
      succeeding("legacy", "v1", 30),
    ],
    evalMinute: 25,
    fires: [],
  },
  // ModelPerformanceDegraded: at-least metrics below, at-most metrics above the threshold.
  {
    alert: "ModelPerformanceDegraded",
    title: "fires on an at-least metric (accuracy) below its threshold",
    series: [performance("churn", "v7", "accuracy", 0.7, 30), succeeding("churn", "v7", 30)],
    evalMinute: 25,
    fires: [{ model: "churn", version: "v7", metric: "accuracy" }],
  },
  {
    alert: "ModelPerformanceDegraded",
    title: "fires on an at-most metric (rmse) above its threshold",
    series: [performance("fraud", "v3", "rmse", 15, 30), succeeding("fraud", "v3", 30)],
    evalMinute: 25,
    fires: [{ model: "fraud", version: "v3", metric: "rmse" }],
  },
  {
    alert: "ModelPerformanceDegraded",
    title: "fires on a worse canary beside a good primary, naming the canary's version",
    series: [
      performance("churn", "v7", "accuracy", 0.9, 30),
      succeeding("churn", "v7", 30),
      performance("churn", "v8", "accuracy", 0.6, 30),
      succeeding("churn", "v8", 30),
    ],
    evalMinute: 25,
    fires: [{ model: "churn", version: "v8", metric: "accuracy" }],
  },
  {
    alert: "ModelPerformanceDegraded",
    title: "stays quiet on a model that left the release, whose last push stays in the Pushgateway",
    series: [
      performance("legacy", "v1", "accuracy", 0.1, 30),
      succeeding("legacy", "v1", 30),
      // The old threshold series of a model the release no longer lists is gone with its rule.
    ],
    evalMinute: 25,
    fires: [],
  },
  {
    alert: "ModelPerformanceDegraded",
    title: "stays quiet within the thresholds: accuracy above its floor, rmse below its ceiling",
    series: [
      performance("churn", "v7", "accuracy", 0.85, 30),
      succeeding("churn", "v7", 30),
      performance("fraud", "v3", "rmse", 10, 30),
      succeeding("fraud", "v3", 30),
    ],
    evalMinute: 25,
    fires: [],
  },
  {
    alert: "ModelPerformanceDegraded",
    title: "stays quiet on a metric the release sets no threshold for, and in the other direction",
    series: [
      // churn's release metric is accuracy; a low f1 is not judged. A low rmse is good.
      performance("churn", "v7", "f1", 0.2, 30),
      succeeding("churn", "v7", 30),
      performance("fraud", "v3", "rmse", 0.5, 30),
      succeeding("fraud", "v3", 30),
    ],
    evalMinute: 25,
    fires: [],
  },
  // PredictionLoggingStalled: traffic throughout 120 minutes, newest object older than that.
  {
    alert: "PredictionLoggingStalled",
    title:
      "fires when the serving Deployment's requests flow but the newest object is older than 120 minutes",
    series: [newestObject("churn", "v7", "0x160"), deploymentTraffic("churn", "0+60x160")],
    evalMinute: 150,
    fires: [{ model: "churn" }],
  },
  {
    alert: "PredictionLoggingStalled",
    title: "fires on an InferenceService's traffic, named by the InferenceService",
    series: [
      newestObject("fraud", "v3", "0x160"),
      predictorTraffic("fraud", "v3", "primary", "0+30x160"),
      predictorTraffic("fraud", "v4", "canary", "0+3x160"),
    ],
    evalMinute: 150,
    fires: [{ model: "fraud" }],
  },
  {
    alert: "PredictionLoggingStalled",
    title: "stays quiet while new objects keep arriving",
    series: [newestObject("churn", "v7", "0+60x160"), deploymentTraffic("churn", "0+60x160")],
    evalMinute: 150,
    fires: [],
  },
  {
    alert: "PredictionLoggingStalled",
    title: "stays quiet without traffic",
    series: [newestObject("churn", "v7", "0x160"), deploymentTraffic("churn", "5x160")],
    evalMinute: 150,
    fires: [],
  },
  {
    alert: "PredictionLoggingStalled",
    title: "stays quiet when traffic resumed within the window, before a run could see its objects",
    series: [newestObject("churn", "v7", "0x160"), deploymentTraffic("churn", "5x90 5+60x70")],
    evalMinute: 150,
    fires: [],
  },
  {
    alert: "PredictionLoggingStalled",
    title: "stays quiet for a model that does not log",
    series: [newestObject("pricing", "v2", "0x160"), deploymentTraffic("pricing", "0+60x160")],
    evalMinute: 150,
    fires: [],
  },
  {
    alert: "PredictionLoggingStalled",
    title: "stays quiet while the newest object is younger than 120 minutes",
    series: [newestObject("churn", "v7", "0x160"), deploymentTraffic("churn", "0+60x160")],
    evalMinute: 115,
    fires: [],
  },
  // ModelMonitoringJobFailed: the newest finished Job failed, no success for 26h, or never one.
  {
    alert: "ModelMonitoringJobFailed",
    title: "fires when the newest finished Job of monitor-<model> failed after an earlier success",
    series: [
      ...job("monitor-churn", 600, "Complete", 40),
      ...job("monitor-churn", 1200, "Failed", 40),
      succeeding("churn", "v7", 40),
    ],
    evalMinute: 30,
    fires: [{ model: "churn", problem: "newest-run-failed" }],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "fires when every Job of a model with a hyphenated name failed",
    series: [...job("monitor-churn-eu-2", 600, "Failed", 40), cronjobCreated("monitor-churn-eu-2", 0, 40)],
    evalMinute: 30,
    fires: [{ model: "churn-eu-2", problem: "newest-run-failed" }],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "stays quiet once a later run succeeded, though the failed Job is kept in the history",
    series: [
      ...job("monitor-churn", 600, "Failed", 40),
      ...job("monitor-churn", 1200, "Complete", 40),
      succeeding("churn", "v7", 40),
    ],
    evalMinute: 30,
    fires: [],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "stays quiet on a failed Job of another CronJob",
    series: [...job("model-retraining", 600, "Failed", 40), succeeding("churn", "v7", 40)],
    evalMinute: 30,
    fires: [],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "fires when an hourly model pushed no success for longer than its 135-minute max age",
    series: [succeededOnce("churn", "v7", PAST_HOURLY + 10)],
    evalMinute: PAST_HOURLY,
    fires: [{ model: "churn", problem: "no-recent-success" }],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "stays quiet while an hourly model's last success is younger than its max age",
    series: [succeededOnce("churn", "v7", 140)],
    evalMinute: 125,
    fires: [],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "stays quiet on a weekly model a day after its last run",
    series: [succeededOnce("fraud", "v3", PAST_DAY + 10)],
    evalMinute: PAST_DAY,
    fires: [],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title:
      "stays quiet on a model that stopped logging, and on one that left the release, though their pushes stay",
    series: [succeededOnce("pricing", "v2", PAST_DAY + 10), succeededOnce("legacy", "v1", PAST_DAY + 10)],
    evalMinute: PAST_DAY,
    fires: [],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "fires when a CronJob older than its model's max age never completed a Job",
    series: [cronjobCreated("monitor-churn", 0, PAST_HOURLY + 10)],
    evalMinute: PAST_HOURLY,
    fires: [{ model: "churn", problem: "never-succeeded" }],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "stays quiet after a Pushgateway restart emptied it, when kube-state-metrics saw Jobs complete",
    series: [
      cronjobCreated("monitor-churn", 0, PAST_DAY + 10),
      // Runs keep completing; the pushed series are gone (the Pushgateway keeps nothing over a restart).
      cronjobLastSuccess("monitor-churn", `0+60x${PAST_DAY + 10}`),
    ],
    evalMinute: PAST_DAY,
    fires: [],
  },
  {
    alert: "ModelMonitoringJobFailed",
    title: "stays quiet on a new CronJob that has not run yet, and on a model whose runs succeed",
    series: [
      cronjobCreated("monitor-fraud", 0, 70),
      cronjobCreated("monitor-churn", 0, 70),
      succeeding("churn", "v7", 70),
    ],
    evalMinute: 60,
    fires: [],
  },
];

function unitTest(testCase: AlertCase): string {
  const rule = ALERTS.find((a) => a.alert === testCase.alert);
  if (!rule) throw new Error(`no alert ${testCase.alert}`);
  const fixed = { severity: rule.severity, ...PLATFORM_ALERT_LABELS };
  return stringify({
    rule_files: [THRESHOLD_FILE, ALERT_FILE],
    evaluation_interval: "30s",
    tests: [
      {
        interval: "1m",
        input_series: testCase.series,
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
                  runbook: expand(rule.runbook ?? "", all),
                },
              };
            }),
          },
        ],
      },
    ],
  });
}

suite("model-monitoring alerts under promtool", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "model-monitoring-alerts-"));
    writeFileSync(join(work, ALERT_FILE), stringify({ groups: platformRuleGroups(ALERTS) }));
    writeFileSync(join(work, THRESHOLD_FILE), stringify({ groups: thresholdRuleGroups(MODELS) }));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const result = spawnSync(PROMTOOL, args, { cwd: work, encoding: "utf8" });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  };

  it("accepts the alert and threshold rule files (promtool check rules)", () => {
    const alerts = run(["check", "rules", ALERT_FILE]);
    expect(alerts.output).toContain("SUCCESS: 4 rules found");
    expect(alerts.ok).toBe(true);
    const thresholds = run(["check", "rules", THRESHOLD_FILE]);
    // churn and fraud: drift, logging, max age and performance; pricing: drift and logging.
    expect(thresholds.output).toContain("SUCCESS: 10 rules found");
    expect(thresholds.ok).toBe(true);
  });

  it("has firing and quiet cases for each of the four alerts, and a runbook for each", () => {
    expect(ALERTS.map((a) => a.alert)).toEqual([
      "ModelDriftDetected",
      "ModelPerformanceDegraded",
      "PredictionLoggingStalled",
      "ModelMonitoringJobFailed",
    ]);
    for (const rule of ALERTS) {
      const cases = CASES.filter((c) => c.alert === rule.alert);
      expect({ alert: rule.alert, fires: cases.some((c) => c.fires.length > 0) }).toEqual({
        alert: rule.alert,
        fires: true,
      });
      expect({ alert: rule.alert, quiet: cases.some((c) => c.fires.length === 0) }).toEqual({
        alert: rule.alert,
        quiet: true,
      });
      expect(rule.runbook).toMatch(/kubectl -n mlops /);
    }
  });

  it.each(CASES.map((c, index) => [`${c.alert} ${c.title}`, index]))("%s", (_title, index) => {
    const testCase = CASES[index as number];
    const file = `case-${index}.yaml`;
    writeFileSync(join(work, file), unitTest(testCase));
    const result = run(["test", "rules", file]);
    if (!result.ok) throw new Error(`promtool test rules failed:\n${result.output}`);
    expect(result.output).toContain("SUCCESS");
  });

  it("a drift threshold taken per model: the same score alerts for churn (0.25) and not for fraud (0.3)", () => {
    const file = "per-model.yaml";
    writeFileSync(
      join(work, file),
      unitTest({
        alert: "ModelDriftDetected",
        title: "per model",
        series: [
          drift("churn", "v7", 0.28, 30),
          succeeding("churn", "v7", 30),
          drift("fraud", "v3", 0.28, 30),
          succeeding("fraud", "v3", 30),
        ],
        evalMinute: 25,
        fires: [{ model: "churn", version: "v7" }],
      }),
    );
    const result = run(["test", "rules", file]);
    if (!result.ok) throw new Error(`promtool test rules failed:\n${result.output}`);
    expect(result.output).toContain("SUCCESS");
  });
});
