/**
 * The synthesis as it runs and writes: environment files that do not load, reported by the
 * synthesis run with tsx as `npm run synth` runs it (exit code 1, one line naming the file and
 * the fix, no stack trace, the output folder left as it was); the output folder after a
 * synthesis; and the names derived from the longest environment name the schema allows, read
 * from the synthesized stack.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { dev } from "../../environments/dev";
import { runSynthesis } from "../../stacks/synthesize";
import { contents, previousOutput } from "../support/failed-synthesis";
import { variant } from "../support/environment-variant";
import { releasesWith, releaseText } from "../support/release-files";

describe("environment files that do not load", () => {
  const project = resolve(__dirname, "..", "..");
  const tsx = join(project, "node_modules", ".bin", "tsx");

  /** Runs the synthesis with tsx, as `npm run synth` does, on a registry written to a temporary folder. */
  function synthWithRegistry(files: Record<string, string>) {
    const directory = mkdtempSync(join(tmpdir(), "registry-"));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(directory, name), text);
    const outdir = previousOutput();
    writeFileSync(
      join(directory, "run.ts"),
      `import { runSynthesis } from ${JSON.stringify(join(project, "stacks", "synthesize"))};
void runSynthesis(async () => (await import("./index")).ENVIRONMENTS, { outdir: ${JSON.stringify(outdir)} }).then((run) => {
  process.stderr.write(run.stderr);
  process.exitCode = run.exitCode;
});
`,
    );
    const before = contents(outdir);
    const result = spawnSync(tsx, ["run.ts"], { cwd: directory, encoding: "utf8" });
    return { ...result, unchanged: JSON.stringify(contents(outdir)) === JSON.stringify(before) };
  }

  it("reports a syntax error in an environment file with its file, line and column", () => {
    const result = synthWithRegistry({
      "index.ts": 'import { dev } from "./dev";\nexport const ENVIRONMENTS = [dev];\n',
      "dev.ts": 'export const dev = {\n  name: "dev",\n  protection: "disposable"\n  aws: {},\n};\n',
    });
    expect(result.status).toBe(1);
    const problems = result.stderr.split("\n").filter((line) => line.startsWith("  - "));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^ {2}- \S*dev\.ts:4:2: Expected "}" but found "aws"; fix: correct the TypeScript syntax/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.unchanged).toBe(true);
  });

  it("reports an import of a file that does not exist", () => {
    const result = synthWithRegistry({
      "index.ts": 'import { dev } from "./dvv";\nexport const ENVIRONMENTS = [dev];\n',
    });
    expect(result.status).toBe(1);
    const problems = result.stderr.split("\n").filter((line) => line.startsWith("  - "));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /index\.ts: imports \.\/dvv, which does not exist; fix: correct the file name/,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.unchanged).toBe(true);
  });
});

describe("the output folder", () => {
  it("holds exactly the current stacks after a synthesis: stale stack folders are gone", async () => {
    const outdir = previousOutput();
    mkdirSync(join(outdir, "stacks", "qa-foundation"));
    writeFileSync(join(outdir, "stacks", "qa-foundation", "cdk.tf.json"), "{}");
    const run = await runSynthesis(() => [dev], { outdir });
    expect(run.exitCode).toBe(0);
    expect(readdirSync(join(outdir, "stacks")).sort()).toEqual([
      "bootstrap-111111111111",
      "dev-foundation",
      "dev-platform",
      "dev-serving",
    ]);
    expect(readFileSync(join(outdir, "stacks", "dev-foundation", "cdk.tf.json"), "utf8")).not.toContain(
      '"previous"',
    );
    expect(readdirSync(join(outdir, "..")).sort()).toEqual(["cdktf.out"]);
    expect(run.stdout.split("\n")[0]).toMatch(
      new RegExp(`^Synthesized 4 stacks \\(\\d+ resources\\) into ${outdir}/stacks:$`),
    );
    expect(run.stdout).toMatch(/\n {2}dev-foundation +\d+ resources\n/);
  });
});

describe("names derived from the environment's name", () => {
  /** AWS's limits on the names the foundation stack derives, by resource type and attribute. */
  const LIMITS: Record<string, Record<string, number>> = {
    aws_iam_role: { name: 64, name_prefix: 38 },
    aws_iam_policy: { name: 128, name_prefix: 96 },
    aws_iam_role_policy: { name: 128 },
    aws_db_instance: { identifier: 63, final_snapshot_identifier: 255 },
    aws_db_subnet_group: { name: 255 },
    aws_db_parameter_group: { name: 255, name_prefix: 229 },
    aws_eks_cluster: { name: 100 },
    aws_eks_node_group: { node_group_name_prefix: 37 },
    aws_launch_template: { name_prefix: 99 },
    aws_security_group: { name: 255, name_prefix: 100 },
    aws_kms_alias: { name: 256 },
    aws_cloudwatch_log_group: { name: 512 },
  };

  it("stay within AWS's limits for the longest name the schema allows", async () => {
    const name = "abcdefghijklmnopqrstuvwx";
    const releasesDirectory = releasesWith(name, releaseText("dev"));
    const outdir = join(mkdtempSync(join(tmpdir(), "synth-")), "cdktf.out");
    const run = await runSynthesis(() => [variant(dev, (e) => (e.name = name))], {
      outdir,
      releasesDirectory,
    });
    expect(run.stderr).toBe("");
    const json = JSON.parse(
      readFileSync(join(outdir, "stacks", `${name}-foundation`, "cdk.tf.json"), "utf8"),
    );
    const checked: string[] = [];
    for (const [type, limits] of Object.entries(LIMITS)) {
      for (const resource of Object.values<Record<string, unknown>>(json.resource[type] ?? {})) {
        for (const [attribute, limit] of Object.entries(limits)) {
          const value = resource[attribute];
          if (typeof value !== "string") continue;
          checked.push(`${type}.${attribute}`);
          expect({ [`${type}.${attribute}`]: value.length <= limit ? "fits" : value }).toEqual({
            [`${type}.${attribute}`]: "fits",
          });
        }
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining(["aws_iam_role.name", "aws_db_instance.identifier", "aws_eks_cluster.name"]),
    );
    expect(JSON.stringify(json.resource.aws_db_instance)).not.toContain("--");
  });
});
