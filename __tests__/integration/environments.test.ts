/**
 * Synthesis of the environment registry to disk: nothing written when an environment is
 * invalid, otherwise one cdk.tf.json per stack, free of machine-specific paths.
 */
import { mkdtempSync, readdirSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { isOnPremInput } from "../../environments/targets";
import { dev } from "../../environments/dev";
import { prod } from "../../environments/prod";
import { describeProblems, synthesizeAll } from "../../stacks/synthesize";
import { fixtureReleaseText, releasesWith } from "../support/release-files";
import { variant } from "../support/environment-variant";

describe("synthesis of the registry", () => {
  it("writes nothing and returns the problems when any environment is invalid", () => {
    const outdir = join(mkdtempSync(join(tmpdir(), "synth-")), "out");
    const result = synthesizeAll([dev, variant(prod, (e) => (e.network.azCount = 0))], { outdir });
    expect(result.ok).toBe(false);
    expect(existsSync(outdir)).toBe(false);
    if (!result.ok) {
      const message = describeProblems(result.problems);
      expect(message).toContain("prod: network.azCount = 0: must be between 2 and 6");
      expect(message).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it("says a construct's refusal in one line with one fix, naming the release field under current.", () => {
    const outdir = join(mkdtempSync(join(tmpdir(), "synth-")), "out");
    const releases = releasesWith(
      "dev",
      fixtureReleaseText("dev").replace(
        /"name": "churn-classifier",\s*"alias"/,
        '"name": "churn-clasifier", "alias"',
      ),
    );
    const result = synthesizeAll([dev], { outdir, releasesDirectory: releases });
    expect(result.ok ? [] : result.problems).toEqual([
      'dev: environments/releases/dev.json: current.serving.model.name = "churn-clasifier": is the registeredModel of no models[] entry; fix: add the served version to current.models[] (registeredModel, version, artifactPath) or name one of theirs',
    ]);
    expect(existsSync(outdir)).toBe(false);
  });

  it("writes one cdk.tf.json per stack, free of machine-specific paths", () => {
    const outdir = mkdtempSync(join(tmpdir(), "synth-"));
    const result = synthesizeAll(ENVIRONMENTS, { outdir });
    // One bootstrap stack per AWS account, then every environment of the registry, in its
    // order: AWS ones with a foundation.
    const accounts = ENVIRONMENTS.flatMap((env) =>
      isOnPremInput(env) ? [] : (env.aws.allowedAccountIds ?? []),
    );
    const stacks = [...new Set(accounts)].map((account) => `bootstrap-${account}`);
    stacks.push(
      ...ENVIRONMENTS.flatMap((env) => [
        ...(isOnPremInput(env) ? [] : [`${env.name}-foundation`]),
        `${env.name}-platform`,
        `${env.name}-serving`,
      ]),
    );
    expect(result).toMatchObject({ ok: true, stacks, outdir });
    if (result.ok) {
      expect(result.summary.map((s) => s.stack)).toEqual(stacks);
      for (const { resources } of result.summary) expect(resources).toBeGreaterThan(0);
    }
    expect(readdirSync(join(outdir, "stacks")).sort()).toEqual([...stacks].sort());
    for (const stack of stacks) {
      const text = readFileSync(join(outdir, "stacks", stack, "cdk.tf.json"), "utf8");
      expect(text).not.toContain(outdir);
      expect(text).not.toContain(process.cwd());
    }
  });
});
