/**
 * The integration layer holds no expectation a promotion can move. A promotion rewrites the
 * release of every environment that takes releases from another (staging, prod, onprem-prod) and
 * so that environment's serving stack; the end-to-end workflows test
 * (`integration/workflows.test.ts`) proves the unit layer still passes after it, and this guard
 * proves, by reading their sources, that no integration test file depends on what those releases
 * hold today: none names a release's image (by tag or digest) or model artifact, none reads the
 * registry's release files, and none reads a promoted environment's serving stack, except the
 * files listed below, which derive every expectation from the stack they read. Checks that need
 * a release's content (a canary, an image tag) read the fixture releases (`support/release-files`).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ENVIRONMENTS } from "../environments";
import { PROMOTION_PATHS, upstreamOf } from "../environments/promotion";
import { RELEASES_DIRECTORY } from "../environments/releases";

const INTEGRATION = join(__dirname, "integration");

/** Files that read a promoted environment's serving stack and derive every expectation from it. */
const DERIVED_FROM_THE_STACK: Record<string, string> = {
  "model-registration.test.ts":
    "runs the registration Job's script as onprem-prod's serving stack holds it, with that Job's environment (model, alias, source, version) as expected values",
};

/** Files that read every release file and check a property for whatever each one pins. */
const DERIVED_FROM_THE_RELEASES: Record<string, string> = {
  "fetch-sources.test.ts":
    "checks that the pinned-sources manifest fetches the Kubeflow Pipelines tag and every chart version each release file pins, whatever they are",
};

/** The environments whose release (and serving stack) a promotion rewrites. */
const PROMOTED = PROMOTION_PATHS.flat().filter((name) => upstreamOf(name) !== undefined);

/** What a release names that a promotion moves: image tags and digests, model artifacts. */
function releaseValues(): { tags: Set<string>; exact: Set<string> } {
  const tags = new Set<string>();
  const exact = new Set<string>();
  for (const { name } of ENVIRONMENTS) {
    let text: string;
    try {
      text = readFileSync(join(RELEASES_DIRECTORY, `${name}.json`), "utf8");
    } catch {
      continue;
    }
    const file = JSON.parse(text) as { current: any; history: any[] };
    for (const entry of [file.current, ...file.history]) {
      for (const image of [entry.serving?.image, entry.training?.image]) {
        if (image?.tag) tags.add(image.tag);
        if (image?.digest) exact.add(image.digest);
      }
      for (const model of entry.models ?? [])
        for (const path of [model.artifactPath, model.canary?.artifactPath]) if (path) exact.add(path);
    }
  }
  return { tags, exact };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** One line per place in `source` that reads what a promotion moves. */
export function promotionDependentReads(
  source: string,
  values: { tags: ReadonlySet<string>; exact: ReadonlySet<string> },
  promoted: readonly string[],
): string[] {
  const found: string[] = [];
  source.split("\n").forEach((line, index) => {
    const at = `line ${index + 1}`;
    for (const value of values.exact)
      if (line.includes(value)) found.push(`${at}: names a release's image or model artifact ${value}`);
    // A tag is a version number, which other versions share: it counts where an image is meant.
    if (/tag|mlops-serving|mlops-training/i.test(line))
      for (const tag of values.tags)
        if (new RegExp(`(?<![\\w.-])${escape(tag)}(?![\\w.-]*\\d)`).test(line))
          found.push(`${at}: names the image tag ${tag} of a release`);
    if (/\bRELEASES_DIRECTORY\b|\bloadRelease\(/.test(line))
      found.push(`${at}: reads the registry's release files`);
    for (const env of promoted)
      if (new RegExp(`(\\.${escape(env)}|\\[["'\`]${escape(env)}["'\`]\\])\\.serving\\b`).test(line))
        found.push(`${at}: reads ${env}'s serving stack, which a promotion rewrites`);
  });
  return found;
}

describe("integration tests that read the registry", () => {
  const values = releaseValues();

  it("names each environment a promotion rewrites, and the values a release holds", () => {
    expect(PROMOTED.length).toBeGreaterThan(0);
    expect(values.tags.size).toBeGreaterThan(0);
    expect(values.exact.size).toBeGreaterThan(0);
  });

  it("catches a hard-coded tag, a release file read and a promoted serving stack read", () => {
    const [tag] = values.tags;
    const [env] = PROMOTED;
    const lines = promotionDependentReads(
      [
        `expect(plan([{ image_tag: "${tag}" }])).toEqual([]);`,
        `const [churn] = inferenceServices(synthesized.${env}.serving.json);`,
        `const other = synthesized["${env}"].serving.json;`,
        'const text = readFileSync(join(RELEASES_DIRECTORY, "staging.json"), "utf8");',
        `const version = "runs MLServer ${tag}.1";`,
      ].join("\n"),
      values,
      PROMOTED,
    );
    expect(lines).toEqual([
      `line 1: names the image tag ${tag} of a release`,
      `line 2: reads ${env}'s serving stack, which a promotion rewrites`,
      `line 3: reads ${env}'s serving stack, which a promotion rewrites`,
      "line 4: reads the registry's release files",
    ]);
  });

  it("hold no expectation a promotion moves: they derive it, or read the fixture releases", () => {
    const files = readdirSync(INTEGRATION).filter((file) => file.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(0);
    const found = files.flatMap((file) =>
      promotionDependentReads(readFileSync(join(INTEGRATION, file), "utf8"), values, PROMOTED)
        .filter((line) => !(file in DERIVED_FROM_THE_STACK && line.includes("serving stack")))
        .filter(
          (line) =>
            !(file in DERIVED_FROM_THE_RELEASES && line.endsWith("reads the registry's release files")),
        )
        .map((line) => `integration/${file} ${line}`),
    );
    expect(found).toEqual([]);
    // Every exception is still needed.
    for (const file of [...Object.keys(DERIVED_FROM_THE_STACK), ...Object.keys(DERIVED_FROM_THE_RELEASES)])
      expect(
        promotionDependentReads(readFileSync(join(INTEGRATION, file), "utf8"), values, PROMOTED).length,
      ).toBeGreaterThan(0);
  });
});
