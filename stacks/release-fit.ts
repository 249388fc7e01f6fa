/**
 * What synthesis checks of a release against the environment it runs in, beyond the release file
 * itself: capacity (GPU nodes, training nodes for monitoring jobs), paths that repeat the
 * environment's bucket name, and, for an AWS environment that consumes another's releases, paths
 * outside the replicated prefix. `npm run promote` and `npm run rollback` run the same checks on
 * the entry they are about to write, so they never write a release the next synthesis refuses.
 */
import { capacityProblems } from "../environments/capacity";
import { releaseBucketPathProblems } from "../environments/release-buckets";
import type { ReleaseContent } from "../environments/release-schema";
import { isAws, type AnyEnvironment } from "../environments/targets";
import { promotionLinks, releaseReplicationProblems } from "./promotion-topology";

/**
 * Every problem of `release` (the entry at `entry` of `releaseFile`) in `environment`, one of
 * `environments` (all of them: replication depends on who produces for whom).
 */
export function releaseFitProblems(
  environments: readonly AnyEnvironment[],
  environment: AnyEnvironment,
  release: ReleaseContent,
  releaseFile: string,
  entry = "current",
): string[] {
  const links = isAws(environment)
    ? promotionLinks(environments.filter(isAws)).get(environment.name)
    : undefined;
  return [
    ...capacityProblems(environment, release, releaseFile),
    ...releaseBucketPathProblems(environment, release, releaseFile, entry),
    ...(isAws(environment) ? releaseReplicationProblems(environment.name, release, links, entry) : []),
  ];
}
