/**
 * The registries' lifecycle against ECR replication: every image pushed to the producing
 * environment's repository is copied into each consumer's (replication filters name
 * repositories, not tags), where the consumer's own lifecycle policy then applies. Evaluated as
 * ECR documents it (Amazon ECR User Guide, "Lifecycle policies": rules apply in priority order,
 * lowest first; an image matching a rule's tag selection cannot be expired by a rule of lower
 * priority; `imageCountMoreThan` keeps the newest N of the images a rule selects;
 * `sinceImagePushed` expires those older than N days; `tagPatternList` wildcards match any run
 * of characters).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { matchesTagPattern } from "../constructs/lib/release-tags";
import { RELEASES_DIRECTORY, parseRelease } from "../environments/releases";
import { resourcesOf, synthesizeEnvironments, type TerraformJson } from "./support/synth";

interface Image {
  readonly tags: readonly string[];
  /** Days since the first push of the scenario. */
  readonly pushedOnDay: number;
}

interface LifecycleRule {
  readonly rulePriority: number;
  readonly selection: {
    readonly tagStatus: "tagged" | "untagged" | "any";
    readonly tagPatternList?: readonly string[];
    readonly tagPrefixList?: readonly string[];
    readonly countType: "imageCountMoreThan" | "sinceImagePushed";
    readonly countNumber: number;
  };
}

/** The images a repository still holds on `today` after its lifecycle policy ran. */
function applyLifecycle(images: readonly Image[], rules: readonly LifecycleRule[], today: number): Image[] {
  const claimed = new Set<Image>();
  const expired = new Set<Image>();
  for (const rule of [...rules].sort((a, b) => a.rulePriority - b.rulePriority)) {
    const { selection } = rule;
    const selects = (image: Image) => {
      if (selection.tagStatus === "untagged") return image.tags.length === 0;
      if (selection.tagStatus === "any") return true;
      if (image.tags.length === 0) return false;
      if (selection.tagPatternList)
        return image.tags.some((tag) => matchesTagPattern(tag, selection.tagPatternList));
      return image.tags.some((tag) => selection.tagPrefixList!.some((prefix) => tag.startsWith(prefix)));
    };
    const selected = images.filter((image) => !claimed.has(image) && selects(image));
    const newestFirst = [...selected].sort((a, b) => b.pushedOnDay - a.pushedOnDay);
    const expiring =
      selection.countType === "imageCountMoreThan"
        ? newestFirst.slice(selection.countNumber)
        : selected.filter((image) => today - image.pushedOnDay > selection.countNumber);
    for (const image of expiring) expired.add(image);
    for (const image of selected) claimed.add(image);
  }
  return images.filter((image) => !expired.has(image));
}

const rulesOf = (json: TerraformJson): LifecycleRule[][] =>
  Object.values(resourcesOf(json, "aws_ecr_lifecycle_policy")).map((p) => JSON.parse(p.policy).rules);

/** The image tags a release file names: the running release and every rollback target. */
const releaseTags = (environment: string): string[] => {
  const release = JSON.parse(readFileSync(join(RELEASES_DIRECTORY, `${environment}.json`), "utf8"));
  return [release.current, ...(release.history ?? [])].flatMap((entry: any) =>
    [entry.serving.image.tag, entry.training.image.tag].filter(Boolean),
  );
};

/**
 * A year of a producer's pushes as its consumers receive them: the consumer's release tags
 * first, each pushed once, then two development builds a day (`git-<n>`) and an untagged
 * layer-only push now and then.
 */
const replicatedPushes = (releases: readonly string[]): Image[] => [
  ...[...new Set(releases)].map((tag, index) => ({ tags: [tag], pushedOnDay: index })),
  ...Array.from({ length: 730 }, (_, n) => ({
    tags: [`git-${n.toString(16).padStart(7, "0")}`],
    pushedOnDay: 10 + n / 2,
  })),
  ...Array.from({ length: 20 }, (_, n) => ({ tags: [], pushedOnDay: 10 + n * 18 })),
];

const synthesized = synthesizeEnvironments();
const consumers = ["staging", "prod"].map((name) => [name, synthesized[name]] as const);

describe("registry lifecycle against replication", () => {
  it("the model expires a consumer's running image under a count-only policy (what dev pushes did to prod)", () => {
    const countOnly: LifecycleRule[] = [
      {
        rulePriority: 1,
        selection: { tagStatus: "untagged", countType: "sinceImagePushed", countNumber: 7 },
      },
      {
        rulePriority: 2,
        selection: {
          tagStatus: "tagged",
          tagPatternList: ["*"],
          countType: "imageCountMoreThan",
          countNumber: 10,
        },
      },
    ];
    const left = applyLifecycle(replicatedPushes(["1.4.1"]), countOnly, 400).flatMap((i) => i.tags);
    expect(left).not.toContain("1.4.1");
    expect(left).toHaveLength(10);
  });

  it.each(consumers)(
    "%s keeps every image its releases name after a year of replicated dev pushes",
    (name, env) => {
      const tags = releaseTags(name);
      expect(tags.length).toBeGreaterThan(0);
      expect(env.foundation.json.resource.aws_ecr_registry_policy).toBeDefined(); // it is a consumer
      for (const rules of rulesOf(env.foundation.json)) {
        const left = applyLifecycle(replicatedPushes(tags), rules, 400).flatMap((image) => image.tags);
        for (const tag of tags) expect([name, tag, left.includes(tag)]).toEqual([name, tag, true]);
        // Development builds are still bounded, and untagged layers still expire.
        expect(left.filter((tag) => tag.startsWith("git-"))).toHaveLength(
          env.environment.registry.keepTaggedImages,
        );
        expect(applyLifecycle(replicatedPushes(tags), rules, 400).filter((i) => i.tags.length === 0)).toEqual(
          [],
        );
      }
    },
  );

  it("refuses a release on AWS whose image is not named by a release tag", () => {
    const text = readFileSync(join(RELEASES_DIRECTORY, "staging.json"), "utf8");
    const release = JSON.parse(text);
    release.current.serving.image = { tag: "git-3f9c2ab" };
    const result = parseRelease("releases/staging.json", JSON.stringify(release, null, 2), "staging", "aws");
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringMatching(
        /^releases\/staging\.json:\d+: current\.serving\.image\.tag = "git-3f9c2ab": on AWS a release names its images by a release tag \(\*\.\*\.\*\), .*; fix: tag the image with its version/,
      ),
    ]);
    release.current.serving.image = { digest: `sha256:${"a".repeat(64)}` };
    const digest = parseRelease("releases/staging.json", JSON.stringify(release, null, 2), "staging", "aws");
    expect(digest.ok).toBe(false);
    // On-prem, images are copied by promotion, not replicated: any immutable tag will do.
    release.current.serving.image = { tag: "git-3f9c2ab" };
    expect(parseRelease("releases/staging.json", JSON.stringify(release, null, 2), "staging").ok).toBe(true);
  });
});
