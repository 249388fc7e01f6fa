/**
 * A snapshot nobody wrote fails the test commands, CI or not: `npm test` and `npm run
 * test:integration` run jest with `--ci` (jest would otherwise write a missing snapshot and pass),
 * `.ci/run` exports CI=true, and only `npm run snapshots` writes them. Each command's jest
 * arguments are taken from package.json and run, with CI unset, on a test of their own whose
 * snapshot is missing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../environments/project-root";

const ROOT = projectRoot();
const SCRIPTS = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<
  string,
  string
>;

/** The arguments a package script hands to jest (after `jest`, up to the next `&&`). */
function jestArguments(script: string): string[] {
  const command = SCRIPTS[script].split("&&").find((part) => part.trim().startsWith("jest "));
  if (command === undefined) throw new Error(`package.json script ${script} runs no jest`);
  return command.trim().split(/\s+/).slice(1);
}

/**
 * Runs jest with `args` on a folder holding one test with one snapshot and no snapshot file, as
 * both projects (unit and integration) so `--selectProjects` finds its project. CI is unset.
 */
function runOnUnwrittenSnapshot(args: readonly string[]) {
  const work = mkdtempSync(join(tmpdir(), "unwritten-snapshot-"));
  try {
    writeFileSync(
      join(work, "probe.test.js"),
      'it("probe snapshot", () => { expect({ written: false }).toMatchSnapshot(); });\n',
    );
    const project = (displayName: string) => ({ displayName, rootDir: work, testMatch: ["**/*.test.js"] });
    writeFileSync(
      join(work, "jest.config.json"),
      JSON.stringify({ rootDir: work, projects: [project("unit"), project("integration")] }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0" };
    for (const name of ["CI", "CONTINUOUS_INTEGRATION", "BUILD_NUMBER", "RUN_ID", "JENKINS_URL", "BUILD_ID"])
      delete env[name];
    const result = spawnSync(
      process.execPath,
      [
        join(ROOT, "node_modules", "jest", "bin", "jest.js"),
        ...args.filter((arg) => !arg.startsWith("__tests__/")),
        "--config",
        join(work, "jest.config.json"),
        "--rootDir",
        work,
      ],
      { cwd: work, encoding: "utf8", env },
    );
    return {
      status: result.status,
      output: `${result.stdout}\n${result.stderr}`,
      written: existsSync(join(work, "__snapshots__", "probe.test.js.snap")),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

describe("a snapshot nobody wrote", () => {
  it.each(["test", "test:integration", "test:all"])(
    "fails npm run %s with CI unset, and is not written",
    (script) => {
      const run = runOnUnwrittenSnapshot(jestArguments(script));
      expect(run.output).toContain("New snapshot was not written");
      expect(run.status).not.toBe(0);
      expect(run.written).toBe(false);
    },
  );

  it("is written by npm run snapshots, the one command that writes them", () => {
    const run = runOnUnwrittenSnapshot(jestArguments("snapshots"));
    expect(run.status === 0 ? "" : run.output).toBe("");
    expect(run.written).toBe(true);
  });

  it("fails .ci/run's test commands: it exports CI=true before running them", () => {
    const lines = readFileSync(join(ROOT, ".ci", "run"), "utf8").split("\n");
    const exported = lines.findIndex((line) => /^export CI=true\b/.test(line));
    expect(exported).toBeGreaterThanOrEqual(0);
    expect(exported).toBeLessThan(lines.findIndex((line) => line === "npm test"));
  });
});
