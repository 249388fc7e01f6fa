/**
 * Who hands images and models to whom, derived from the promotion paths and the registry: the
 * first AWS environment of a path builds images and trains models (the producer); every later
 * one (the consumers) receives them through registry and bucket replication, so a release
 * promoted into it finds its images and model artifacts in its own account.
 */
import { ownAccountFix, PROMOTION_PATHS } from "../environments/promotion";
import type { Environment } from "../environments/schema";
import type { ReleaseContent } from "../environments/release-schema";
import { MLFLOW_ARTIFACT_PATH } from "../constructs/platform/mlflow";

/** Key prefix of the artifacts bucket replicated to consumers: MLflow's artifact root. */
export const MODEL_ARTIFACT_PREFIX = `${MLFLOW_ARTIFACT_PATH}/`;

/** One end of a replication link. */
export interface EnvironmentEndpoint {
  readonly environment: string;
  readonly accountId: string;
  readonly region: string;
  readonly artifactsBucket: string;
  /**
   * False when both ends share one registry (same account and region): the image is already
   * there, and ECR refuses to replicate a registry into itself.
   */
  readonly replicateImages: boolean;
}

/** What an environment's foundation sets up for promotion. */
export interface PromotionLinks {
  /** Set on a producer: the environments its images and models replicate to. */
  readonly consumers: readonly EnvironmentEndpoint[];
  /** Set on a consumer: the environment its images and models come from. */
  readonly producer?: EnvironmentEndpoint;
}

/** KMS alias of an environment's platform key (the foundation creates it). */
export function platformKeyAlias(environment: string): string {
  return `mlops-${environment}`;
}

/** IAM role S3 assumes to replicate a producer's model artifacts. */
export function modelReplicationRoleName(producer: string): string {
  return `mlops-${producer}-model-replication`;
}

/**
 * The one account an environment deploys into. Replication and the bootstrap name accounts
 * explicitly, so an environment without exactly one allowed account cannot take part.
 */
export function accountOf(environment: Environment, purpose: string): string {
  const accounts = environment.aws.allowedAccountIds ?? [];
  if (accounts.length !== 1) {
    throw new Error(
      `environment ${environment.name}: aws.allowedAccountIds is ${accounts.length === 0 ? "not set" : `[${accounts.join(", ")}]`}; ${purpose} needs exactly one account id; fix: list the single account the environment deploys into`,
    );
  }
  return accounts[0];
}

function endpoint(environment: Environment, producer: Environment): EnvironmentEndpoint {
  const accountId = accountOf(environment, "image and model promotion");
  return {
    environment: environment.name,
    accountId,
    region: environment.aws.region,
    artifactsBucket: environment.storage.artifactsBucket,
    replicateImages:
      accountId !== accountOf(producer, "image and model promotion") ||
      environment.aws.region !== producer.aws.region,
  };
}

/**
 * The promotion links of every AWS environment, by name. Environments on no path, or alone on
 * theirs, get no links. Throws (one line, with the fix) when a consumer's repositories are named
 * differently from the producer's (replication keeps the name), or when two consumers share a
 * registry (its registry policy is one per account and region).
 */
export function promotionLinks(
  environments: readonly Environment[],
  paths: readonly (readonly string[])[] = PROMOTION_PATHS,
): Map<string, PromotionLinks> {
  const byName = new Map(environments.map((env) => [env.name, env]));
  const links = new Map<string, PromotionLinks>();
  /** Whether another environment may share the consumer's account and region (and so its repositories). */
  const crowded = (consumer: Environment) =>
    environments.some(
      (other) =>
        other.name !== consumer.name &&
        other.aws.region === consumer.aws.region &&
        (other.aws.allowedAccountIds ?? []).some((id) => (consumer.aws.allowedAccountIds ?? []).includes(id)),
    );
  for (const path of paths) {
    const members = path.flatMap((name) => byName.get(name) ?? []);
    if (members.length < 2) continue;
    const [producer, ...consumers] = members;
    const producerEnd = { ...endpoint(producer, producer), replicateImages: false };
    const consumerEnds = consumers.map((consumer) => endpoint(consumer, producer));
    const registries = new Map<string, string>();
    for (const consumer of consumers) {
      for (const field of ["servingRepository", "trainingRepository"] as const) {
        if (consumer.registry[field] !== producer.registry[field]) {
          throw new Error(
            `environment ${consumer.name}: registry.${field} is "${consumer.registry[field]}" but ${producer.name}, whose images it receives by replication, names it "${producer.registry[field]}"; ECR replicates into a repository of the same name; fix: ${
              crowded(consumer)
                ? ownAccountFix(consumer.name, producer.name)
                : `set registry.${field} to "${producer.registry[field]}"`
            }`,
          );
        }
      }
      const end = consumerEnds[consumers.indexOf(consumer)];
      const registry = `${end.accountId}/${end.region}`;
      const other = registries.get(registry);
      if (other !== undefined && end.replicateImages) {
        throw new Error(
          `environment ${consumer.name}: aws.allowedAccountIds and aws.region (${registry}) are those of ${other} too; both would own the registry's one replication policy; fix: ${ownAccountFix(consumer.name, producer.name)}`,
        );
      }
      registries.set(registry, consumer.name);
      links.set(consumer.name, {
        consumers: [],
        producer: { ...producerEnd, replicateImages: end.replicateImages },
      });
    }
    links.set(producer.name, { consumers: consumerEnds });
  }
  return links;
}

/**
 * Problems of a consumer's release: model artifacts outside the replicated prefix never reach
 * the consumer's bucket.
 */
export function releaseReplicationProblems(
  environment: string,
  release: ReleaseContent,
  links: PromotionLinks | undefined,
  entry = "current",
): string[] {
  if (!links?.producer) return [];
  const problems: string[] = [];
  release.models.forEach((model, index) => {
    const paths: [string, string][] = [[`${entry}.models[${index}].artifactPath`, model.artifactPath]];
    if (model.canary)
      paths.push([`${entry}.models[${index}].canary.artifactPath`, model.canary.artifactPath]);
    // The reference data set is read from this environment's artifacts bucket: replicated like the model.
    if (model.monitoring.referenceData !== undefined)
      paths.push([`${entry}.models[${index}].monitoring.referenceData`, model.monitoring.referenceData]);
    for (const [field, path] of paths) {
      if (!path.startsWith(MODEL_ARTIFACT_PREFIX)) {
        problems.push(
          `releases/${environment}.json: ${field} = "${path}": is outside ${MODEL_ARTIFACT_PREFIX}, the only prefix replicated from ${links.producer!.environment}; fix: register the model through ${links.producer!.environment}'s MLflow so its artifacts live under ${MODEL_ARTIFACT_PREFIX}`,
        );
      }
    }
  });
  return problems;
}
