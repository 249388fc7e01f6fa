/**
 * What a failed synthesis must leave behind: exit code 1, exactly one line naming the field,
 * the value, the rule and the fix, no stack trace, and the output folder as it was.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSynthesis, type SynthesisOptions } from "../../stacks/synthesize";

/** Every file under `directory` with its content, to prove nothing changed. */
export function contents(directory: string): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path, `${prefix}${entry.name}/`);
      else files[`${prefix}${entry.name}`] = readFileSync(path, "utf8");
    }
  };
  walk(directory, "");
  return files;
}

/** An output folder holding the previous run's stacks, as a real checkout would. */
export function previousOutput(): string {
  const outdir = join(mkdtempSync(join(tmpdir(), "synth-")), "cdktf.out");
  mkdirSync(join(outdir, "stacks", "dev-foundation"), { recursive: true });
  writeFileSync(join(outdir, "stacks", "dev-foundation", "cdk.tf.json"), '{"previous": true}\n');
  writeFileSync(join(outdir, "manifest.json"), '{"previous": true}\n');
  return outdir;
}

/** Runs the synthesis as `npm run synth` does and checks the promise of a failed run. */
export async function expectOneProblem(
  registry: () => readonly unknown[],
  expected: string | RegExp,
  options: Omit<SynthesisOptions, "outdir"> = {},
): Promise<void> {
  const outdir = previousOutput();
  const before = contents(outdir);
  const run = await runSynthesis(registry, { ...options, outdir });
  expect(run.exitCode).toBe(1);
  expect(run.stdout).toBe("");
  const problems = run.stderr.split("\n").filter((line) => line.startsWith("  - "));
  expect(problems).toHaveLength(1);
  if (typeof expected === "string") expect(problems[0].slice(4).startsWith(expected)).toBe(true);
  else expect(problems[0].slice(4)).toMatch(expected);
  expect(problems[0]).toMatch(/; fix: \S/);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(contents(outdir)).toEqual(before);
}
