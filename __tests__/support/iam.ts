/**
 * IAM policy evaluation as AWS documents it (IAM User Guide, "Policy evaluation logic" and
 * "IAM JSON policy elements: Condition operators"), for the statements this project writes:
 * an explicit Deny wins, else an Allow is needed; a permissions boundary must allow as well.
 * Action and resource patterns use `*` and `?`, actions case-insensitively. Conditions: the
 * String, Arn and Null operators, several values of one key OR'ed, several keys AND'ed; a
 * missing key fails a positive operator and satisfies a negated one (StringNotEquals...).
 */
import type { PolicyStatement } from "../../constructs/aws/policy";

export interface IamRequest {
  readonly action: string;
  /** The resource ARN, or `*` for calls without resource-level permissions. */
  readonly resource: string;
  /** Condition keys of the request, e.g. `{ "iam:PermissionsBoundary": "arn:..." }`. */
  readonly context?: Readonly<Record<string, string | undefined>>;
}

export type Decision = "allow" | "deny" | "implicit-deny";

const glob = (pattern: string, value: string, ignoreCase = false): boolean => {
  const source = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`, ignoreCase ? "i" : "").test(value);
};

const CONDITIONS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: (p, v) => glob(p, v),
  ArnEquals: (p, v) => p === v,
  ArnLike: (p, v) => glob(p, v),
};

function conditionHolds(
  condition: NonNullable<PolicyStatement["conditions"]>[number],
  context: Readonly<Record<string, string | undefined>>,
): boolean {
  const value = context[condition.variable];
  if (condition.test === "Null") return (value === undefined) === (condition.values[0] === "true");
  const negated = /^(String|Arn)Not/.exec(condition.test);
  const positive = negated ? condition.test.replace("Not", "") : condition.test;
  const match = CONDITIONS[positive];
  if (!match) throw new Error(`condition operator ${condition.test} is not modelled`);
  if (value === undefined) return negated !== null;
  const any = condition.values.some((pattern) => match(pattern, value));
  return negated ? !any : any;
}

/** Whether `statement` applies to the request. */
export function statementMatches(statement: PolicyStatement, request: IamRequest): boolean {
  if (!statement.actions.some((pattern) => glob(pattern, request.action, true))) return false;
  const resources = statement.resources ?? ["*"];
  if (!resources.some((pattern) => glob(pattern, request.resource))) return false;
  return (statement.conditions ?? []).every((c) => conditionHolds(c, request.context ?? {}));
}

/** The identity policy's decision, with a permissions boundary when the principal has one. */
export function evaluate(
  statements: readonly PolicyStatement[],
  request: IamRequest,
  boundary?: readonly PolicyStatement[],
): Decision {
  const applying = (set: readonly PolicyStatement[]) => set.filter((s) => statementMatches(s, request));
  const all = [...applying(statements), ...(boundary ? applying(boundary) : [])];
  if (all.some((s) => (s.effect ?? "Allow") === "Deny")) return "deny";
  const allowed = applying(statements).some((s) => (s.effect ?? "Allow") === "Allow");
  const withinBoundary = !boundary || applying(boundary).some((s) => (s.effect ?? "Allow") === "Allow");
  return allowed && withinBoundary ? "allow" : "implicit-deny";
}
