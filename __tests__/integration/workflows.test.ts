/**
 * The everyday workflows keep the unit layer green: in a copy of the project, every promotion path
 * is walked with `npm run promote`, an environment is scaffolded from each kind with `npm run
 * new-environment` (the on-prem one with the values it cannot invent), the stack snapshots are
 * brought up to date with `npm run snapshots` (the one command docs/releases.md gives), and the whole unit layer
 * then passes under `jest --ci`, which refuses any snapshot nobody wrote.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { PROMOTION_PATHS } from "../../environments/promotion";
import { projectRoot } from "../../environments/project-root";

const ROOT = projectRoot();
/** What a clone holds besides the project's files: none of it is copied. */
const NOT_COPIED = new Set(["node_modules", ".git", "cdktf.out", ".build", "coverage"]);

/** A copy of the project whose node_modules links every package but keeps its own caches. */
function projectCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), "workflows-"));
  cpSync(ROOT, copy, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(relative(ROOT, source).split(/[\\/]/)[0]),
  });
  mkdirSync(join(copy, "node_modules"));
  for (const entry of readdirSync(join(ROOT, "node_modules")))
    if (entry !== ".cache") symlinkSync(join(ROOT, "node_modules", entry), join(copy, "node_modules", entry));
  return copy;
}

const bin = (copy: string, ...path: string[]) => join(copy, "node_modules", ...path);

/** Runs `node <script> args` in the copy; the output is kept for the failure message. */
function run(copy: string, script: string, args: readonly string[]) {
  const result = spawnSync(process.execPath, [script, ...args], {
    cwd: copy,
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0", CI: "true" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

describe("promotion and new environments in a copy of the project", () => {
  const copy = projectCopy();
  afterAll(() => rmSync(copy, { recursive: true, force: true }));
  const tsx = (script: string, ...args: string[]) =>
    run(copy, bin(copy, "tsx", "dist", "cli.mjs"), [join(copy, "scripts", script), ...args]);
  const jest = (...args: string[]) => run(copy, bin(copy, "jest", "bin", "jest.js"), args);
  const snapshotFiles = () =>
    Object.fromEntries(
      readdirSync(join(copy, "__tests__", "__snapshots__")).map((file) => [
        file,
        readFileSync(join(copy, "__tests__", "__snapshots__", file), "utf8"),
      ]),
    );

  it("keeps npm test green after promoting along every path and scaffolding an AWS and an on-prem environment", () => {
    const steps: { what: string; status: number | null; output: string }[] = [];
    const step = (what: string, result: { status: number | null; output: string }) =>
      steps.push({ what, ...result });
    for (const path of PROMOTION_PATHS)
      for (let i = 1; i < path.length; i++)
        step(
          `promote ${path[i - 1]} -> ${path[i]}`,
          tsx("promote.ts", "--from", path[i - 1], "--to", path[i]),
        );
    step("new-environment uat", tsx("new-environment.ts", "--from", "staging", "--name", "uat"));
    step(
      "new-environment onprem-uat",
      tsx(
        "new-environment.ts",
        ...["--from", "onprem-test", "--name", "onprem-uat"],
        ...["--set", "cluster.kubeconfigContext=rancher-mlops-uat"],
        ...["--set", "objectStore.artifactsBucket=mlops-uat-artifacts"],
        ...["--set", "objectStore.dataBucket=mlops-uat-data"],
        ...["--set", "registry.servingRepository=ml-docker-uat-local/mlops-serving"],
        ...["--set", "registry.trainingRepository=ml-docker-uat-local/mlops-training"],
      ),
    );
    // Every step succeeded (a path with nothing to promote would make the walk vacuous).
    expect(steps.filter((s) => s.status !== 0).map((s) => `${s.what}:\n${s.output}`)).toEqual([]);

    const before = snapshotFiles();
    // The one command docs/releases.md gives, as `npm run snapshots` runs it.
    const scripts = JSON.parse(readFileSync(join(copy, "package.json"), "utf8")).scripts as Record<
      string,
      string
    >;
    const updated = jest(...scripts.snapshots.replace(/^jest /, "").split(" "));
    expect(updated.status === 0 ? "" : updated.output).toBe("");
    const after = snapshotFiles();
    // The pull request shows the new stacks and the promoted releases in the snapshots' diff.
    for (const stack of ["uat-foundation", "uat-platform", "uat-serving"])
      expect(
        after["foundation-stack.test.ts.snap"] +
          after["platform-stack.test.ts.snap"] +
          after["serving-stack.test.ts.snap"],
      ).toContain(`exports[\`${stack} snapshot matches the reviewed Terraform 1\`]`);
    expect(after["onprem-stacks.test.ts.snap"]).toContain(
      "exports[`onprem-uat-serving matches the reviewed snapshot 1`]",
    );
    expect(after["serving-stack.test.ts.snap"]).not.toBe(before["serving-stack.test.ts.snap"]);

    // npm test, as CI runs it: the type check, then the unit layer refusing unwritten snapshots.
    const typecheck = run(copy, join(copy, "scripts", "typecheck.js"), []);
    expect(typecheck.status === 0 ? "" : typecheck.output).toBe("");
    const unit = jest("--selectProjects", "unit", "--ci");
    expect(
      unit.status === 0
        ? ""
        : unit.output
            .split("\n")
            .filter((l) => /●|FAIL|Tests:|Snapshots:/.test(l))
            .join("\n"),
    ).toBe("");
  }, 600_000);
});
