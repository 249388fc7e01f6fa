/**
 * Release files for tests of promotion and of bad or changed releases.
 *
 * The fixtures (`__tests__/fixtures/releases`) are release files the tests own: what each
 * environment runs there never moves, whatever `npm run promote` does to the registry's files.
 * Only the platform's versions (charts, Kubeflow Pipelines), which every release file of a target
 * must name for the stacks to build, are taken from the registry: from the first environment of the
 * same target, the same for every fixture, so a promotion between fixtures never changes them.
 */
import { cpSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { RELEASES_DIRECTORY } from "../../environments/releases";
import { isOnPremInput } from "../../environments/targets";

/** The release files the tests own. */
export const FIXTURE_RELEASES_DIRECTORY = join(__dirname, "..", "fixtures", "releases");
/** The fixture environments by target, in their promotion order. */
export const FIXTURE_ENVIRONMENTS = {
  aws: ["dev", "staging", "prod"],
  rancher: ["onprem-test", "onprem-prod"],
} as const;

type Entry = { charts: unknown; kubeflowPipelines: unknown; [key: string]: unknown };
type File = { current: Entry; history: Entry[] };

/** The registry's platform versions of a target: those of its first environment. */
function platformVersions(target: "aws" | "rancher"): Pick<Entry, "charts" | "kubeflowPipelines"> {
  const source = ENVIRONMENTS.find((input) => isOnPremInput(input) === (target === "rancher"));
  if (source === undefined) throw new Error(`the registry has no ${target} environment`);
  const { current } = JSON.parse(
    readFileSync(join(RELEASES_DIRECTORY, `${source.name}.json`), "utf8"),
  ) as File;
  return { charts: current.charts, kubeflowPipelines: current.kubeflowPipelines };
}

/** A fixture's text, as `npm run promote` writes a release file. */
export function fixtureReleaseText(environment: string): string {
  const target = (FIXTURE_ENVIRONMENTS.rancher as readonly string[]).includes(environment)
    ? "rancher"
    : "aws";
  const file = JSON.parse(
    readFileSync(join(FIXTURE_RELEASES_DIRECTORY, `${environment}.json`), "utf8"),
  ) as File;
  const platform = platformVersions(target);
  const withPlatform = (entry: Entry): Entry => ({ ...entry, ...platform });
  return `${JSON.stringify({ current: withPlatform(file.current), history: file.history.map(withPlatform) }, null, 2)}\n`;
}

/** A new folder holding every fixture release file (tests promote and break files in it). */
export function fixtureReleases(): string {
  const directory = mkdtempSync(join(tmpdir(), "fixture-releases-"));
  for (const file of readdirSync(FIXTURE_RELEASES_DIRECTORY).filter((name) => name.endsWith(".json")))
    writeFileSync(join(directory, file), fixtureReleaseText(file.replace(/\.json$/, "")));
  return directory;
}

/** A copy of the registry's release files, one of them replaced by `text`. */
export function releasesWith(environment: string, text: string): string {
  const directory = mkdtempSync(join(tmpdir(), "releases-"));
  cpSync(RELEASES_DIRECTORY, directory, { recursive: true });
  writeFileSync(join(directory, `${environment}.json`), text);
  return directory;
}

/** The text of a fixture release file (what tests change to make a bad one). */
export const releaseText = fixtureReleaseText;
