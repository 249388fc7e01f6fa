/**
 * Validation of the environment registry: every problem of every environment becomes one line
 * naming the environment, the field path, the value received, the rule and the fix.
 */
import type { core } from "zod";
import { parseCidr, overlaps } from "../constructs/lib/cidr";
import { ownAccountFix, PROMOTION_PATHS, replicationProducerOf } from "./promotion";
import { environmentSchema, MISSING, type Environment } from "./schema";
import { credentialShape } from "./fields/common";
import { rancherEnvironmentSchema, type RancherEnvironment } from "./rancher-schema";
import { isOnPrem, type AnyEnvironment } from "./targets";
import { nearest } from "./nearest";

export type LoadResult =
  | { readonly ok: true; readonly environments: readonly AnyEnvironment[] }
  | { readonly ok: false; readonly problems: readonly string[] };

/** Thrown where a caller needs an exception rather than a result. */
export class EnvironmentValidationError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`invalid environment configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "EnvironmentValidationError";
  }
}

/** Validates every environment, then the rules that span environments. Builds nothing. */
export function loadEnvironments(
  inputs: readonly unknown[],
  paths: readonly (readonly string[])[] = PROMOTION_PATHS,
): LoadResult {
  const problems: string[] = [];
  const environments: AnyEnvironment[] = [];
  inputs.forEach((input, index) => {
    const label = environmentLabel(input, index);
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      problems.push(
        `${label}: = ${formatValue(input)}: entry ${index + 1} of ENVIRONMENTS in environments/index.ts is not an environment object; fix: ${
          input === undefined
            ? "check the import of that entry: it names something its file does not export"
            : "list the environment objects the environment files export"
        }`,
      );
      return;
    }
    // An environment file that names a target is on-prem; AWS files name none.
    const parsed =
      "target" in input
        ? rancherEnvironmentSchema.safeParse(input, { reportInput: true })
        : environmentSchema.safeParse(input, { reportInput: true });
    if (parsed.success) environments.push(parsed.data);
    else
      problems.push(
        ...parsed.error.issues.flatMap((issue) =>
          formatIssue(label, input, issue, "target" in input ? rancherEnvironmentSchema : environmentSchema),
        ),
      );
  });
  problems.push(...crossEnvironmentProblems(environments, paths));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, environments };
}

/** Like `loadEnvironments`, throwing `EnvironmentValidationError` on any problem. */
export function requireEnvironments(inputs: readonly unknown[]): readonly AnyEnvironment[] {
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

/** What a zod type name is called in the messages. */
const TYPE_NAMES: Record<string, string> = {
  string: "a string in quotes",
  number: "a number",
  boolean: "true or false",
  object: "a section { ... }",
  array: "a list [ ... ]",
  record: "a map { ... }",
};
const typeName = (expected: string): string => TYPE_NAMES[expected] ?? `a ${expected}`;

/** The rule of an issue whose schema gave no message of its own. */
function ruleOf(issue: core.$ZodIssue): string {
  switch (issue.code) {
    case "too_small":
      return `must be at least ${String(issue.minimum)}${issue.origin === "string" ? " characters long" : issue.origin === "array" ? " entries long" : ""}; fix: use a value of at least ${String(issue.minimum)}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}${issue.origin === "string" ? " characters long" : issue.origin === "array" ? " entries long" : ""}; fix: use a value of at most ${String(issue.maximum)}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}; fix: pick one of them`;
    case "not_multiple_of":
      return `must be a multiple of ${String(issue.divisor)}; fix: round it`;
    case "invalid_format":
      return `must be in ${issue.format} format; fix: write it in that format`;
    case "invalid_union":
      return "matches none of the allowed forms; fix: compare it with the field's description in docs/environment-reference.md";
    default:
      return `${issue.message.replace(/^Invalid input: /, "")}; fix: correct the value`;
  }
}

function formatValue(value: unknown): string {
  if (value === undefined || value === MISSING) return "missing";
  // JSON has no Infinity: a number too large for a double (1e400) reads as Infinity, and
  // JSON.stringify would print it as null.
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const text = JSON.stringify(value, (_key, item: unknown) =>
    typeof item === "string"
      ? redactCredential(item)
      : typeof item === "number" && !Number.isFinite(item)
        ? String(item)
        : item,
  );
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * A value as a refusal may print it: a credential pasted into the file is refused, and its line
 * lands in terminals and CI logs, so the secret part is replaced by *** (a URL's user and password,
 * a Slack webhook's path, a key or token beyond its recognisable prefix).
 */
export function redactCredential(text: string): string {
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]+)@/i.exec(text);
  if (userinfo) {
    const [user, password] = userinfo[2].split(":");
    return `${userinfo[1]}${password === undefined ? "***" : `${user}:***`}@${text.slice(userinfo[0].length)}`;
  }
  const shape = credentialShape(text);
  if (shape === undefined || shape === "a URL") return text;
  // A webhook URL: the host says what it is, the path is the secret.
  const origin = /^https?:\/\/[^/]+\//i.exec(text);
  if (origin) return `${origin[0]}***`;
  const prefix = /^(AKIA|ASIA|xox[abposr]-|ghp_|gho_|ghs_|ghu_|github_pat_|eyJ)/.exec(text)?.[1] ?? "";
  return `${prefix}***`;
}

/** Where a rule points when the field it checked was left to its default. */
interface DefaultedBlame {
  readonly path: readonly PropertyKey[];
  readonly input: unknown;
  readonly message: string;
}

/** Keys a credential is written under when it is put into an alert receiver by mistake. */
const CREDENTIAL_KEY = /url|key|token|secret|password|webhook/i;

/** The Secret key each on-prem receiver kind reads its credential from. */
const ON_PREM_SECRET_KEYS: Record<string, string> = {
  slack: "api-url",
  pagerduty: "routing-key",
  webhook: "url",
};

/**
 * Where a credential written into an alert receiver or the heartbeat belongs, when `key` is not
 * a field of it: the file is in Git, the credential goes where Alertmanager reads it from.
 */
function credentialFieldRemedy(
  input: unknown,
  path: readonly PropertyKey[],
  key: string,
): string | undefined {
  if (!CREDENTIAL_KEY.test(key)) return undefined;
  const at = formatPath(path);
  const receiver = /^platform\.alerting\.receivers\[\d+\]$/.test(at);
  if (!receiver && at !== "platform.alerting.heartbeat") return undefined;
  const section = valueAt(input, path) as { name?: unknown; kind?: unknown } | undefined;
  const onPrem = input !== null && typeof input === "object" && "target" in input;
  const rule =
    "is a credential written into the environment file, which is in Git and reaches the Helm values";
  const value = valueAt(input, [...path, key]);
  if (
    key === "url" &&
    !(typeof value === "string" && credentialShape(value.replace(/^https?:\/\//, "")) !== undefined) &&
    onPrem &&
    receiver
  )
    return undefined; // a relay URL on a receiver kind that takes none: an unknown field
  if (onPrem) {
    const secret = receiver
      ? `alert-receiver-${String(section?.name ?? "<name>")}`
      : "alert-receiver-heartbeat";
    const secretKey = receiver ? (ON_PREM_SECRET_KEYS[String(section?.kind)] ?? "its kind's key") : "url";
    return `${rule}; fix: remove ${key}, put the value in the Secret ${secret} (key ${secretKey}) in the state namespace, and rotate it`;
  }
  return `${rule}; fix: remove ${key}, store the value in Secrets Manager and name that secret in ${receiver ? at : "platform.alerting.heartbeat"}.secret.remoteKey, and rotate it`;
}

/** The inner schema of a zod v4 wrapper, or the element schema of a list or map. */
interface SchemaDef {
  readonly type?: string;
  readonly shape?: Record<string, unknown>;
  readonly innerType?: unknown;
  readonly in?: unknown;
  readonly element?: unknown;
  readonly valueType?: unknown;
  readonly options?: readonly unknown[];
}
const defOf = (schema: unknown): SchemaDef | undefined =>
  (schema as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;

/** The object schemas `path` may lead to in `schema` (unions give several). */
function objectsAt(schema: unknown, path: readonly PropertyKey[]): Record<string, unknown>[] {
  const def = defOf(schema);
  if (def === undefined) return [];
  if (def.innerType !== undefined) return objectsAt(def.innerType, path);
  if (def.type === "pipe") return objectsAt(def.in, path);
  if (def.options !== undefined) return def.options.flatMap((option) => objectsAt(option, path));
  if (path.length === 0) return def.type === "object" && def.shape ? [def.shape] : [];
  const [key, ...rest] = path;
  if (def.type === "array") return objectsAt(def.element, rest);
  if (def.type === "record") return objectsAt(def.valueType, rest);
  if (def.type === "object" && def.shape && typeof key === "string") return objectsAt(def.shape[key], rest);
  return [];
}

/** The known field nearest to a misspelt one at `path` of `schema`, as the flags offer theirs. */
function nearestField(schema: unknown, path: readonly PropertyKey[], key: string): string | undefined {
  const known = [...new Set(objectsAt(schema, path).flatMap((shape) => Object.keys(shape)))];
  const guess = nearest(key, known);
  // A field of another form of a union (another receiver kind) is no spelling to offer.
  return guess === key ? undefined : guess;
}

/**
 * One line per problem (an unknown-keys issue yields one line per key). With the `schema` the
 * input was parsed by, an unknown field is answered with the known field nearest to it.
 */
export function formatIssue(
  label: string,
  input: unknown,
  issue: core.$ZodIssue,
  schema?: unknown,
): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const credential = credentialFieldRemedy(input, issue.path, key);
      if (credential)
        return `${label}: ${formatPath([...issue.path, key])} = ${formatValue(valueAt(input, [...issue.path, key]))}: ${credential}`;
      const guess = schema === undefined ? undefined : nearestField(schema, issue.path, key);
      return `${label}: ${formatPath([...issue.path, key])}: unknown field; fix: ${
        guess === undefined
          ? "remove it or correct its spelling"
          : `write ${formatPath([...issue.path, guess])}, or remove it`
      }`;
    });
  }
  if (issue.code === "invalid_key") {
    // A map key broke the key's rule: report the key itself.
    const key = issue.path[issue.path.length - 1];
    const inner = issue.issues[0];
    const message = inner?.message.includes("; fix: ") ? inner.message : ruleOf(inner ?? issue);
    return [`${label}: ${formatPath(issue.path)}: key ${JSON.stringify(String(key))} ${message}`];
  }
  // A rule that blames a field the file may leave to its default: when the file does not set
  // it, the issue names the field to change instead.
  const whenDefaulted = (issue as { params?: { whenDefaulted?: DefaultedBlame } }).params?.whenDefaulted;
  if (whenDefaulted && valueAt(input, issue.path) === undefined) {
    return [
      `${label}: ${formatPath(whenDefaulted.path)} = ${formatValue(whenDefaulted.input)}: ${whenDefaulted.message}`,
    ];
  }
  // What the file says; rules checked after defaults were filled in report the default they saw.
  const given = valueAt(input, issue.path);
  const value = given !== undefined ? given : issue.input;
  const path = formatPath(issue.path);
  if (issue.code === "invalid_type" && value === undefined) {
    return [`${label}: ${path} is missing; fix: add ${path} (${typeName(issue.expected)})`];
  }
  let message = issue.message;
  if (issue.code === "invalid_type" && !message.includes("; fix: ")) {
    const received = Array.isArray(value)
      ? "a list"
      : value === null
        ? "null"
        : `${/^[aeiou]/.test(typeof value) ? "an" : "a"} ${typeof value}`;
    message = `must be ${typeName(issue.expected)}, not ${received}; fix: write it as ${typeName(issue.expected)}`;
  } else if (!message.includes("; fix: ")) {
    message = ruleOf(issue);
  }
  return [`${label}: ${path} = ${formatValue(value)}: ${message}`];
}

/**
 * Whether two environments can be in one account and region: an ECR repository name is
 * unique there. Unless both pin their accounts and the pins differ, they can.
 */
function mayShareAccountAndRegion(a: Environment, b: Environment): boolean {
  if (a.aws.region !== b.aws.region) return false;
  const accountsA = a.aws.allowedAccountIds;
  const accountsB = b.aws.allowedAccountIds;
  if (accountsA === undefined || accountsB === undefined) return true;
  return accountsA.some((id) => accountsB.includes(id));
}

/** The buckets an environment stores data in, with the store they live in (names are unique per store). */
function bucketsOf(env: AnyEnvironment): { store: string; field: string; bucket: string }[] {
  if (isOnPrem(env)) {
    const store = env.objectStore.endpoint;
    return (["artifactsBucket", "dataBucket"] as const).map((field) => ({
      store,
      field: `objectStore.${field}`,
      bucket: env.objectStore[field],
    }));
  }
  return (["artifactsBucket", "dataBucket"] as const).map((field) => ({
    store: "aws",
    field: `storage.${field}`,
    bucket: env.storage[field],
  }));
}

function crossEnvironmentProblems(
  all: readonly AnyEnvironment[],
  paths: readonly (readonly string[])[],
): string[] {
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
  for (const env of all) {
    claim("name", env.name, env.name, "name", "give every environment its own name");
    for (const { store, field, bucket } of bucketsOf(env))
      claim(
        `bucket:${store}`,
        bucket,
        env.name,
        field,
        store === "aws"
          ? "bucket names are global: give each environment its own"
          : "the environments share this object store: give each environment its own bucket",
      );
  }
  all.forEach((env, i) => {
    for (const other of all.slice(0, i)) {
      if (other.name !== env.name && env.platform.domain === other.platform.domain)
        problems.push(
          `${env.name}: platform.domain = ${JSON.stringify(env.platform.domain)}: is ${other.name}'s domain too (the UIs' host names would collide); fix: give each environment its own zone, e.g. mlops.${env.name}.example.com`,
        );
    }
  });
  problems.push(...onPremProblems(all.filter(isOnPrem)));
  problems.push(
    ...awsProblems(
      all.filter((env): env is Environment => !isOnPrem(env)),
      paths,
    ),
  );
  return problems;
}

/** On-prem environments sharing a cluster or an Artifactory repository would overwrite each other. */
function onPremProblems(environments: readonly RancherEnvironment[]): string[] {
  const problems: string[] = [];
  environments.forEach((env, i) => {
    for (const other of environments.slice(0, i)) {
      if (other.name === env.name) continue;
      if (env.cluster.kubeconfigContext === other.cluster.kubeconfigContext)
        problems.push(
          `${env.name}: cluster.kubeconfigContext = ${JSON.stringify(env.cluster.kubeconfigContext)}: is ${other.name}'s cluster too (both would install the same namespaces); fix: give each environment its own cluster's context`,
        );
      else {
        // Two clusters cannot have one control plane: the copy is the other cluster's, and the
        // network policies would send API traffic there.
        const shared = env.cluster.apiServerCidrs.find((mine) =>
          other.cluster.apiServerCidrs.some((theirs) => {
            const [a, b] = [parseCidr(mine), parseCidr(theirs)];
            return a !== undefined && b !== undefined && overlaps(a, b);
          }),
        );
        if (shared !== undefined)
          problems.push(
            `${env.name}: cluster.apiServerCidrs = ${JSON.stringify(env.cluster.apiServerCidrs)}: ${shared} is ${other.name}'s control plane too (cluster.apiServerCidrs), but the two name different clusters (${JSON.stringify(env.cluster.kubeconfigContext)}, ${JSON.stringify(other.cluster.kubeconfigContext)}); fix: give ${env.name}'s own control-plane nodes' addresses`,
          );
      }
      if (env.registry.host !== other.registry.host) continue;
      for (const field of ["servingRepository", "trainingRepository"] as const) {
        const clash = (["servingRepository", "trainingRepository"] as const).find(
          (theirs) => other.registry[theirs] === env.registry[field],
        );
        if (clash)
          problems.push(
            `${env.name}: registry.${field} = ${JSON.stringify(env.registry[field])}: is ${other.name}'s registry.${clash} too on ${env.registry.host}; fix: give each environment its own Artifactory repository, e.g. ml-docker-${env.name}-local/${env.registry[field].split("/").pop() ?? "mlops-serving"}`,
          );
      }
    }
  });
  return problems;
}

function awsProblems(environments: readonly Environment[], paths: readonly (readonly string[])[]): string[] {
  const problems: string[] = [];
  const stateBuckets = new Map<string, string>();
  for (const env of environments)
    if (env.stateBackend && !stateBuckets.has(env.stateBackend.bucket))
      stateBuckets.set(env.stateBackend.bucket, env.name);
  for (const env of environments) {
    for (const field of ["artifactsBucket", "dataBucket"] as const) {
      const owner = stateBuckets.get(env.storage[field]);
      if (owner !== undefined)
        problems.push(
          `${env.name}: storage.${field} = ${JSON.stringify(env.storage[field])}: is ${owner === env.name ? "the" : `${owner}'s`} Terraform state bucket (stateBackend.bucket); fix: keep state and platform data in separate buckets`,
        );
    }
  }
  environments.forEach((env, i) => {
    for (const other of environments.slice(0, i)) {
      if (other.name === env.name) continue;
      if (!mayShareAccountAndRegion(env, other)) continue;
      for (const field of ["servingRepository", "trainingRepository"] as const) {
        const clash = (["servingRepository", "trainingRepository"] as const).find(
          (theirs) => other.registry[theirs] === env.registry[field],
        );
        if (!clash) continue;
        // A consumer's repositories must keep the producer's names: only an account of its own helps.
        const producer = replicationProducerOf(
          env.name,
          environments.map((e) => e.name),
          paths,
        );
        problems.push(
          `${env.name}: registry.${field} = ${JSON.stringify(env.registry[field])}: is ${other.name}'s registry.${clash} too, and both may live in the same account and region (${env.aws.region}); fix: ${
            producer === undefined
              ? `give the repository an environment prefix, e.g. ${env.name}/${env.registry[field]}, or pin different aws.allowedAccountIds`
              : ownAccountFix(env.name, producer)
          }`,
        );
      }
    }
  });
  problems.push(...sharedRunnerProblems(environments));
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

/**
 * Two environments whose self-hosted runners could take each other's jobs: GitHub gives a job
 * any runner carrying all its labels, so when one environment's label list contains another's
 * deploy labels, a runner registered for one takes the other's deploy jobs (with that
 * environment's deploy role, state and network), or runs its pull-request code there. Diff
 * runners of two environments may be shared: both run pull-request code with read-only roles.
 *
 * Either file may be the one just edited (a copied file, or a label changed in the other), so
 * the line names both environments and fields and offers, for each, a label neither list has.
 */
function sharedRunnerProblems(environments: readonly Environment[]): string[] {
  const problems: string[] = [];
  const within = (a: readonly string[], b: readonly string[]) => a.every((label) => b.includes(label));
  const selfHosted = (labels: readonly string[] | undefined): labels is readonly string[] =>
    labels !== undefined && labels.includes("self-hosted");
  const pipeline = environments.filter((env) => env.delivery.deployedBy === "pipeline");
  type Side = { env: Environment; field: "runnerLabels" | "diffRunnerLabels"; labels: readonly string[] };
  /** A label for `side` that no list of the clash (nor any other environment's) carries yet. */
  const freshLabels = (side: Side, taken: ReadonlySet<string>): string[] => {
    const base = `mlops-${side.env.name}${side.field === "runnerLabels" ? "" : "-diff"}`;
    let label = base;
    for (let n = 2; taken.has(label); n++) label = `${base}-${n}`;
    return ["self-hosted", label];
  };
  const allLabels = new Set(
    pipeline.flatMap((env) => [
      ...(env.delivery.runnerLabels ?? []),
      ...(env.delivery.diffRunnerLabels ?? []),
    ]),
  );
  const check = (mine: Side, theirs: Side) => {
    if (!selfHosted(mine.labels) || !selfHosted(theirs.labels)) return;
    if (!(within(mine.labels, theirs.labels) || within(theirs.labels, mine.labels))) return;
    const levels =
      mine.env.protection === theirs.env.protection
        ? ""
        : ` across protection levels (${mine.env.name} is ${mine.env.protection}, ${theirs.env.name} ${theirs.env.protection})`;
    const jobs = (side: Side) =>
      `${side.env.name}'s ${side.field === "runnerLabels" ? "deploy jobs" : "pull-request code"}`;
    const fresh = (side: Side) =>
      `${side.env.name}'s delivery.${side.field} to ${JSON.stringify(freshLabels(side, allLabels))}`;
    problems.push(
      `${mine.env.name}: delivery.${mine.field} = ${JSON.stringify(mine.labels)}: coincides with ${theirs.env.name}'s delivery.${theirs.field} ${JSON.stringify(theirs.labels)}${levels}: one of the two lists was copied or changed into the other, and a runner registered for either takes both ${jobs(mine)} and ${jobs(theirs)}, so one environment's jobs could run where the other's deploy role, state and network are; fix: change whichever was not meant, e.g. ${fresh(mine)} or ${fresh(theirs)} (labels no environment has yet), and register that runner in its own runner group`,
    );
  };
  pipeline.forEach((env, i) => {
    for (const other of pipeline.slice(0, i)) {
      if (other.name === env.name) continue;
      const side = (e: Environment, field: Side["field"]): Side => ({
        env: e,
        field,
        labels: e.delivery[field] ?? [],
      });
      check(side(env, "runnerLabels"), side(other, "runnerLabels"));
      check(side(env, "diffRunnerLabels"), side(other, "runnerLabels"));
      check(side(other, "diffRunnerLabels"), side(env, "runnerLabels"));
    }
  });
  return problems;
}
