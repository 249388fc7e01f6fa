/**
 * Validation of the environment registry: every problem of every environment becomes one line
 * naming the environment, the field path, the value received, the rule and the fix.
 */
import type { core } from "zod";
import { parseCidr, overlaps } from "../constructs/lib/cidr";
import { environmentSchema, MISSING, type Environment } from "./schema";

export type LoadResult =
  | { readonly ok: true; readonly environments: readonly Environment[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Thrown where a caller needs an exception rather than a result. */
export class EnvironmentValidationError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`invalid environment configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvironmentValidationError";
  }
}

/** Validates every environment, then the rules that span environments. Builds nothing. */
export function loadEnvironments(inputs: readonly unknown[]): LoadResult {
  const problems: string[] = [];
  const environments: Environment[] = [];
  inputs.forEach((input, index) => {
    const label = environmentLabel(input, index);
    const parsed = environmentSchema.safeParse(input, { reportInput: true });
    if (parsed.success) environments.push(parsed.data);
    else problems.push(...parsed.error.issues.flatMap((issue) => formatIssue(label, input, issue)));
  });
  problems.push(...crossEnvironmentProblems(environments));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, environments };
}

/** Like `loadEnvironments`, throwing `EnvironmentValidationError` on any problem. */
export function requireEnvironments(inputs: readonly unknown[]): readonly Environment[] {
  const result = loadEnvironments(inputs);
  if (!result.ok) throw new EnvironmentValidationError(result.problems);
  return result.environments;
}

function environmentLabel(input: unknown, index: number): string {
  const name = (input as { name?: unknown } | null)?.name;
  return typeof name === "string" && name !== "" ? name : `environment #${index + 1}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const key of path) {
    if (typeof key === "number") text += `[${key}]`;
    else if (typeof key === "string" && /^[A-Za-z_$][\w$]*$/.test(key)) text += text === "" ? key : `.${key}`;
    else text += `[${JSON.stringify(String(key))}]`;
  }
  return text === "" ? "(environment)" : text;
}

function formatValue(value: unknown): string {
  if (value === undefined || value === MISSING) return "missing";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per problem (an unknown-keys issue yields one line per key). */
export function formatIssue(label: string, input: unknown, issue: core.$ZodIssue): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map(
      (key) =>
        `${label}: ${formatPath([...issue.path, key])}: unknown field; fix: remove it or correct its spelling`,
    );
  }
  // Rules checked after defaults were applied report the effective value themselves.
  // What the file says; rules checked after defaults were filled in report the default they saw.
  const given = valueAt(input, issue.path);
  const value = given !== undefined ? given : issue.input;
  const path = formatPath(issue.path);
  if (issue.code === "invalid_type" && value === undefined) {
    return [`${label}: ${path} is missing; fix: add ${path} (expected ${issue.expected})`];
  }
  let message = issue.message;
  if (issue.code === "invalid_type" && !message.includes("; fix: ")) {
    const received = Array.isArray(value) ? "list" : value === null ? "null" : typeof value;
    message = `must be a ${issue.expected}, not a ${received}; fix: write it as a ${issue.expected}`;
  } else if (!message.includes("; fix: ")) {
    message = `${message.replace(/^Invalid input: /, "")}; fix: see the environment reference in README.md`;
  }
  return [`${label}: ${path} = ${formatValue(value)}: ${message}`];
}

function crossEnvironmentProblems(environments: readonly Environment[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const claim = (kind: string, value: string, owner: string, field: string, remedy: string) => {
    const key = `${kind}:${value}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, `${owner}'s ${field}`);
    else
      problems.push(
        `${owner}: ${field} = ${JSON.stringify(value)}: already used as ${first}; fix: ${remedy}`,
      );
  };
  for (const env of environments) {
    claim("name", env.name, env.name, "name", "give every environment its own name");
    claim(
      "bucket",
      env.storage.artifactsBucket,
      env.name,
      "storage.artifactsBucket",
      "bucket names are global: give each environment its own",
    );
    claim(
      "bucket",
      env.storage.dataBucket,
      env.name,
      "storage.dataBucket",
      "bucket names are global: give each environment its own",
    );
  }
  environments.forEach((env, i) => {
    const vpc = parseCidr(env.network.vpcCidr);
    for (const other of environments.slice(0, i)) {
      const otherVpc = parseCidr(other.network.vpcCidr);
      if (vpc && otherVpc && other.name !== env.name && overlaps(vpc, otherVpc)) {
        problems.push(
          `${env.name}: network.vpcCidr = ${JSON.stringify(env.network.vpcCidr)}: overlaps ${other.name}'s ${other.network.vpcCidr}; fix: give each environment its own range so they can be peered or routed`,
        );
      }
    }
  });
  return problems;
}
