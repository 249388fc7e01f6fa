/**
 * Promotion of images and model files between on-prem environments: the plan from the target's
 * release, the refusals, and the exact requests and commands the copies make (through a fake).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../environments";
import { requireEnvironments } from "../environments/load";
import type { RancherEnvironment } from "../environments/rancher-schema";
import { releaseFileSchema, type ReleaseEntry } from "../environments/release-schema";
import { isOnPrem } from "../environments/targets";
import {
  describeCopy,
  parseArguments,
  planArtifactCopies,
  promoteArtifacts,
  type CommandResult,
  type HttpRequest,
  type HttpResponse,
  type PromoteArtifactsContext,
} from "../scripts/promote-artifacts";
import { releaseText } from "./support/release-files";

const onPrem = requireEnvironments(ENVIRONMENTS).filter(isOnPrem);
const environment = (name: string): RancherEnvironment => onPrem.find((e) => e.name === name)!;
const test = environment("onprem-test");
const prod = environment("onprem-prod");

const DIGEST = `sha256:${"ab".repeat(32)}`;
const RUN_A = "mlflow/1/8f2c4b6e9a0d4c1e9b7a5d3f2e1c0b9a/artifacts/model";
const RUN_B = "mlflow/1/0123456789abcdef0123456789abcdef/artifacts/model";
const RUN_C = "mlflow/2/c4e6a8b0d2f44e6a8c0e2a4c6e8a0c2e/artifacts/model";
/** Reference data sets of the fixture's models, which log: copied beside their files. */
const REF_A = "mlflow/1/8f2c4b6e9a0d4c1e9b7a5d3f2e1c0b9a/artifacts/reference";
const REF_C = "mlflow/2/c4e6a8b0d2f44e6a8c0e2a4c6e8a0c2e/artifacts/reference";

/** The fixture onprem-prod release (the registry's moves with every promotion). */
const prodFile = () => JSON.parse(releaseText("onprem-prod"));

/** onprem-prod's release, with the serving image, training image and models given. */
function release(change: (current: any) => void = () => {}): ReleaseEntry {
  const file = prodFile();
  change(file.current);
  return releaseFileSchema.parse(file).current;
}

/**
 * A releases folder holding onprem-prod's release, changed by `change`, and onprem-test's running
 * the same content (promoted, as the copies require), changed by `changeSource`.
 */
function releasesFolder(
  change: (current: any) => void = () => {},
  changeSource: (current: any) => void = () => {},
): string {
  const directory = mkdtempSync(join(tmpdir(), "promote-artifacts-"));
  const file = prodFile();
  change(file.current);
  writeFileSync(join(directory, "onprem-prod.json"), `${JSON.stringify(file, null, 2)}\n`);
  const { promotedAt: _at, promotedFrom: _from, ...content } = structuredClone(file.current);
  changeSource(content);
  writeFileSync(
    join(directory, "onprem-test.json"),
    `${JSON.stringify({ current: content, history: [] }, null, 2)}\n`,
  );
  return directory;
}

const withCanary = (current: any) => {
  current.models[0].canary = { version: 8, artifactPath: RUN_B, trafficPercent: 10 };
};

interface Calls {
  http: HttpRequest[];
  run: [string, readonly string[]][];
}

/** A machine whose Artifactory and aws answer as scripted, recording every call. */
function machine(
  env: Record<string, string> = {
    ARTIFACTORY_TOKEN: "token-value",
    AWS_ACCESS_KEY_ID: "key-id",
    AWS_SECRET_ACCESS_KEY: "key-secret",
  },
  answer: (request: HttpRequest) => HttpResponse = () => ({ status: 200, body: "" }),
  exec: (args: readonly string[]) => CommandResult = () => ({ code: 0, stdout: "", stderr: "" }),
): { ctx: PromoteArtifactsContext; calls: Calls } {
  const calls: Calls = { http: [], run: [] };
  return {
    calls,
    ctx: {
      env,
      http: async (request) => {
        calls.http.push(request);
        return answer(request);
      },
      run: (command, args) => {
        calls.run.push([command, args]);
        return exec(args);
      },
    },
  };
}

const options = (directory: string, dryRun = false) => ({
  from: "onprem-test",
  to: "onprem-prod",
  dryRun,
  directory,
});

const syncArgs = (prefix: string) => [
  "s3",
  "sync",
  `s3://mlops-test-artifacts/${prefix}/`,
  `s3://mlops-prod-artifacts/${prefix}/`,
  "--endpoint-url",
  "https://s3.example.com",
  "--region",
  "us-east-1",
  "--only-show-errors",
];

describe("the plan", () => {
  it("copies both images by tag and every model's files, stable and canary, once per path", () => {
    const plan = planArtifactCopies(
      test,
      prod,
      release((current) => {
        withCanary(current);
        current.models[1].artifactPath = RUN_A; // two models on the same files: one copy
      }),
    );
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.copies.map(describeCopy)).toEqual([
      "image serving: ml-docker-test-local/mlops-serving:1.4.2 -> ml-docker-prod-local/mlops-serving:1.4.2 (Artifactory Docker promotion, copy)",
      "image training: ml-docker-test-local/mlops-training:1.4.2 -> ml-docker-prod-local/mlops-training:1.4.2 (Artifactory Docker promotion, copy)",
      `model churn-classifier v7, demand-forecaster v3: s3://mlops-test-artifacts/${RUN_A}/ -> s3://mlops-prod-artifacts/${RUN_A}/ (aws s3 sync, https://s3.example.com)`,
      `model churn-classifier v8 (canary): s3://mlops-test-artifacts/${RUN_B}/ -> s3://mlops-prod-artifacts/${RUN_B}/ (aws s3 sync, https://s3.example.com)`,
      `model churn-classifier reference data: s3://mlops-test-artifacts/${REF_A}/ -> s3://mlops-prod-artifacts/${REF_A}/ (aws s3 sync, https://s3.example.com)`,
      `model demand-forecaster reference data: s3://mlops-test-artifacts/${REF_C}/ -> s3://mlops-prod-artifacts/${REF_C}/ (aws s3 sync, https://s3.example.com)`,
    ]);
  });

  it("copies the reference data set of a model that logs, beside its files", () => {
    const plan = planArtifactCopies(
      test,
      prod,
      release((current) => {
        current.models[0].monitoring.logging = { mode: "response" };
        current.models[1].monitoring = { logging: { mode: "off" } };
      }),
    );
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    const reference = prodFile().current.models[0].monitoring.referenceData;
    expect(plan.copies.map(describeCopy)).toContain(
      `model churn-classifier reference data: s3://mlops-test-artifacts/${reference}/ -> s3://mlops-prod-artifacts/${reference}/ (aws s3 sync, https://s3.example.com)`,
    );
    // Models that log nothing have no monitoring job to read theirs.
    expect(plan.copies.map(describeCopy).filter((line) => line.includes("reference data"))).toHaveLength(1);
  });

  it("refuses an image pinned by digest: the promotion API takes a tag", () => {
    const plan = planArtifactCopies(
      test,
      prod,
      release((current) => {
        current.training.image = { digest: DIGEST };
      }),
    );
    expect(plan).toEqual({
      ok: false,
      problems: [
        `training image ml-docker-test-local/mlops-training@${DIGEST}: Artifactory's Docker promotion takes a tag, not a digest; fix: pin the tag CI pushed for that digest in releases/onprem-test.json and promote again`,
      ],
    });
  });

  it("refuses environments on different Artifactory instances or object stores", () => {
    const other = {
      ...prod,
      registry: { ...prod.registry, host: "artifactory2.example.com" },
      objectStore: { ...prod.objectStore, endpoint: "https://s3-2.example.com" },
    };
    const plan = planArtifactCopies(test, other, release());
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.problems).toHaveLength(2);
    expect(plan.problems[0]).toMatch(/^registry\.host differs .*; fix: /);
    expect(plan.problems[1]).toMatch(/^objectStore\.endpoint differs .*; fix: /);
  });

  it("names the target image when the repositories name it differently", async () => {
    const renamed = {
      ...prod,
      registry: { ...prod.registry, servingRepository: "ml-docker-prod-local/serving" },
    };
    const plan = planArtifactCopies(test, renamed, release());
    expect(plan.ok && describeCopy(plan.copies[0])).toBe(
      "image serving: ml-docker-test-local/mlops-serving:1.4.2 -> ml-docker-prod-local/serving:1.4.2 (Artifactory Docker promotion, copy)",
    );
  });
});

describe("npm run promote-artifacts", () => {
  it("--dry-run prints one line per copy and calls nothing", async () => {
    const { ctx, calls } = machine({});
    const result = await promoteArtifacts(options(releasesFolder(withCanary), true), ctx);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")[0]).toBe(
      "[dry run] promote artifacts onprem-test -> onprem-prod: 7 copies",
    );
    const lines = result.stdout.trim().split("\n");
    expect(lines).toHaveLength(9);
    // The monitoring image, by digest only, is left to a step by hand, named exactly.
    const digest = prodFile().current.monitoring.image.digest;
    expect(lines[8]).toBe(
      `  by hand: monitoring image ml-docker-test-local/mlops-training@${digest}: not copied (Artifactory's Docker promotion takes a tag, and the release names this image by digest only); before deploying onprem-prod-serving run: crane copy artifactory.example.com/ml-docker-test-local/mlops-training@${digest} artifactory.example.com/ml-docker-prod-local/mlops-training@${digest} (crane copy keeps the digest)`,
    );
    expect(calls).toEqual({ http: [], run: [] });
  });

  it("promotes each image with one Docker promotion request and syncs each model's files", async () => {
    const { ctx, calls } = machine();
    const result = await promoteArtifacts(options(releasesFolder(withCanary)), ctx);
    expect(result).toMatchObject({ exitCode: 0, stderr: "" });
    expect(result.stdout.trim().split("\n").pop()).toMatch(/^ {2}by hand: monitoring image .*: crane copy /);
    const headers = { Authorization: "Bearer token-value", "Content-Type": "application/json" };
    const url = "https://artifactory.example.com/artifactory/api/docker/ml-docker-test-local/v2/promote";
    expect(calls.http).toEqual([
      {
        method: "POST",
        url,
        headers,
        body: JSON.stringify({
          targetRepo: "ml-docker-prod-local",
          dockerRepository: "mlops-serving",
          tag: "1.4.2",
          copy: true,
        }),
      },
      {
        method: "POST",
        url,
        headers,
        body: JSON.stringify({
          targetRepo: "ml-docker-prod-local",
          dockerRepository: "mlops-training",
          tag: "1.4.2",
          copy: true,
        }),
      },
    ]);
    expect(calls.run).toEqual([
      ["aws", syncArgs(RUN_A)],
      ["aws", syncArgs(RUN_B)],
      ["aws", syncArgs(REF_A)],
      ["aws", syncArgs(RUN_C)],
      ["aws", syncArgs(REF_C)],
    ]);
    expect(result.stdout).toContain("  ok image serving: ");
  });

  it("authenticates with ARTIFACTORY_USER and the token when a user is given", async () => {
    const { ctx, calls } = machine({
      ARTIFACTORY_USER: "svc-mlops",
      ARTIFACTORY_TOKEN: "token-value",
      AWS_ACCESS_KEY_ID: "key-id",
      AWS_SECRET_ACCESS_KEY: "key-secret",
    });
    await promoteArtifacts(options(releasesFolder()), ctx);
    expect(calls.http[0].headers.Authorization).toBe(
      `Basic ${Buffer.from("svc-mlops:token-value").toString("base64")}`,
    );
  });

  it("copies nothing without the credentials and names the missing variables", async () => {
    const { ctx, calls } = machine({ AWS_ACCESS_KEY_ID: "key-id" });
    const result = await promoteArtifacts(options(releasesFolder()), ctx);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(
      "promote-artifacts: ARTIFACTORY_TOKEN, AWS_SECRET_ACCESS_KEY not set; nothing was copied; fix: bind the Artifactory token and the object store keys (see the header of Jenkinsfile.deploy) or export them\n",
    );
    expect(calls).toEqual({ http: [], run: [] });
  });

  it("reports each failed copy on one line with its fix, goes on with the others, and exits 1", async () => {
    const { ctx, calls } = machine(
      undefined,
      (request) =>
        request.body.includes("mlops-training")
          ? { status: 403, body: "Forbidden\n" }
          : { status: 200, body: "" },
      (args) =>
        args[2].includes(RUN_C)
          ? {
              code: 1,
              stdout: "",
              stderr: "An error occurred (AccessDenied) when calling the PutObject operation",
            }
          : { code: 0, stdout: "", stderr: "" },
    );
    const result = await promoteArtifacts(options(releasesFolder()), ctx);
    expect(result.exitCode).toBe(1);
    expect(calls.http).toHaveLength(2);
    expect(calls.run).toHaveLength(4);
    expect(result.stderr.trim().split("\n")).toEqual([
      "promote-artifacts: image training ml-docker-test-local/mlops-training:1.4.2 -> ml-docker-prod-local: Artifactory answered 403 (Forbidden); fix: give the token's user read on ml-docker-test-local and deploy on ml-docker-prod-local",
      `promote-artifacts: model files s3://mlops-test-artifacts/${RUN_C}/ -> s3://mlops-prod-artifacts/${RUN_C}/: aws exited 1 (An error occurred (AccessDenied) when calling the PutObject operation); fix: give the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY read on mlops-test-artifacts and write on mlops-prod-artifacts`,
    ]);
  });

  it("says so when the aws command is missing or Artifactory does not answer", async () => {
    const { ctx } = machine(
      undefined,
      () => ({ status: undefined, body: "getaddrinfo ENOTFOUND artifactory.example.com" }),
      () => ({ code: undefined, stdout: "", stderr: "" }),
    );
    const result = await promoteArtifacts(options(releasesFolder()), ctx);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      "no answer from https://artifactory.example.com/artifactory (getaddrinfo ENOTFOUND artifactory.example.com); fix: ",
    );
    expect(result.stderr).toContain("the aws command is not on PATH; fix: install AWS CLI v2 on the agent\n");
  });

  it.each([
    [
      "staging",
      "prod",
      "promote-artifacts: --from staging is an AWS environment: its images and model files reach the next environment by ECR and S3 replication (stacks/promotion-topology.ts); fix: nothing to run, use this command only between on-prem environments\n",
    ],
    [
      "onprem-test",
      "prod",
      "promote-artifacts: --to prod is an AWS environment: its images and model files reach the next environment by ECR and S3 replication (stacks/promotion-topology.ts); fix: nothing to run, use this command only between on-prem environments\n",
    ],
    [
      "onprem-prod",
      "onprem-test",
      "promote-artifacts: onprem-test is the start of its promotion path and receives nothing from onprem-prod (promotion order: dev -> staging -> prod; onprem-test -> onprem-prod); fix: push its images and files there directly\n",
    ],
    [
      "onprem-test",
      "onprem-test",
      "promote-artifacts: onprem-test is the start of its promotion path and receives nothing from onprem-test (promotion order: dev -> staging -> prod; onprem-test -> onprem-prod); fix: push its images and files there directly\n",
    ],
    [
      "nowhere",
      "onprem-prod",
      `promote-artifacts: --from "nowhere": is not an environment (${ENVIRONMENTS.map((e) => e.name).join(", ")}); fix: name one of them\n`,
    ],
  ])("refuses --from %s --to %s and calls nothing", async (from, to, message) => {
    const { ctx, calls } = machine();
    const result = await promoteArtifacts({ from, to, dryRun: false }, ctx);
    expect(result).toEqual({ exitCode: 1, stdout: "", stderr: message });
    expect(calls).toEqual({ http: [], run: [] });
  });

  it("refuses while the target runs another release than the source, after the first promotion too", async () => {
    const { ctx, calls } = machine();
    // onprem-prod still records onprem-test as its source, but onprem-test has moved on.
    const directory = releasesFolder(
      () => {},
      (current) => (current.models[0].version += 1),
    );
    const prodVersion = prodFile().current.models[0].version;
    const result = await promoteArtifacts(options(directory, true), ctx);
    expect(result).toEqual({
      exitCode: 1,
      stdout: "",
      stderr: `promote-artifacts: releases/onprem-prod.json: current.models[0].version = ${prodVersion}, but releases/onprem-test.json has current.models[0].version = ${prodVersion + 1}: the target's current release is not the one onprem-test runs, and the copies carry the target's current release; fix: promote first (npm run promote -- --from onprem-test --to onprem-prod), then run this again\n`,
    });
    expect(calls).toEqual({ http: [], run: [] });
  });

  it("refuses a digest in the release without calling anything, even partly", async () => {
    const { ctx, calls } = machine();
    const directory = releasesFolder((current) => {
      current.serving.image = { digest: DIGEST };
    });
    const result = await promoteArtifacts(options(directory), ctx);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^promote-artifacts: serving image .*takes a tag, not a digest; fix: /);
    expect(calls).toEqual({ http: [], run: [] });
  });

  it("refuses an invalid target release with its first problem", async () => {
    const { ctx } = machine();
    const directory = releasesFolder((current) => {
      current.models[0].artifactPath = "s3://bucket/model";
    });
    const result = await promoteArtifacts(options(directory), ctx);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^promote-artifacts: target release releases\/onprem-prod\.json:\d+: /);
  });

  it("parses its arguments", () => {
    expect(parseArguments(["--from", "onprem-test", "--to", "onprem-prod", "--dry-run"])).toEqual({
      from: "onprem-test",
      to: "onprem-prod",
      dryRun: true,
    });
    expect(parseArguments(["--from", "onprem-test"])).toMatch(/^--to: is required and missing; fix: usage: /);
    expect(parseArguments(["--bogus"])).toMatch(/usage: npm run promote-artifacts/);
  });
});
