/**
 * Reads synthesized stacks: resolves Terraform interpolations to the literal values they point
 * at, or to typed stand-ins that say what they stand for where the value only exists after apply
 * (role ARNs, database addresses), so charts render and objects validate.
 */
export interface TerraformJson {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
  readonly data?: Record<string, Record<string, Record<string, unknown>>>;
  readonly output?: Record<string, { readonly value: unknown }>;
}

export interface StackContext {
  /** Stack name, e.g. `dev-platform`. */
  readonly name: string;
  readonly json: TerraformJson;
}

export interface StandInContext {
  readonly accountId: string;
  readonly region: string;
  /** Every stack of the environment by name, for cross-stack outputs. */
  readonly stacks: Readonly<Record<string, TerraformJson>>;
}

/** Marks every stand-in so a reader of a finding knows the value is not real. */
export const STAND_IN = "standin";

function dnsLabel(text: string): string {
  return text
    .toLowerCase()
    .replace(/_[0-9a-f]{8}$/i, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

/** A value that only exists once Terraform has applied: shaped like the real thing. */
export function standIn(type: string, id: string, attribute: string, context: StandInContext): string {
  const label = `${STAND_IN}-${dnsLabel(id)}`;
  const { accountId, region } = context;
  if (attribute === "arn") {
    if (type === "aws_iam_role") return `arn:aws:iam::${accountId}:role/${label}`;
    if (type === "aws_acm_certificate") return `arn:aws:acm:${region}:${accountId}:certificate/${label}`;
    return `arn:aws:${type.replace(/^aws_/, "").split("_")[0]}:${region}:${accountId}:${label}`;
  }
  if (attribute === "address" || (attribute === "endpoint" && type === "aws_db_instance")) {
    return `${label}.${STAND_IN}.${region}.rds.amazonaws.com`;
  }
  if (attribute === "endpoint") return `https://${label}.${STAND_IN}.${region}.eks.amazonaws.com`;
  if (attribute === "repository_url") return `${accountId}.dkr.ecr.${region}.amazonaws.com/${label}`;
  if (attribute === "bucket" || attribute === "id" || attribute === "name") return label;
  if (attribute === "port") return "5432";
  return `${label}-${attribute.replace(/[^a-z0-9]+/gi, "-")}`;
}

const WHOLE_MAP = /^\$\{data\.kubernetes_(secret|config_map)_v1\.[^.{}]+\.(data|binary_data)\}$/;

/** A whole map read as above merged with literal keys (`Fn.merge`): the literals are known. */
const MERGED_MAP =
  /^\$\{merge\(data\.kubernetes_(?:secret|config_map)_v1\.[^.{}]+\.(?:data|binary_data), \{((?:"(?:[^"\\]|\\.)*" = "(?:[^"\\]|\\.)*"(?:, )?)*)\}\)\}$/;
const LITERAL_PAIR = /"((?:[^"\\]|\\.)*)" = "((?:[^"\\]|\\.)*)"/g;

const REFERENCE = /\$\{([^{}]*)\}/g;

/** Resolves one Terraform expression (without `${}`). */
function resolveExpression(
  expression: string,
  stack: StackContext,
  context: StandInContext,
  depth: number,
): string {
  const remote = /^data\.terraform_remote_state\.cross-stack-reference-input-([^.]+)\.outputs\.(.+)$/.exec(
    expression,
  );
  if (remote) {
    const producer = context.stacks[remote[1]];
    const output = producer?.output?.[remote[2]]?.value;
    if (typeof output === "string" && producer) {
      return resolveString(output, { name: remote[1], json: producer }, context, depth + 1);
    }
    return `${STAND_IN}-${dnsLabel(remote[2])}`;
  }
  const reference = /^([a-z0-9_]+)\.([^.[\]]+)((?:\.[a-z0-9_]+|\[\d+\])+)$/i.exec(expression);
  if (reference) {
    const [, type, id, path] = reference;
    const resource = stack.json.resource?.[type]?.[id];
    const steps = path.split(/\.|\[|\]/).filter((s) => s !== "");
    if (resource) {
      let value: unknown = resource;
      for (const step of steps) {
        if (value === undefined || value === null) break;
        if (/^\d+$/.test(step))
          value = Array.isArray(value) ? value[Number(step)] : step === "0" ? value : undefined;
        else value = (value as Record<string, unknown>)[step];
      }
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
        return resolveString(String(value), stack, context, depth + 1);
      }
      // Computed attributes: repository URLs are built from the literal repository name.
      if (
        type === "aws_ecr_repository" &&
        steps[0] === "repository_url" &&
        typeof resource.name === "string"
      ) {
        return `${context.accountId}.dkr.ecr.${context.region}.amazonaws.com/${resource.name}`;
      }
    }
    return standIn(type, id, steps.filter((s) => !/^\d+$/.test(s)).join("_"), context);
  }
  return `${STAND_IN}-expression`;
}

/** Replaces every `${...}` in a string. */
export function resolveString(text: string, stack: StackContext, context: StandInContext, depth = 0): string {
  if (depth > 10) throw new Error(`Terraform references nest too deeply: ${text}`);
  return text.replace(REFERENCE, (_whole, expression: string) =>
    resolveExpression(expression.trim(), stack, context, depth),
  );
}

/** Resolves every string inside a JSON value. */
export function resolveDeep<T>(value: T, stack: StackContext, context: StandInContext): T {
  // A whole map read from an existing Secret or ConfigMap (a copy of a hand-made Secret): its
  // keys are the source's, unknown offline.
  if (typeof value === "string" && WHOLE_MAP.test(value)) return {} as T;
  const merged = typeof value === "string" ? MERGED_MAP.exec(value) : null;
  if (merged) {
    return Object.fromEntries(
      [...merged[1].matchAll(LITERAL_PAIR)].map(([, key, text]) => [
        JSON.parse(`"${key}"`) as string,
        JSON.parse(`"${text}"`) as string,
      ]),
    ) as T;
  }
  if (typeof value === "string") return resolveString(value, stack, context) as T;
  if (Array.isArray(value)) return value.map((v) => resolveDeep(v, stack, context)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key]) => key !== "//")
        .map(([key, child]) => [key, resolveDeep(child, stack, context)]),
    ) as T;
  }
  return value;
}
