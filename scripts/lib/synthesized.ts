/**
 * Reading the stacks `npm run synth` wrote (cdktf.out/stacks/<stack>/cdk.tf.json), for the
 * commands that answer questions about them offline (kubeconfig, cost).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A synthesized stack: Terraform JSON, read as it is. */
export interface StackJson {
  readonly provider?: Record<string, readonly Record<string, unknown>[]>;
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly terraform?: Record<string, unknown>;
  readonly output?: Record<string, { readonly value: unknown }>;
}

export const DEFAULT_OUT = "cdktf.out";

/** The stacks synthesized into `out` (relative to `cwd`), by name. */
export function synthesizedStackNames(cwd: string, out: string): string[] {
  const dir = join(cwd, out, "stacks");
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => existsSync(join(dir, name, "cdk.tf.json")))
        .sort()
    : [];
}

/** The environments whose stacks are synthesized into `out`. */
export function synthesizedEnvironments(cwd: string, out: string): string[] {
  const names = synthesizedStackNames(cwd, out)
    .filter((stack) => /-(foundation|platform|serving)$/.test(stack))
    .map((stack) => stack.replace(/-(foundation|platform|serving)$/, ""));
  return [...new Set(names)];
}

/** Whether `<out>/stacks/<stack>` was synthesized. */
export function hasStack(cwd: string, out: string, stack: string): boolean {
  return existsSync(join(cwd, out, "stacks", stack, "cdk.tf.json"));
}

/**
 * One stack's JSON, or an error naming the missing file (relative to `cwd`, as given) and how to
 * write it.
 */
export function readStack(cwd: string, out: string, stack: string): StackJson {
  const path = join(out, "stacks", stack, "cdk.tf.json");
  if (!existsSync(join(cwd, path))) {
    const known = synthesizedEnvironments(cwd, out);
    throw new Error(
      known.length === 0
        ? `${path} does not exist: nothing is synthesized; fix: run npm run synth first`
        : `${path} does not exist; the synthesized environments are ${known.join(", ")}; fix: name one of them, or run npm run synth after adding the environment`,
    );
  }
  return JSON.parse(readFileSync(join(cwd, path), "utf8")) as StackJson;
}

/** The resources of one type in a stack (logical id -> arguments). */
export function resourcesOfType(stack: StackJson, type: string): Record<string, Record<string, unknown>> {
  return stack.resource?.[type] ?? {};
}

/** The AWS provider's region and the one account it may touch, when the stack has one. */
export function awsProviderOf(stack: StackJson): { region: string; accountId?: string } | undefined {
  const aws = stack.provider?.aws?.[0];
  if (aws === undefined || typeof aws.region !== "string") return undefined;
  const accounts = aws.allowed_account_ids;
  const accountId = Array.isArray(accounts) && accounts.length === 1 ? String(accounts[0]) : undefined;
  return { region: aws.region, accountId };
}

/** The partition of a region, as `data.aws_partition` would answer it. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * A value with the account and partition data sources resolved to what the provider allows;
 * any other reference stays as `<reference>` so it never reads as a literal.
 */
export function resolveAccountTokens(value: string, region: string, accountId: string | undefined): string {
  return value
    .replace(/\$\{data\.aws_partition\.[^}]+\.partition\}/g, partitionOf(region))
    .replace(/\$\{data\.aws_caller_identity\.[^}]+\.account_id\}/g, accountId ?? "<account>")
    .replace(/\$\{[^}]+\}/g, "<reference>");
}
