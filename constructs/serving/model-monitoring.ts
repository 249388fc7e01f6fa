/**
 * The drift and performance jobs: per model, a CronJob `monitor-<model>` on the training nodes
 * that runs the team's monitoring image. The image reads the model's logged predictions, its
 * reference data set and (where named) its ground truth from the object store, and pushes the
 * model's drift and performance series to the Prometheus Pushgateway, one group per served version.
 */
import { Construct } from "constructs";
import type { CronJobV1 } from "@cdktf/provider-kubernetes/lib/cron-job-v1";
import { ScheduledJobs } from "./scheduled-jobs";
import type { ObjectStoreAccess } from "./object-store-access";
import type { NodePlacement } from "../platform/cluster-target";
import type { ContainerResources } from "../lib/workload-defaults";
import { longestIntervalMinutes, parseCron } from "../lib/cron";
import { predictorVersionLabel } from "./inference-services";

/** What every monitoring run may take: the deadline bounds how often it can be scheduled. */
export const MODEL_MONITORING_JOB = {
  /** A run is stopped after 45 minutes; schedules leave at least that much between runs. */
  deadlineSeconds: 45 * 60,
  resources: {
    requests: { cpu: "1", memory: "2Gi" },
    limits: { cpu: "2", memory: "4Gi" },
  },
} as const satisfies { deadlineSeconds: number; resources: ContainerResources };

/**
 * Slack beyond the longest gap between runs and the run's deadline before a model's monitoring
 * counts as late: a run that starts a little after its time (scheduling, image pull) and pushes
 * at the end of its deadline still lands within it.
 */
export const MONITORING_LATE_MARGIN_SECONDS = 30 * 60;

/**
 * The longest time, in seconds, between two successful pushes of a model whose runs all succeed
 * on `schedule`: the longest gap between two scheduled runs (day of month and day of week
 * included), the run's deadline and the margin. Undefined for an expression that is invalid or
 * never runs.
 */
export function monitoringMaxAgeSeconds(schedule: string): number | undefined {
  const parsed = parseCron(schedule);
  if (!parsed.ok) return undefined;
  const gap = longestIntervalMinutes(parsed);
  if (gap === undefined) return undefined;
  return gap * 60 + MODEL_MONITORING_JOB.deadlineSeconds + MONITORING_LATE_MARGIN_SECONDS;
}

/** Labels of every monitoring job's pods (the contract's; the network policies select on them). */
export const MODEL_MONITORING_APP = "model-monitoring";
export const MODEL_LABEL = "mlops-platform/model";

/** The Pushgateway the jobs push to: the platform's Service in the monitoring namespace, and its port. */
export const PUSHGATEWAY = {
  service: "prometheus-pushgateway",
  port: 9091,
  /** Labels of the Pushgateway's pods, which its Service and the jobs' egress rule select. */
  podLabels: {
    "app.kubernetes.io/name": "prometheus-pushgateway",
    "app.kubernetes.io/instance": "prometheus-pushgateway",
  },
  /** The `job` of the grouping key `/metrics/job/model-monitoring/model/<model>/version/<version>`. */
  job: "model-monitoring",
} as const;

/** CronJob names are limited to 52 characters (the Job controller appends an 11-character suffix). */
const CRONJOB_NAME_LIMIT = 52;
const MODEL_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const BUCKET_PATH = /^[A-Za-z0-9][A-Za-z0-9._/-]*[A-Za-z0-9_]$/;

export interface MonitoredModel {
  readonly name: string;
  /** Served versions: the stable one first, then the canary's. */
  readonly versions: readonly number[];
  /** Path of the reference data set inside the artifacts bucket. */
  readonly referenceData: string;
  /** Path of the labelled outcomes inside the data bucket. */
  readonly groundTruth?: string;
  /** Performance metric the image computes against the ground truth. */
  readonly metric?: string;
  /** Five-field cron, UTC. */
  readonly schedule: string;
}

export interface ModelMonitoringJobsProps {
  readonly namespace: string;
  /** The release's monitoring image, by digest. */
  readonly image: string;
  readonly serviceAccountName: string;
  readonly placement: NodePlacement;
  readonly imagePullSecret?: string;
  readonly objectStore: ObjectStoreAccess;
  readonly region: string;
  readonly dataBucket: string;
  readonly artifactsBucket: string;
  /** Prefix of the logged predictions in the data bucket, e.g. `predictions/`. */
  readonly predictionPrefix: string;
  /** Namespace of the Pushgateway. */
  readonly pushgatewayNamespace: string;
  readonly models: readonly MonitoredModel[];
}

export const monitoringJobName = (model: string): string => `monitor-${model}`;

/** The Pushgateway's in-cluster URL. */
export const pushgatewayUrl = (namespace: string): string =>
  `http://${PUSHGATEWAY.service}.${namespace}.svc:${PUSHGATEWAY.port}`;

/** One monitoring CronJob per model, built like the platform's other CronJobs. */
export class ModelMonitoringJobs extends Construct {
  public readonly cronJobs: CronJobV1[];
  /** CronJob per model name. */
  public readonly byModel: ReadonlyMap<string, CronJobV1>;

  constructor(scope: Construct, id: string, props: ModelMonitoringJobsProps) {
    super(scope, id);
    if (!/@sha256:[a-f0-9]{64}$/.test(props.image)) {
      throw new Error(
        `ModelMonitoringJobs: image "${props.image}" is not pinned by digest; fix: name the monitoring image by digest (repository@sha256:<64 hex>)`,
      );
    }
    for (const model of props.models) {
      const name = monitoringJobName(model.name);
      if (!MODEL_NAME.test(model.name) || name.length > CRONJOB_NAME_LIMIT) {
        throw new Error(
          `ModelMonitoringJobs: model "${model.name}" gives the CronJob name "${name}", which must be a DNS label of at most ${CRONJOB_NAME_LIMIT} characters; fix: keep model names to 40 characters`,
        );
      }
      if (model.versions.length === 0) {
        throw new Error(`ModelMonitoringJobs ${name}: versions is empty; fix: list the served version`);
      }
      for (const [field, path] of [
        ["referenceData", model.referenceData],
        ["groundTruth", model.groundTruth],
      ] as const) {
        if (path !== undefined && (!BUCKET_PATH.test(path) || path.split("/").includes(".."))) {
          throw new Error(
            `ModelMonitoringJobs ${name}: ${field} "${path}" is not a path inside a bucket; fix: give the key prefix without s3://, bucket or ..`,
          );
        }
      }
      if (model.metric !== undefined && model.groundTruth === undefined) {
        throw new Error(
          `ModelMonitoringJobs ${name}: metric "${model.metric}" without groundTruth; fix: name the ground truth or drop the metric`,
        );
      }
      const cron = parseCron(model.schedule);
      if (!cron.ok)
        throw new Error(
          `ModelMonitoringJobs ${name}: schedule "${model.schedule}" is not a schedule Kubernetes takes: ${cron.reason}; fix: ${cron.fix ?? 'write minute hour day-of-month month day-of-week, e.g. "15 * * * *"'}`,
        );
    }
    const url = pushgatewayUrl(props.pushgatewayNamespace);
    const jobs = new ScheduledJobs(this, "Jobs", {
      namespace: props.namespace,
      jobs: props.models.map((model) => ({
        name: monitoringJobName(model.name),
        labels: { "app.kubernetes.io/name": MODEL_MONITORING_APP, [MODEL_LABEL]: model.name },
        schedule: model.schedule,
        image: props.image,
        args: [],
        serviceAccountName: props.serviceAccountName,
        env: {
          AWS_DEFAULT_REGION: props.region,
          MODEL_NAME: model.name,
          // As the predictors label their pods and metrics (`v<N>`), so a version reads the same
          // in the pushed series, the inference metrics and the prediction log's prefix.
          MODEL_VERSIONS: model.versions.map(predictorVersionLabel).join(","),
          PREDICTIONS_URI: `s3://${props.dataBucket}/${props.predictionPrefix}${model.name}/`,
          REFERENCE_DATA_URI: `s3://${props.artifactsBucket}/${model.referenceData}`,
          ...(model.groundTruth !== undefined
            ? { GROUND_TRUTH_URI: `s3://${props.dataBucket}/${model.groundTruth}` }
            : {}),
          ...(model.metric !== undefined ? { PERFORMANCE_METRIC: model.metric } : {}),
          PUSHGATEWAY_URL: url,
          PUSHGATEWAY_JOB: PUSHGATEWAY.job,
        },
        placement: props.placement,
        imagePullSecret: props.imagePullSecret,
        objectStore: props.objectStore,
        deadlineSeconds: MODEL_MONITORING_JOB.deadlineSeconds,
        resources: MODEL_MONITORING_JOB.resources,
      })),
    });
    this.cronJobs = jobs.cronJobs;
    this.byModel = new Map(props.models.map((model, index) => [model.name, jobs.cronJobs[index]]));
  }
}
