/**
 * The inference dashboard's queries evaluated by `promtool test rules` (`promql_expr_test`) on
 * series the test owns: healthy traffic shows an error rate of 0 and the number of active models,
 * not "No data"; panels keep the serving path, and a canary's version and track, apart. Skipped,
 * with the reason printed, when promtool is not installed (Debian/Ubuntu: `apt-get install prometheus`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { inferencePanels, modelMonitoringPanels } from "../../constructs/platform/observability";
import { thresholdRuleGroups } from "../../constructs/serving/model-monitoring-thresholds";
import { OBSERVED, labelText, promtoolFor, scrapedFromPushgateway } from "../support/alerting";

const FOUND = promtoolFor("__tests__/integration/dashboard-promtool.test.ts");
const PROMTOOL = FOUND ?? "promtool";
const suite = FOUND ? describe : describe.skip;

const NS = OBSERVED;
const PANELS = inferencePanels(NS);
const panel = (title: string) => {
  const found = PANELS.find((p) => p.title === title);
  if (!found) throw new Error(`no panel "${title}"`);
  return found.expr;
};

const INFER_PATH = "/v2/models/{model_name}/infer";
/** 16 samples a minute apart, growing by `perMinute`. */
const counter = (perMinute: number) =>
  Array.from({ length: 16 }, (_, minute) => String(minute * perMinute)).join(" ");

const deploymentRequests = (model: string, code: string) =>
  `mlops_inference_requests_total{${labelText({ namespace: NS.serving, model, code })}}`;
const predictorRequests = (isvc: string, status: string, version: string, track: string) =>
  `rest_server_requests_total{${labelText({
    namespace: NS.serving,
    inferenceservice: isvc,
    version,
    track,
    app_name: "mlserver",
    method: "POST",
    path: INFER_PATH,
    status_code: status,
  })}}`;

/** Healthy traffic, no 5xx anywhere: the serving Deployment, and churn's primary v7 and canary v8. */
const HEALTHY = [
  { series: deploymentRequests("churn", "200"), values: counter(600) },
  { series: predictorRequests("churn", "200", "v7", "primary"), values: counter(540) },
  { series: predictorRequests("churn", "200", "v8", "canary"), values: counter(60) },
];

interface ExpectedSample {
  readonly labels: string;
  readonly value: number;
}

suite("inference dashboard queries under promtool", () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "dashboard-queries-"));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  let files = 0;
  /**
   * Runs promtool on `expr` over `series` at minute 10, with `ruleFiles` evaluated beside them;
   * ok when the result is exactly `expected`.
   */
  const evaluate = (
    expr: string,
    series: typeof HEALTHY,
    expected: ExpectedSample[],
    ruleFiles: string[] = [],
  ) => {
    const file = `case-${files++}.yaml`;
    writeFileSync(
      join(work, file),
      stringify({
        rule_files: ruleFiles,
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: series,
            promql_expr_test: [
              {
                expr,
                eval_time: "10m30s",
                exp_samples: expected.map((sample) => ({ labels: sample.labels, value: sample.value })),
              },
            ],
          },
        ],
      }),
    );
    const result = spawnSync(PROMTOOL, ["test", "rules", file], { cwd: work, encoding: "utf8" });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
  };

  const deployment = '{model="churn",serving_path="deployment"}';
  const primary = '{model="churn",serving_path="inferenceservice",track="primary",version="v7"}';
  const canary = '{model="churn",serving_path="inferenceservice",track="canary",version="v8"}';

  it("Error rate % is 0 for every serving path and version when no 5xx series exists", () => {
    const result = evaluate(panel("Error rate %"), HEALTHY, [
      { labels: deployment, value: 0 },
      { labels: primary, value: 0 },
      { labels: canary, value: 0 },
    ]);
    if (!result.ok) throw new Error(result.output);
    expect(result.output).toContain("SUCCESS");
  });

  it("Error rate % shows the canary's share of 5xx beside its healthy primary", () => {
    const result = evaluate(
      panel("Error rate %"),
      [...HEALTHY, { series: predictorRequests("churn", "500", "v8", "canary"), values: counter(60) }],
      [
        { labels: deployment, value: 0 },
        { labels: primary, value: 0 },
        { labels: canary, value: 50 },
      ],
    );
    if (!result.ok) throw new Error(result.output);
    expect(result.output).toContain("SUCCESS");
  });

  it("the replaced Error rate % query gives no data on the same healthy series", () => {
    const served = `namespace="${NS.serving}"`;
    const infer = `path=~"/v2/models/[^/]+(/versions/[^/]+)?/infer"`;
    const rate = (deploymentSeries: string, predictorSeries: string) =>
      `rate(${deploymentSeries}[5m]) or label_replace(rate(${predictorSeries}[5m]), "model", "$1", "inferenceservice", "(.+)")`;
    const old = `100 * sum(${rate(
      `mlops_inference_requests_total{${served},code=~"5.."}`,
      `rest_server_requests_total{${served},${infer},status_code=~"5.."}`,
    )}) / sum(${rate(`mlops_inference_requests_total{${served}}`, `rest_server_requests_total{${served},${infer}}`)})`;
    const result = evaluate(old, HEALTHY, []);
    if (!result.ok) throw new Error(result.output);
    expect(result.output).toContain("SUCCESS");
  });

  it("Active models counts each model's serving paths with traffic", () => {
    const result = evaluate(panel("Active models"), HEALTHY, [{ labels: "{}", value: 2 }]);
    if (!result.ok) throw new Error(result.output);
    expect(result.output).toContain("SUCCESS");
  });

  it("Active models is 0, not no data, when no model has traffic", () => {
    const idle = HEALTHY.map((s) => ({ series: s.series, values: "5x15" }));
    const result = evaluate(panel("Active models"), idle, [{ labels: "{}", value: 0 }]);
    if (!result.ok) throw new Error(result.output);
    expect(result.output).toContain("SUCCESS");
  });

  it("Request rate by model keeps the serving path, version and track", () => {
    const result = evaluate(panel("Request rate by model"), HEALTHY, [
      { labels: deployment, value: 10 },
      { labels: primary, value: 9 },
      { labels: canary, value: 1 },
    ]);
    if (!result.ok) throw new Error(result.output);
    expect(result.output).toContain("SUCCESS");
  });

  describe("model-monitoring panels, on the series the Pushgateway exposes and the recorded thresholds", () => {
    const THRESHOLDS = "thresholds.yaml";
    beforeAll(() =>
      writeFileSync(
        join(work, THRESHOLDS),
        stringify({
          groups: thresholdRuleGroups([
            {
              model: "churn",
              logs: true,
              schedule: "15 * * * *",
              driftThreshold: 0.25,
              performance: { metric: "auc", threshold: 0.8, direction: "at-least" },
            },
            { model: "pricing", logs: false, schedule: "15 * * * *", driftThreshold: 0.25 },
          ]),
        }),
      ),
    );
    const monitoringPanel = (title: string) => {
      const found = modelMonitoringPanels().find((p) => p.title === title);
      if (!found) throw new Error(`no panel "${title}"`);
      return found.expr;
    };
    /** A gauge churn's run pushed for `version`, with the Pushgateway's target labels (honorLabels). */
    const pushed = (metric: string, version: string, values: string, extra: Record<string, string> = {}) => ({
      series: scrapedFromPushgateway(metric, "churn", version, extra),
      values,
    });

    it("Drift score vs threshold: each version's score and the threshold of each model that logs", () => {
      const result = evaluate(
        monitoringPanel("Drift score vs threshold"),
        [
          pushed("mlops_model_drift_score", "v7", "0.1x15"),
          pushed("mlops_model_drift_score", "v8", "0.4x15"),
        ],
        [
          { labels: '{model="churn",version="v7"}', value: 0.1 },
          { labels: '{model="churn",version="v8"}', value: 0.4 },
          { labels: '{model="churn",version="threshold"}', value: 0.25 },
        ],
        [THRESHOLDS],
      );
      if (!result.ok) throw new Error(result.output);
      expect(result.output).toContain("SUCCESS");
    });

    it("Performance vs threshold: each version's metric and the release's floor", () => {
      const result = evaluate(
        monitoringPanel("Performance vs threshold"),
        [
          pushed("mlops_model_performance", "v7", "0.9x15", { metric: "auc" }),
          pushed("mlops_model_performance", "v8", "0.7x15", { metric: "auc" }),
        ],
        [
          { labels: '{metric="auc",model="churn",version="v7"}', value: 0.9 },
          { labels: '{metric="auc",model="churn",version="v8"}', value: 0.7 },
          { labels: '{metric="auc",model="churn",version="threshold"}', value: 0.8 },
        ],
        [THRESHOLDS],
      );
      if (!result.ok) throw new Error(result.output);
      expect(result.output).toContain("SUCCESS");
    });

    it("Newest prediction log object age and time since the last run, in seconds, per version", () => {
      // At 10m30s: v7's newest object is from 60s, its run from 540s; v8's object from 300s.
      const series = [
        pushed("mlops_prediction_log_newest_object_timestamp_seconds", "v7", "60x15"),
        pushed("mlops_prediction_log_newest_object_timestamp_seconds", "v8", "300x15"),
        pushed("mlops_model_monitoring_last_success_timestamp_seconds", "v7", "540x15"),
        pushed("mlops_model_monitoring_last_success_timestamp_seconds", "v8", "540x15"),
      ];
      const age = evaluate(monitoringPanel("Newest prediction log object age"), series, [
        { labels: '{model="churn",version="v7"}', value: 570 },
        { labels: '{model="churn",version="v8"}', value: 330 },
      ]);
      if (!age.ok) throw new Error(age.output);
      const run = evaluate(monitoringPanel("Time since last successful monitoring run"), series, [
        { labels: '{model="churn",version="v7"}', value: 90 },
        { labels: '{model="churn",version="v8"}', value: 90 },
      ]);
      if (!run.ok) throw new Error(run.output);
      expect(`${age.output}${run.output}`).not.toContain("FAILED");
    });
  });
});
