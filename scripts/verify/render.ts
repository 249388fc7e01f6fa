/**
 * Renders what the stacks install: `helm template` of each release's pinned chart with the
 * values it passes, and `kubectl kustomize` of the Kubeflow Pipelines manifests the Argo CD
 * Applications point at, with their patches. Renders are cached by their inputs.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { loadAll } from "js-yaml";
import { parse, stringify } from "yaml";
import { CACHE_ROOT, type Tools } from "./tools";
import type { KubernetesObject } from "./convert";

/** Changes when the way renders are made changes, so old cache entries are not reused. */
const RENDER_FORMAT = "helm-template-skip-tests-json-1";

export interface ChartSources {
  /** Folder of unpacked charts named `<chart>-<version>`. */
  readonly chartsDir?: string;
  /** Pull missing charts from their repositories into the cache (needs network). */
  readonly pull: boolean;
}

export interface HelmReleaseInput {
  readonly name: string;
  readonly namespace: string;
  readonly chart: string;
  readonly version: string;
  /** `https://...` repository, or empty when `chart` is an `oci://` reference. */
  readonly repository?: string;
  /** The release's values documents, merged in order by helm. */
  readonly values: readonly unknown[];
}

export type RenderResult =
  | { readonly ok: true; readonly objects: KubernetesObject[]; readonly chartDir: string }
  | { readonly ok: false; readonly problem: string; readonly fix: string };

function run(
  file: string,
  args: readonly string[],
  cwd?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      file,
      args,
      {
        cwd,
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, HELM_CACHE_HOME: join(CACHE_ROOT, "helm") },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Runs async tasks with at most `limit` at a time, keeping their order. */
export async function inParallel<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Chart name without an `oci://` registry prefix. */
export function chartName(release: Pick<HelmReleaseInput, "chart">): string {
  return release.chart.replace(/^oci:\/\/.*\//, "");
}

async function locateChart(
  tools: Tools,
  release: HelmReleaseInput,
  sources: ChartSources,
): Promise<RenderResult | string> {
  const folder = `${chartName(release)}-${release.version}`;
  if (sources.chartsDir) {
    const candidate = resolve(sources.chartsDir, folder);
    if (existsSync(join(candidate, "Chart.yaml"))) return candidate;
  }
  const pulled = join(CACHE_ROOT, "charts", folder);
  if (existsSync(join(pulled, "Chart.yaml"))) return pulled;
  if (!sources.pull) {
    return {
      ok: false,
      problem: `chart ${folder} is not available${sources.chartsDir ? ` in ${sources.chartsDir}` : " (no chart folder given)"}`,
      fix: "pass --charts DIR (or MLOPS_CHARTS_DIR) holding <chart>-<version> folders, or --pull to fetch it from its repository",
    };
  }
  const staging = mkdtempSync(join(tmpdir(), "mlops-verify-pull-"));
  try {
    const reference = release.chart.startsWith("oci://") ? release.chart : chartName(release);
    const args = ["pull", reference, "--version", release.version, "--untar", "--untardir", staging];
    if (!release.chart.startsWith("oci://") && release.repository) args.push("--repo", release.repository);
    const pulledRun = await run(tools.helm, args);
    if (pulledRun.code !== 0) {
      return {
        ok: false,
        problem: `helm pull of ${folder} failed: ${pulledRun.stderr.trim()}`,
        fix: "check network access to the chart repository, or pass --charts DIR",
      };
    }
    mkdirSync(join(CACHE_ROOT, "charts"), { recursive: true });
    rmSync(pulled, { recursive: true, force: true });
    const { renameSync } = await import("node:fs");
    renameSync(join(staging, chartName(release)), pulled);
    return pulled;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Parses multi-document YAML output into objects; `List` kinds are flattened. */
export function parseObjects(text: string, origin: string): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  let documents: unknown[];
  try {
    documents = loadAll(text);
  } catch (error) {
    throw new Error(`${origin}: rendered YAML does not parse: ${(error as Error).message}`);
  }
  for (const document of documents) {
    const value = document as KubernetesObject | null;
    if (!value || typeof value !== "object") continue;
    if (value.kind?.endsWith("List") && Array.isArray(value.items))
      objects.push(...(value.items as KubernetesObject[]));
    else objects.push(value);
  }
  return objects;
}

export interface RenderSettings {
  readonly kubeVersion: string;
  readonly apiVersions: readonly string[];
}

/** `helm template` of one release, served from the cache when the same inputs were rendered before. */
export async function renderRelease(
  tools: Tools,
  release: HelmReleaseInput,
  sources: ChartSources,
  settings: RenderSettings,
): Promise<RenderResult> {
  const located = await locateChart(tools, release, sources);
  if (typeof located !== "string") return located;
  const valuesText = release.values.map((v) => stringify(v ?? {})).join("\n---\n");
  const key = createHash("sha256")
    .update(
      JSON.stringify([
        release.name,
        release.namespace,
        chartName(release),
        release.version,
        valuesText,
        settings,
        RENDER_FORMAT,
      ]),
    )
    .digest("hex");
  const cached = join(CACHE_ROOT, "renders", `${key}.json`);
  if (existsSync(cached)) {
    return { ok: true, objects: JSON.parse(readFileSync(cached, "utf8")), chartDir: located };
  }
  const work = mkdtempSync(join(tmpdir(), "mlops-verify-values-"));
  try {
    const args = ["template", release.name, located, "--namespace", release.namespace];
    args.push("--kube-version", settings.kubeVersion, "--include-crds", "--skip-tests");
    for (const api of settings.apiVersions) args.push("--api-versions", api);
    release.values.forEach((values, i) => {
      const file = join(work, `values-${i}.yaml`);
      writeFileSync(file, stringify(values ?? {}));
      args.push("--values", file);
    });
    const result = await run(tools.helm, args);
    if (result.code !== 0) {
      return {
        ok: false,
        problem: `helm template failed: ${result.stderr.trim().split("\n").slice(-3).join(" ")}`,
        fix: "fix the release's values so the chart renders (the message above is helm's)",
      };
    }
    const objects = parseObjects(result.stdout, release.name);
    mkdirSync(join(CACHE_ROOT, "renders"), { recursive: true });
    writeFileSync(cached, JSON.stringify(objects));
    return { ok: true, objects, chartDir: located };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface KustomizeInput {
  /** Folder of the manifests at the pinned tag (holding `manifests/`). */
  readonly root: string;
  /** Path inside the repository the Application points at. */
  readonly path: string;
  /** The Application's `source.kustomize.patches`. */
  readonly patches: readonly unknown[];
  /**
   * The Application's `source.kustomize.images` (`old=new[:tag|@digest]` or `old[:tag|@digest]`),
   * which Argo CD applies with `kustomize edit set image` before the build.
   */
  readonly images?: readonly string[];
}

/** An Argo CD `kustomize.images` entry as the `images` entry of a kustomization. */
export function kustomizeImage(entry: string): Record<string, string> {
  const [name, replacement] = entry.includes("=") ? entry.split("=", 2) : [undefined, entry];
  const at = replacement.indexOf("@");
  const reference = at < 0 ? replacement : replacement.slice(0, at);
  const digest = at < 0 ? undefined : replacement.slice(at + 1);
  const colon = reference.lastIndexOf(":");
  const hasTag = colon > reference.lastIndexOf("/");
  const repository = hasTag ? reference.slice(0, colon) : reference;
  const tag = hasTag ? reference.slice(colon + 1) : undefined;
  return {
    name: name ?? repository,
    ...(name !== undefined ? { newName: repository } : {}),
    ...(tag !== undefined ? { newTag: tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

/** Names kustomize accepts for a kustomization file, in the order it looks for them. */
const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/** Copies a folder tree with writable modes (the pinned sources are read-only). */
function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) copyTree(source, target);
    else if (entry.isFile()) writeFileSync(target, readFileSync(source));
  }
}

/**
 * `kubectl kustomize` of the Application's path as Argo CD builds it (argo-cd v3.4.4
 * `util/kustomize/kustomize.go`, `Build`): in a copy of the repository, `kustomize edit set
 * image` and the Application's `patches` appended to the kustomization at that path, then a
 * build of that path. The patches therefore run inside the upstream kustomization, before its
 * own replacements and name transformations, not on its finished output.
 */
export async function renderKustomize(tools: Tools, input: KustomizeInput): Promise<RenderResult> {
  const base = resolve(input.root, input.path);
  if (!existsSync(base)) {
    return {
      ok: false,
      problem: `manifests path ${input.path} does not exist under ${input.root}`,
      fix: "pass --kubeflow-pipelines DIR pointing at the manifests of the pinned tag",
    };
  }
  const file = KUSTOMIZATION_FILES.find((name) => existsSync(join(base, name)));
  if (!file) {
    return {
      ok: false,
      problem: `manifests path ${input.path} has no kustomization file`,
      fix: "point the Application at a folder holding a kustomization.yaml",
    };
  }
  const key = createHash("sha256")
    .update(JSON.stringify([base, input.patches, input.images ?? [], RENDER_FORMAT, "argocd-in-place-1"]))
    .digest("hex");
  const cached = join(CACHE_ROOT, "kustomize", `${key}.json`);
  if (existsSync(cached))
    return { ok: true, objects: JSON.parse(readFileSync(cached, "utf8")), chartDir: base };
  const work = mkdtempSync(join(tmpdir(), "mlops-verify-kustomize-"));
  try {
    const repository = join(work, "repository");
    copyTree(resolve(input.root), repository);
    const path = join(repository, relative(resolve(input.root), base));
    const kustomization = (parse(readFileSync(join(path, file), "utf8")) ?? {}) as Record<string, unknown>;
    if (input.images && input.images.length > 0) {
      // `kustomize edit set image` replaces the entry of the same name, or adds one.
      const images = [...((kustomization.images as Record<string, string>[] | undefined) ?? [])];
      for (const entry of input.images.map(kustomizeImage)) {
        const at = images.findIndex((image) => image.name === entry.name);
        if (at < 0) images.push(entry);
        else images[at] = entry;
      }
      kustomization.images = images;
    }
    if (input.patches.length > 0) {
      kustomization.patches = [...((kustomization.patches as unknown[] | undefined) ?? []), ...input.patches];
    }
    writeFileSync(join(path, file), stringify(kustomization));
    const result = await run(tools.kubectl, ["kustomize", path]);
    if (result.code !== 0) {
      return {
        ok: false,
        problem: `kubectl kustomize failed: ${result.stderr.trim().split("\n").slice(-3).join(" ")}`,
        fix: "fix the Application's kustomize patches so they apply to the manifests",
      };
    }
    const objects = parseObjects(result.stdout, input.path);
    mkdirSync(join(CACHE_ROOT, "kustomize"), { recursive: true });
    writeFileSync(cached, JSON.stringify(objects));
    return { ok: true, objects, chartDir: base };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
