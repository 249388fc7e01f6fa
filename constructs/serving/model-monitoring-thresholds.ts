import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { monitoringMaxAgeSeconds } from "./model-monitoring";
import {
  PERFORMANCE_DIRECTIONS,
  THRESHOLDS_RULE_NAME,
  THRESHOLD_SERIES,
  type PerformanceDirection,
  type PerformanceMetric,
} from "../lib/monitoring-contract";

/** What the alerts need to know about one served model. */
export interface MonitoredModel {
  /** The model's name (its InferenceService, and `model` in every series). */
  readonly model: string;
  /** The model logs its predictions (logging mode other than `off`). */
  readonly logs: boolean;
  /** When the model's monitoring job runs (five-field cron, UTC): its alerts' windows follow it. */
  readonly schedule: string;
  /** Drift score (0 < x <= 1) above which ModelDriftDetected fires. */
  readonly driftThreshold: number;
  /** The performance the model must keep against ground truth; unset: none is checked. */
  readonly performance?: {
    readonly metric: PerformanceMetric;
    readonly threshold: number;
    readonly direction: PerformanceDirection;
  };
}

export interface ModelMonitoringThresholdsProps {
  /** The serving namespace (the PrometheusRule's). */
  readonly namespace: string;
  readonly models: readonly MonitoredModel[];
  readonly dependsOn?: ITerraformDependable[];
}

/** Why `model` cannot be turned into threshold series, as one line per problem. */
export function monitoredModelProblems(models: readonly MonitoredModel[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  models.forEach((entry, index) => {
    const at = `models[${index}]`;
    if (seen.has(entry.model))
      problems.push(
        `${at}.model is "${entry.model}", which is listed twice; allowed: each model once; fix: remove the second entry`,
      );
    seen.add(entry.model);
    if (entry.logs && monitoringMaxAgeSeconds(entry.schedule) === undefined)
      problems.push(
        `${at}.schedule of ${entry.model} is "${entry.schedule}"; allowed: a five-field cron expression (UTC) that runs; fix: give the model's monitoring schedule, e.g. "15 * * * *"`,
      );
    const drift = entry.driftThreshold;
    if (!Number.isFinite(drift) || drift <= 0 || drift > 1)
      problems.push(
        `${at}.driftThreshold of ${entry.model} is ${drift}; allowed: a share above 0 and at most 1; fix: give the share of drifted features that should alert, e.g. 0.25`,
      );
    const performance = entry.performance;
    if (!performance) return;
    const expected: PerformanceDirection | undefined = PERFORMANCE_DIRECTIONS[performance.metric];
    if (expected === undefined) {
      problems.push(
        `${at}.performance.metric of ${entry.model} is "${performance.metric}"; allowed: ${Object.keys(PERFORMANCE_DIRECTIONS).join(", ")}; fix: name one of these`,
      );
      return;
    }
    if (performance.direction !== expected)
      problems.push(
        `${at}.performance.direction of ${entry.model} is "${performance.direction}" for ${performance.metric}; allowed: "${expected}"; fix: use the metric's own direction`,
      );
    const value = performance.threshold;
    if (expected === "at-least" && !(Number.isFinite(value) && value >= 0 && value <= 1))
      problems.push(
        `${at}.performance.threshold of ${entry.model} is ${value} for ${performance.metric}; allowed: 0 to 1; fix: give the lowest acceptable ${performance.metric}, e.g. 0.8`,
      );
    if (expected === "at-most" && !(Number.isFinite(value) && value >= 0))
      problems.push(
        `${at}.performance.threshold of ${entry.model} is ${value} for ${performance.metric}; allowed: a number >= 0; fix: give the highest acceptable ${performance.metric}`,
      );
  });
  return problems;
}

/**
 * The recording rules of the thresholds: one series per model (the constant as a one-element
 * vector, labelled), so the alerts compare what the jobs push with these by `model`. A model that
 * logs also gets the age its last successful run may reach (THRESHOLD_SERIES.maxAge).
 */
export function thresholdRuleGroups(models: readonly MonitoredModel[]): Record<string, unknown>[] {
  const constant = (record: string, value: number, labels: Record<string, string>) => ({
    record,
    expr: `vector(${value})`,
    labels,
  });
  return [
    {
      name: THRESHOLDS_RULE_NAME,
      rules: models.flatMap((entry) => [
        constant(THRESHOLD_SERIES.drift, entry.driftThreshold, { model: entry.model }),
        constant(THRESHOLD_SERIES.logging, entry.logs ? 1 : 0, { model: entry.model }),
        // Only a model that logs has a monitoring job, and so a schedule its runs keep.
        ...(entry.logs
          ? [
              constant(THRESHOLD_SERIES.maxAge, monitoringMaxAgeSeconds(entry.schedule) ?? 0, {
                model: entry.model,
              }),
            ]
          : []),
        ...(entry.performance
          ? [
              constant(THRESHOLD_SERIES.performance, entry.performance.threshold, {
                model: entry.model,
                metric: entry.performance.metric,
                direction: entry.performance.direction,
              }),
            ]
          : []),
      ]),
    },
  ];
}

/**
 * The per-model thresholds of the model-monitoring alerts as a PrometheusRule in the serving
 * namespace. kube-prometheus-stack's Prometheus selects rules of every namespace
 * (`ruleSelectorNilUsesHelmValues: false`, empty `ruleNamespaceSelector`), and the platform
 * enforces no namespace label, so the series carry `model` (and for performance `metric` and
 * `direction`) only.
 */
export class ModelMonitoringThresholds extends Construct {
  public readonly rule: Manifest;

  constructor(scope: Construct, id: string, props: ModelMonitoringThresholdsProps) {
    super(scope, id);
    if (props.models.length === 0)
      throw new Error(
        "ModelMonitoringThresholds: models is empty; allowed: at least one served model; fix: list the release's models",
      );
    const problems = monitoredModelProblems(props.models);
    if (problems.length > 0) throw new Error(`ModelMonitoringThresholds: ${problems.join("; ")}`);
    this.rule = new Manifest(this, "Rule", {
      manifest: {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "PrometheusRule",
        metadata: {
          name: THRESHOLDS_RULE_NAME,
          namespace: props.namespace,
          labels: {
            "app.kubernetes.io/part-of": "mlops-platform",
            "app.kubernetes.io/name": "model-monitoring",
          },
        },
        spec: { groups: thresholdRuleGroups(props.models) },
      },
      dependsOn: props.dependsOn,
    });
  }
}
