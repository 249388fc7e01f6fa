/**
 * Scaffolds a new environment from an existing one: its file, its release file and its entry
 * in the registry, with fresh values where environments must differ.
 *
 *   npm run new-environment -- --from staging --name uat
 *   npm run new-environment -- --from onprem-test --name onprem-uat \
 *     --set cluster.kubeconfigContext=rancher-mlops-uat --set objectStore.artifactsBucket=... ...
 *
 * The new file is the source's input with the source's name replaced by the new one in every
 * value (buckets, domain, tags, alert channels, secret paths, runner labels), the source's state
 * bucket (one per account; each stack has its own key), a VPC range no environment uses, and, where the two may share an account and region, ECR
 * repositories under `<name>/`. The release file is the source's current release without its
 * promotion record. The new environment is deployed by hand (`delivery.deployedBy: "manual"`, no
 * runner labels) until its runner, state and roles exist; `--set <field>=<value>` gives the values
 * the scaffold cannot invent (an on-prem cluster's context, buckets and repositories). Everything
 * is validated together with the registry before any file is written; on any problem nothing is
 * written, and a value that clashes names the `--set` that fixes it.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { overlaps, parseCidr } from "../constructs/lib/cidr";
import { loadEnvironments } from "../environments/load";
import { parseRelease } from "../environments/releases";
import type { ReleaseEntry } from "../environments/release-schema";
import { environmentNameSchema } from "../environments/schema";
import { isOnPremInput, type AnyEnvironmentInput } from "../environments/targets";
import { projectRoot } from "../environments/project-root";
import { bootstrapStackName } from "../stacks/bootstrap-stack";
import { missingFlags, nearest, parseFlags, unknownName } from "./lib/arguments";

export interface ScaffoldOptions {
  /** The folder holding the environment files, index.ts and releases/. @default environments */
  readonly environmentsDirectory?: string;
  /** The registry's current inputs. @default the ENVIRONMENTS of environments/index.ts */
  readonly registry?: readonly AnyEnvironmentInput[];
  /** Formats a written file. @default prettier with the project's configuration */
  readonly format?: (text: string, parser: "typescript" | "json", path: string) => Promise<string>;
}

async function prettierFormat(text: string, parser: "typescript" | "json", path: string): Promise<string> {
  const prettier = await import("prettier");
  return prettier.format(text, { ...((await prettier.resolveConfig(path)) ?? {}), parser });
}

export interface ScaffoldRun {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

const USAGE =
  "usage: npm run new-environment -- --from <existing environment> --name <new name> [--set <field>=<value> ...]";

/** A field path as `--set` takes it: dotted keys, e.g. `cluster.kubeconfigContext`. */
const FIELD_PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$-]*)*$/;

/** `--set` values: JSON when they parse as JSON (numbers, booleans, lists), text otherwise. */
function parseSetValue(text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

/**
 * Sets `path` of `env` to `value`. Only fields the source's file has may be set (a new field would
 * be a typo the schema reports as unknown, or a field of the other kind's schema); returns the
 * problem otherwise.
 */
function setField(env: Record<string, Json>, path: string, value: Json): string | undefined {
  const keys = path.split(".");
  const example = "cluster" in env ? "cluster.kubeconfigContext" : "platform.domain";
  let node: Json = env;
  for (const [depth, key] of keys.entries()) {
    const last = depth === keys.length - 1;
    if (node === null || typeof node !== "object" || Array.isArray(node) || !(key in node)) {
      const siblings =
        node !== null && typeof node === "object" && !Array.isArray(node) ? Object.keys(node) : [];
      const guess = nearest(key, siblings);
      const where = keys.slice(0, depth).join(".");
      const fix =
        guess !== undefined
          ? `write --set ${[...keys.slice(0, depth), guess, ...keys.slice(depth + 1)].join(".")}=<value>`
          : `name a field the source's file has (e.g. ${example}); a field it leaves to its default is set in the new file after scaffolding`;
      return `--set ${path}: the source's file has no ${last ? "such field" : `${key} ${where === "" ? "at the top" : `in ${where}`}`}; fix: ${fix}`;
    }
    if (last) node[key] = value;
    else node = node[key];
  }
  return undefined;
}

/**
 * A validation problem of the new environment, with the `--set` that fixes it when it names a
 * field: `<name>: <field> = <value>: ...` becomes `...; or pass --set <field>=<value>`.
 */
function withSetHint(problem: string, name: string): string {
  const match = new RegExp(`^${name.replace(/[-.]/g, "\\$&")}: ([A-Za-z][\\w.]*) = `).exec(problem);
  return match ? `${problem}; pass it with --set ${match[1]}=<value>` : problem;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * An on-prem cluster's own network addresses, which the scaffold cannot invent: copied from the
 * source, the network policies would send API and ingress traffic to the source's cluster.
 */
const PER_CLUSTER_ADDRESSES = ["cluster.apiServerCidrs", "cluster.ingressSourceCidrs"] as const;

/** The value at a dotted path of `env`, if there is one. */
function valueAt(env: Json, path: string): Json | undefined {
  let node: Json | undefined = env;
  for (const key of path.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Dotted paths (`a.b[0].c`) of the strings in `value` that contain `word` as a whole word. */
function stringsWithWord(value: Json, word: string, path = ""): string[] {
  if (typeof value === "string")
    return new RegExp(`(?<![a-z0-9])${word.replace(/[-.]/g, "\\$&")}(?![a-z0-9])`, "i").test(value)
      ? [`${path} = ${JSON.stringify(value)}`]
      : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsWithWord(v, word, `${path}[${i}]`));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([k, v]) => stringsWithWord(v, word, path ? `${path}.${k}` : k));
  return [];
}

/** `value` with every whole-word occurrence of `from` in its strings replaced by `to`. */
function renamed(value: Json, from: string, to: string): Json {
  const word = new RegExp(`(?<![a-z0-9])${from.replace(/[-.]/g, "\\$&")}(?![a-z0-9])`, "g");
  const walk = (v: Json): Json =>
    typeof v === "string"
      ? v.replace(word, to)
      : Array.isArray(v)
        ? v.map(walk)
        : v !== null && typeof v === "object"
          ? Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner)]))
          : v;
  return walk(value);
}

/** The first `10.x.0.0/<prefix>` block that overlaps none of `taken`. */
function freeVpcRange(prefix: number, taken: readonly string[]): string | undefined {
  const blocks = taken.flatMap((text) => parseCidr(text) ?? []);
  for (let x = 0; x < 256; x++) {
    const candidate = `10.${x}.0.0/${prefix}`;
    const parsed = parseCidr(candidate);
    if (parsed && !blocks.some((block) => overlaps(parsed, block))) return candidate;
  }
  return undefined;
}

/** The identifier the file exports: `uat`, `mlUat` for ml-uat. */
export function exportNameOf(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function literal(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(", ")}]`;
  if (value !== null && typeof value === "object")
    return `{ ${Object.entries(value)
      .map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${literal(v)}`)
      .join(", ")} }`;
  return JSON.stringify(value);
}

/** The new environment's input, derived from the source's. */
function derive(source: AnyEnvironmentInput, name: string, registry: readonly AnyEnvironmentInput[]): Json {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a copy of the input, edited by path
  const env = renamed(JSON.parse(JSON.stringify(source)) as Json, source.name, name) as Record<string, any>;
  env.name = name;
  if (env.platform.domain === source.platform.domain)
    env.platform.domain = `${name}.${source.platform.domain}`;
  // Deployed by hand until its runner, state bucket and roles exist (docs/environments.md, "Adding an environment").
  env.delivery = { deployedBy: "manual" };
  if (isOnPremInput(source)) return env;
  const aws = registry.filter((e) => !isOnPremInput(e)) as Extract<
    AnyEnvironmentInput,
    { network: unknown }
  >[];
  const prefix = parseCidr(source.network.vpcCidr)?.prefix ?? 16;
  const taken = [...aws.map((e) => e.network.vpcCidr), source.eks.serviceIpv4Cidr ?? "172.20.0.0/16"];
  env.network.vpcCidr = freeVpcRange(prefix, taken) ?? source.network.vpcCidr;
  // An account has one state bucket (its bootstrap creates it) and every stack its own key, so
  // the new environment keeps the source's; one in another account names that account's.
  if (source.stateBackend) env.stateBackend = JSON.parse(JSON.stringify(source.stateBackend)) as Json;
  for (const field of ["artifactsBucket", "dataBucket"] as const)
    if (env.storage[field] === source.storage[field]) env.storage[field] = `${source.storage[field]}-${name}`;
  // ECR repository names are unique per account and region: keep the new ones apart.
  const accounts: string[] | undefined = source.aws.allowedAccountIds;
  const mayShare = aws.some(
    (other) =>
      other.aws.region === source.aws.region &&
      (accounts === undefined ||
        other.aws.allowedAccountIds === undefined ||
        other.aws.allowedAccountIds.some((id) => accounts.includes(id))),
  );
  if (mayShare)
    for (const [field, fallback] of [
      ["servingRepository", "mlops-serving"],
      ["trainingRepository", "mlops-training"],
    ] as const) {
      const current: string = env.registry[field] ?? fallback;
      if (!current.startsWith(`${name}/`)) env.registry[field] = `${name}/${current}`;
    }
  return env;
}

/** Writes `text` to `path` through a temporary file and a rename. */
function writeAtomically(path: string, text: string): void {
  const temporary = `${path}.new-environment.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

export async function scaffoldEnvironment(
  args: readonly string[],
  options: ScaffoldOptions = {},
): Promise<ScaffoldRun> {
  const fail = (problems: readonly string[]): ScaffoldRun => ({
    exitCode: 1,
    stdout: "",
    stderr: `No file was written:\n${problems.map((p) => `  - ${p}\n`).join("")}`,
  });
  const parsed = parseFlags(
    args,
    {
      values: ["--from", "--name", "--set"],
      repeatable: ["--set"],
      meaning: {
        "--from": "the existing environment to copy",
        "--name": "the new environment's name",
        "--set": "<field>=<value>",
      },
    },
    USAGE,
  );
  if (typeof parsed === "string") return fail([parsed]);
  const sets: [string, Json][] = [];
  for (const assignment of parsed.lists.set ?? []) {
    const equals = assignment.indexOf("=");
    const path = assignment.slice(0, Math.max(equals, 0));
    if (equals < 0 || !FIELD_PATH.test(path))
      return fail([
        `--set ${JSON.stringify(assignment)}: not <field>=<value>; fix: e.g. --set cluster.kubeconfigContext=rancher-mlops-uat`,
      ]);
    if (path === "name" || path === "target")
      return fail([
        `--set ${path}: set by the scaffold; fix: use --name, or --from an environment of the other kind`,
      ]);
    sets.push([path, parseSetValue(assignment.slice(equals + 1))]);
  }
  const missing = missingFlags(parsed, ["from", "name"], USAGE);
  if (missing !== undefined) return fail([missing]);
  const { from, name } = parsed.values;
  const directory = options.environmentsDirectory ?? join(projectRoot(), "environments");
  const registry = options.registry ?? (await import("../environments")).ENVIRONMENTS;
  const known = registry.map((e) => e.name);

  const nameCheck = environmentNameSchema.safeParse(name);
  if (!nameCheck.success)
    return fail([`--name ${JSON.stringify(name)}: ${nameCheck.error.issues[0].message}`]);
  const file = join(directory, `${name}.ts`);
  const releaseFile = join(directory, "releases", `${name}.json`);
  if (known.includes(name) || existsSync(file) || existsSync(releaseFile))
    return fail([
      `--name ${JSON.stringify(name)}: an environment of that name exists already (in the registry, environments/${name}.ts or environments/releases/${name}.json); fix: choose another name`,
    ]);
  const source = registry.find((e) => e.name === from);
  if (source === undefined)
    return fail([unknownName("--from", from, "an environment of the registry", known)]);
  const exportName = exportNameOf(name);
  const indexPath = join(directory, "index.ts");
  const index = readFileSync(indexPath, "utf8");
  // As an identifier: not inside another one or a module path (`./onprem-uat` holds no `uat`).
  if (new RegExp(`(?<![\\w$./-])${exportName}(?![\\w$/-])`).test(index))
    return fail([
      `--name ${JSON.stringify(name)}: environments/index.ts already uses the identifier ${exportName}; fix: choose another name`,
    ]);

  // The new environment, validated with the whole registry.
  const input = derive(source, name, registry) as Record<string, Json>;
  const setProblems = sets.flatMap(([path, value]) => setField(input, path, value) ?? []);
  if (setProblems.length > 0) return fail(setProblems);
  // An on-prem cluster's addresses are its own: refused unless given.
  const problems: string[] = isOnPremInput(source)
    ? PER_CLUSTER_ADDRESSES.filter((field) => !sets.some(([path]) => path === field)).map(
        (field) =>
          `${name}: ${field} = ${JSON.stringify(valueAt(input, field))}: copied from ${from}, these are its cluster's addresses (network policies would send ${name}'s traffic there); fix: give ${name}'s own cluster's; pass it with --set ${field}=<value>`,
      )
    : [];
  const loaded = loadEnvironments([...registry, input]);
  if (!loaded.ok)
    problems.push(
      ...loaded.problems
        .filter((problem) => !problems.some((mine) => problem.startsWith(mine.slice(0, mine.indexOf(" = ")))))
        .map((problem) => withSetHint(problem, name)),
    );
  // Its release: the source's current one, without the record of where it came from.
  let releaseText = "";
  let scaffolded: ReleaseEntry | undefined;
  try {
    const sourceRelease = JSON.parse(readFileSync(join(directory, "releases", `${from}.json`), "utf8")) as {
      current: Record<string, unknown>;
    };
    const { promotedAt: _at, promotedFrom: _from, ...current } = sourceRelease.current;
    releaseText = `${JSON.stringify({ current, history: [] }, null, 2)}\n`;
    const release = parseRelease(
      `releases/${name}.json`,
      releaseText,
      name,
      isOnPremInput(source) ? "rancher" : "aws",
    );
    if (!release.ok) problems.push(...release.problems);
    else scaffolded = release.release.current;
  } catch (error) {
    problems.push(
      `releases/${from}.json: cannot be read (${(error as Error).message.split("\n")[0]}); fix: restore the source's release file`,
    );
  }
  if (problems.length > 0) {
    const fields = [
      ...new Set(problems.flatMap((p) => /; pass it with --set ([\w.]+)=<value>$/.exec(p)?.[1] ?? [])),
    ];
    return fail([
      ...problems,
      fields.length > 0
        ? `the scaffold of ${name} from ${from} needs ${fields.length === 1 ? "a value" : "values"} it cannot invent; fix: run it again with ${fields.map((f) => `--set ${f}=<value>`).join(" ")}`
        : `the scaffold of ${name} from ${from} does not validate; fix: correct the values above in ${from}'s file, pass them with --set <field>=<value>, or pick another --from`,
    ]);
  }

  const format = options.format ?? prettierFormat;
  const typeName = isOnPremInput(source) ? "RancherEnvironmentInput" : "EnvironmentInput";
  const schemaModule = isOnPremInput(source) ? "./rancher-schema" : "./schema";
  const fileText = await format(
    [
      `import type { ${typeName} } from "${schemaModule}";`,
      "",
      `/** ${name}: scaffolded from ${from} by npm run new-environment; review the accounts, principals, certificate and sizes. Deployed by hand until its pipeline steps are done. */`,
      `export const ${exportName}: ${typeName} = ${literal(input)};`,
      "",
    ].join("\n"),
    "typescript",
    file,
  );
  const formattedRelease = await format(releaseText, "json", releaseFile);
  const importLine = `import { ${exportName} } from "./${name}";\n`;
  const lastImport = index.lastIndexOf("\nimport ");
  const afterImports = index.indexOf("\n", lastImport + 1) + 1;
  const list = /(export const ENVIRONMENTS[^=]*=\s*\[)([\s\S]*?)(\];)/.exec(index);
  if (lastImport < 0 || list === null)
    return fail([
      "environments/index.ts: has no imports or no ENVIRONMENTS list to add to; fix: restore its form (imports, then export const ENVIRONMENTS = [...])",
    ]);
  let newIndex = `${index.slice(0, afterImports)}${importLine}${index.slice(afterImports)}`;
  newIndex = newIndex.replace(
    /(export const ENVIRONMENTS[^=]*=\s*\[)([\s\S]*?)(\];)/,
    (_, open: string, entries: string, close: string) =>
      `${open}${entries.trimEnd().replace(/,$/, "")}, ${exportName}${close}`,
  );
  newIndex = await format(newIndex, "typescript", indexPath);

  writeAtomically(file, fileText);
  writeAtomically(releaseFile, formattedRelease);
  writeAtomically(indexPath, newIndex);
  return { exitCode: 0, stdout: nextSteps(source, from, name, input, sets, scaffolded), stderr: "" };
}

/** What the new environment still needs, printed after the files are written. */
function nextSteps(
  source: AnyEnvironmentInput,
  from: string,
  name: string,
  input: Record<string, Json>,
  sets: readonly [string, Json][],
  release: ReleaseEntry | undefined,
): string {
  const onPrem = isOnPremInput(source);
  const env = input as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- the written input
  const lines = [
    `Wrote environments/${name}.ts, environments/releases/${name}.json and added ${exportNameOf(name)} to environments/index.ts.`,
  ];
  if (onPrem) {
    lines.push(
      `Review before deploying: cluster.podCidr and cluster.serviceCidr (RKE2's defaults unless ${from} names its own), cluster.gpuNodes, cluster.maxNodes, the directory's groups and the sizes.`,
    );
    // The source's name is replaced whole; a shorter word of it ("test") stays where values use it.
    const word = from.split("-").pop() ?? from;
    const kept = stringsWithWord(input, word).filter(
      (line) => !sets.some(([path]) => line.startsWith(`${path} =`) || line.startsWith(`${path}[`)),
    );
    if (kept.length > 0)
      lines.push(
        `Values that still say "${word}" (copied from ${from}; review them):`,
        ...kept.map((l) => `  ${l}`),
      );
  } else {
    lines.push(
      `Review before deploying: aws.allowedAccountIds, eks.adminPrincipalArns, platform.tlsCertificateArn and stateBackend (copied from ${from}).`,
    );
  }
  const images = onPrem
    ? `${env.registry.host}/${env.registry.servingRepository} and ${env.registry.host}/${env.registry.trainingRepository}`
    : `${name}'s ECR repositories ${env.registry?.servingRepository ?? "mlops-serving"} and ${env.registry?.trainingRepository ?? "mlops-training"}`;
  const buckets = onPrem
    ? [
        (source as { objectStore: { artifactsBucket: string } }).objectStore.artifactsBucket,
        env.objectStore.artifactsBucket,
      ]
    : [
        (source as { storage: { artifactsBucket: string } }).storage.artifactsBucket,
        env.storage.artifactsBucket,
      ];
  const trainingRepository = onPrem
    ? `${env.registry.host}/${env.registry.trainingRepository}`
    : `${name}'s ECR repository ${env.registry?.trainingRepository ?? "mlops-training"}`;
  const monitoringDigest = release?.monitoring?.image.digest;
  const monitoringImage =
    monitoringDigest === undefined
      ? ""
      : `, the monitoring image ${monitoringDigest} (by that digest) to ${trainingRepository}`;
  // The reference data sets the monitoring jobs of models that log read, beside the model files.
  const references = [
    ...new Set(
      (release?.models ?? []).flatMap((model) =>
        model.monitoring.logging.mode !== "off" && model.monitoring.referenceData !== undefined
          ? [model.monitoring.referenceData]
          : [],
      ),
    ),
  ];
  const referenceData =
    references.length === 0
      ? ""
      : ` and the reference data of each model that logs (${references.join(", ")})`;
  lines.push(
    `Its release (${from}'s) names images and model files that exist only in ${from}'s registry and bucket: before deploying ${name}-serving, push the release's serving and training images to ${images}${monitoringImage}, and copy each model's artifactPath (stable and canary)${referenceData} from ${buckets[0]} to ${buckets[1]} (aws s3 sync s3://${buckets[0]}/<path>/ s3://${buckets[1]}/<path>/${onPrem ? ` --endpoint-url ${env.objectStore.endpoint}` : ""}).`,
  );
  if (onPrem) {
    lines.push(
      `${name} is deployed by hand (delivery.deployedBy: "manual"): the pipeline leaves it alone. To hand it to the pipeline, first give Jenkins its kubeconfig credential (kubeconfig-${name}, in the deploy job's folder) and add its deploy stages to Jenkinsfile.deploy, then set delivery.deployedBy: "pipeline" (docs/environments.md, "Adding an environment").`,
    );
  } else {
    const accounts: string[] = env.aws.allowedAccountIds ?? [];
    const bootstrap = accounts.map((id) => `npx cdktf deploy ${bootstrapStackName(id)}`).join(" and ");
    if (name.includes("-"))
      lines.push(
        `${name} can stay deployed by hand only: the pull-request diff reads the repository variable AWS_DIFF_ROLE_ARN_<name>, and GitHub variable names hold no hyphen; to hand an environment to the pipeline, scaffold it under a name without one (e.g. ${name.replace(/-/g, "")}).`,
      );
    else
      lines.push(
        `${name} is deployed by hand (delivery.deployedBy: "manual"): the pipeline leaves it alone. To hand it to the pipeline, first register its deploy runner and a separate pull-request runner, create its GitHub environment with AWS_DEPLOY_ROLE_ARN and the repository variable AWS_DIFF_ROLE_ARN_${name}, and re-apply the account's bootstrap stack with the account's administrator credentials (its deploy role's trust and its state, key, bucket and ECR permissions gain ${name}): ${bootstrap || "npx cdktf deploy bootstrap-<account id>"}; then set delivery.deployedBy: "pipeline" with delivery.runnerLabels and delivery.diffRunnerLabels (two runners that share no label set) (docs/environments.md, "Adding an environment").`,
      );
    lines.push(
      `To put ${name} on a promotion path after an AWS environment (environments/promotion.ts), it receives that environment's images and models by replication and needs an AWS account of its own (aws.allowedAccountIds, now ${from}'s${accounts.length > 0 ? ` ${accounts.join(", ")}` : ""}), bootstrapped like every account, with its repositories named as the producer's (docs/environments.md, "Adding an environment", step 5).`,
    );
  }
  return `${lines.join("\n")}\n`;
}

if (require.main === module) {
  void scaffoldEnvironment(process.argv.slice(2)).then((run) => {
    process.stdout.write(run.stdout);
    process.stderr.write(run.stderr);
    process.exitCode = run.exitCode;
  });
}
