/**
 * The environment's defaults for the drift and performance jobs (both targets): when they run,
 * the drift threshold a release's model falls back on, and how long the prediction log may stay
 * silent before it counts as stalled. The release file overrides schedule and threshold per model.
 */
import { z } from "zod";
import { fix, wholeNumber } from "./common";
import { MODEL_MONITORING_JOB } from "../../constructs/serving/model-monitoring";
import { longestIntervalMinutes, parseCron, shortestIntervalMinutes } from "../../constructs/lib/cron";
import { MONITORING_DEFAULTS as CONTRACT_DEFAULTS } from "../../constructs/lib/monitoring-contract";

const DEADLINE_MINUTES = MODEL_MONITORING_JOB.deadlineSeconds / 60;

/**
 * A schedule the monitoring job can keep: five fields, UTC, and no more often than its deadline
 * (the CronJob forbids overlapping runs, so a run due while the last one still may run is skipped).
 */
export function monitoringScheduleProblem(schedule: string): string | undefined {
  const parsed = parseCron(schedule);
  if (!parsed.ok)
    return fix(
      `must be a five-field cron expression (UTC), but ${parsed.reason}`,
      parsed.fix ?? 'write minute hour day-of-month month day-of-week, e.g. "15 * * * *" for hourly at :15',
    );
  if (longestIntervalMinutes(parsed) === undefined)
    return fix(
      "never runs: its day of month, month and day of week never fall together",
      'name a day that exists, e.g. "0 3 1 * *" for the first of each month',
    );
  const interval = shortestIntervalMinutes(parsed.fields);
  if (interval < DEADLINE_MINUTES)
    return fix(
      `runs every ${interval} minutes at its closest, more often than the monitoring job's ${DEADLINE_MINUTES}-minute deadline allows (runs never overlap, so every other run would be skipped)`,
      `leave at least ${DEADLINE_MINUTES} minutes between runs, e.g. "15 * * * *" for hourly`,
    );
  return undefined;
}

export const monitoringSchedule = z
  .string({ error: fix("must be a cron expression in quotes", 'write e.g. "15 * * * *"') })
  .superRefine((schedule, ctx) => {
    const problem = monitoringScheduleProblem(schedule);
    if (problem) ctx.addIssue({ code: "custom", input: schedule, message: problem });
  })
  .describe(
    `a five-field cron expression (UTC) with at least ${DEADLINE_MINUTES} minutes between runs, the monitoring job's deadline`,
  );

export const driftThreshold = z
  .number({
    error: fix(
      "must be a number above 0 and at most 1",
      "use the share of drifted features that alerts, e.g. 0.25",
    ),
  })
  .gt(0, {
    error: fix("must be above 0 and at most 1", "use the share of drifted features that alerts, e.g. 0.25"),
  })
  .max(1, {
    error: fix("must be above 0 and at most 1", "use the share of drifted features that alerts, e.g. 0.25"),
  });

/** The environment's defaults: the monitoring contract's, and an hourly run at :15. */
export const MONITORING_DEFAULTS = { ...CONTRACT_DEFAULTS, schedule: "15 * * * *" } as const;

/** `monitoring` of an environment file (AWS and on-prem). */
export const environmentMonitoringSchema = z
  .strictObject({
    /** When each model's monitoring job runs (five-field cron, UTC). @default "15 * * * *" */
    schedule: monitoringSchedule.default(MONITORING_DEFAULTS.schedule),
    /** Share of features drifted from the reference above which a model counts as drifted. @default 0.25 */
    driftThreshold: driftThreshold.default(MONITORING_DEFAULTS.driftThreshold),
    /**
     * Minutes without a new prediction log object, while the model serves traffic, before the log
     * counts as stalled; must be above each logging model's longest gap between monitoring runs
     * plus the run's 45-minute deadline plus its batchInterval (checked against the release).
     * @default 120
     */
    predictionLogStallMinutes: wholeNumber(
      "predictionLogStallMinutes",
      10,
      10080,
      "give 10 minutes to 7 days, longer than the quietest hour's gap between requests",
    ).default(MONITORING_DEFAULTS.predictionLogStallMinutes),
  })
  .prefault({});

export type EnvironmentMonitoring = z.output<typeof environmentMonitoringSchema>;
