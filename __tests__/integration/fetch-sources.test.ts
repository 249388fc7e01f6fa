/**
 * npm run fetch-sources against a Git mirror this test makes (file://) and a stand-in helm: the
 * command is written for GitHub and the chart repositories, which this machine cannot reach.
 */
import { execFileSync } from "node:child_process";
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
import { join } from "node:path";
import {
  fetchSources,
  pinnedCharts,
  readManifest,
  type CommandResult,
  type Runner,
  type SourceManifest,
} from "../../scripts/fetch-sources";
import { missingSources, parseOptions } from "../../scripts/verify/main";
import { DEFAULT_UPSTREAM_DIR, upstreamDirectory } from "../../scripts/verify/upstream";
import { loadRelease } from "../../environments/releases";
import { ENVIRONMENTS } from "../../environments";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
    cwd,
    stdio: "pipe",
  });

function real(command: string, args: readonly string[]): CommandResult {
  try {
    return { code: 0, stdout: execFileSync(command, args, { encoding: "utf8", stdio: "pipe" }), stderr: "" };
  } catch (error) {
    const e = error as { status?: number; stderr?: Buffer | string };
    return { code: e.status ?? 1, stdout: "", stderr: String(e.stderr ?? "") };
  }
}

/** helm pull, standing in: unpacks a chart folder named like the chart into --untardir. */
const helmCalls: string[][] = [];
const run: Runner = (command, args) => {
  if (command !== "helm") return real(command, args);
  helmCalls.push([...args]);
  const chart = args[1].split("/").pop() as string;
  const version = args[args.indexOf("--version") + 1];
  const dir = join(args[args.indexOf("--untardir") + 1], chart);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "Chart.yaml"), `name: ${chart}\nversion: ${version}\n`);
  return { code: 0, stdout: "", stderr: "" };
};

describe("npm run fetch-sources", () => {
  let root: string;
  let manifest: SourceManifest;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "fetch-sources-"));
    const mirror = join(root, "kserve");
    mkdirSync(join(mirror, "config", "crd", "full"), { recursive: true });
    writeFileSync(
      join(mirror, "config", "crd", "full", "serving.kserve.io_inferenceservices.yaml"),
      "kind: CustomResourceDefinition\n",
    );
    writeFileSync(join(mirror, "README.md"), "not copied\n");
    git(mirror, "init", "-q");
    git(mirror, "add", ".");
    git(mirror, "commit", "-qm", "crds");
    git(mirror, "tag", "v0.20.0");
    manifest = {
      folder: ".upstream",
      git: [
        {
          repository: `file://${mirror}`,
          tag: "v0.20.0",
          path: "config/crd/full",
          into: "crds/kserve-v0.20.0",
        },
      ],
    };
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const charts = [
    {
      key: "cert-manager",
      repository: "https://charts.jetstack.io",
      chart: "cert-manager",
      version: "v1.21.1",
      into: "charts/cert-manager-v1.21.1",
    },
    {
      key: "kserve-crd",
      repository: "oci://ghcr.io/kserve/charts",
      chart: "kserve-crd",
      version: "v0.20.0",
      into: "charts/kserve-crd-v0.20.0",
    },
  ];

  it("copies the manifest's path at its tag and pulls each chart into <chart>-<version>", () => {
    const folder = join(root, "out");
    const result = fetchSources({ folder, force: false, manifest, charts, helm: () => "helm", run });
    expect(result).toEqual({
      exitCode: 0,
      lines: [
        "fetched charts/cert-manager-v1.21.1",
        "fetched charts/kserve-crd-v0.20.0",
        "fetched crds/kserve-v0.20.0",
      ],
    });
    expect(readdirSync(join(folder, "crds", "kserve-v0.20.0"))).toEqual([
      "serving.kserve.io_inferenceservices.yaml",
    ]);
    expect(readFileSync(join(folder, "charts", "cert-manager-v1.21.1", "Chart.yaml"), "utf8")).toContain(
      "version: v1.21.1",
    );
    expect(helmCalls).toContainEqual([
      "pull",
      "cert-manager",
      "--repo",
      "https://charts.jetstack.io",
      "--version",
      "v1.21.1",
      "--untar",
      "--untardir",
      expect.any(String),
    ]);
    expect(helmCalls).toContainEqual([
      "pull",
      "oci://ghcr.io/kserve/charts/kserve-crd",
      "--version",
      "v0.20.0",
      "--untar",
      "--untardir",
      expect.any(String),
    ]);
  });

  it("keeps what is there, and fetches again with --force", () => {
    const folder = join(root, "out");
    expect(fetchSources({ folder, force: false, manifest, charts, helm: () => "helm", run }).lines).toEqual([
      "kept    charts/cert-manager-v1.21.1",
      "kept    charts/kserve-crd-v0.20.0",
      "kept    crds/kserve-v0.20.0",
    ]);
    expect(
      fetchSources({ folder, force: true, manifest, charts: [], helm: () => "helm", run }).lines,
    ).toEqual(["fetched crds/kserve-v0.20.0"]);
  });

  it("fails on a tag the repository lacks with one line, leaving no half-written entry", () => {
    const folder = join(root, "bad");
    const wrong = { ...manifest, git: [{ ...manifest.git[0], tag: "v9.9.9" }] };
    const result = fetchSources({
      folder,
      force: false,
      manifest: wrong,
      charts: [],
      helm: () => "helm",
      run,
    });
    expect(result.exitCode).toBe(1);
    expect(result.lines).toEqual([
      expect.stringMatching(
        /^FAIL {4}crds\/kserve-v0\.20\.0: git clone of file:\/\/.* at v9\.9\.9 failed \(.*\); fix: check network access/,
      ),
    ]);
    expect(existsSync(join(folder, "crds", "kserve-v0.20.0"))).toBe(false);
  });
});

describe("the manifest of pinned sources", () => {
  const manifest = readManifest();

  it("fills the folder verify and the tests read by default", () => {
    expect(join(__dirname, "..", "..", manifest.folder)).toBe(DEFAULT_UPSTREAM_DIR);
  });

  it("names the Kubeflow Pipelines tag every release pins, from upstream repositories only", () => {
    const tags = new Set(
      ENVIRONMENTS.map((input) => {
        const loaded = loadRelease((input as { name: string }).name);
        if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
        return loaded.release.current.kubeflowPipelines;
      }),
    );
    for (const tag of tags) {
      expect(manifest.git).toContainEqual(
        expect.objectContaining({
          repository: "https://github.com/kubeflow/pipelines.git",
          tag,
          into: `kubeflow-pipelines-${tag}/manifests/kustomize`,
        }),
      );
    }
    expect(manifest.git.every((source) => source.repository.startsWith("https://github.com/"))).toBe(true);
  });

  it("pulls every chart a release pins, named as verify looks for it", () => {
    const charts = pinnedCharts();
    for (const input of ENVIRONMENTS) {
      const loaded = loadRelease((input as { name: string }).name);
      if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
      for (const [key, version] of Object.entries(loaded.release.current.charts))
        expect(charts.some((c) => c.key === key && c.version === version)).toBe(true);
    }
  });
});

describe("npm run verify without the pinned sources", () => {
  it("prints one line naming the command that fetches them", () => {
    const options = parseOptions([], {}, () => undefined);
    expect(missingSources(options)).toBe(
      "verify: the pinned sources are not on this machine (MLOPS_UPSTREAM_DIR unset, no .upstream/ folder, no copy beside the checkout); fix: npm run fetch-sources (network to GitHub and the chart repositories), or set MLOPS_UPSTREAM_DIR to a folder of charts/, crds/ and kubeflow-pipelines-<version>/",
    );
    expect(missingSources(parseOptions(["--pull"], {}, () => undefined))).toBeUndefined();
    expect(missingSources(parseOptions([], {}, () => "/up"))).toBeUndefined();
  });

  it("as a process: one line, exit 1", () => {
    const env = { ...process.env, MLOPS_UPSTREAM_DIR: "", MLOPS_CHARTS_DIR: "" };
    const found = upstreamDirectory({});
    if (found !== undefined) {
      process.stdout.write(
        `SKIPPED verify without sources: a copy is found without MLOPS_UPSTREAM_DIR here\n`,
      );
      return;
    }
    let out = "";
    let code = 0;
    try {
      execFileSync(
        process.execPath,
        [require.resolve("tsx/cli"), join(__dirname, "..", "..", "scripts", "verify", "main.ts")],
        { env, stdio: "pipe" },
      );
    } catch (error) {
      const e = error as { status: number; stdout: Buffer; stderr: Buffer };
      code = e.status;
      out = `${e.stdout}${e.stderr}`;
    }
    expect(code).toBe(1);
    expect(out.trim().split("\n")).toHaveLength(1);
  });
});
