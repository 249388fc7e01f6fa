import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArguments, promote } from "../scripts/promote";
import { loadRelease } from "../environments/releases";
import { releaseContent } from "../environments/release-schema";
import { fixtureReleases, fixtureReleaseText } from "./support/release-files";

const NOW = new Date("2026-11-23T12:00:00Z");

/** The fixture release files (which never move with the registry's) to promote in. */
const workspace = fixtureReleases;
const snapshot = (directory: string) =>
  Object.fromEntries(
    readdirSync(directory).map((file) => [file, readFileSync(join(directory, file), "utf8")]),
  );

describe("promote", () => {
  it("copies the source's release into the target, keeps the previous one in history and prints the changes", () => {
    const directory = workspace();
    const before = loadRelease("prod", directory);
    const source = loadRelease("staging", directory);
    const result = promote({ from: "staging", to: "prod", dryRun: false, directory, now: NOW });
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain("promote staging -> prod: 6 changes");
    expect(result.output).toContain('~ serving.image.tag: "1.4.1" -> "1.4.2"');
    expect(result.output).toContain("+ models[0].canary.trafficPercent: 10");
    // The monitoring image moves with the release, like the serving and training images.
    expect(result.output).toMatch(
      /~ monitoring\.image\.digest: "sha256:[0-9a-f]{64}" -> "sha256:[0-9a-f]{64}"/,
    );
    const after = loadRelease("prod", directory);
    if (!after.ok || !before.ok || !source.ok) throw new Error("release files must stay valid");
    expect(releaseContent(after.release.current)).toEqual(releaseContent(source.release.current));
    expect(after.release.current).toMatchObject({
      promotedAt: "2026-11-23T12:00:00Z",
      promotedFrom: "staging",
    });
    expect(after.release.history).toEqual([...before.release.history, before.release.current]);
    expect(readdirSync(directory).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("prints the diff and writes nothing on a dry run", () => {
    const directory = workspace();
    const before = snapshot(directory);
    const result = promote({ from: "staging", to: "prod", dryRun: true, directory, now: NOW });
    expect(result.exitCode).toBe(0);
    expect(result.output.split("\n")[0]).toBe("[dry run] promote staging -> prod: 6 changes");
    expect(snapshot(directory)).toEqual(before);
  });

  const failures: [string, { from: string; to: string }, (directory: string) => void, string][] = [
    [
      "an unknown environment",
      { from: "qa", to: "prod" },
      () => {},
      'promote: --from "qa": is not an environment of a promotion path',
    ],
    [
      "the wrong direction",
      { from: "prod", to: "staging" },
      () => {},
      "promote: releases move only forward, and prod comes after staging (promotion order: dev -> staging -> prod; onprem-test -> onprem-prod); fix: to run staging's previous release again, npm run rollback -- --env staging; to move dev's release into staging, npm run promote -- --from dev --to staging",
    ],
    [
      "skipping an environment",
      { from: "dev", to: "prod" },
      () => {},
      "promote: prod takes releases only from staging, not dev (promotion order: dev -> staging -> prod; onprem-test -> onprem-prod); fix: promote one step at a time: npm run promote -- --from dev --to staging, then npm run promote -- --from staging --to prod",
    ],
    [
      "promoting into the first environment",
      { from: "staging", to: "dev" },
      () => {},
      "promote: dev is the start of its promotion path and takes no release from staging (promotion order: dev -> staging -> prod; onprem-test -> onprem-prod); fix: set dev's new release with npm run release -- --env dev --set <field>=<value>",
    ],
    [
      "a malformed source",
      { from: "staging", to: "prod" },
      (d) => writeFileSync(join(d, "staging.json"), "{ not json"),
      "promote: source releases/staging.json:1:3: not valid JSON",
    ],
    [
      "an invalid target",
      { from: "staging", to: "prod" },
      (d) => writeFileSync(join(d, "prod.json"), '{"current": {}}'),
      "promote: target releases/prod.json:1: current.charts is missing",
    ],
    [
      "nothing to promote",
      { from: "staging", to: "prod" },
      (d) => {
        const read = (file: string) => JSON.parse(readFileSync(join(d, file), "utf8"));
        const prod = read("prod.json");
        prod.current = { ...read("staging.json").current, promotedFrom: "staging" };
        writeFileSync(join(d, "prod.json"), JSON.stringify(prod));
      },
      "promote: nothing to promote: prod already runs staging's current release",
    ],
  ];

  it.each(failures)(
    "fails on %s with one line and leaves every file byte-identical",
    (_what, route, prepare, expected) => {
      const directory = workspace();
      prepare(directory);
      const before = snapshot(directory);
      const result = promote({ ...route, dryRun: false, directory, now: NOW });
      expect(result.exitCode).toBe(1);
      expect(result.output.startsWith(expected)).toBe(true);
      expect(result.output.trim().split("\n")).toHaveLength(1);
      expect(snapshot(directory)).toEqual(before);
    },
  );

  it("fails on a missing source file with one line and changes nothing", () => {
    const directory = mkdtempSync(join(tmpdir(), "releases-"));
    writeFileSync(join(directory, "prod.json"), fixtureReleaseText("prod"));
    const before = snapshot(directory);
    const result = promote({ from: "staging", to: "prod", dryRun: false, directory, now: NOW });
    expect(result).toEqual({
      exitCode: 1,
      output:
        "promote: source releases/staging.json does not exist; fix: restore it from Git (git checkout -- environments/releases/staging.json), or set staging's release with npm run release -- --env staging --set <field>=<value>\n",
    });
    expect(snapshot(directory)).toEqual(before);
  });
});

describe("promote's command line", () => {
  it("reads --from, --to and --dry-run", () => {
    expect(parseArguments(["--from", "staging", "--to", "prod", "--dry-run"])).toEqual({
      from: "staging",
      to: "prod",
      dryRun: true,
    });
  });

  it.each([
    [[], "usage: npm run promote -- --from <env> --to <env> [--dry-run]"],
    [["--from"], "--from: needs an environment name, and none was given; fix: "],
    [["--from", "dev", "--to", "staging", "--force"], "--force: is not a flag of this command"],
    [["--from", "dev"], "--to: is required and missing; fix: usage: npm run promote"],
    [["--from", "dev", "--to", "staging", "--dry-run=yes"], "--dry-run=yes: --dry-run takes no value; fix: "],
    [["--from", "--to", "staging"], "--from: needs an environment name, and --to is a flag; fix: "],
    [
      ["--from", "staging", "--to", "staging", "--to", "prod"],
      '--to "prod": --to is given twice (first "staging")',
    ],
    [
      ["dev", "staging"],
      '"dev": a word without a flag, which this command does not take; fix: write --from dev --to staging',
    ],
  ])("rejects %j", (argv, message) => {
    expect(String(parseArguments(argv))).toContain(message);
  });

  it("reads --flag=value as --flag value", () => {
    expect(parseArguments(["--from=dev", "--to=staging"])).toEqual({
      from: "dev",
      to: "staging",
      dryRun: false,
    });
  });

  it("answers a mistyped environment with the nearest one", () => {
    expect(promote({ from: "Dev", to: "staging", dryRun: true }).output).toMatch(/; fix: use --from dev\n$/);
    expect(promote({ from: "dev", to: "stagign", dryRun: true }).output).toBe(
      'promote: --to "stagign": is not an environment of a promotion path (dev, staging, prod, onprem-test, onprem-prod); fix: use --to staging\n',
    );
  });
});
