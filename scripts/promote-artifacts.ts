/**
 * Carries a promoted release's images and model files into the next on-prem environment.
 *
 *   npm run promote-artifacts -- --from onprem-test --to onprem-prod [--dry-run]
 *
 * AWS environments receive both by ECR and S3 replication (stacks/promotion-topology.ts);
 * on-prem nothing copies them, so the pipeline runs this after the approval and before the
 * target is deployed. For the target's current release it
 * - copies each image (serving and training) from the source's Artifactory repository to the
 *   target's with Artifactory's Docker promotion API (`copy: true`, the source keeps it);
 * - copies every object under each model's `artifactPath/` (stable and canary) from the
 *   source's artifacts bucket to the same key in the target's, with `aws s3 sync` against the
 *   object store endpoint.
 * The monitoring image is named by digest only, which the Docker promotion cannot take: the plan
 * prints the command that copies it, to run by hand.
 *
 * Credentials come from the environment only: `ARTIFACTORY_TOKEN` (with `ARTIFACTORY_USER`
 * for basic authentication, else sent as a bearer token), and the AWS CLI's own variables
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_CA_BUNDLE` for an internal CA).
 * `--dry-run` prints the plan and calls nothing. Every failure is one line with its fix; the
 * exit code is 1 when anything failed.
 */
import { spawnSync } from "node:child_process";
import { ENVIRONMENTS } from "../environments";
import { loadEnvironments } from "../environments/load";
import { PROMOTION_PATHS, upstreamOf } from "../environments/promotion";
import type { RancherEnvironment } from "../environments/rancher-schema";
import { releaseContent, type ImageReference, type ReleaseEntry } from "../environments/release-schema";
import { loadRelease, RELEASES_DIRECTORY } from "../environments/releases";
import { isOnPrem } from "../environments/targets";
import { capacityProblems } from "../environments/capacity";
import { parseEnvironmentStep, unknownName } from "./lib/arguments";

export interface HttpRequest {
  readonly method: "POST";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface HttpResponse {
  /** HTTP status, or undefined when no answer came (DNS, TLS, connection refused). */
  readonly status: number | undefined;
  readonly body: string;
}

export interface CommandResult {
  /** Exit code, or undefined when the command could not be started (not installed). */
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Everything the command does to the outside world goes through this. */
export interface PromoteArtifactsContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  http(request: HttpRequest): Promise<HttpResponse>;
  run(command: string, args: readonly string[]): CommandResult;
}

/** One image copy: a Docker promotion inside one Artifactory. */
export interface ImageCopy {
  readonly kind: "image";
  /** `serving` or `training`. */
  readonly role: string;
  readonly artifactoryUrl: string;
  readonly sourceRepoKey: string;
  readonly targetRepoKey: string;
  readonly sourceImage: string;
  readonly targetImage: string;
  readonly tag: string;
}

/** One model copy: every object under a prefix, from one bucket to the same key in another. */
export interface ModelCopy {
  readonly kind: "model";
  /** Which models of the release use these files, e.g. `churn-classifier v7 (canary)`. */
  readonly usedBy: readonly string[];
  readonly endpoint: string;
  readonly region: string;
  readonly sourceBucket: string;
  readonly targetBucket: string;
  readonly prefix: string;
}

export type Copy = ImageCopy | ModelCopy;

export type Plan =
  | {
      readonly ok: true;
      readonly copies: readonly Copy[];
      /** What the release needs in the target that this command cannot copy, each with its step. */
      readonly manual: readonly string[];
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Splits `ml-docker-test-local/mlops-serving` into Artifactory's repository key and image name. */
function splitRepository(path: string): { repoKey: string; image: string } {
  const slash = path.indexOf("/");
  return { repoKey: path.slice(0, slash), image: path.slice(slash + 1) };
}

/**
 * What to copy for `release` (the target's current release) from `source` to `target`.
 * Pure: it reads nothing and calls nothing.
 */
export function planArtifactCopies(
  source: RancherEnvironment,
  target: RancherEnvironment,
  release: ReleaseEntry,
): Plan {
  const problems: string[] = [];
  if (source.registry.host !== target.registry.host)
    problems.push(
      `registry.host differs (${source.name}: ${source.registry.host}, ${target.name}: ${target.registry.host}): Artifactory promotes images only between repositories of one instance; fix: use one Artifactory for both, or replicate the repository in Artifactory`,
    );
  if (source.objectStore.endpoint !== target.objectStore.endpoint)
    problems.push(
      `objectStore.endpoint differs (${source.name}: ${source.objectStore.endpoint}, ${target.name}: ${target.objectStore.endpoint}): one sync copies within one store only; fix: keep both buckets on one store, or replicate the bucket in the store`,
    );
  const copies: Copy[] = [];
  const images: [string, string, string, ImageReference][] = [
    ["serving", source.registry.servingRepository, target.registry.servingRepository, release.serving.image],
    [
      "training",
      source.registry.trainingRepository,
      target.registry.trainingRepository,
      release.training.image,
    ],
  ];
  for (const [role, from, to, image] of images) {
    if (image.tag === undefined) {
      problems.push(
        `${role} image ${from}@${image.digest ?? "?"}: Artifactory's Docker promotion takes a tag, not a digest; fix: pin the tag CI pushed for that digest in releases/${source.name}.json and promote again`,
      );
      continue;
    }
    const a = splitRepository(from);
    const b = splitRepository(to);
    copies.push({
      kind: "image",
      role,
      artifactoryUrl: `https://${source.registry.host}/artifactory`,
      sourceRepoKey: a.repoKey,
      targetRepoKey: b.repoKey,
      sourceImage: a.image,
      targetImage: b.image,
      tag: image.tag,
    });
  }
  const prefixes = new Map<string, string[]>();
  for (const model of release.models) {
    const uses: [string, string][] = [[model.artifactPath, `${model.name} v${model.version}`]];
    if (model.canary)
      uses.push([model.canary.artifactPath, `${model.name} v${model.canary.version} (canary)`]);
    // The reference data set the model's monitoring job reads moves with the model.
    if (model.monitoring.logging.mode !== "off" && model.monitoring.referenceData !== undefined)
      uses.push([model.monitoring.referenceData, `${model.name} reference data`]);
    for (const [prefix, label] of uses) prefixes.set(prefix, [...(prefixes.get(prefix) ?? []), label]);
  }
  for (const [prefix, usedBy] of prefixes)
    copies.push({
      kind: "model",
      usedBy,
      endpoint: target.objectStore.endpoint,
      region: target.objectStore.region,
      sourceBucket: source.objectStore.artifactsBucket,
      targetBucket: target.objectStore.artifactsBucket,
      prefix,
    });
  // Artifactory's Docker promotion takes a tag; the monitoring image is named by digest only.
  const monitoringDigest = release.monitoring?.image.digest;
  const manual =
    monitoringDigest === undefined
      ? []
      : [
          `monitoring image ${source.registry.trainingRepository}@${monitoringDigest}: not copied (Artifactory's Docker promotion takes a tag, and the release names this image by digest only); before deploying ${target.name}-serving run: crane copy ${source.registry.host}/${source.registry.trainingRepository}@${monitoringDigest} ${target.registry.host}/${target.registry.trainingRepository}@${monitoringDigest} (crane copy keeps the digest)`,
        ];
  return problems.length > 0 ? { ok: false, problems } : { ok: true, copies, manual };
}

/** The promotion request of an image copy, without credentials. */
export function promotionRequest(copy: ImageCopy): Omit<HttpRequest, "headers"> {
  const body: Record<string, unknown> = {
    targetRepo: copy.targetRepoKey,
    dockerRepository: copy.sourceImage,
    tag: copy.tag,
    copy: true,
  };
  if (copy.targetImage !== copy.sourceImage) body.targetDockerRepository = copy.targetImage;
  return {
    method: "POST",
    url: `${copy.artifactoryUrl}/api/docker/${copy.sourceRepoKey}/v2/promote`,
    body: JSON.stringify(body),
  };
}

/** The AWS CLI arguments of a model copy. */
export function syncArguments(copy: ModelCopy): string[] {
  return [
    "s3",
    "sync",
    `s3://${copy.sourceBucket}/${copy.prefix}/`,
    `s3://${copy.targetBucket}/${copy.prefix}/`,
    "--endpoint-url",
    copy.endpoint,
    "--region",
    copy.region,
    "--only-show-errors",
  ];
}

/** One line per copy, as the plan prints it. */
export function describeCopy(copy: Copy): string {
  return copy.kind === "image"
    ? `image ${copy.role}: ${copy.sourceRepoKey}/${copy.sourceImage}:${copy.tag} -> ${copy.targetRepoKey}/${copy.targetImage}:${copy.tag} (Artifactory Docker promotion, copy)`
    : `model ${copy.usedBy.join(", ")}: s3://${copy.sourceBucket}/${copy.prefix}/ -> s3://${copy.targetBucket}/${copy.prefix}/ (aws s3 sync, ${copy.endpoint})`;
}

export interface PromoteArtifactsOptions {
  readonly from: string;
  readonly to: string;
  readonly dryRun: boolean;
  /** @default environments/releases */
  readonly directory?: string;
  /** @default the registry, environments/index.ts */
  readonly environments?: readonly unknown[];
}

export interface PromoteArtifactsResult {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

const PREFIX = "promote-artifacts";

/** Resolves the pair and the target's release into a plan, or the one-line reasons it cannot. */
export function preparePlan(options: PromoteArtifactsOptions): Plan {
  const refuse = (problem: string): Plan => ({ ok: false, problems: [problem] });
  const loaded = loadEnvironments(options.environments ?? ENVIRONMENTS);
  if (!loaded.ok)
    return refuse(
      `the environment registry is invalid: ${loaded.problems[0]}${loaded.problems.length > 1 ? ` (and ${loaded.problems.length - 1} more; run npm run environments)` : ""}`,
    );
  const find = (flag: string, name: string) => {
    const environment = loaded.environments.find((e) => e.name === name);
    if (environment === undefined)
      return unknownName(
        flag,
        name,
        "an environment",
        loaded.environments.map((e) => e.name),
      );
    if (!isOnPrem(environment))
      return `${flag} ${name} is an AWS environment: its images and model files reach the next environment by ECR and S3 replication (stacks/promotion-topology.ts); fix: nothing to run, use this command only between on-prem environments`;
    return environment;
  };
  const source = find("--from", options.from);
  if (typeof source === "string") return refuse(source);
  const target = find("--to", options.to);
  if (typeof target === "string") return refuse(target);
  const upstream = upstreamOf(target.name);
  if (upstream !== source.name) {
    const paths = PROMOTION_PATHS.map((p) => p.join(" -> ")).join("; ");
    return refuse(
      upstream === undefined
        ? `${target.name} is the start of its promotion path and receives nothing from ${source.name} (promotion order: ${paths}); fix: push its images and files there directly`
        : `${target.name} takes releases only from ${upstream}, not ${source.name} (promotion order: ${paths}); fix: run --from ${upstream} --to ${target.name}`,
    );
  }
  const release = loadRelease(target.name, options.directory ?? RELEASES_DIRECTORY, "rancher");
  if (!release.ok)
    return refuse(
      `target release ${release.problems[0]}${release.problems.length > 1 ? ` (and ${release.problems.length - 1} more)` : ""}`,
    );
  // The copies follow the target's current release: run before the promotion, they would carry
  // the release the target already runs, and the promoted one would arrive without its images.
  const promotedFrom = release.release.current.promotedFrom;
  if (promotedFrom !== source.name)
    return refuse(
      `releases/${target.name}.json: current.promotedFrom = ${promotedFrom === undefined ? "missing" : JSON.stringify(promotedFrom)}: the target's current release did not come from ${source.name}, and the copies carry the target's current release; fix: promote first (npm run promote -- --from ${source.name} --to ${target.name}), then run this again`,
    );
  // promotedFrom stays the source after the first promotion: compare what the two run.
  const sourceRelease = loadRelease(source.name, options.directory ?? RELEASES_DIRECTORY, "rancher");
  if (!sourceRelease.ok)
    return refuse(
      `source release ${sourceRelease.problems[0]}${sourceRelease.problems.length > 1 ? ` (and ${sourceRelease.problems.length - 1} more)` : ""}`,
    );
  const difference = firstDifference(
    releaseContent(release.release.current),
    releaseContent(sourceRelease.release.current),
  );
  if (difference !== undefined)
    return refuse(
      `releases/${target.name}.json: current${difference.path} = ${difference.target}, but releases/${source.name}.json has current${difference.path} = ${difference.source}: the target's current release is not the one ${source.name} runs, and the copies carry the target's current release; fix: promote first (npm run promote -- --from ${source.name} --to ${target.name}), then run this again`,
    );
  const capacity = capacityProblems(target, release.release.current, `releases/${target.name}.json`);
  if (capacity.length > 0) return { ok: false, problems: capacity };
  return planArtifactCopies(source, target, release.release.current);
}

/**
 * The first place two release contents differ (`.models[0].version`, `.serving.image`), with
 * both values as JSON; undefined when they are the same.
 */
export function firstDifference(
  target: unknown,
  source: unknown,
  path = "",
): { path: string; target: string; source: string } | undefined {
  const show = (value: unknown) => (value === undefined ? "missing" : JSON.stringify(value));
  const isObject = (value: unknown): value is Record<string, unknown> =>
    value !== null && typeof value === "object";
  if (isObject(target) && isObject(source) && Array.isArray(target) === Array.isArray(source)) {
    if (Array.isArray(target) && Array.isArray(source) && target.length !== source.length)
      return { path: `${path}.length`, target: String(target.length), source: String(source.length) };
    const keys = [...new Set([...Object.keys(target), ...Object.keys(source)])];
    for (const key of keys) {
      const child = Array.isArray(target) ? `${path}[${key}]` : `${path}.${key}`;
      const found = firstDifference(target[key], source[key], child);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  return target === source ? undefined : { path, target: show(target), source: show(source) };
}

function authorization(env: PromoteArtifactsContext["env"]): string {
  const token = env.ARTIFACTORY_TOKEN ?? "";
  return env.ARTIFACTORY_USER
    ? `Basic ${Buffer.from(`${env.ARTIFACTORY_USER}:${token}`).toString("base64")}`
    : `Bearer ${token}`;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0]?.slice(0, 300) ?? "";
}

async function copyImage(ctx: PromoteArtifactsContext, copy: ImageCopy): Promise<string | undefined> {
  const request: HttpRequest = {
    ...promotionRequest(copy),
    headers: { Authorization: authorization(ctx.env), "Content-Type": "application/json" },
  };
  const what = `image ${copy.role} ${copy.sourceRepoKey}/${copy.sourceImage}:${copy.tag} -> ${copy.targetRepoKey}`;
  const response = await ctx.http(request);
  if (response.status !== undefined && response.status >= 200 && response.status < 300) return undefined;
  if (response.status === undefined)
    return `${what}: no answer from ${copy.artifactoryUrl} (${firstLine(response.body)}); fix: check that the agent reaches Artifactory and trusts its certificate (NODE_EXTRA_CA_CERTS)`;
  const fix =
    response.status === 401
      ? "check ARTIFACTORY_TOKEN (and ARTIFACTORY_USER) in the credential the stage binds"
      : response.status === 403
        ? `give the token's user read on ${copy.sourceRepoKey} and deploy on ${copy.targetRepoKey}`
        : response.status === 404
          ? `check that ${copy.sourceRepoKey}/${copy.sourceImage}:${copy.tag} exists (CI pushes it) and that ${copy.targetRepoKey} is a local Docker repository`
          : "read Artifactory's answer above and its request log";
  return `${what}: Artifactory answered ${response.status} (${firstLine(response.body)}); fix: ${fix}`;
}

function copyModel(ctx: PromoteArtifactsContext, copy: ModelCopy): string | undefined {
  const result = ctx.run("aws", syncArguments(copy));
  if (result.code === 0) return undefined;
  const what = `model files s3://${copy.sourceBucket}/${copy.prefix}/ -> s3://${copy.targetBucket}/${copy.prefix}/`;
  if (result.code === undefined)
    return `${what}: the aws command is not on PATH; fix: install AWS CLI v2 on the agent`;
  const reason = firstLine(result.stderr || result.stdout);
  const fix = /AccessDenied|Forbidden|InvalidAccessKeyId|SignatureDoesNotMatch/i.test(reason)
    ? `give the keys in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY read on ${copy.sourceBucket} and write on ${copy.targetBucket}`
    : /certificate|SSL/i.test(reason)
      ? "point AWS_CA_BUNDLE at the PEM bundle of the store's certificate"
      : /NoSuchBucket/i.test(reason)
        ? "check objectStore.artifactsBucket of both environments"
        : "read the aws error above";
  return `${what}: aws exited ${result.code} (${reason}); fix: ${fix}`;
}

/** Plans, then (unless a dry run) copies, each copy reported on its own line. */
export async function promoteArtifacts(
  options: PromoteArtifactsOptions,
  ctx: PromoteArtifactsContext,
): Promise<PromoteArtifactsResult> {
  const plan = preparePlan(options);
  if (!plan.ok)
    return { exitCode: 1, stdout: "", stderr: plan.problems.map((p) => `${PREFIX}: ${p}\n`).join("") };
  const header = `${options.dryRun ? "[dry run] " : ""}promote artifacts ${options.from} -> ${options.to}: ${plan.copies.length} cop${plan.copies.length === 1 ? "y" : "ies"}\n`;
  const lines = plan.copies.map((copy) => `  ${describeCopy(copy)}\n`);
  const manual = plan.manual.map((step) => `  by hand: ${step}\n`).join("");
  if (options.dryRun) return { exitCode: 0, stdout: header + lines.join("") + manual, stderr: "" };
  const needs = (kind: Copy["kind"]) => plan.copies.some((c) => c.kind === kind);
  const missing = [
    ...(needs("image") ? ["ARTIFACTORY_TOKEN"] : []),
    ...(needs("model") ? ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] : []),
  ].filter((name) => !ctx.env[name]);
  if (missing.length > 0)
    return {
      exitCode: 1,
      stdout: "",
      stderr: `${PREFIX}: ${missing.join(", ")} not set; nothing was copied; fix: bind the Artifactory token and the object store keys (see the header of Jenkinsfile.deploy) or export them\n`,
    };
  let stdout = header;
  const failures: string[] = [];
  for (const copy of plan.copies) {
    const failure = copy.kind === "image" ? await copyImage(ctx, copy) : copyModel(ctx, copy);
    if (failure === undefined) stdout += `  ok ${describeCopy(copy)}\n`;
    else failures.push(`${PREFIX}: ${failure}\n`);
  }
  return { exitCode: failures.length > 0 ? 1 : 0, stdout: stdout + manual, stderr: failures.join("") };
}

const USAGE = "usage: npm run promote-artifacts -- --from <env> --to <env> [--dry-run]";

/** Parses `--from X --to Y [--dry-run]`. */
export function parseArguments(argv: readonly string[]): PromoteArtifactsOptions | string {
  return parseEnvironmentStep(argv, USAGE);
}

async function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  try {
    const response = await fetch(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(300_000),
    });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    return { status: undefined, body: cause ?? (error as Error).message };
  }
}

function runCommand(command: string, args: readonly string[]): CommandResult {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 3_600_000 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT")
    return { code: undefined, stdout: "", stderr: "" };
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

if (require.main === module) {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === "string") {
    process.stderr.write(`${PREFIX}: ${parsed}\n`);
    process.exitCode = 1;
  } else {
    void promoteArtifacts(parsed, { env: process.env, http: httpRequest, run: runCommand }).then((result) => {
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.exitCode;
    });
  }
}
