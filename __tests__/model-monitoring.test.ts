/**
 * Prediction logging: the release's per-model settings and their validation, the logger every
 * predictor gets (as KServe v0.20.0's webhook admits it and its agent writes to the store), the
 * serving Deployment's log location, the identities allowed to write there, and the retention
 * of the logged predictions (on-prem, through a private CA: onprem-prediction-logging.test.ts).
 */
import { Testing, TerraformStack } from "cdktf";
import {
  InferenceServices,
  PREDICTION_LOG_RECORDS,
  type ServedModel,
} from "../constructs/serving/inference-services";
import { releaseContentSchema } from "../environments/release-schema";
import { ENVIRONMENTS } from "../environments";
import { loadRelease } from "../environments/releases";
import { fixtureReleaseText } from "./support/release-files";
import { policyStatements, resourcesOf, synthesizeEnvironments } from "./support/synth";
import { inferenceServices, predictors } from "./support/serving";
import { kserveObjects } from "../scripts/verify/controllers/kserve";

const content = (): any => {
  const { promotedAt: _at, promotedFrom: _from, ...rest } = JSON.parse(fixtureReleaseText("dev")).current;
  return rest;
};
const withMonitoring = (monitoring: object): any => {
  const release = content();
  // A model that logs names its reference data set (the drift job reads it); one that logs
  // nothing has no monitoring job and names none.
  const off = (monitoring as { logging?: { mode?: string } }).logging?.mode === "off";
  release.models[0].monitoring = off
    ? monitoring
    : { referenceData: "mlflow/1/a/artifacts/reference", ...monitoring };
  return release;
};
const issues = (release: unknown) => {
  const parsed = releaseContentSchema.safeParse(release);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
};

describe("release monitoring settings", () => {
  it("log requests and responses, one record per object, unless the release says otherwise", () => {
    const parsed = releaseContentSchema.parse(content());
    for (const model of parsed.models) {
      const { personalData, logging } = model.monitoring;
      expect({ personalData, logging }).toEqual({
        personalData: false,
        logging: { mode: "all", batchSize: 1 },
      });
    }
  });

  it.each(["all", "request"])("refuses a personal-data model that logs its requests (mode %s)", (mode) => {
    expect(issues(withMonitoring({ personalData: true, logging: { mode } }))).toEqual([
      {
        path: "models.0.monitoring.logging.mode",
        message: expect.stringMatching(
          /^must be response or off for a model whose inputs are personal data .*; fix: set monitoring.logging.mode to "response", or "off"/,
        ),
      },
    ]);
  });

  it.each(["response", "off"])("accepts a personal-data model that logs %s", (mode) => {
    expect(issues(withMonitoring({ personalData: true, logging: { mode } }))).toEqual([]);
  });

  it("refuses a batch interval without batches, and a mode KServe does not know", () => {
    expect(issues(withMonitoring({ logging: { batchInterval: "30s" } }))).toEqual([
      { path: "models.0.monitoring.logging.batchInterval", message: expect.stringContaining("; fix: raise") },
    ]);
    expect(issues(withMonitoring({ logging: { mode: "sampled" } }))[0]).toEqual({
      path: "models.0.monitoring.logging.mode",
      message: expect.stringContaining("must be one of all, request, response, off"),
    });
    expect(issues(withMonitoring({ logging: { batchSize: 20, batchInterval: "1h" } }))[0].path).toBe(
      "models.0.monitoring.logging.batchInterval",
    );
  });

  it("refuses batches without an interval: KServe v0.20.0 would write them only when full", () => {
    expect(issues(withMonitoring({ logging: { batchSize: 20 } }))).toEqual([
      {
        path: "models.0.monitoring.logging.batchInterval",
        message: expect.stringMatching(
          /^is required when batchSize is above 1 \(batchSize = 20\): .*; fix: add e\.g\. "batchInterval": "30s", or set batchSize to 1$/,
        ),
      },
    ]);
    expect(issues(withMonitoring({ logging: { batchSize: 20, batchInterval: "30s" } }))).toEqual([]);
  });

  it.each(["500ms", "11m", "900s"])("refuses a batch interval of %s, outside 1s to 10m", (interval) => {
    expect(issues(withMonitoring({ logging: { batchSize: 20, batchInterval: interval } }))).toEqual([
      {
        path: "models.0.monitoring.logging.batchInterval",
        message: expect.stringMatching(/^must be between 1s and 10m: .*; fix: write e\.g\. 30s$/),
      },
    ]);
  });

  it.each(["1s", "10m", "600s"])("accepts a batch interval of %s", (interval) => {
    expect(issues(withMonitoring({ logging: { batchSize: 20, batchInterval: interval } }))).toEqual([]);
  });
});

function predictorLoggers(models: ServedModel[], bucket?: string): any[] {
  const s = new TerraformStack(Testing.app(), "unit");
  new InferenceServices(s, "Models", {
    namespace: "mlops",
    artifactsBucket: "artifacts",
    predictionLogBucket: bucket,
    serviceAccountName: "kserve-predictor",
    gpuPlacement: { nodeSelector: {}, tolerations: [] },
    models,
  });
  const json = JSON.parse(Testing.synth(s));
  return inferenceServices(json).flatMap((isvc: any) => predictors(isvc).map((p: any) => p.logger));
}

const model = (logging: ServedModel["monitoring"]): ServedModel => ({
  name: "churn",
  registeredModel: "churn",
  version: 7,
  artifactPath: "mlflow/1/a/artifacts/model",
  format: "mlflow",
  gpu: false,
  minReplicas: 1,
  maxReplicas: 3,
  canary: { version: 8, artifactPath: "mlflow/1/b/artifacts/model", trafficPercent: 10 },
  monitoring: logging,
});

describe("InferenceServices logger", () => {
  it("gives the primary and the canary predictor their own version's prefix", () => {
    const loggers = predictorLoggers(
      [model({ logging: { mode: "response", batchSize: 50, batchInterval: "30s" } })],
      "data",
    );
    expect(loggers.map((l) => l.url)).toEqual([
      "s3://data/predictions/churn/v7",
      "s3://data/predictions/churn/v8",
    ]);
    for (const logger of loggers) {
      expect(logger.mode).toBe("response");
      expect(logger.batchSize).toBe(50);
      expect(logger.batchInterval).toBe("30s");
      // validateLogger (v0.20.0) refuses a storage spec without path, parameters and key.
      expect(logger.storage.path).toBe(PREDICTION_LOG_RECORDS);
      expect(logger.storage.parameters).toEqual({ format: "json" });
      expect(typeof logger.storage.key).toBe("string");
      expect(logger.storage.serviceAccountName).toBe("kserve-predictor");
    }
  });

  it("sets no logger for a model that logs nothing, nor without a bucket", () => {
    expect(predictorLoggers([model({ logging: { mode: "off", batchSize: 1 } })], "data")).toEqual([
      undefined,
      undefined,
    ]);
    expect(predictorLoggers([model({ logging: { mode: "all", batchSize: 1 } })])).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe("prediction logging in the AWS environments", () => {
  const dev = synthesizeEnvironments(ENVIRONMENTS.filter((input: any) => input.name === "dev"))["dev"];

  it("every predictor of the release logs into the data bucket under its model and version", () => {
    const isvcs = inferenceServices(dev.serving.json);
    expect(isvcs.length).toBeGreaterThan(0);
    for (const isvc of isvcs) {
      for (const predictor of predictors(isvc)) {
        expect(predictor.logger.url).toMatch(
          new RegExp(
            `^s3://\\$\\{[^}]*DataBucket[^}]*\\}/predictions/${isvc.metadata.name}/${predictor.labels["mlops-platform/model-version"]}$`,
          ),
        );
      }
    }
  });

  it("the serving Deployment is told where its predictions go, and which records its model may log", () => {
    const [deployment] = Object.values<any>(resourcesOf(dev.serving.json, "kubernetes_deployment_v1"));
    const env = Object.fromEntries(
      deployment.spec.template.spec.container[0].env.map((e: any) => [e.name, e.value]),
    );
    // The served model is the models[] entry registered under serving.model.name.
    const loaded = loadRelease("dev");
    if (!loaded.ok) throw new Error("dev's release does not load");
    const current = loaded.release.current;
    const served = current.models.find((m) => m.registeredModel === current.serving.model.name);
    if (!served) throw new Error("dev serves no model of its release");
    const mode = served.monitoring.logging.mode;
    if (mode === "off") {
      expect(env.PREDICTION_LOG_URI).toBeUndefined();
      expect(env.PREDICTION_LOG_MODE).toBeUndefined();
    } else {
      expect(env.PREDICTION_LOG_URI).toMatch(
        new RegExp(`^s3://\\$\\{[^}]*DataBucket[^}]*\\}/predictions/${served.name}$`),
      );
      // So it writes only what KServe's logger may.
      expect(env.PREDICTION_LOG_MODE).toBe(mode);
    }
  });

  it("the predictors and the serving Deployment may only add objects under predictions/", () => {
    const policies = Object.entries<any>(resourcesOf(dev.foundation.json, "aws_iam_role_policy"));
    for (const identity of ["KservePredictorIdentity", "ModelServingIdentity"]) {
      const matching = policies.filter(([id]) => id.startsWith(identity));
      expect(matching).toHaveLength(1);
      const policy = matching[0][1];
      const put = policyStatements(dev.foundation.json, policy.policy).find(
        (s: any) => s.sid === "PutObjectsUnderPrefix",
      );
      expect(put.actions).toEqual(["s3:PutObject", "s3:AbortMultipartUpload"]);
      expect(put.resources).toEqual([expect.stringMatching(/DataBucket.*\/predictions\/\*$/)]);
    }
  });

  it("logged predictions expire after the environment's retention", () => {
    const lifecycles = Object.values<any>(
      resourcesOf(dev.foundation.json, "aws_s3_bucket_lifecycle_configuration"),
    );
    const rules = lifecycles.flatMap((l) => l.rule).filter((r: any) => r.id === "expire-predictions");
    expect(rules).toEqual([
      expect.objectContaining({
        status: "Enabled",
        filter: [{ prefix: "predictions/" }],
        expiration: [{ days: dev.environment.storage.predictionLogRetentionDays }],
      }),
    ]);
  });
});

describe("the verifier's model of a predictor that logs", () => {
  const config = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "inferenceservice-config", namespace: "kserve" },
    data: {
      agent: JSON.stringify({
        image: "kserve/agent:v0.20.0",
        memoryRequest: "100Mi",
        memoryLimit: "1Gi",
        cpuRequest: "100m",
        cpuLimit: "1",
      }),
    },
  };
  const isvc = (logger?: unknown) => ({
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: {
      name: "churn",
      namespace: "mlops",
      annotations: { "serving.kserve.io/deploymentMode": "Standard" },
    },
    spec: {
      predictor: {
        name: "v7",
        ...(logger ? { logger } : {}),
        model: { modelFormat: { name: "mlflow" }, securityContext: { runAsNonRoot: true } },
      },
    },
  });
  const objectsOf = (logger?: unknown) =>
    kserveObjects(isvc(logger) as any, [config as any]).map((o) => o.object as any);

  it("has KServe's agent container, with the ConfigMap's resources, and a Service that targets it", () => {
    const objects = objectsOf({ mode: "all", url: "s3://data/predictions/churn/v7" });
    const deployment = objects.find((o) => o.kind === "Deployment");
    const agent = deployment.spec.template.spec.containers.find((c: any) => c.name === "agent");
    expect(agent.resources).toEqual({
      requests: { cpu: "100m", memory: "100Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    });
    expect(agent.securityContext).toEqual({ runAsNonRoot: true });
    expect(deployment.spec.template.spec.logger).toBeUndefined();
    expect(objects.find((o) => o.kind === "Service").spec.ports[0].targetPort).toBe(9081);
  });

  it("has neither without a logger", () => {
    const objects = objectsOf();
    const deployment = objects.find((o) => o.kind === "Deployment");
    expect(deployment.spec.template.spec.containers.map((c: any) => c.name)).toEqual(["kserve-container"]);
    expect(objects.find((o) => o.kind === "Service").spec.ports[0].targetPort).toBe(8080);
  });
});
