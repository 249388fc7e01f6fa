/**
 * What an environment runs: the release file `environments/releases/<env>.json`, written by
 * the promotion command and read by the stacks.
 */
import { z } from "zod";
import { PLATFORM_CHART_NAMES, type PlatformChart } from "../constructs/platform/charts";
import { driftThreshold, monitoringSchedule } from "./fields/monitoring";
import { PERFORMANCE_DIRECTIONS, type PerformanceMetric } from "../constructs/lib/monitoring-contract";

const fix = (rule: string, remedy: string): string => `${rule}; fix: ${remedy}`;

const chartVersion = z
  .string({ error: fix("must be a chart version string", 'quote it, e.g. "1.2.3"') })
  .regex(/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, {
    error: fix(
      "must be an exact chart version such as 1.2.3 (no ranges, no latest)",
      "pin the version you tested",
    ),
  });

/**
 * Versions of the charts an environment installs. Which charts those are depends on the
 * environment's target (`chartsInstalledOn`): loading the release for its environment refuses a
 * missing version and a version of a chart the environment does not install.
 */
const charts = z.strictObject(
  Object.fromEntries(PLATFORM_CHART_NAMES.map((name) => [name, chartVersion.optional()])) as Record<
    PlatformChart,
    z.ZodOptional<typeof chartVersion>
  >,
);

/** Tags that move: a release pinned to one of them is not reproducible. */
export const MUTABLE_TAGS = [
  "latest",
  "main",
  "master",
  "dev",
  "develop",
  "stable",
  "edge",
  "nightly",
  "head",
];

/** An image's content digest, e.g. `sha256:<64 hex>`. */
const imageDigest = z.string().regex(/^sha256:[a-f0-9]{64}$/, {
  error: fix("must be sha256: followed by 64 lower-case hex digits", "copy the digest from the registry"),
});

const imageReference = z
  .strictObject({
    /** Immutable tag, e.g. `1.4.2` or `git-3f9c2ab`. */
    tag: z
      .string()
      .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, {
        error: fix(
          "must be a Docker tag (letters, digits, _ . -; at most 128)",
          "use the version tag your CI pushed",
        ),
      })
      .refine((tag) => !MUTABLE_TAGS.includes(tag.toLowerCase()), {
        error: fix(`must not be a moving tag (${MUTABLE_TAGS.join(", ")})`, "pin a version tag or a digest"),
      })
      .optional(),
    /** Content digest, e.g. `sha256:<64 hex>`. */
    digest: imageDigest.optional(),
  })
  .superRefine((image, ctx) => {
    if ((image.tag === undefined) === (image.digest === undefined)) {
      ctx.addIssue({
        code: "custom",
        input: image,
        message: fix(
          "must name exactly one of tag or digest",
          "keep the digest (or the tag) and remove the other",
        ),
      });
    }
  });

/**
 * A model's name: a DNS label short enough for what KServe v0.20.0 derives from it, the pod label
 * `app: isvc.<model>-primary-predictor` (at most 63 characters).
 */
const MODEL_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
const modelVersion = z
  .number({ error: fix("must be a number", "use the MLflow model version, e.g. 7") })
  .int({ error: fix("must be a whole number", "use the MLflow model version, e.g. 7") })
  .min(1, { error: fix("must be >= 1", "use the MLflow model version, e.g. 7") });
/**
 * What KServe v0.20.0's payload logger records for a model (`spec.predictor.logger.mode`):
 * requests and responses, one of them, or nothing. The logger has no sampling: a model whose
 * inputs are personal data logs only responses, or nothing.
 */
export const PREDICTION_LOG_MODES = ["all", "request", "response", "off"] as const;

const predictionLogging = z.strictObject({
  /** @default "all" */
  mode: z
    .enum(PREDICTION_LOG_MODES, {
      error: fix(`must be one of ${PREDICTION_LOG_MODES.join(", ")}`, "use off to log nothing"),
    })
    .default("all"),
  /**
   * Records per object written to the store (KServe's `batchSize`); 1 writes each record at once.
   * @default 1
   */
  batchSize: z
    .number({ error: fix("must be a number", "use 1 to 1000 records per object") })
    .int({ error: fix("must be a whole number", "use 1 to 1000 records per object") })
    .min(1, { error: fix("must be between 1 and 1000", "use 1 to write each record at once") })
    .max(1000, { error: fix("must be between 1 and 1000", "use at most 1000 records per object") })
    .default(1),
  /**
   * Longest wait before a partial batch is written (KServe's `batchInterval`, 1s to 10m), e.g.
   * `30s`; required when batchSize is above 1.
   */
  batchInterval: z
    .string({ error: fix("must be a duration in quotes such as 30s or 5m", 'write e.g. "30s"') })
    .regex(/^[1-9][0-9]{0,5}(ms|s|m)$/, {
      error: fix("must be a duration such as 30s or 5m", "write e.g. 30s"),
      abort: true,
    })
    .refine(
      (text) => {
        const seconds = batchIntervalSeconds(text);
        return seconds >= BATCH_INTERVAL_SECONDS.min && seconds <= BATCH_INTERVAL_SECONDS.max;
      },
      {
        error: fix(
          "must be between 1s and 10m: shorter writes an object for nearly every record, longer leaves the newest predictions unwritten and the log looking stalled",
          "write e.g. 30s",
        ),
      },
    )
    .optional(),
});

/** The bounds of `monitoring.logging.batchInterval`, in seconds. */
export const BATCH_INTERVAL_SECONDS = { min: 1, max: 600 } as const;

/** Seconds of a batch interval as the release writes it (`500ms`, `30s`, `5m`). */
export function batchIntervalSeconds(text: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1]) * { ms: 0.001, s: 1, m: 60 }[match[2] as "ms" | "s" | "m"];
}

/**
 * A path inside one of the environment's buckets: no scheme, no bucket, no leading /, no `..`
 * (a key with `..` names another prefix than it seems to, and S3 keeps it literally).
 */
const bucketPath = (bucket: "artifacts" | "data", example: string) =>
  z
    .string({ error: fix(`must be a path inside the ${bucket} bucket, in quotes`, `use e.g. ${example}`) })
    .regex(/^[A-Za-z0-9][A-Za-z0-9._\/-]*[A-Za-z0-9_]$/, {
      error: fix(
        `must be a path inside the environment's ${bucket} bucket: no s3://, no bucket name, no leading or trailing /`,
        `write the key prefix only, e.g. ${example}`,
      ),
      abort: true,
    })
    .refine((path) => !path.split("/").some((part) => part === ".." || part === "." || part === ""), {
      error: fix(
        `must not contain .., . or an empty segment (it would name a prefix outside the one it seems to, in the ${bucket} bucket or beyond)`,
        `write the prefix plainly, e.g. ${example}`,
      ),
    });

/** A last segment that reads as a file name: a dot and a short extension (`reference.parquet`). */
const FILE_NAME = /\.[A-Za-z][A-Za-z0-9]{0,9}$/;

/**
 * A folder inside the artifacts bucket: the model's files (KServe's storage initializer downloads
 * the prefix) or the reference data set. `npm run promote-artifacts` copies each as a prefix
 * (`<path>/`), so a path naming a file would copy nothing.
 */
const folderPath = (example: string) =>
  bucketPath("artifacts", example).refine((path) => !FILE_NAME.test(path.split("/").pop() ?? ""), {
    error: fix(
      "must name a folder, not a file (its last segment has a file extension); the platform reads and copies the prefix <path>/, which holds nothing under a file's name",
      `name the folder that holds the file, e.g. ${example}`,
    ),
  });

const artifactPath = folderPath("mlflow/1/<run id>/artifacts/model");

/**
 * Metrics a model's performance is measured in (the monitoring contract's): accuracy, F1 and AUC
 * must stay at least the threshold (0 to 1), RMSE and MAE at most (0 or more).
 */
const PERFORMANCE_METRICS = PERFORMANCE_DIRECTIONS;
const METRIC_NAMES = Object.keys(PERFORMANCE_METRICS) as [PerformanceMetric, ...PerformanceMetric[]];

const performance = z
  .strictObject({
    metric: z.enum(METRIC_NAMES, {
      error: fix(
        `must be one of ${METRIC_NAMES.join(", ")}`,
        "name the metric the monitoring image computes",
      ),
    }),
    threshold: z.number({ error: fix("must be a number", "give the metric's alerting bound, e.g. 0.8") }),
  })
  .superRefine((value, ctx) => {
    const atLeast = PERFORMANCE_METRICS[value.metric] === "at-least";
    const bad = atLeast
      ? value.threshold < 0 || value.threshold > 1
      : value.threshold < 0 || !Number.isFinite(value.threshold);
    if (bad)
      ctx.addIssue({
        code: "custom",
        path: ["threshold"],
        input: value.threshold,
        message: atLeast
          ? fix(
              `must be between 0 and 1 for ${value.metric}, a score the model must stay at or above`,
              "give the lowest acceptable score, e.g. 0.8",
            )
          : fix(
              `must be 0 or more for ${value.metric}, an error the model must stay at or below`,
              "give the largest acceptable error in the target's unit, e.g. 12.5",
            ),
      });
  });

/** How a model is monitored; promoted with the model. */
const modelMonitoring = z.strictObject({
  /** The model's inputs are personal data: its requests are never logged. @default false */
  personalData: z.boolean().default(false),
  /** Prediction logging into the environment's store (`predictions/<model>/v<version>/`). */
  logging: predictionLogging.prefault({}),
  /**
   * The reference data set the drift job compares predictions with: a path inside the artifacts
   * bucket (replicated with the model), e.g. `mlflow/1/<run id>/artifacts/reference`.
   */
  referenceData: folderPath("mlflow/1/<run id>/artifacts/reference").optional(),
  /** Where the team writes labelled outcomes: a path inside the data bucket. */
  groundTruth: bucketPath("data", "ground-truth/churn-classifier").optional(),
  /** Share of drifted features that counts as drift (0 < x <= 1). @default the environment's */
  driftThreshold: driftThreshold.optional(),
  /** The performance metric and its threshold; needs groundTruth. */
  performance: performance.optional(),
  /** When the model's monitoring job runs (five-field cron, UTC). @default the environment's */
  schedule: monitoringSchedule.optional(),
});

const modelSchema = z
  .strictObject({
    /** Name of the InferenceService (a DNS label) and the model's label in metrics. */
    name: z.string().regex(MODEL_NAME, {
      error: fix(
        "must be a DNS label of at most 40 characters (KServe's pod label isvc.<name>-primary-predictor must fit 63)",
        "use lower-case letters, digits and -, e.g. churn-classifier",
      ),
    }),
    /** Registered model name in MLflow. */
    registeredModel: z
      .string()
      .min(1, { error: fix("must not be empty", "use the MLflow registered model name") }),
    /** MLflow model version served. */
    version: modelVersion,
    /** Where that version's files are, inside the artifacts bucket. */
    artifactPath,
    /** KServe model format. @default "mlflow" */
    format: z
      .enum(["mlflow", "sklearn", "xgboost", "lightgbm", "pytorch", "tensorflow", "onnx", "huggingface"], {
        error: fix("must be a model format KServe serves", "use mlflow for models logged with MLflow"),
      })
      .default("mlflow"),
    /** Run the predictor on the GPU group with one GPU. @default false */
    gpu: z.boolean().default(false),
    /** @default 1 */
    minReplicas: z.number().int().min(1).max(50).default(1),
    /** @default 3 */
    maxReplicas: z.number().int().min(1).max(100).default(3),
    /** A second version that takes a share of the traffic. */
    canary: z
      .strictObject({
        version: modelVersion,
        artifactPath,
        trafficPercent: z
          .number({ error: fix("must be a number", "send 1 to 99 percent to the canary") })
          .int({ error: fix("must be a whole number", "send 1 to 99 percent to the canary") })
          .min(1, {
            error: fix("must be between 1 and 99", "send 1 to 99 percent; remove canary to stop it"),
          })
          .max(99, {
            error: fix(
              "must be between 1 and 99",
              "promote the canary: make it the version and remove canary",
            ),
          }),
      })
      .optional(),
    /** Prediction logging and what the model's data may not leave. */
    monitoring: modelMonitoring.prefault({}),
  })
  .superRefine((model, ctx) => {
    if (model.maxReplicas < model.minReplicas) {
      ctx.addIssue({
        code: "custom",
        path: ["maxReplicas"],
        input: model.maxReplicas,
        message: fix(`must be >= minReplicas (${model.minReplicas})`, "raise maxReplicas"),
      });
    }
    if (model.canary && model.canary.version === model.version) {
      ctx.addIssue({
        code: "custom",
        path: ["canary", "version"],
        input: model.canary.version,
        message: fix("must differ from the stable version", "name the new version, or remove canary"),
      });
    }
    const logging = model.monitoring.logging;
    if (model.monitoring.personalData && (logging.mode === "all" || logging.mode === "request")) {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "logging", "mode"],
        input: logging.mode,
        message: fix(
          "must be response or off for a model whose inputs are personal data (monitoring.personalData); KServe's logger cannot sample requests",
          'set monitoring.logging.mode to "response", or "off" to log nothing',
        ),
      });
    }
    const monitoring = model.monitoring;
    if (logging.mode !== "off" && monitoring.referenceData === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "referenceData"],
        input: undefined,
        message: fix(
          `is required for a model that logs (monitoring.logging.mode = "${logging.mode}"): its drift job compares the logged predictions with it`,
          'name the reference data set\'s path in the artifacts bucket, e.g. "mlflow/1/<run id>/artifacts/reference", or set monitoring.logging.mode to "off"',
        ),
      });
    }
    if (logging.mode === "off") {
      // Only a model that logs gets a monitor-<model> job: what would configure it is dead text.
      for (const field of [
        "referenceData",
        "groundTruth",
        "driftThreshold",
        "performance",
        "schedule",
      ] as const) {
        if (monitoring[field] === undefined) continue;
        ctx.addIssue({
          code: "custom",
          path: ["monitoring", field],
          input: monitoring[field],
          message: fix(
            'has no effect: a model that logs nothing (monitoring.logging.mode = "off") has no monitoring job',
            `remove monitoring.${field}, or log responses (monitoring.logging.mode = "response") so the job runs`,
          ),
        });
      }
    }
    if (
      logging.mode !== "off" &&
      monitoring.performance !== undefined &&
      monitoring.groundTruth === undefined
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "performance"],
        input: monitoring.performance,
        message: fix(
          "needs monitoring.groundTruth: performance is measured against labelled outcomes",
          'name where the labelled outcomes land in the data bucket (monitoring.groundTruth, e.g. "ground-truth/<model>"), or remove performance',
        ),
      });
    }
    if (monitoring.groundTruth !== undefined && /^predictions(\/|$)/.test(monitoring.groundTruth)) {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "groundTruth"],
        input: monitoring.groundTruth,
        message: fix(
          "must not be under predictions/, where the logged predictions expire and only the serving identities write",
          'use a prefix of its own, e.g. "ground-truth/<model>"',
        ),
      });
    }
    if (logging.batchInterval === undefined && logging.batchSize > 1 && logging.mode !== "off") {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "logging", "batchInterval"],
        input: undefined,
        message: fix(
          `is required when batchSize is above 1 (batchSize = ${logging.batchSize}): without it KServe v0.20.0 writes a batch only once it is full, so a quiet model's newest predictions stay unwritten and its log looks stalled`,
          'add e.g. "batchInterval": "30s", or set batchSize to 1',
        ),
      });
    }
    if (logging.batchInterval !== undefined && logging.batchSize === 1) {
      ctx.addIssue({
        code: "custom",
        path: ["monitoring", "logging", "batchInterval"],
        input: logging.batchInterval,
        message: fix(
          "only applies when batchSize is above 1 (KServe writes each record at once otherwise)",
          "raise monitoring.logging.batchSize or remove batchInterval",
        ),
      });
    }
  });

export const releaseContentSchema = z.strictObject({
  /** Exact version of every platform chart. */
  charts,
  /** Kubeflow Pipelines release (a tag of the upstream manifests), e.g. `2.17.0`. */
  kubeflowPipelines: z.string().regex(/^\d+\.\d+\.\d+$/, {
    error: fix(
      "must be a Kubeflow Pipelines release such as 2.17.0",
      "use a tag of github.com/kubeflow/pipelines",
    ),
  }),
  /** The model-serving Deployment. */
  serving: z.strictObject({
    /** Image in the environment's serving repository. */
    image: imageReference,
    /** MLflow registered model the Deployment serves. */
    model: z.strictObject({
      name: z.string().min(1, { error: fix("must not be empty", "use the MLflow registered model name") }),
      /** MLflow 3 alias, e.g. `champion`. */
      alias: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, {
        error: fix(
          "must be an MLflow alias (letters, digits, _ -; starting with a letter)",
          "use e.g. champion",
        ),
      }),
    }),
  }),
  /** The retraining and batch-inference image, in the environment's training repository. */
  training: z.strictObject({ image: imageReference }),
  /** The drift and performance jobs' image, in the environment's training repository. */
  monitoring: z
    .strictObject({
      /** By digest only: the image every model's monitoring job runs. */
      image: z
        .looseObject({
          digest: imageDigest.optional(),
        })
        .superRefine((image, ctx) => {
          if (image.digest === undefined && !("tag" in image))
            ctx.addIssue({
              code: "custom",
              path: ["digest"],
              input: undefined,
              message: fix(
                "is missing: the monitoring image is named by digest",
                'add "digest": "sha256:<64 hex>" of the image your CI pushed to the training repository',
              ),
            });
          for (const key of Object.keys(image).filter((key) => key !== "digest"))
            ctx.addIssue({
              code: "custom",
              path: [key],
              input: (image as Record<string, unknown>)[key],
              message: fix(
                key === "tag"
                  ? "the monitoring image is named by digest only: a tag can be moved to another build"
                  : "is not a field of monitoring.image (digest only)",
                key === "tag"
                  ? 'replace tag with "digest": "sha256:<64 hex>" of the image your CI pushed'
                  : "remove it",
              ),
            });
        }),
    })
    .optional(),
  /** Models served by KServe, one InferenceService each. */
  models: z.array(modelSchema).superRefine((models, ctx) => {
    const seen = new Set<string>();
    models.forEach((model, index) => {
      if (seen.has(model.name)) {
        ctx.addIssue({
          code: "custom",
          path: [index, "name"],
          input: model.name,
          message: fix("is listed twice", "give every model its own name"),
        });
      }
      seen.add(model.name);
    });
  }),
});

/** When and from where a release entered the environment. */
const promotionRecord = {
  /** ISO 8601 UTC time of the promotion. */
  promotedAt: z.iso
    .datetime({ error: fix("must be an ISO 8601 UTC time", "use e.g. 2026-01-31T12:00:00Z") })
    .optional(),
  /** The environment it came from; absent for a first release. */
  promotedFrom: z.string().optional(),
};

export const releaseFileSchema = z.strictObject({
  current: releaseContentSchema.extend(promotionRecord),
  /** Earlier releases, oldest first. */
  history: z.array(releaseContentSchema.extend(promotionRecord)).default([]),
});

export type ReleaseContent = z.output<typeof releaseContentSchema>;
export type ReleaseFile = z.output<typeof releaseFileSchema>;
export type ReleaseEntry = ReleaseFile["current"];
export type ImageReference = z.output<typeof imageReference>;
export type ServedModel = z.output<typeof modelSchema>;
export type ModelMonitoringSettings = ServedModel["monitoring"];

/** The release content without its promotion record, for comparing releases. */
export function releaseContent(entry: ReleaseEntry): ReleaseContent {
  const { promotedAt: _at, promotedFrom: _from, ...content } = entry;
  return content;
}
