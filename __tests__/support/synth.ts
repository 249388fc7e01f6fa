/**
 * Synthesis helpers: build an app once per test file and read the Terraform JSON back.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { TerraformStack, Testing, type TerraformDataSource, type TerraformResource } from "cdktf";
import { ENVIRONMENTS } from "../../environments";
import { loadBuilds } from "../../stacks/synthesize";
import type { Environment } from "../../environments/schema";
import type { RancherEnvironment } from "../../environments/rancher-schema";
import { isOnPrem, isOnPremInput, type AnyEnvironmentInput } from "../../environments/targets";
import { addEnvironmentStacks } from "../../stacks/app";
import type { FoundationStack } from "../../stacks/foundation-stack";
import type { PlatformStack } from "../../stacks/platform-stack";
import type { ServingStack } from "../../stacks/serving-stack";

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
function readStack(outdir: string, stack: TerraformStack): SynthesizedStack {
  const raw = JSON.parse(readFileSync(join(outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"));
  const json = withoutMetadata(raw) as TerraformJson;
  return { stack, text: JSON.stringify(forReview(json), null, 2), json };
}

/** Validates the given environments and synthesizes all their stacks in one app. */
function synthesizeAllOf(inputs: readonly AnyEnvironmentInput[]) {
  const loaded = loadBuilds(inputs);
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  const app = Testing.app();
  const all = addEnvironmentStacks(app, loaded.builds);
  app.synth();
  return loaded.builds.map(({ environment }, index) => ({
    environment,
    stacks: all[index],
    outdir: app.outdir,
  }));
}

/** Synthesizes AWS environments (the registry's by default): foundation, platform, serving. */
export function synthesizeEnvironments(
  inputs: readonly AnyEnvironmentInput[] = AWS_ENVIRONMENT_INPUTS,
): Record<string, SynthesizedEnvironment> {
  const result: Record<string, SynthesizedEnvironment> = {};
  for (const { environment, stacks, outdir } of synthesizeAllOf(inputs)) {
    const { foundation, platform, serving } = stacks;
    if (isOnPrem(environment) || foundation === undefined)
      throw new Error(`${environment.name} is on-prem: synthesize it with synthesizeOnPremEnvironments`);
    result[environment.name] = {
      environment,
      stacks: { foundation, platform, serving },
      foundation: readStack(outdir, foundation),
      platform: readStack(outdir, platform),
      serving: readStack(outdir, serving),
    };
  }
  return result;
}

/** Synthesizes on-prem environments (the registry's by default): platform and serving. */
export function synthesizeOnPremEnvironments(
  inputs: readonly AnyEnvironmentInput[] = ON_PREM_ENVIRONMENT_INPUTS,
): Record<string, SynthesizedOnPremEnvironment> {
  const result: Record<string, SynthesizedOnPremEnvironment> = {};
  for (const { environment, stacks, outdir } of synthesizeAllOf(inputs)) {
    if (!isOnPrem(environment)) throw new Error(`${environment.name} is an AWS environment`);
    result[environment.name] = {
      environment,
      stacks: { platform: stacks.platform, serving: stacks.serving },
      platform: readStack(outdir, stacks.platform),
      serving: readStack(outdir, stacks.serving),
    };
  }
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
