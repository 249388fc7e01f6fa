/**
 * Moves the release an environment runs one step along its promotion path.
 *
 *   npm run promote -- --from staging --to prod [--dry-run]
 *
 * Copies the source's `current` into the target, appends the target's previous `current` to
 * its history, prints what changes, validates the result and writes it atomically. Any error
 * exits 1 with one line and leaves every file as it was.
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRelease, RELEASES_DIRECTORY } from "../environments/releases";
import {
  releaseContent,
  releaseFileSchema,
  type ReleaseEntry,
  type ReleaseFile,
} from "../environments/release-schema";
import { PROMOTION_PATHS, promotableEnvironments, upstreamOf } from "../environments/promotion";
import { ENVIRONMENTS } from "../environments";
import { releaseFitProblems } from "../stacks/release-fit";
import { isOnPremInput } from "../environments/targets";
import { loadEnvironments } from "../environments/load";
import { parseEnvironmentStep, unknownName } from "./lib/arguments";

export interface PromoteOptions {
  readonly from: string;
  readonly to: string;
  readonly dryRun: boolean;
  /** @default environments/releases */
  readonly directory?: string;
  /** Time recorded as `promotedAt`. @default now */
  readonly now?: Date;
}

export interface PromoteResult {
  readonly exitCode: 0 | 1;
  /** What to print on stdout (the diff) or stderr (the one-line error). */
  readonly output: string;
}

export class PromotionError extends Error {}

export function fail(message: string): never {
  throw new PromotionError(message);
}

export function readRelease(
  directory: string,
  environment: string,
  role: string,
): { file: ReleaseFile; text: string } {
  const path = join(directory, `${environment}.json`);
  if (!existsSync(path))
    fail(
      `${role} releases/${environment}.json does not exist; fix: ${
        role === "source"
          ? `restore it from Git (git checkout -- environments/releases/${environment}.json), or set ${environment}'s release with npm run release -- --env ${environment} --set <field>=<value>`
          : `scaffold ${environment} with npm run new-environment, which writes its release file, or restore the file from Git`
      }`,
    );
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    fail(
      `${role} releases/${environment}.json cannot be read (${(error as NodeJS.ErrnoException).code ?? "an error"}); check its permissions`,
    );
  }
  const parsed = parseRelease(`releases/${environment}.json`, text, environment);
  if (!parsed.ok)
    fail(
      `${role} ${parsed.problems[0]}${parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more)` : ""}`,
    );
  return { file: parsed.release, text };
}

/** Flattens a value to `path = value` pairs for a readable diff. */
function flatten(value: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === "object") {
    const entries = Array.isArray(value)
      ? value.map((v, i) => [`[${i}]`, v] as const)
      : Object.entries(value);
    if (entries.length === 0) out.set(prefix, Array.isArray(value) ? "[]" : "{}");
    for (const [key, child] of entries) {
      const path = Array.isArray(value) ? `${prefix}${key}` : prefix ? `${prefix}.${key}` : String(key);
      flatten(child, path, out);
    }
  } else out.set(prefix, JSON.stringify(value));
  return out;
}

/** Lines `~ path: old -> new`, `+ path: value`, `- path: value`, sorted by path. */
export function describeChanges(before: unknown, after: unknown): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  const lines: string[] = [];
  for (const path of paths) {
    const old = a.get(path);
    const next = b.get(path);
    if (old === next) continue;
    if (old === undefined) lines.push(`+ ${path}: ${next}`);
    else if (next === undefined) lines.push(`- ${path}: ${old}`);
    else lines.push(`~ ${path}: ${old} -> ${next}`);
  }
  return lines;
}

/**
 * Why `from -> to` is not a promotion, and the command that does what was probably meant: going
 * back is a rollback, skipping a step is two promotions, the start of a path takes new releases
 * with npm run release, another path is not reachable at all.
 */
export function wrongDirection(from: string, to: string): string {
  const paths = PROMOTION_PATHS.map((p) => p.join(" -> ")).join("; ");
  const order = `(promotion order: ${paths})`;
  const path = PROMOTION_PATHS.find((p) => p.includes(to)) ?? [];
  const upstream = upstreamOf(to);
  if (!path.includes(from))
    return `${from} and ${to} are on different promotion paths ${order}, so no release moves between them; fix: promote within ${to}'s path, ${path.join(" -> ")}`;
  if (upstream === undefined)
    return `${to} is the start of its promotion path and takes no release from ${from} ${order}; fix: set ${to}'s new release with npm run release -- --env ${to} --set <field>=<value>, or roll it back with npm run rollback -- --env ${to}`;
  if (path.indexOf(from) > path.indexOf(to))
    return `releases move only forward, and ${from} comes after ${to} ${order}; fix: to run ${to}'s previous release again, npm run rollback -- --env ${to}; to move ${upstream}'s release into ${to}, npm run promote -- --from ${upstream} --to ${to}`;
  const steps = path.slice(path.indexOf(from), path.indexOf(to) + 1);
  const commands = steps
    .slice(1)
    .map((step, i) => `npm run promote -- --from ${steps[i]} --to ${step}`)
    .join(", then ");
  return `${to} takes releases only from ${upstream}, not ${from} ${order}; fix: promote one step at a time: ${commands}`;
}

export function promote(options: PromoteOptions): PromoteResult {
  const directory = options.directory ?? RELEASES_DIRECTORY;
  try {
    const known = promotableEnvironments();
    for (const [flag, env] of [
      ["--from", options.from],
      ["--to", options.to],
    ] as const) {
      if (!known.includes(env)) fail(unknownName(flag, env, "an environment of a promotion path", known));
    }
    const expectedSource = upstreamOf(options.to);
    if (expectedSource !== options.from) fail(wrongDirection(options.from, options.to));
    const source = readRelease(directory, options.from, "source");
    const target = readRelease(directory, options.to, "target");
    const incoming = releaseContent(source.file.current);
    if (JSON.stringify(incoming) === JSON.stringify(releaseContent(target.file.current))) {
      fail(
        `nothing to promote: ${options.to} already runs ${options.from}'s current release; fix: nothing to do, or set ${options.from}'s next release first (npm run release -- --env ${options.from} --set <field>=<value>, or a promotion into it)`,
      );
    }
    const entry: ReleaseEntry = {
      ...incoming,
      promotedAt: (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
      promotedFrom: options.from,
    };
    const next = releaseFileSchema.safeParse({
      current: entry,
      history: [...target.file.history, target.file.current],
    });
    if (!next.success)
      fail(`the promoted release of ${options.to} would be invalid: ${next.error.issues[0].message}`);
    const misfit = targetReleaseProblem(options.to, next.data);
    if (misfit) fail(`the promoted release does not fit ${options.to}: ${misfit}`);
    const changes = describeChanges(releaseContent(target.file.current), incoming);
    const header = `${options.dryRun ? "[dry run] " : ""}promote ${options.from} -> ${options.to}: ${changes.length} change${changes.length === 1 ? "" : "s"}`;
    const output = [header, ...changes.map((line) => `  ${line}`)].join("\n") + "\n";
    if (!options.dryRun) writeAtomically(directory, options.to, `${JSON.stringify(next.data, null, 2)}\n`);
    return { exitCode: 0, output };
  } catch (error) {
    if (error instanceof PromotionError) return { exitCode: 1, output: `promote: ${error.message}\n` };
    // Anything else is a defect here, but still one line and nothing written.
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { exitCode: 1, output: `promote: failed unexpectedly (${reason}); nothing was written\n` };
  }
}

/**
 * What synthesis would refuse in `file` as `releases/<name>.json`: the release file's own checks
 * for the environment's target (charts, release tags, promotion record, monitoring image) and
 * the checks against the environment (capacity, bucket names in paths, replicated prefixes).
 * The first problem, with how many more; an environment that does not validate is left to
 * synthesis to report.
 */
export function targetReleaseProblem(name: string, file: ReleaseFile): string | undefined {
  const input = ENVIRONMENTS.find((env) => env.name === name);
  if (input === undefined) return undefined;
  const all = loadEnvironments(ENVIRONMENTS);
  const environments = all.ok ? all.environments : undefined;
  const alone = environments === undefined ? loadEnvironments([input]) : undefined;
  const known = environments ?? (alone?.ok ? alone.environments : undefined);
  const environment = known?.find((env) => env.name === name);
  const label = `releases/${name}.json`;
  const parsed = parseRelease(
    label,
    `${JSON.stringify(file, null, 2)}\n`,
    name,
    isOnPremInput(input) ? "rancher" : "aws",
  );
  const problems = [
    ...(parsed.ok ? [] : parsed.problems),
    ...(known !== undefined && environment !== undefined
      ? releaseFitProblems(known, environment, file.current, label)
      : []),
  ];
  return problems.length > 0
    ? `${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`
    : undefined;
}

/** True when no one may write `path` by its permission bits (root ignores them; we do not). */
function isReadOnly(path: string): boolean {
  return (statSync(path).mode & 0o222) === 0;
}

/**
 * Replaces `releases/<environment>.json` through a temporary file and a rename, so a reader
 * sees the old file or the new one. A file or folder marked read-only is never written through:
 * a rename would replace a read-only file without a word.
 */
export function writeAtomically(directory: string, environment: string, text: string): void {
  const path = join(directory, `${environment}.json`);
  const label = `releases/${environment}.json`;
  if (isReadOnly(path))
    fail(
      `target ${label} is read-only; nothing was written; make it writable (chmod u+w) if the promotion is meant`,
    );
  if (isReadOnly(directory))
    fail(`the releases folder is read-only; nothing was written; make it writable (chmod u+w) to promote`);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? "an error";
    fail(
      `could not write ${label} (${code}); nothing was changed; check the folder's permissions and free space`,
    );
  }
}

const USAGE = "usage: npm run promote -- --from <env> --to <env> [--dry-run]";

/** Parses `--from X --to Y [--dry-run]`. */
export function parseArguments(argv: readonly string[]): PromoteOptions | string {
  return parseEnvironmentStep(argv, USAGE);
}

if (require.main === module) {
  const parsed = parseArguments(process.argv.slice(2));
  if (typeof parsed === "string") {
    process.stderr.write(`promote: ${parsed}\n`);
    process.exitCode = 1;
  } else {
    const result = promote(parsed);
    (result.exitCode === 0 ? process.stdout : process.stderr).write(result.output);
    process.exitCode = result.exitCode;
  }
}
