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

/**
 * The one way out when an AWS environment that takes releases by replication shares an account
 * and region with another environment: ECR replicates into repositories of the producer's names,
 * which the other environment's foundation creates there already.
 */
export function ownAccountFix(consumer: string, producer: string): string {
  return `give ${consumer} an AWS account of its own (aws.allowedAccountIds, bootstrapped like every account; or a region no other environment of its account uses), with the repositories named as ${producer}'s: it receives ${producer}'s images by replication into repositories of the same names`;
}

/** The producer `environment` receives releases from by replication on `paths`, among `present`. */
export function replicationProducerOf(
  environment: string,
  present: readonly string[],
  paths: readonly (readonly string[])[] = PROMOTION_PATHS,
): string | undefined {
  for (const path of paths) {
    const members = path.filter((name) => present.includes(name));
    if (members.indexOf(environment) > 0) return members[0];
  }
  return undefined;
}
