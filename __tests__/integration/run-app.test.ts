/**
 * The app runs from a compiled copy that is rebuilt only where a source changed, and synthesizes
 * exactly what the TypeScript sources synthesize.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { dev } from "../../environments/dev";
import { loadEnvironments } from "../../environments/load";
import { synthesizeAll } from "../../stacks/synthesize";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const launcher = require("../../scripts/run-app.js") as {
  build(out?: string): number;
  sources(): string[];
};
const ROOT = join(__dirname, "..", "..");
// Inside the project, as `.build/` is: the compiled app resolves node_modules and the project's data from there.
const CACHE = join(ROOT, "node_modules", ".cache");

describe("the compiled app", () => {
  let out: string;
  beforeAll(() => {
    mkdirSync(CACHE, { recursive: true });
    out = mkdtempSync(join(CACHE, "app-build-"));
  });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it("compiles every source once, then nothing until a source changes", () => {
    const sources = launcher.sources();
    expect(sources).toContain("main.ts");
    expect(sources.some((file) => file.endsWith(".test.ts"))).toBe(false);
    expect(launcher.build(out)).toBe(sources.length);
    expect(launcher.build(out)).toBe(0);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    manifest["main.ts"] = "stale";
    writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest));
    expect(launcher.build(out)).toBe(1);
  });

  it("synthesizes the same stacks as the sources do", () => {
    const fromSources = mkdtempSync(join(tmpdir(), "synth-sources-"));
    const result = synthesizeAll(ENVIRONMENTS, { outdir: join(fromSources, "cdktf.out") });
    expect(result.ok).toBe(true);
    const fromBuild = mkdtempSync(join(tmpdir(), "synth-build-"));
    const run = spawnSync(process.execPath, ["-e", `require(${JSON.stringify(join(out, "main.js"))})`], {
      cwd: ROOT,
      env: { ...process.env, CDKTF_OUTDIR: join(fromBuild, "cdktf.out") },
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const stacks = readdirSync(join(fromSources, "cdktf.out", "stacks")).sort();
    expect(readdirSync(join(fromBuild, "cdktf.out", "stacks")).sort()).toEqual(stacks);
    for (const stack of stacks) {
      const file = (base: string) =>
        readFileSync(join(base, "cdktf.out", "stacks", stack, "cdk.tf.json"), "utf8");
      expect(file(fromBuild)).toBe(file(fromSources));
    }
  });

  it("is what npm run synth and the cdktf CLI run", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const cdktf = JSON.parse(readFileSync(join(ROOT, "cdktf.json"), "utf8"));
    expect(pkg.scripts.synth).toBe("node scripts/run-app.js");
    expect(cdktf.app).toBe("node scripts/run-app.js");
  });
});

describe("npm run bench's generated environments", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bench = require("../../scripts/bench.js") as {
    generatedEnvironments(base: unknown, count: number): unknown[];
  };

  it("are 30 valid AWS environments that clash with nothing, so synthesis at scale measures real stacks", () => {
    const generated = bench.generatedEnvironments(dev, 30);
    const result = loadEnvironments(generated);
    expect(result.ok ? result.environments.length : result.problems).toBe(30);
  });
});
