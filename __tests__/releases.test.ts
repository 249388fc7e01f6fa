import { ENVIRONMENTS } from "../environments";
import { loadRelease, parseRelease, RELEASES_DIRECTORY } from "../environments/releases";
import { releaseContent } from "../environments/release-schema";
import { PROMOTION_PATHS, upstreamOf } from "../environments/promotion";
import { isOnPremInput } from "../environments/targets";
import { releaseText } from "./support/release-files";

/** The fixture staging release (with a canary), which the registry's promotions never change. */
const valid = JSON.parse(releaseText("staging"));
/** Every environment of the registry with its target. */
const REGISTRY = ENVIRONMENTS.map((input) => [input.name, isOnPremInput(input) ? "rancher" : "aws"] as const);
function variant(change: (release: any) => void): string {
  const copy = structuredClone(valid);
  change(copy);
  return JSON.stringify(copy);
}
const problems = (text: string) => {
  const result = parseRelease("releases/staging.json", text, "staging", "aws");
  return result.ok ? [] : result.problems;
};

describe("release files", () => {
  it.each(REGISTRY)("%s's release file is valid for its %s target", (env, target) => {
    const result = loadRelease(env, RELEASES_DIRECTORY, target);
    expect(result.ok ? [] : result.problems).toEqual([]);
  });

  it("reports a missing file with the fix", () => {
    const result = loadRelease("qa");
    expect(result.ok ? [] : result.problems).toEqual([
      "releases/qa.json: missing; fix: create it (copy another environment's and promote into it)",
    ]);
  });
});

/** [what is wrong, the text of the file, the start of the one expected message] */
const MALFORMED: [string, string, string][] = [
  [
    "a JSON syntax error",
    '{"current": ',
    "releases/staging.json:1:13: not valid JSON: Unexpected end of JSON input",
  ],
  [
    "a missing current release",
    variant((r) => delete r.current),
    "releases/staging.json: current is missing; fix: add current (a section { ... })",
  ],
  [
    "a missing serving image",
    variant((r) => delete r.current.serving.image),
    "releases/staging.json:1: current.serving.image is missing",
  ],
  [
    "the latest tag",
    variant((r) => (r.current.serving.image = { tag: "latest" })),
    'releases/staging.json:1: current.serving.image.tag = "latest": must not be a moving tag',
  ],
  [
    "a branch name as tag",
    variant((r) => (r.current.training.image = { tag: "main" })),
    'releases/staging.json:1: current.training.image.tag = "main": must not be a moving tag',
  ],
  [
    "a malformed digest",
    variant((r) => (r.current.serving.image = { digest: "sha256:abc" })),
    'releases/staging.json:1: current.serving.image.digest = "sha256:abc": must be sha256: followed by 64',
  ],
  [
    "both a tag and a digest",
    variant((r) => (r.current.serving.image = { tag: "1.0.0", digest: `sha256:${"a".repeat(64)}` })),
    "releases/staging.json:1: current.serving.image = ",
  ],
  [
    "an unknown model field",
    variant((r) => (r.current.models[0].replica = 2)),
    "releases/staging.json:1: current.models[0].replica: unknown field",
  ],
  [
    "a canary percent of 0",
    variant((r) => (r.current.models[0].canary.trafficPercent = 0)),
    "releases/staging.json:1: current.models[0].canary.trafficPercent = 0: must be between 1 and 99",
  ],
  [
    "a canary percent of 100",
    variant((r) => (r.current.models[0].canary.trafficPercent = 100)),
    "releases/staging.json:1: current.models[0].canary.trafficPercent = 100: must be between 1 and 99",
  ],
  [
    "a canary of the stable version",
    variant((r) => (r.current.models[0].canary.version = 7)),
    "releases/staging.json:1: current.models[0].canary.version = 7: must differ from the stable version",
  ],
  [
    "a model name that is not a DNS label",
    variant((r) => (r.current.models[0].name = "Churn_Model")),
    'releases/staging.json:1: current.models[0].name = "Churn_Model": must be a DNS label',
  ],
  [
    "a model listed twice",
    variant((r) => (r.current.models[1].name = r.current.models[0].name)),
    'releases/staging.json:1: current.models[1].name = "churn-classifier": is listed twice',
  ],
  [
    "a fractional model version",
    variant((r) => (r.current.models[0].version = 7.5)),
    "releases/staging.json:1: current.models[0].version = 7.5: must be a whole number",
  ],
  [
    "an s3:// artifact path",
    variant((r) => (r.current.models[0].artifactPath = "s3://bucket/model")),
    'releases/staging.json:1: current.models[0].artifactPath = "s3://bucket/model": must be a path inside the environment\'s artifacts bucket',
  ],
  [
    "a misspelt monitoring field, answered with the nearest known one",
    variant((r) => (r.current.models[0].monitoring.scheduel = "15 * * * *")),
    "releases/staging.json:1: current.models[0].monitoring.scheduel: unknown field; fix: write current.models[0].monitoring.schedule, or remove it",
  ],
  [
    "a drift threshold too large for a number, printed as it reads rather than as JSON's null",
    (() => {
      const text = variant((r) => (r.current.models[0].monitoring.driftThreshold = 0.123456));
      return text.replace("0.123456", "1e400");
    })(),
    "releases/staging.json:1: current.models[0].monitoring.driftThreshold = Infinity: must be a number above 0 and at most 1",
  ],
  [
    "an artifact path with a .. segment",
    variant((r) => (r.current.models[0].artifactPath = "mlflow/1/../2/artifacts/model")),
    'releases/staging.json:1: current.models[0].artifactPath = "mlflow/1/../2/artifacts/model": must not contain .., . or an empty segment',
  ],
  [
    "a canary artifact path with an empty segment",
    variant((r) => (r.current.models[0].canary.artifactPath = "mlflow//2/artifacts/model")),
    'releases/staging.json:1: current.models[0].canary.artifactPath = "mlflow//2/artifacts/model": must not contain .., . or an empty segment',
  ],
  [
    "an artifact path naming a file",
    variant((r) => (r.current.models[0].artifactPath = "mlflow/1/abc/artifacts/model/model.pkl")),
    'releases/staging.json:1: current.models[0].artifactPath = "mlflow/1/abc/artifacts/model/model.pkl": must name a folder, not a file (its last segment has a file extension); the platform reads and copies the prefix <path>/, which holds nothing under a file\'s name; fix: name the folder that holds the file, e.g. mlflow/1/<run id>/artifacts/model',
  ],
  [
    "reference data naming a file",
    variant(
      (r) =>
        (r.current.models[0].monitoring.referenceData = "mlflow/1/abc/artifacts/reference/reference.parquet"),
    ),
    'releases/staging.json:1: current.models[0].monitoring.referenceData = "mlflow/1/abc/artifacts/reference/reference.parquet": must name a folder, not a file',
  ],
  [
    "an unknown model format",
    variant((r) => (r.current.models[0].format = "pickle")),
    'releases/staging.json:1: current.models[0].format = "pickle": must be a model format KServe serves',
  ],
  [
    "a chart version range",
    variant((r) => (r.current.charts.mlflow = "^1.11.0")),
    'releases/staging.json:1: current.charts.mlflow = "^1.11.0": must be an exact chart version',
  ],
  [
    "a missing chart",
    variant((r) => delete r.current.charts["kube-prometheus-stack"]),
    'releases/staging.json:1: current.charts has no version of "kube-prometheus-stack", which an AWS environment installs',
  ],
  [
    "a chart only on-prem environments install",
    variant((r) => (r.current.charts["gpu-operator"] = "v26.7.0")),
    'releases/staging.json:1: current.charts["gpu-operator"] = "v26.7.0": an AWS environment does not install this chart',
  ],
  [
    "a malformed promotion time",
    variant((r) => (r.history[0].promotedAt = "yesterday")),
    'releases/staging.json:1: history[0].promotedAt = "yesterday": must be an ISO 8601 UTC time',
  ],
  [
    "a model alias with spaces",
    variant((r) => (r.current.serving.model.alias = "best model")),
    'releases/staging.json:1: current.serving.model.alias = "best model": must be an MLflow alias',
  ],
];

describe("malformed release files", () => {
  it.each(MALFORMED)("rejects %s with one message naming the field and the fix", (_what, text, expected) => {
    const found = problems(text);
    expect(found).toHaveLength(1);
    expect(found[0].startsWith(expected)).toBe(true);
    expect(found[0]).toMatch(/; fix: \S/);
  });
});

describe("promotion invariant", () => {
  it("declares paths of registry environments of one target each, which upstreamOf follows", () => {
    const targets = new Map(REGISTRY);
    for (const path of PROMOTION_PATHS) {
      expect(path.filter((name) => !targets.has(name))).toEqual([]);
      expect(new Set(path.map((name) => targets.get(name))).size).toBe(1);
      expect(path.map(upstreamOf)).toEqual([undefined, ...path.slice(0, -1)]);
    }
    expect(new Set(PROMOTION_PATHS.flat()).size).toBe(PROMOTION_PATHS.flat().length);
  });

  it("refuses an on-prem release missing an on-prem chart, and one pinning an AWS-only chart", () => {
    const text = releaseText("onprem-test");
    const release = JSON.parse(text);
    delete release.current.charts["cloudnative-pg"];
    release.current.charts["aws-load-balancer-controller"] = "3.5.0";
    const result = parseRelease(
      "releases/onprem-test.json",
      JSON.stringify(release),
      "onprem-test",
      "rancher",
    );
    expect(result.ok ? [] : result.problems).toEqual([
      'releases/onprem-test.json:1: current.charts has no version of "cloudnative-pg", which an on-prem (Rancher) environment installs; fix: add "cloudnative-pg": "<exact version>" to current.charts',
      'releases/onprem-test.json:1: current.charts["aws-load-balancer-controller"] = "3.5.0": an on-prem (Rancher) environment does not install this chart; fix: remove it',
    ]);
  });

  it.each(ENVIRONMENTS.map((input) => input.name).filter((name) => upstreamOf(name) !== undefined))(
    "%s runs only a release its upstream environment has run",
    (env) => {
      const upstream = upstreamOf(env)!;
      const own = loadRelease(env);
      const theirs = loadRelease(upstream);
      if (!own.ok || !theirs.ok) throw new Error("release files must be valid");
      const seen = [theirs.release.current, ...theirs.release.history].map((entry) =>
        JSON.stringify(releaseContent(entry)),
      );
      expect(seen).toContain(JSON.stringify(releaseContent(own.release.current)));
      for (const entry of own.release.history) {
        expect(seen).toContain(JSON.stringify(releaseContent(entry)));
      }
    },
  );
});
