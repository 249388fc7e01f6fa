/**
 * The Job that makes the served model version exist, with the release's alias, in each
 * environment's own MLflow registry: what every serving stack holds, and the Job's script run
 * for real (python3) against a small in-process stand-in for MLflow's REST API 2.0 that answers
 * the four endpoints as MLflow does (RESOURCE_ALREADY_EXISTS as HTTP 400, versions as strings,
 * the alias's version required as a string, search results paged).
 */
import { upstreamOf } from "../environments/promotion";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import {
  resourcesOf,
  synthesizeEnvironments,
  synthesizeOnPremEnvironments,
  type TerraformJson,
} from "./support/synth";
import { MLFLOW_SERVER_IMAGE } from "../stacks/platform-stack";
import {
  ModelRegistration,
  RELEASE_VERSION_TAG,
  modelRegistrationJobName,
} from "../constructs/serving/model-registration";
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

const jobOf = (json: TerraformJson): any => {
  const jobs = Object.values(resourcesOf(json, "kubernetes_job_v1"));
  expect(jobs).toHaveLength(1);
  return jobs[0];
};
const containerOf = (json: TerraformJson): any => jobOf(json).spec.template.spec.container[0];
const envOf = (json: TerraformJson): Record<string, string> =>
  Object.fromEntries(containerOf(json).env.map((e: any) => [e.name, e.value]));
const deploymentOf = (json: TerraformJson): any => {
  const deployments = Object.values(resourcesOf(json, "kubernetes_deployment_v1"));
  expect(deployments).toHaveLength(1);
  return deployments[0];
};

describe("model registration Job in every serving stack a release reaches by promotion", () => {
  it("leaves the producing environments' registries to their own users", () => {
    expect(PRODUCERS.map(([name]) => name).sort()).toEqual(["dev", "onprem-test"]);
    for (const [, json] of PRODUCERS) {
      expect(resourcesOf(json, "kubernetes_job_v1")).toEqual({});
      expect(deploymentOf(json).depends_on ?? []).toEqual([]);
    }
    expect(ALL.map(([name]) => name).sort()).toEqual(["onprem-prod", "prod", "staging"]);
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

// ---------------------------------------------------------------------------------------------
// The script against a stand-in for MLflow's REST API.

interface FakeVersion {
  name: string;
  version: string;
  source: string;
  tags: { key: string; value: string }[];
}

class FakeMlflow {
  readonly models = new Map<string, { aliases: Record<string, string> }>();
  readonly versions: FakeVersion[] = [];
  readonly calls: string[] = [];
  /** A page smaller than the script asks for, to walk pagination. */
  pageSize = 2;
  failCreateVersion = false;
  private server?: Server;

  constructor(
    private readonly user: string,
    private readonly password: string,
  ) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => this.handle(req, res, Buffer.concat(chunks).toString("utf8")));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, code: string, message: string) =>
      send(status, { error_code: code, message });
    const url = new URL(req.url ?? "/", "http://localhost");
    this.calls.push(`${req.method} ${url.pathname}`);
    const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString("base64")}`;
    if (req.headers.authorization !== expected) return error(401, "UNAUTHENTICATED", "bad credentials");
    const data = body ? JSON.parse(body) : {};
    switch (`${req.method} ${url.pathname}`) {
      case "POST /api/2.0/mlflow/registered-models/create":
        if (typeof data.name !== "string") return error(400, "INVALID_PARAMETER_VALUE", "name required");
        if (this.models.has(data.name)) {
          return error(
            400,
            "RESOURCE_ALREADY_EXISTS",
            `Registered Model (name=${data.name}) already exists.`,
          );
        }
        this.models.set(data.name, { aliases: {} });
        return send(200, { registered_model: { name: data.name } });
      case "GET /api/2.0/mlflow/model-versions/search": {
        // MLflow's plugin rejects a GET body; the filter is one quoted name here.
        if (body) return error(400, "BAD_REQUEST", "GET with a body");
        const match = /^name = '([^']*)'$/.exec(url.searchParams.get("filter") ?? "");
        if (!match) return error(400, "INVALID_PARAMETER_VALUE", "unexpected filter");
        const all = this.versions.filter((v) => v.name === match[1]);
        const start = Number(url.searchParams.get("page_token") ?? "0");
        const size = Math.min(this.pageSize, Number(url.searchParams.get("max_results") ?? "200000"));
        const page = all.slice(start, start + size);
        return send(200, {
          model_versions: page,
          ...(start + size < all.length ? { next_page_token: String(start + size) } : {}),
        });
      }
      case "POST /api/2.0/mlflow/model-versions/create": {
        if (this.failCreateVersion) return error(403, "PERMISSION_DENIED", "Permission denied");
        if (!this.models.has(data.name)) return error(404, "RESOURCE_DOES_NOT_EXIST", "no such model");
        if (typeof data.source !== "string") return error(400, "INVALID_PARAMETER_VALUE", "source required");
        const version = {
          name: data.name,
          version: String(this.versions.filter((v) => v.name === data.name).length + 1),
          source: data.source,
          tags: data.tags ?? [],
        };
        this.versions.push(version);
        return send(200, { model_version: version });
      }
      case "POST /api/2.0/mlflow/registered-models/alias": {
        const model = this.models.get(data.name);
        if (!model) return error(404, "RESOURCE_DOES_NOT_EXIST", "no such model");
        if (typeof data.version !== "string" || typeof data.alias !== "string") {
          return error(400, "INVALID_PARAMETER_VALUE", "alias and version must be strings");
        }
        if (!this.versions.some((v) => v.name === data.name && v.version === data.version)) {
          return error(404, "RESOURCE_DOES_NOT_EXIST", "no such version");
        }
        model.aliases[data.alias] = data.version;
        return send(200, {});
      }
      default:
        return error(404, "ENDPOINT_NOT_FOUND", `${req.method} ${url.pathname}`);
    }
  }
}

const run = promisify(execFile);
const onPremServing = onPrem["onprem-prod"].serving.json;
const SCRIPT: string = containerOf(onPremServing).command[2];
const JOB_ENV = envOf(onPremServing);
const [SOURCE, PROXIED] = JOB_ENV.MODEL_SOURCES.split(" ");

async function runScript(uri: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    ...JOB_ENV,
    HOME: process.env.TMPDIR ?? "/tmp",
    MLFLOW_TRACKING_URI: uri,
    MLFLOW_TRACKING_USERNAME: "mlops-client",
    MLFLOW_TRACKING_PASSWORD: "not-a-secret",
  };
  try {
    const { stdout, stderr } = await run("python3", ["-c", SCRIPT], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (failure: any) {
    return { code: failure.code ?? 1, stdout: failure.stdout ?? "", stderr: failure.stderr ?? "" };
  }
}

describe("the registration script against MLflow's REST API", () => {
  let mlflow: FakeMlflow;
  let uri: string;
  beforeEach(async () => {
    mlflow = new FakeMlflow("mlops-client", "not-a-secret");
    uri = await mlflow.start();
  });
  afterEach(() => mlflow.stop());

  it("carries no Terraform template sequences", () => {
    expect(SCRIPT).not.toMatch(/[$%]\{/);
    for (const [, json] of ALL) expect(containerOf(json).command[2]).toBe(SCRIPT);
  });

  it("creates the model, the version from the bucket and the alias; a second run creates nothing", async () => {
    const first = await runScript(uri);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(mlflow.versions).toEqual([
      {
        name: JOB_ENV.MODEL_NAME,
        version: "1",
        source: SOURCE,
        tags: [{ key: RELEASE_VERSION_TAG, value: JOB_ENV.RELEASE_VERSION }],
      },
    ]);
    expect(mlflow.models.get(JOB_ENV.MODEL_NAME)?.aliases).toEqual({ [JOB_ENV.MODEL_ALIAS]: "1" });

    mlflow.calls.length = 0;
    const second = await runScript(uri);
    expect(second.code).toBe(0);
    expect(mlflow.versions).toHaveLength(1);
    expect(mlflow.models.get(JOB_ENV.MODEL_NAME)?.aliases).toEqual({ [JOB_ENV.MODEL_ALIAS]: "1" });
    expect(mlflow.calls).toEqual([
      "POST /api/2.0/mlflow/registered-models/create",
      "GET /api/2.0/mlflow/model-versions/search",
      "POST /api/2.0/mlflow/registered-models/alias",
    ]);
  });

  it("finds a version with the release's files on a later page and moves the alias to it", async () => {
    mlflow.models.set(JOB_ENV.MODEL_NAME, { aliases: { [JOB_ENV.MODEL_ALIAS]: "1" } });
    for (const source of ["s3://elsewhere/a", "s3://elsewhere/b", "s3://elsewhere/c", SOURCE, SOURCE]) {
      mlflow.versions.push({
        name: JOB_ENV.MODEL_NAME,
        version: String(mlflow.versions.length + 1),
        source,
        tags: [],
      });
    }
    const result = await runScript(uri);
    expect(result.code).toBe(0);
    expect(mlflow.versions).toHaveLength(5);
    expect(mlflow.models.get(JOB_ENV.MODEL_NAME)?.aliases).toEqual({ [JOB_ENV.MODEL_ALIAS]: "4" });
    expect(mlflow.calls.filter((c) => c.endsWith("/model-versions/search"))).toHaveLength(3);
  });

  it("takes a version the server registered through its artifact proxy as the same files", async () => {
    mlflow.models.set(JOB_ENV.MODEL_NAME, { aliases: {} });
    mlflow.versions.push({ name: JOB_ENV.MODEL_NAME, version: "1", source: PROXIED, tags: [] });
    const result = await runScript(uri);
    expect(result.code).toBe(0);
    expect(mlflow.versions).toHaveLength(1);
    expect(mlflow.models.get(JOB_ENV.MODEL_NAME)?.aliases).toEqual({ [JOB_ENV.MODEL_ALIAS]: "1" });
  });

  it("fails the Job, with MLflow's answer, when MLflow refuses", async () => {
    mlflow.failCreateVersion = true;
    const result = await runScript(uri);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/POST model-versions\/create: HTTP 403 .*PERMISSION_DENIED/);
    expect(mlflow.models.get(JOB_ENV.MODEL_NAME)?.aliases).toEqual({});
  });
});
