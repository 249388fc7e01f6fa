/**
 * Synthesis helpers: the registry's stacks are synthesized once and shared by every test file
 * (and by later runs) through a cache keyed by a fingerprint of everything synthesis reads;
 * other inputs are synthesized in the test file that asks. Terraform JSON is read back from disk.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { parse as parseYaml } from "yaml";
import type { TerraformDataSource, TerraformResource, TerraformStack } from "cdktf";
import { ENVIRONMENTS } from "../../environments";
import { loadEnvironments } from "../../environments/load";
import { projectRoot } from "../../environments/project-root";
import type { Environment } from "../../environments/schema";
import type { RancherEnvironment } from "../../environments/rancher-schema";
import {
  isOnPrem,
  isOnPremInput,
  type AnyEnvironment,
  type AnyEnvironmentInput,
} from "../../environments/targets";
import type { FoundationStack } from "../../stacks/foundation-stack";
import type { PlatformStack } from "../../stacks/platform-stack";
import type { ServingStack } from "../../stacks/serving-stack";
import { FIXTURE_ENVIRONMENTS, fixtureReleases } from "./release-files";

/** Synthesized Terraform JSON of one stack. */
export interface TerraformJson {
  readonly terraform: Record<string, any>;
  readonly provider?: Record<string, any[]>;
  readonly resource: Record<string, Record<string, any>>;
  readonly data?: Record<string, Record<string, any>>;
  readonly output?: Record<string, any>;
}

export interface SynthesizedStack {
  readonly stack: TerraformStack;
  /** The JSON text `cdktf synth` writes (snapshot material). */
  readonly text: string;
  readonly json: TerraformJson;
}

/** An AWS environment's three stacks, synthesized. */
export interface SynthesizedEnvironment {
  readonly environment: Environment;
  readonly stacks: {
    readonly foundation: FoundationStack;
    readonly platform: PlatformStack;
    readonly serving: ServingStack;
  };
  readonly foundation: SynthesizedStack;
  readonly platform: SynthesizedStack;
  readonly serving: SynthesizedStack;
}

/** An on-prem environment's two stacks, synthesized. */
export interface SynthesizedOnPremEnvironment {
  readonly environment: RancherEnvironment;
  readonly stacks: { readonly platform: PlatformStack; readonly serving: ServingStack };
  readonly platform: SynthesizedStack;
  readonly serving: SynthesizedStack;
}

/** The AWS environments of the registry. */
export const AWS_ENVIRONMENT_INPUTS = ENVIRONMENTS.filter((input) => !isOnPremInput(input));
/** The on-prem environments of the registry. */
export const ON_PREM_ENVIRONMENT_INPUTS = ENVIRONMENTS.filter(isOnPremInput);

/** Drops cdktf's `//` metadata blocks, as `Testing.synth` does. */
function withoutMetadata(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutMetadata);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "//")
      .map(([key, child]) => [key, withoutMetadata(child)]),
  );
}

/**
 * The snapshot form of a stack: Helm values, which Terraform holds as one YAML string per
 * release, are shown parsed so a change to one value is a one-line diff.
 */
function forReview(json: TerraformJson): unknown {
  const releases = json.resource.helm_release;
  if (!releases) return json;
  const parsed = Object.fromEntries(
    Object.entries(releases).map(([id, release]) => [
      id,
      { ...release, values: (release.values as string[]).map((text) => parseYaml(text)) },
    ]),
  );
  return { ...json, resource: { ...json.resource, helm_release: parsed } };
}

/** Reads a stack the app wrote: full synthesis resolves cross-stack references into remote state. */
function readStack(outdir: string, stackId: string, stack: () => TerraformStack): SynthesizedStack {
  const raw = JSON.parse(readFileSync(join(outdir, "stacks", stackId, "cdk.tf.json"), "utf8"));
  const json = withoutMetadata(raw) as TerraformJson;
  let text: string | undefined;
  return {
    get stack() {
      return stack();
    },
    get text() {
      return (text ??= JSON.stringify(forReview(json), null, 2));
    },
    json,
  };
}

type EnvironmentStacks = ReturnType<typeof import("../../stacks/app").addEnvironmentStacks>[number];

/**
 * Validates the given environments and builds all their stacks in one app; synthesizes them
 * unless `synthesis` is false (construct trees alone: logical ids, references).
 */
function synthesizeAllOf(
  inputs: readonly AnyEnvironmentInput[],
  outdir?: string,
  synthesis = true,
  releasesDirectory?: string,
) {
  // Loaded here, not at the top: test files served from the cache never load the stacks.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Testing } = require("cdktf") as typeof import("cdktf");
  const { loadBuilds } = require("../../stacks/synthesize") as typeof import("../../stacks/synthesize");
  const { addEnvironmentStacks } = require("../../stacks/app") as typeof import("../../stacks/app");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const loaded = releasesDirectory === undefined ? loadBuilds(inputs) : loadBuilds(inputs, releasesDirectory);
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  const app = Testing.app(outdir === undefined ? {} : { outdir });
  const all = addEnvironmentStacks(app, loaded.builds);
  if (synthesis) app.synth();
  return {
    outdir: app.outdir,
    environments: loaded.builds.map(({ environment }, index) => ({ environment, stacks: all[index] })),
  };
}

/** Stack ids of an environment, as the app names them. */
function stackIdsOf(environment: AnyEnvironment): string[] {
  const kinds = isOnPrem(environment) ? ["platform", "serving"] : ["foundation", "platform", "serving"];
  return kinds.map((kind) => `${environment.name}-${kind}`);
}

/** What synthesis of the registry reads: sources, environments, releases, Helm values, dependencies. */
const SYNTHESIS_INPUTS = ["constructs", "stacks", "environments", "helm-values", "package-lock.json"];

/** A fingerprint of every file synthesis reads, and of this module (which decides the output form). */
function synthesisFingerprint(root: string): string {
  const hash = createHash("sha256");
  const add = (path: string): void => {
    const entries = readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) add(child);
      else hash.update(relative(root, child)).update("\0").update(readFileSync(child)).update("\0");
    }
  };
  for (const input of SYNTHESIS_INPUTS) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    if (input.includes(".")) hash.update(input).update("\0").update(readFileSync(path)).update("\0");
    else add(path);
  }
  hash.update(readFileSync(__filename));
  return hash.digest("hex").slice(0, 16);
}

/** The registry's stacks on disk: from the cache, or synthesized here and added to it. */
function registryOutdir(environments: readonly AnyEnvironment[]): {
  outdir: string;
  stacks?: { environment: AnyEnvironment; stacks: EnvironmentStacks }[];
} {
  const root = projectRoot();
  const cacheRoot = join(root, "node_modules", ".cache", "mlops-tests", "registry");
  const cached = join(cacheRoot, synthesisFingerprint(root));
  const complete = (dir: string) =>
    environments.every((environment) =>
      stackIdsOf(environment).every((id) => existsSync(join(dir, "stacks", id, "cdk.tf.json"))),
    );
  if (complete(cached)) return { outdir: cached };
  mkdirSync(cacheRoot, { recursive: true });
  const work = mkdtempSync(join(cacheRoot, "writing-"));
  const synthesized = synthesizeAllOf(ENVIRONMENTS as AnyEnvironmentInput[], work);
  // Another test file may have finished first: its copy is the same and may be being read, so
  // keep it (removing it under a reader fails that reader with ENOENT) and drop this one.
  try {
    if (complete(cached)) rmSync(work, { recursive: true, force: true });
    else {
      if (existsSync(cached)) rmSync(cached, { recursive: true, force: true });
      renameSync(work, cached);
    }
  } catch {
    rmSync(work, { recursive: true, force: true });
  }
  for (const old of readdirSync(cacheRoot)) {
    const path = join(cacheRoot, old);
    if (path !== cached && !old.startsWith("writing-")) rmSync(path, { recursive: true, force: true });
  }
  return { outdir: complete(cached) ? cached : synthesized.outdir, stacks: synthesized.environments };
}

interface Synthesized {
  readonly outdir: string;
  readonly environments: readonly AnyEnvironment[];
  /** An environment's construct tree, built on first use when the output came from the cache. */
  readonly stacksOf: (name: string) => EnvironmentStacks;
}

const byName = (built: { environment: AnyEnvironment; stacks: EnvironmentStacks }[]) =>
  new Map(built.map(({ environment, stacks }) => [environment.name, stacks]));

/**
 * Synthesizes the given environments. The registry (the default) is read from the shared cache;
 * the construct trees of its environments of that target, which few tests need, are built (not
 * synthesized: logical ids do not depend on other stacks) in this file when first asked for.
 */
function synthesize(
  inputs: readonly AnyEnvironmentInput[] | undefined,
  target: "aws" | "rancher",
): Synthesized {
  if (inputs !== undefined) {
    const { outdir, environments } = synthesizeAllOf(inputs);
    const stacks = byName(environments);
    return {
      outdir,
      environments: environments.map((e) => e.environment),
      stacksOf: (name) => stacks.get(name)!,
    };
  }
  const loaded = loadEnvironments(ENVIRONMENTS);
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  const registry = registryOutdir(loaded.environments);
  let stacks = registry.stacks && byName(registry.stacks);
  const ofTarget = target === "aws" ? AWS_ENVIRONMENT_INPUTS : ON_PREM_ENVIRONMENT_INPUTS;
  return {
    outdir: registry.outdir,
    environments: loaded.environments,
    stacksOf: (name) =>
      (stacks ??= byName(synthesizeAllOf(ofTarget, undefined, false).environments)).get(name)!,
  };
}

/** Synthesizes AWS environments (the registry's by default): foundation, platform, serving. */
export function synthesizeEnvironments(
  inputs?: readonly AnyEnvironmentInput[],
): Record<string, SynthesizedEnvironment> {
  const synthesized = synthesize(inputs, "aws");
  const result: Record<string, SynthesizedEnvironment> = {};
  synthesized.environments.forEach((environment) => {
    if (isOnPrem(environment)) {
      if (inputs === undefined) return;
      throw new Error(`${environment.name} is on-prem: synthesize it with synthesizeOnPremEnvironments`);
    }
    const stacks = () => synthesized.stacksOf(environment.name);
    const foundation = () => stacks().foundation as FoundationStack;
    const platform = () => stacks().platform;
    const serving = () => stacks().serving;
    const name = environment.name;
    result[name] = {
      environment,
      get stacks() {
        return { foundation: foundation(), platform: platform(), serving: serving() };
      },
      foundation: readStack(synthesized.outdir, `${name}-foundation`, foundation),
      platform: readStack(synthesized.outdir, `${name}-platform`, platform),
      serving: readStack(synthesized.outdir, `${name}-serving`, serving),
    };
  });
  return result;
}

/** Synthesizes on-prem environments (the registry's by default): platform and serving. */
export function synthesizeOnPremEnvironments(
  inputs?: readonly AnyEnvironmentInput[],
): Record<string, SynthesizedOnPremEnvironment> {
  const synthesized = synthesize(inputs, "rancher");
  const result: Record<string, SynthesizedOnPremEnvironment> = {};
  synthesized.environments.forEach((environment) => {
    if (!isOnPrem(environment)) {
      if (inputs === undefined) return;
      throw new Error(`${environment.name} is an AWS environment`);
    }
    const platform = () => synthesized.stacksOf(environment.name).platform;
    const serving = () => synthesized.stacksOf(environment.name).serving;
    const name = environment.name;
    result[name] = {
      environment,
      get stacks() {
        return { platform: platform(), serving: serving() };
      },
      platform: readStack(synthesized.outdir, `${name}-platform`, platform),
      serving: readStack(synthesized.outdir, `${name}-serving`, serving),
    };
  });
  return result;
}

/** Resources of one type, by their logical id. */
export function resourcesOf(json: TerraformJson, type: string): Record<string, any> {
  return json.resource[type] ?? {};
}

/** The only resource of a type; fails when there are none or several. */
export function onlyResource(json: TerraformJson, type: string): any {
  const all = Object.values(resourcesOf(json, type));
  if (all.length !== 1) throw new Error(`expected exactly one ${type}, found ${all.length}`);
  return all[0];
}

/** Logical id of a resource or data source in its stack's JSON. */
export function idOf(element: TerraformResource | TerraformDataSource): string {
  // cdktf is loaded only by the files that hold construct trees (see synthesizeAllOf).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TerraformStack } = require("cdktf") as typeof import("cdktf");
  return TerraformStack.of(element).getLogicalId(element);
}

/** The synthesized JSON of a resource built by the stack. */
export function resourceFor(json: TerraformJson, element: TerraformResource): any {
  const resource = json.resource[element.terraformResourceType]?.[idOf(element)];
  if (!resource) throw new Error(`${element.node.path} is not in the synthesized stack`);
  return resource;
}

/** The Terraform expression `${type.id.attribute}` of a resource. */
export function referenceTo(element: TerraformResource, attribute: string): string {
  return `\${${element.terraformResourceType}.${idOf(element)}.${attribute}}`;
}

/** Resolves `${data.aws_iam_policy_document.X.json}` to the statements of that document. */
export function policyStatements(json: TerraformJson, reference: string): any[] {
  const match = /^\$\{data\.aws_iam_policy_document\.([^.]+)\.json\}$/.exec(reference);
  if (!match) throw new Error(`not a policy document reference: ${reference}`);
  const document = json.data?.aws_iam_policy_document?.[match[1]];
  if (!document) throw new Error(`no policy document ${match[1]}`);
  return document.statement;
}

/** Resolves a `${type.id.attr}` reference to the referenced resource. */
export function referencedResource(json: TerraformJson, reference: string): any {
  const match = /^\$\{([a-z0-9_]+)\.([^.]+)\.[a-z0-9_]+\}$/.exec(reference);
  if (!match) throw new Error(`not a resource reference: ${reference}`);
  const resource = json.resource[match[1]]?.[match[2]];
  if (!resource) throw new Error(`no resource ${match[1]}.${match[2]}`);
  return resource;
}

/** The Terraform expression of a foundation role's ARN as another stack reads it (remote state). */
export function roleArnFromFoundation(identity: string): RegExp {
  return new RegExp(
    `^\\$\\{data\\.terraform_remote_state\\.[^}]+\\.outputs\\.cross-stack-output-aws_iam_role${identity}_Role_[0-9A-F]{8}arn\\}$`,
  );
}

/**
 * The registry's AWS environments of the fixture releases' path, running those releases (which
 * never move; `./release-files`): for checks that need what a release may hold, a canary say,
 * whatever the registry's environments run today. Synthesized once per test file, when asked.
 */
export function synthesizeWithFixtureReleases(): Record<string, SynthesizedEnvironment> {
  const names: readonly string[] = FIXTURE_ENVIRONMENTS.aws;
  const inputs = AWS_ENVIRONMENT_INPUTS.filter((input) => names.includes(input.name));
  const { outdir, environments } = synthesizeAllOf(inputs, undefined, true, fixtureReleases());
  const result: Record<string, SynthesizedEnvironment> = {};
  for (const { environment, stacks } of environments) {
    const name = environment.name;
    result[name] = {
      environment: environment as Environment,
      stacks: stacks as SynthesizedEnvironment["stacks"],
      foundation: readStack(outdir, `${name}-foundation`, () => stacks.foundation!),
      platform: readStack(outdir, `${name}-platform`, () => stacks.platform),
      serving: readStack(outdir, `${name}-serving`, () => stacks.serving),
    };
  }
  return result;
}
