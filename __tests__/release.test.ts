import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main, release, rollback } from "../scripts/release";
import { promote } from "../scripts/promote";
import { loadRelease } from "../environments/releases";
import { releaseContent } from "../environments/release-schema";
import { fixtureReleases } from "./support/release-files";

const NOW = new Date("2026-11-23T12:00:00Z");
const snapshot = (directory: string) =>
  Object.fromEntries(
    readdirSync(directory).map((file) => [file, readFileSync(join(directory, file), "utf8")]),
  );
const load = (env: string, directory: string) => {
  const loaded = loadRelease(env, directory);
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  return loaded.release;
};

describe("npm run release", () => {
  it("writes a new release into dev, keeps the previous one in history, and staging can then take it", () => {
    const directory = fixtureReleases();
    const before = load("dev", directory);
    const result = release({
      env: "dev",
      settings: ["serving.image.tag=2.0.0", "training.image.tag=2.0.0"],
      dryRun: false,
      directory,
      now: NOW,
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toContain("release into dev: 2 changes");
    expect(result.stdout).toContain(
      `~ serving.image.tag: ${JSON.stringify(before.current.serving.image.tag)} -> "2.0.0"`,
    );
    const after = load("dev", directory);
    expect(after.current.serving.image).toEqual({ tag: "2.0.0" });
    expect(after.current.promotedAt).toBe("2026-11-23T12:00:00Z");
    expect(after.current.promotedFrom).toBeUndefined();
    expect(after.history).toEqual([...before.history, before.current]);
    expect(promote({ from: "dev", to: "staging", dryRun: false, directory, now: NOW }).exitCode).toBe(0);
    expect(load("staging", directory).current.serving.image).toEqual({ tag: "2.0.0" });
  });

  it.each([
    [
      "an environment that takes releases by promotion",
      ["--env", "staging", "--set", "serving.image.tag=2.0.0"],
      "release: staging receives releases only by promotion from dev; fix: release into the start of its path, then npm run promote -- --from dev --to staging\n",
    ],
    [
      "a value the release schema refuses",
      ["--env", "dev", "--set", "serving.image.tag=latest"],
      /^release: the release of dev would be invalid: current\.serving\.image\.tag: .*fix: .*nothing was written\n$/,
    ],
    [
      "no change",
      ["--env", "dev"],
      "release: nothing to release: name what changes with --set <field>=<value>, e.g. --set serving.image.tag=1.4.3\n",
    ],
    [
      "a setting without a value",
      ["--env", "dev", "--set", "serving.image.tag"],
      /^release: --set "serving.image.tag" is not <field>=<value>/,
    ],
  ])("refuses %s with one line and writes nothing", (_what, args, expected) => {
    const directory = fixtureReleases();
    const before = snapshot(directory);
    const result = runIn(directory, args);
    expect(result.exitCode).toBe(1);
    if (typeof expected === "string") expect(result.stderr).toBe(expected);
    else expect(result.stderr).toMatch(expected);
    expect(snapshot(directory)).toEqual(before);
  });
});

/** The command line against a fixture folder: main() parses, release()/rollback() run there. */
function runIn(directory: string, args: string[]) {
  const env = args[args.indexOf("--env") + 1];
  const settings = args.flatMap((arg, i) => (args[i - 1] === "--set" ? [arg] : []));
  return args.includes("--rollback")
    ? rollback({ env, dryRun: false, directory, now: NOW })
    : release({ env, settings, dryRun: false, directory, now: NOW });
}

describe("npm run rollback", () => {
  it("makes the previous release current again, and a second rollback undoes the first", () => {
    const directory = fixtureReleases();
    const before = load("staging", directory);
    expect(before.history.length).toBeGreaterThan(0);
    const previous = before.history[before.history.length - 1];
    const result = rollback({ env: "staging", dryRun: false, directory, now: NOW });
    expect(result.stdout).toMatch(/^roll back staging: \d+ changes?\n/);
    const after = load("staging", directory);
    expect(releaseContent(after.current)).toEqual(releaseContent(previous));
    expect(after.current.promotedFrom).toBe(previous.promotedFrom);
    expect(after.current.promotedAt).toBe("2026-11-23T12:00:00Z");
    expect(after.history).toEqual([...before.history.slice(0, -1), before.current]);
    rollback({ env: "staging", dryRun: false, directory, now: NOW });
    expect(releaseContent(load("staging", directory).current)).toEqual(releaseContent(before.current));
  });

  it("prints without writing on --dry-run, and refuses an environment with no history", () => {
    const directory = fixtureReleases();
    const before = snapshot(directory);
    expect(rollback({ env: "staging", dryRun: true, directory, now: NOW }).stdout).toMatch(
      /^\[dry run\] roll back staging/,
    );
    expect(snapshot(directory)).toEqual(before);
    const empty = Object.entries({ dev: load("dev", directory), prod: load("prod", directory) }).find(
      ([, file]) => file.history.length === 0,
    );
    expect(empty).toBeDefined();
    expect(rollback({ env: empty![0], dryRun: false, directory, now: NOW }).stderr).toBe(
      `rollback: ${empty![0]} has no previous release to roll back to (its history is empty); fix: release or promote the release you want instead\n`,
    );
    expect(snapshot(directory)).toEqual(before);
  });
});

describe("what synthesis would refuse", () => {
  const edit = (directory: string, env: string, change: (file: any) => void) => {
    const path = join(directory, `${env}.json`);
    const file = JSON.parse(readFileSync(path, "utf8"));
    change(file);
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  };

  it("is not promoted: dev's reference data outside mlflow/ cannot reach staging, which replicates only mlflow/", () => {
    const directory = fixtureReleases();
    edit(directory, "dev", (file) => (file.current.models[0].monitoring.referenceData = "reference/churn"));
    const before = snapshot(directory);
    const result = promote({ from: "dev", to: "staging", dryRun: false, directory, now: NOW });
    expect(result.exitCode).toBe(1);
    expect(result.output).toMatch(
      /^promote: the promoted release does not fit staging: releases\/staging\.json: current\.models\[0\]\.monitoring\.referenceData = "reference\/churn": is outside mlflow\/, the only prefix replicated from dev; fix: [^;]*\n$/,
    );
    expect(snapshot(directory)).toEqual(before);
  });

  it("is not rolled back to: a history entry invalid for the environment today stays history", () => {
    const directory = fixtureReleases();
    edit(directory, "staging", (file) => {
      const last = file.history[file.history.length - 1];
      last.models[0].monitoring.groundTruth = `acme-mlops-staging-data/${last.models[0].monitoring.groundTruth}`;
    });
    const before = snapshot(directory);
    const result = rollback({ env: "staging", dryRun: false, directory, now: NOW });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(
      /^rollback: the previous release \(the last of history\) does not fit staging as its current release: releases\/staging\.json: current\.models\[0\]\.monitoring\.groundTruth = "acme-mlops-staging-data\/[^"]+": starts with "acme-mlops-staging-data", staging's bucket \(storage\.dataBucket\),.*; fix: drop the bucket name and write "[^"]+"\n$/,
    );
    expect(snapshot(directory)).toEqual(before);
  });
});

describe("the release and rollback command lines", () => {
  it("need --env, refuse --set on a rollback and unknown flags, with the usage", () => {
    expect(main([]).stderr).toMatch(/^--env is required; usage: npm run release/);
    expect(main(["--rollback", "--env", "prod", "--set", "a=b"]).stderr).toMatch(
      /^a rollback takes no --set/,
    );
    expect(main(["--env", "dev", "--bogus"]).stderr).toMatch(
      /Unknown option '--bogus'.*usage: npm run release/,
    );
  });
});
