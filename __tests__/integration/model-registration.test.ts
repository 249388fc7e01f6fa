/**
 * The model registration Job's script run for real (python3) against a small in-process
 * stand-in for MLflow's REST API 2.0 that answers the four endpoints as MLflow does
 * (RESOURCE_ALREADY_EXISTS as HTTP 400, versions as strings, the alias's version required as a
 * string, search results paged). What every serving stack holds of the Job is in
 * model-registration.test.ts.
 */
import { execFile } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { synthesizeOnPremEnvironments } from "../support/synth";
import { envOf, scriptOf } from "../support/model-registration";
import { RELEASE_VERSION_TAG } from "../../constructs/serving/model-registration";

const onPrem = synthesizeOnPremEnvironments();

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
const SCRIPT = scriptOf(onPremServing);
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
  // Each test starts python3 once or twice, each run allowed 30 s; 4 s on an idle machine.
  jest.setTimeout(60_000);
  let mlflow: FakeMlflow;
  let uri: string;
  beforeEach(async () => {
    mlflow = new FakeMlflow("mlops-client", "not-a-secret");
    uri = await mlflow.start();
  });
  afterEach(() => mlflow.stop());

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
