/**
 * The order releases move through environments, declared once. A release enters an
 * environment only from the one directly before it. AWS and on-prem environments are separate
 * paths: their release files name different charts and registries.
 */
export const PROMOTION_PATHS: readonly (readonly string[])[] = [
  ["dev", "staging", "prod"],
  ["onprem-test", "onprem-prod"],
];

/** The environment a release must come from before it enters `environment`, if any. */
export function upstreamOf(environment: string): string | undefined {
  for (const path of PROMOTION_PATHS) {
    const index = path.indexOf(environment);
    if (index > 0) return path[index - 1];
  }
  return undefined;
}

/** Every environment that is part of a promotion path. */
export function promotableEnvironments(): string[] {
  return PROMOTION_PATHS.flat();
}
