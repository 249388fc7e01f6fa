/**
 * Fetches the pinned upstream sources that `npm run verify` and the integration tests read into
 * one folder (`.upstream/` by default, git-ignored):
 *
 *   charts/<chart>-<version>/   every chart the release files pin, with helm pull from its
 *                               repository (constructs/platform/charts.ts)
 *   crds/..., kubeflow-pipelines-<version>/...   the Git sources of upstream-sources.json: a path
 *                               of a repository at a tag
 *
 *   npm run fetch-sources [-- --into DIR] [--force]
 *
 * Needs network to GitHub and the chart repositories. Entries already present are kept unless
 * --force; each entry is written to a temporary folder and renamed into place, so an interrupted
 * run leaves no half-written entry.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PLATFORM_CHARTS, type PlatformChart } from "../constructs/platform/charts";
import { RELEASES_DIRECTORY } from "../environments/releases";
import { ensureTools } from "./verify/tools";

export const PROJECT_ROOT = join(__dirname, "..");

export interface GitSource {
  readonly repository: string;
  readonly tag: string;
  readonly path: string;
  readonly into: string;
}

export interface SourceManifest {
  readonly folder: string;
  readonly git: readonly GitSource[];
}

export interface ChartSource {
  readonly key: string;
  readonly repository: string;
  readonly chart: string;
  readonly version: string;
  readonly into: string;
}

export interface CommandResult {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}
export type Runner = (command: string, args: readonly string[]) => CommandResult;

export function readManifest(root = PROJECT_ROOT): SourceManifest {
  return JSON.parse(readFileSync(join(root, "upstream-sources.json"), "utf8")) as SourceManifest;
}

/** Every chart version the release files' current releases pin, with its repository. */
export function pinnedCharts(releases = RELEASES_DIRECTORY): ChartSource[] {
  const found = new Map<string, ChartSource>();
  for (const file of readdirSync(releases).filter((name) => name.endsWith(".json"))) {
    const current = (
      JSON.parse(readFileSync(join(releases, file), "utf8")) as {
        current: { charts: Record<string, string> };
      }
    ).current;
    for (const [key, version] of Object.entries(current.charts)) {
      const source = PLATFORM_CHARTS[key as PlatformChart];
      if (source === undefined) continue;
      const into = `charts/${source.chart}-${version}`;
      found.set(into, { key, repository: source.repository, chart: source.chart, version, into });
    }
  }
  return [...found.values()].sort((a, b) => a.into.localeCompare(b.into));
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

/** Puts what `fill(staging)` wrote at `target`, or nothing when it fails. */
function place(target: string, fill: (staging: string) => void): void {
  const staging = mkdtempSync(join(tmpdir(), "mlops-sources-"));
  try {
    fill(staging);
    mkdirSync(dirname(target), { recursive: true });
    rmSync(target, { recursive: true, force: true });
    try {
      renameSync(staging, target);
    } catch {
      cpSync(staging, target, { recursive: true });
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

class FetchError extends Error {}

export function fetchGit(source: GitSource, folder: string, run: Runner): void {
  place(join(folder, source.into), (staging) => {
    const clone = join(staging, ".clone");
    const cloned = run("git", [
      "clone",
      "--quiet",
      "--depth",
      "1",
      "--branch",
      source.tag,
      source.repository,
      clone,
    ]);
    if (cloned.code !== 0)
      throw new FetchError(
        `git clone of ${source.repository} at ${source.tag} failed (${cloned.code === undefined ? "git not found" : firstLine(cloned.stderr)}); fix: check network access to ${source.repository}, or that ${source.tag} exists there`,
      );
    const from = join(clone, source.path);
    if (!existsSync(from))
      throw new FetchError(
        `${source.repository} at ${source.tag} has no ${source.path}; fix: correct the path in upstream-sources.json`,
      );
    for (const entry of readdirSync(from))
      cpSync(join(from, entry), join(staging, entry), { recursive: true });
    rmSync(clone, { recursive: true, force: true });
  });
}

export function fetchChart(source: ChartSource, folder: string, helm: string, run: Runner): void {
  place(join(folder, source.into), (staging) => {
    const oci = source.repository.startsWith("oci://");
    const args = oci
      ? ["pull", `${source.repository}/${source.chart}`, "--version", source.version]
      : ["pull", source.chart, "--repo", source.repository, "--version", source.version];
    const pulled = run(helm, [...args, "--untar", "--untardir", staging]);
    if (pulled.code !== 0)
      throw new FetchError(
        `helm pull of ${source.chart} ${source.version} from ${source.repository} failed (${firstLine(pulled.stderr)}); fix: check network access to the chart repository`,
      );
    const unpacked = join(staging, source.chart);
    for (const entry of readdirSync(unpacked)) renameSync(join(unpacked, entry), join(staging, entry));
    rmSync(unpacked, { recursive: true, force: true });
  });
}

export interface FetchRun {
  readonly exitCode: 0 | 1;
  readonly lines: readonly string[];
}

export function fetchSources(options: {
  folder: string;
  force: boolean;
  manifest: SourceManifest;
  charts: readonly ChartSource[];
  helm: () => string;
  run: Runner;
}): FetchRun {
  const lines: string[] = [];
  let failed = false;
  const entries: { into: string; fetch: () => void }[] = [
    ...options.charts.map((chart) => ({
      into: chart.into,
      fetch: () => fetchChart(chart, options.folder, options.helm(), options.run),
    })),
    ...options.manifest.git.map((source) => ({
      into: source.into,
      fetch: () => fetchGit(source, options.folder, options.run),
    })),
  ];
  for (const entry of entries) {
    const target = join(options.folder, entry.into);
    if (!options.force && existsSync(target) && readdirSync(target).length > 0) {
      lines.push(`kept    ${entry.into}`);
      continue;
    }
    try {
      entry.fetch();
      lines.push(`fetched ${entry.into}`);
    } catch (error) {
      failed = true;
      lines.push(`FAIL    ${entry.into}: ${(error as Error).message}`);
    }
  }
  return { exitCode: failed ? 1 : 0, lines };
}

function runCommand(command: string, args: readonly string[]): CommandResult {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 600_000 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT")
    return { code: undefined, stdout: "", stderr: "" };
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

if (require.main === module) {
  const { values } = parseArgs({
    options: { into: { type: "string" }, force: { type: "boolean" } },
    strict: true,
  });
  const manifest = readManifest();
  const folder = resolve(PROJECT_ROOT, values.into ?? manifest.folder);
  const result = fetchSources({
    folder,
    force: values.force === true,
    manifest,
    charts: pinnedCharts(),
    // helm v4 from the npm package the project already installs (unpacked once, checked by sha256).
    helm: () => ensureTools().helm,
    run: runCommand,
  });
  process.stdout.write(`${result.lines.join("\n")}\n`);
  if (result.exitCode === 0)
    process.stdout.write(
      `pinned sources in ${values.into ?? manifest.folder}/: npm run verify and the integration tests read them\n`,
    );
  process.exitCode = result.exitCode;
}
