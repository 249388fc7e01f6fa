/**
 * Tags of released images, as ECR lifecycle wildcards (`*` matches any run of characters): the
 * registries never expire an image carrying one (`constructs/aws/container-registry.ts`), and a
 * release file of an AWS environment names images by such a tag only (`environments/releases.ts`).
 */
export const RELEASE_TAG_PATTERNS = ["*.*.*"] as const;

/** Whether `tag` matches one of the patterns, as ECR matches `tagPatternList`. */
export function matchesTagPattern(tag: string, patterns: readonly string[] = RELEASE_TAG_PATTERNS): boolean {
  return patterns.some((pattern) =>
    new RegExp(
      `^${pattern
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*")}$`,
    ).test(tag),
  );
}
