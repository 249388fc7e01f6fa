/**
 * Releases in and out of an environment, beside promotion (scripts/promote.ts):
 *
 *   npm run release -- --env dev --set serving.image.tag=1.4.3 [--set ...] [--dry-run]
 *   npm run rollback -- --env prod [--dry-run]
 *
 * `release` writes a new release into an environment at the start of its promotion path (dev,
 * onprem-test) or on no path: every other environment receives releases only by promotion.
 * `rollback` makes an environment's previous release (the last entry of its history) current
 * again; the release it replaces goes to the history, so a second rollback undoes the first.
 * Both print what changes, validate the result and write it atomically, or exit 1 with one line.
 */
import { parseArgs } from "node:util";
import { RELEASES_DIRECTORY } from "../environments/releases";
import { releaseContent, releaseFileSchema, type ReleaseEntry } from "../environments/release-schema";
import { upstreamOf } from "../environments/promotion";
import {
  describeChanges,
  fail,
  PromotionError,
  readRelease,
  targetReleaseProblem,
  writeAtomically,
} from "./promote";

export interface ReleaseRun {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

interface Common {
  readonly env: string;
  readonly dryRun: boolean;
  /** @default environments/releases */
  readonly directory?: string;
  /** @default now */
  readonly now?: Date;
}

const timestamp = (now: Date | undefined) => (now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Sets `path` (dots; numbers index lists) in a copy of `value`; the leaf is JSON when it parses. */
export function withSetting(value: unknown, assignment: string): unknown {
  const at = assignment.indexOf("=");
  if (at <= 0)
    fail(`--set ${JSON.stringify(assignment)} is not <field>=<value>; e.g. --set serving.image.tag=1.4.3`);
  const path = assignment.slice(0, at).split(".");
  const raw = assignment.slice(at + 1);
  let leaf: unknown = raw;
  try {
    leaf = JSON.parse(raw);
  } catch {
    leaf = raw;
  }
  // A version such as 1.4.3 or an image tag stays a string; numbers only where the field is one.
  const copy = structuredClone(value) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  path.forEach((key, index) => {
    const last = index === path.length - 1;
    if (node === null || typeof node !== "object")
      fail(`--set ${path.slice(0, index).join(".")} is not an object or list, so it has no ${key}`);
    if (last) {
      const previous = node[key];
      node[key] = typeof previous === "string" && typeof leaf !== "string" ? raw : leaf;
    } else {
      if (node[key] === undefined) node[key] = /^\d+$/.test(path[index + 1]) ? [] : {};
      node = node[key] as Record<string, unknown>;
    }
  });
  return copy;
}

/** A new release into the start of a path (or an environment on none). */
export function release(options: Common & { readonly settings: readonly string[] }): ReleaseRun {
  return run("release", options, (directory) => {
    const upstream = upstreamOf(options.env);
    if (upstream !== undefined)
      fail(
        `${options.env} receives releases only by promotion from ${upstream}; fix: release into the start of its path, then npm run promote -- --from ${upstream} --to ${options.env}`,
      );
    if (options.settings.length === 0)
      fail(
        `nothing to release: name what changes with --set <field>=<value>, e.g. --set serving.image.tag=1.4.3`,
      );
    const target = readRelease(directory, options.env, "target");
    const before = releaseContent(target.file.current);
    const after = options.settings.reduce<unknown>((value, setting) => withSetting(value, setting), before);
    if (JSON.stringify(after) === JSON.stringify(before))
      fail(`nothing to release: ${options.env} already runs this`);
    const entry = { ...(after as object), promotedAt: timestamp(options.now) } as ReleaseEntry;
    return {
      verb: `release into ${options.env}`,
      before,
      next: { current: entry, history: [...target.file.history, target.file.current] },
    };
  });
}

/** The environment's previous release, current again. */
export function rollback(options: Common): ReleaseRun {
  return run("rollback", options, (directory) => {
    const target = readRelease(directory, options.env, "target");
    const history = [...target.file.history];
    const previous = history.pop();
    if (previous === undefined)
      fail(
        `${options.env} has no previous release to roll back to (its history is empty); fix: release or promote the release you want instead`,
      );
    const entry: ReleaseEntry = { ...previous, promotedAt: timestamp(options.now) };
    return {
      verb: `roll back ${options.env}`,
      before: releaseContent(target.file.current),
      next: { current: entry, history: [...history, target.file.current] },
    };
  });
}

function run(
  command: "release" | "rollback",
  options: Common,
  plan: (directory: string) => { verb: string; before: unknown; next: unknown },
): ReleaseRun {
  const directory = options.directory ?? RELEASES_DIRECTORY;
  try {
    const { verb, before, next } = plan(directory);
    const parsed = releaseFileSchema.safeParse(next);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      fail(
        `the release of ${options.env} would be invalid: ${issue.path.join(".")}: ${issue.message}; nothing was written`,
      );
    }
    // What synthesis would refuse is not written: the release as the environment is today.
    const misfit = targetReleaseProblem(options.env, parsed.data);
    if (misfit)
      fail(
        `${command === "rollback" ? "the previous release (the last of history)" : "the new release"} does not fit ${options.env} as its current release: ${misfit}`,
      );
    const changes = describeChanges(before, releaseContent(parsed.data.current));
    const header = `${options.dryRun ? "[dry run] " : ""}${verb}: ${changes.length} change${changes.length === 1 ? "" : "s"}`;
    if (!options.dryRun) writeAtomically(directory, options.env, `${JSON.stringify(parsed.data, null, 2)}\n`);
    return {
      exitCode: 0,
      stdout: [header, ...changes.map((line) => `  ${line}`)].join("\n") + "\n",
      stderr: "",
    };
  } catch (error) {
    const message =
      error instanceof PromotionError
        ? error.message
        : `failed unexpectedly (${String(error)}); nothing was written`;
    return { exitCode: 1, stdout: "", stderr: `${command}: ${message}\n` };
  }
}

const USAGE =
  "usage: npm run release -- --env <env> --set <field>=<value> [--set ...] [--dry-run]; npm run rollback -- --env <env> [--dry-run]";

export function main(argv: readonly string[]): ReleaseRun {
  let values: { env?: string; set?: string[]; "dry-run"?: boolean; rollback?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        env: { type: "string" },
        set: { type: "string", multiple: true },
        "dry-run": { type: "boolean" },
        rollback: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    return { exitCode: 1, stdout: "", stderr: `${(error as Error).message.split("\n")[0]}; ${USAGE}\n` };
  }
  if (values.env === undefined) return { exitCode: 1, stdout: "", stderr: `--env is required; ${USAGE}\n` };
  const common = { env: values.env, dryRun: values["dry-run"] === true };
  if (values.rollback) {
    if (values.set !== undefined)
      return { exitCode: 1, stdout: "", stderr: `a rollback takes no --set; ${USAGE}\n` };
    return rollback(common);
  }
  return release({ ...common, settings: values.set ?? [] });
}

if (require.main === module) {
  const result = main(process.argv.slice(2));
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}
