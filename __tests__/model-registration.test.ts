/**
 * The Job that makes the served model version exist, with the release's alias, in each
 * environment's own MLflow registry: what every serving stack holds. Its script run for real
 * (python3) against a stand-in for MLflow's REST API is in integration/model-registration.test.ts.
 */
import { PROMOTION_PATHS, upstreamOf } from "../environments/promotion";
import { readFileSync } from "node:fs";
import {
  resourcesOf,
  synthesizeEnvironments,
  synthesizeOnPremEnvironments,
  type TerraformJson,
} from "./support/synth";
import { containerOf, envOf, jobOf, scriptOf } from "./support/model-registration";
import { MLFLOW_SERVER_IMAGE } from "../stacks/platform-stack";
import { ModelRegistration, modelRegistrationJobName } from "../constructs/serving/model-registration";
import { TerraformStack, Testing } from "cdktf";

const aws = synthesizeEnvironments();
const onPrem = synthesizeOnPremEnvironments();

/** The current release of an environment, as its file says. */
const releaseOf = (environment: string): any =>
  JSON.parse(readFileSync(`environments/releases/${environment}.json`, "utf8")).current;

const EVERY: [string, TerraformJson][] = [
  ...Object.values(aws).map((e): [string, TerraformJson] => [e.environment.name, e.serving.json]),
  ...Object.values(onPrem).map((e): [string, TerraformJson] => [e.environment.name, e.serving.json]),
];
/** Environments a release reaches by promotion: they register it in their own MLflow. */
const ALL: [string, TerraformJson, any][] = EVERY.filter(([name]) => upstreamOf(name) !== undefined).map(
  ([name, json]) => [name, json, releaseOf(name)],
);
/** Environments that train and register models themselves. */
const PRODUCERS = EVERY.filter(([name]) => upstreamOf(name) === undefined);

const deploymentOf = (json: TerraformJson): any => {
  const deployments = Object.values(resourcesOf(json, "kubernetes_deployment_v1"));
  expect(deployments).toHaveLength(1);
  return deployments[0];
};

describe("model registration Job in every serving stack a release reaches by promotion", () => {
  it("leaves the producing environments' registries to their own users", () => {
    // The start of every promotion path produces; so does an environment on none (a new one).
    expect(PRODUCERS.map(([name]) => name)).toEqual(
      expect.arrayContaining(PROMOTION_PATHS.map(([start]) => start)),
    );
    for (const [, json] of PRODUCERS) {
      expect(resourcesOf(json, "kubernetes_job_v1")).toEqual({});
      expect(deploymentOf(json).depends_on ?? []).toEqual([]);
    }
    expect(ALL.map(([name]) => name).sort()).toEqual(PROMOTION_PATHS.flatMap((path) => path.slice(1)).sort());
  });

  it.each(ALL)(
    "%s: registers the served model with the release's name, alias and files",
    (_name, json, release) => {
      const served = release.models.find((m: any) => m.registeredModel === release.serving.model.name);
      expect(served).toBeDefined();
      const job = jobOf(json);
      expect(job.metadata.name).toBe(
        modelRegistrationJobName(release.serving.model, served.version, served.artifactPath),
      );
      expect(job.metadata.namespace).toBe("mlops");
      const env = envOf(json);
      expect(env.MODEL_NAME).toBe(release.serving.model.name);
      expect(env.MODEL_ALIAS).toBe(release.serving.model.alias);
      expect(env.RELEASE_VERSION).toBe(String(served.version));
      // The same files the InferenceService of that model reads, in this environment's bucket.
      const isvc = Object.values(resourcesOf(json, "kubernetes_manifest"))
        .map((m: any) => m.manifest)
        .find((m: any) => m.kind === "InferenceService" && m.metadata.name === served.name);
      const [source, proxied] = env.MODEL_SOURCES.split(" ");
      expect(source).toBe(isvc.spec.predictor.model.storageUri);
      expect(source.endsWith(`/${served.artifactPath}`)).toBe(true);
      expect(proxied).toBe(`mlflow-artifacts:/${served.artifactPath.replace(/^mlflow\//, "")}`);
      // The Deployment's MLflow, as the Deployment's user.
      const server = deploymentOf(json).spec.template.spec.container[0];
      const serverEnv = Object.fromEntries(server.env.map((e: any) => [e.name, e.value]));
      expect(env.MLFLOW_TRACKING_URI).toBe(serverEnv.MLFLOW_TRACKING_URI);
      expect(containerOf(json).env_from).toEqual(server.env_from);
      expect(containerOf(json).env_from[0].secret_ref.name).toBe("mlflow-client");
    },
  );

  it.each(
    Object.values(aws)
      .filter((e) => upstreamOf(e.environment.name) !== undefined)
      .map((e) => [e.environment.name, e.serving.json] as const),
  )(
    "%s: the source is in the environment's own artifacts bucket (the foundation's output)",
    (_name, json) => {
      expect(envOf(json).MODEL_SOURCES).toMatch(/^s3:\/\/\$\{[^}]+ArtifactsBucket[^}]+\}\/mlflow\//);
      expect(containerOf(json).image).toBe(MLFLOW_SERVER_IMAGE);
      expect(jobOf(json).spec.template.spec.image_pull_secrets).toBeUndefined();
    },
  );

  it.each(
    Object.values(onPrem)
      .filter((e) => upstreamOf(e.environment.name) !== undefined)
      .map((e) => [e.environment.name, e.serving.json, e.environment] as const),
  )(
    "%s: pulls the server image through the mirror with the pull Secret, from the site's bucket",
    (_name, json, environment: any) => {
      const spec = jobOf(json).spec.template.spec;
      expect(containerOf(json).image).toMatch(
        new RegExp(`/${MLFLOW_SERVER_IMAGE.replace(/[.:/]/g, "\\$&")}$`),
      );
      expect(containerOf(json).image.startsWith(`${environment.registry.host}/`)).toBe(true);
      expect(spec.image_pull_secrets).toEqual([{ name: environment.registry.pullSecretName }]);
      expect(spec.image_pull_secrets).toEqual(deploymentOf(json).spec.template.spec.image_pull_secrets);
      expect(
        envOf(json).MODEL_SOURCES.startsWith(`s3://${environment.objectStore.artifactsBucket}/mlflow/`),
      ).toBe(true);
    },
  );

  it.each(ALL)("%s: runs restricted, with resources and a writable /tmp only", (_name, json) => {
    const spec = jobOf(json).spec.template.spec;
    expect(spec.security_context).toMatchObject({
      run_as_non_root: true,
      seccomp_profile: { type: "RuntimeDefault" },
    });
    const container = containerOf(json);
    expect(container.security_context).toMatchObject({
      allow_privilege_escalation: false,
      read_only_root_filesystem: true,
      run_as_non_root: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.resources.requests).toEqual({ cpu: "50m", memory: "64Mi" });
    expect(container.resources.limits).toEqual({ cpu: "200m", memory: "128Mi" });
    expect(container.volume_mount).toEqual([{ name: "tmp", mount_path: "/tmp" }]);
    expect(spec.volume).toEqual([{ name: "tmp", empty_dir: { size_limit: "64Mi" } }]);
    expect(spec.automount_service_account_token).toBe(false);
  });

  it.each(ALL)("%s: the serving Deployment waits for it", (_name, json) => {
    const [id] = Object.keys(resourcesOf(json, "kubernetes_job_v1"));
    expect(jobOf(json).wait_for_completion).toBe(true);
    expect(deploymentOf(json).depends_on).toContain(`kubernetes_job_v1.${id}`);
  });

  it("names a new Job when the model, alias, version or files change", () => {
    const model = { name: "churn-classifier", alias: "champion" };
    const base = modelRegistrationJobName(model, 7, "mlflow/1/a/artifacts/model");
    expect(base).toMatch(/^model-registration-[0-9a-f]{10}$/);
    expect(modelRegistrationJobName(model, 7, "mlflow/1/a/artifacts/model")).toBe(base);
    for (const other of [
      modelRegistrationJobName({ ...model, alias: "challenger" }, 7, "mlflow/1/a/artifacts/model"),
      modelRegistrationJobName({ ...model, name: "other" }, 7, "mlflow/1/a/artifacts/model"),
      modelRegistrationJobName(model, 8, "mlflow/1/a/artifacts/model"),
      modelRegistrationJobName(model, 7, "mlflow/1/b/artifacts/model"),
    ]) {
      expect(other).not.toBe(base);
    }
  });

  it("refuses a model name the search filter cannot quote", () => {
    const stack = new TerraformStack(Testing.app(), "s");
    expect(
      () =>
        new ModelRegistration(stack, "r", {
          namespace: "mlops",
          image: "i:1",
          trackingUri: "http://mlflow",
          credentialsSecret: "mlflow-client",
          model: { name: "it's", alias: "champion" },
          artifactsBucket: "b",
          artifactPath: "mlflow/1/a/artifacts/model",
          releaseVersion: 1,
        }),
    ).toThrow(/^ModelRegistration: model\.name "it's" contains a quote/);
  });
});

describe("the registration script", () => {
  const SCRIPT = scriptOf(onPrem["onprem-prod"].serving.json);

  it("carries no Terraform template sequences", () => {
    expect(SCRIPT).not.toMatch(/[$%]\{/);
    for (const [, json] of ALL) expect(containerOf(json).command[2]).toBe(SCRIPT);
  });
});
