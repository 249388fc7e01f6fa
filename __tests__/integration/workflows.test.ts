/**
 * The everyday workflows keep the unit layer green: in a copy of the project, every promotion path
 * is walked with `npm run promote`, an environment is scaffolded from each kind with `npm run
 * new-environment` (the on-prem one with the values it cannot invent), the stack snapshots are
 * brought up to date with `npm run snapshots` (the one command docs/releases.md gives), and the whole unit layer
 * then passes as `npm test` runs it (`jest --ci`, which refuses any snapshot nobody wrote).
 *
 * The copy does not depend on the registry's state: before the walk its release files of the
 * fixture environments are the fixture releases (`support/release-files`), which differ along
 * every path (a committed promotion would otherwise leave nothing to promote), and the scaffolded
 * names and values are derived to be absent from the registry (a committed `uat` stays). The
 * integration files hold nothing a promotion moves (`integration-registry-reads.test.ts`), so
 * the unit layer is what the walk can break.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { PROMOTION_PATHS } from "../../environments/promotion";
import { projectRoot } from "../../environments/project-root";
import { describeChanges } from "../../scripts/promote";
import { FIXTURE_ENVIRONMENTS, fixtureReleaseText } from "../support/release-files";
import { absentName, onPremSets } from "../support/scaffold-names";

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
  // CI unset: `npm test` itself must refuse a snapshot nobody wrote.
  const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: "0" };
  delete env.CI;
  const result = spawnSync(process.execPath, [script, ...args], {
    cwd: copy,
    encoding: "utf8",
    env,
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
  const scripts = JSON.parse(readFileSync(join(copy, "package.json"), "utf8")).scripts as Record<
    string,
    string
  >;
  /** The arguments a package script hands to jest. */
  const jestArguments = (script: string) =>
    scripts[script]
      .split("&&")
      .map((part) => part.trim())
      .find((part) => part.startsWith("jest "))!
      .split(/\s+/)
      .slice(1);
  const environments = join(copy, "environments");
  // Scaffolded names and values no environment of the registry has.
  const uat = absentName("uat", ENVIRONMENTS, environments);
  const onPremUat = absentName("onprem-uat", ENVIRONMENTS, environments);
  // The fixture releases, which differ along every path, in place of the registry's.
  const fixtures = [...FIXTURE_ENVIRONMENTS.aws, ...FIXTURE_ENVIRONMENTS.rancher] as string[];
  for (const name of fixtures)
    if (existsSync(join(environments, "releases", `${name}.json`)))
      writeFileSync(join(environments, "releases", `${name}.json`), fixtureReleaseText(name));
  const currentOf = (name: string) =>
    JSON.parse(readFileSync(join(environments, "releases", `${name}.json`), "utf8")).current;
  const snapshotFiles = () =>
    Object.fromEntries(
      readdirSync(join(copy, "__tests__", "__snapshots__")).map((file) => [
        file,
        readFileSync(join(copy, "__tests__", "__snapshots__", file), "utf8"),
      ]),
    );

  it("keeps npm test green after promoting along every path and scaffolding an AWS and an on-prem environment", () => {
    // Every step of every path moves something: source and target differ before the walk
    // (release content, not when or from where it was promoted).
    const content = (name: string) => {
      const { promotedAt: _at, promotedFrom: _from, ...rest } = currentOf(name);
      return rest;
    };
    for (const path of PROMOTION_PATHS)
      for (let i = 1; i < path.length; i++)
        expect({
          step: `${path[0]} (as it reaches ${path[i - 1]}) -> ${path[i]}`,
          differs: describeChanges(content(path[i]), content(path[0])).length > 0,
        }).toEqual({ step: `${path[0]} (as it reaches ${path[i - 1]}) -> ${path[i]}`, differs: true });

    const steps: { what: string; status: number | null; output: string }[] = [];
    const step = (what: string, result: { status: number | null; output: string }) =>
      steps.push({ what, ...result });
    for (const path of PROMOTION_PATHS)
      for (let i = 1; i < path.length; i++)
        step(
          `promote ${path[i - 1]} -> ${path[i]}`,
          tsx("promote.ts", "--from", path[i - 1], "--to", path[i]),
        );
    // On-prem first: a committed onprem-uat must not keep `uat` from being scaffolded.
    step(
      `new-environment ${onPremUat}`,
      tsx(
        "new-environment.ts",
        ...["--from", "onprem-test", "--name", onPremUat],
        ...onPremSets(onPremUat, ENVIRONMENTS),
      ),
    );
    step(`new-environment ${uat}`, tsx("new-environment.ts", "--from", "staging", "--name", uat));
    // Every step succeeded (a path with nothing to promote would make the walk vacuous).
    expect(steps.filter((s) => s.status !== 0).map((s) => `${s.what}:\n${s.output}`)).toEqual([]);

    const before = snapshotFiles();
    // The README's one command, as `npm run snapshots` runs it.
    const updated = jest(...jestArguments("snapshots"));
    expect(updated.status === 0 ? "" : updated.output).toBe("");
    const after = snapshotFiles();
    // The pull request shows the new stacks and the promoted releases in the snapshots' diff.
    for (const stack of [`${uat}-foundation`, `${uat}-platform`, `${uat}-serving`])
      expect(
        after["foundation-stack.test.ts.snap"] +
          after["platform-stack.test.ts.snap"] +
          after["serving-stack.test.ts.snap"],
      ).toContain(`exports[\`${stack} snapshot matches the reviewed Terraform 1\`]`);
    expect(after["onprem-stacks.test.ts.snap"]).toContain(
      `exports[\`${onPremUat}-serving matches the reviewed snapshot 1\`]`,
    );
    expect(after["serving-stack.test.ts.snap"]).not.toBe(before["serving-stack.test.ts.snap"]);

    // npm test, as package.json runs it with CI unset: the type check, then the unit layer
    // refusing unwritten snapshots.
    const typecheck = run(copy, join(copy, "scripts", "typecheck.js"), []);
    expect(typecheck.status === 0 ? "" : typecheck.output).toBe("");
    expect(jestArguments("test")).toContain("--ci");
    const unit = jest(...jestArguments("test"));
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
