import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { App } from "cdktf";
import { loadEnvironments } from "../environments/load";
import { isOnPrem } from "../environments/targets";
import { releaseFitProblems } from "./release-fit";
import { GITHUB_REPOSITORY, repositoryProblem } from "../environments/github";
import { projectRoot } from "../environments/project-root";
import { loadRelease, RELEASES_DIRECTORY } from "../environments/releases";
import {
  addBootstrapStacks,
  addEnvironmentStacks,
  EnvironmentBuildError,
  type EnvironmentBuild,
} from "./app";
import { HELM_VALUES_DIRECTORY, valueFileProblems } from "./helm-values";

export interface SynthesisOptions {
  /** Where stacks are written. @default $CDKTF_OUTDIR (set by the cdktf CLI), else `cdktf.out` */
  readonly outdir?: string;
  /** Where the release files are. @default environments/releases */
  readonly releasesDirectory?: string;
  /** Where the Helm values files are checked for syntax. @default helm-values */
  readonly valuesDirectory?: string;
  /**
   * The bootstrap stacks keep their state in local files (their first apply, before the bucket
   * they create exists). @default `MLOPS_BOOTSTRAP_STATE=local` in the environment
   */
  readonly bootstrapLocalState?: boolean;
}

/** One synthesized stack: its name and how many Terraform resources it declares. */
export interface StackSummary {
  readonly stack: string;
  readonly resources: number;
}

export type SynthesisResult =
  | {
      readonly ok: true;
      readonly stacks: readonly string[];
      readonly summary: readonly StackSummary[];
      /** The output folder, as given (or cdktf's default). */
      readonly outdir: string;
    }
  | { readonly ok: false; readonly problems: readonly string[] };

/** The project's root: paths in messages are relative to it. */
const PROJECT_ROOT = projectRoot();

function defaultOutdir(): string {
  return process.env.CDKTF_OUTDIR ?? "cdktf.out";
}

/** Resources a synthesized stack declares (data sources and outputs not counted). */
function resourceCount(stackDirectory: string): number {
  const json = JSON.parse(readFileSync(join(stackDirectory, "cdk.tf.json"), "utf8")) as {
    resource?: Record<string, Record<string, unknown>>;
  };
  return Object.values(json.resource ?? {}).reduce((sum, byName) => sum + Object.keys(byName).length, 0);
}

/**
 * One line per problem of an error thrown while building stacks, without the stack trace: a
 * construct's check names the field it refused (`Construct: field is value; rule. Fix: ...`),
 * and the environment being built is put in front of it.
 */
function describeBuildError(error: unknown): string[] {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof EnvironmentBuildError))
    return message
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) =>
        line.includes("; fix: ")
          ? line
          : `building the stacks failed: ${line}; fix: correct the input it names (a construct's own check refused it)`,
      );
  return message
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const text = line.replace(/^\w+: /, "");
      const check = /^([\w.[\]"-]+) is (.+?); (?:allowed:? )?(.+?)\.? Fix: (.+)$/i.exec(text);
      if (check) {
        const [, field, value, rule, remedy] = check;
        return `${error.environment}: ${field} = ${value}: ${rule}; fix: ${remedy}`;
      }
      return `${error.environment}: ${text}${text.includes("; fix: ") ? "" : "; fix: correct the field it names"}`;
    });
}

/**
 * Validates every environment, then synthesizes all their stacks into a fresh folder next to
 * the output folder, and only when that succeeds puts it in the output folder's place. So a
 * failure leaves the output folder as it was, and a success holds exactly the current stacks:
 * a removed environment's stack folders do not linger to be deployed by mistake.
 */
export function synthesizeAll(inputs: readonly unknown[], options: SynthesisOptions = {}): SynthesisResult {
  const loaded = loadBuilds(inputs, options.releasesDirectory, options.valuesDirectory);
  if (!loaded.ok) return loaded;
  const outdir = options.outdir ?? defaultOutdir();
  const target = resolve(outdir);
  const parent = dirname(target);
  if (!existsSync(parent)) {
    return {
      ok: false,
      problems: [
        `output folder ${outdir}: its parent folder does not exist; fix: create it or choose another`,
      ],
    };
  }
  const staging = mkdtempSync(join(parent, `.${basename(target)}.next-`));
  let stacks: string[];
  try {
    const app = new App({ outdir: staging });
    stacks = [
      ...addBootstrapStacks(
        app,
        loaded.builds.map((build) => build.environment),
        options.bootstrapLocalState ?? process.env.MLOPS_BOOTSTRAP_STATE === "local",
      ).map((stack) => stack.node.id),
      ...addEnvironmentStacks(app, loaded.builds).flatMap((set) =>
        [set.foundation, set.platform, set.serving].flatMap((stack) => (stack ? [stack.node.id] : [])),
      ),
    ];
    app.synth();
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    return { ok: false, problems: describeBuildError(error) };
  }
  const summary = stacks.map((stack) => ({
    stack,
    resources: resourceCount(join(staging, "stacks", stack)),
  }));
  const previous = `${staging}.previous`;
  try {
    if (existsSync(target)) renameSync(target, previous);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code ?? "an error";
    return {
      ok: false,
      problems: [
        `output folder ${outdir}: cannot be replaced (${code}); it was left as it was; fix: check its permissions`,
      ],
    };
  }
  renameSync(staging, target);
  rmSync(previous, { recursive: true, force: true });
  return { ok: true, stacks, summary, outdir };
}

/** The message printed when validation fails. */
export function describeProblems(problems: readonly string[]): string {
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  return `Synthesis stopped (${count}); the output folder was left as it was:\n${problems.map((p) => `  - ${p}\n`).join("")}`;
}

/** The summary printed after a successful synthesis: each stack, its resources, where it went. */
export function describeSummary(summary: readonly StackSummary[], outdir: string): string {
  const width = Math.max(...summary.map((s) => s.stack.length));
  const total = summary.reduce((sum, s) => sum + s.resources, 0);
  return [
    `Synthesized ${summary.length} stacks (${total} resources) into ${outdir}/stacks:`,
    ...summary.map((s) => `  ${s.stack.padEnd(width)}  ${String(s.resources).padStart(4)} resources`),
    "",
  ].join("\n");
}

/** What running the synthesis prints and exits with. */
export interface SynthesisRun {
  readonly exitCode: 0 | 1;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * One line for an error thrown while loading the environment registry (a syntax error in an
 * environment file, an import of a file that does not exist), with the file and line.
 */
export function describeRegistryError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const local = (path: string) => relative(PROJECT_ROOT, path) || path;
  // esbuild (tsx): "/abs/environments/dev.ts:12:4: ERROR: Expected "}" but found "x""
  const syntax = /(\/[^\s:]+\.[cm]?[jt]s):(\d+):(\d+): ERROR: (.*)/.exec(message);
  if (syntax) {
    const [, file, line, column, reason] = syntax;
    return `${local(file)}:${line}:${column}: ${reason}; fix: correct the TypeScript syntax at that spot`;
  }
  const missing = /Cannot find module '([^']+)'/.exec(message);
  if (missing) {
    const from = /Require stack:\n- (\S+)/.exec(message)?.[1];
    return `${from ? local(from) : "environments/index.ts"}: imports ${missing[1]}, which does not exist; fix: correct the file name in the import`;
  }
  return `environments: the environment registry could not be loaded: ${message.split("\n")[0]}; fix: correct the file it names`;
}

/** Loads the registry, synthesizes, and says what happened; never throws for bad input. */
export async function runSynthesis(
  loadRegistry: () => Promise<readonly unknown[]> | readonly unknown[],
  options: SynthesisOptions = {},
): Promise<SynthesisRun> {
  let inputs: readonly unknown[];
  try {
    inputs = await loadRegistry();
  } catch (error) {
    return { exitCode: 1, stdout: "", stderr: describeProblems([describeRegistryError(error)]) };
  }
  let result: SynthesisResult;
  try {
    result = synthesizeAll(inputs, options);
  } catch (error) {
    // A defect rather than bad input, but still one line.
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return {
      exitCode: 1,
      stdout: "",
      stderr: describeProblems([
        `synthesis failed unexpectedly: ${reason}; fix: report it with the input that caused it`,
      ]),
    };
  }
  if (!result.ok) return { exitCode: 1, stdout: "", stderr: describeProblems(result.problems) };
  return { exitCode: 0, stdout: describeSummary(result.summary, result.outdir), stderr: "" };
}

/**
 * Validates the environments, reads each one's release file and checks the Helm values files
 * they would read; every problem is reported.
 */
export function loadBuilds(
  inputs: readonly unknown[],
  releasesDirectory = RELEASES_DIRECTORY,
  valuesDirectory = HELM_VALUES_DIRECTORY,
):
  | { readonly ok: true; readonly builds: EnvironmentBuild[] }
  | { readonly ok: false; readonly problems: readonly string[] } {
  const loaded = loadEnvironments(inputs);
  if (!loaded.ok) return { ok: false, problems: loaded.problems };
  const problems: string[] = [];
  const builds: EnvironmentBuild[] = [];
  for (const environment of loaded.environments) {
    const release = loadRelease(
      environment.name,
      releasesDirectory,
      isOnPrem(environment) ? "rancher" : "aws",
    );
    if (release.ok) {
      const fit = releaseFitProblems(
        loaded.environments,
        environment,
        release.release.current,
        `releases/${environment.name}.json`,
      );
      if (fit.length > 0) problems.push(...fit);
      else builds.push({ environment, release: release.release.current });
    } else problems.push(...release.problems);
  }
  // The bootstrap stacks trust the workflows of this repository; a refusal names its file.
  const repository = loaded.environments.some((env) => !isOnPrem(env))
    ? repositoryProblem(GITHUB_REPOSITORY)
    : undefined;
  if (repository) problems.push(repository);
  problems.push(
    ...valueFileProblems(
      loaded.environments.map((env) => env.name),
      valuesDirectory,
    ),
  );
  return problems.length > 0 ? { ok: false, problems } : { ok: true, builds };
}
