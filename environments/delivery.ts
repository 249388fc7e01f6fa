/**
 * What the pipelines deploy, derived from the registry: the environments marked
 * `delivery.deployedBy: "pipeline"`, in promotion order, with the runner and the state each
 * job needs. The workflows read it through `npm run environments -- --json`.
 */
import { PROMOTION_PATHS } from "./promotion";
import { isOnPrem, type AnyEnvironment } from "./targets";

export type DeployedBy = "pipeline" | "manual";
export type Target = "aws" | "rancher";

/** One environment as a pipeline job sees it. */
export interface DeliveryEntry {
  readonly name: string;
  readonly target: Target;
  readonly deployedBy: DeployedBy;
  /** `runs-on` labels of the deploy job (AWS environments the pipeline deploys). */
  readonly runsOn?: readonly string[];
  /** `runs-on` labels of the pull-request diff job: a runner that never deploys. */
  readonly diffRunsOn?: readonly string[];
  /** The AWS region of the environment. */
  readonly region?: string;
  /** Where the foundation's state lives: a diff of a never-deployed environment finds none. */
  readonly foundationState?: { readonly bucket: string; readonly region: string; readonly key: string };
}

export interface DeliveryFilter {
  readonly deployedBy?: DeployedBy;
  readonly target?: Target;
}

/**
 * The environments in the order a release reaches them: each promotion path in its order, then
 * the environments on no path, in registry order.
 */
export function promotionOrder<T extends { readonly name: string }>(environments: readonly T[]): T[] {
  const onPaths = PROMOTION_PATHS.flat();
  const rank = (env: T) => {
    const index = onPaths.indexOf(env.name);
    return index < 0 ? onPaths.length + environments.indexOf(env) : index;
  };
  return [...environments].sort((a, b) => rank(a) - rank(b));
}

export function deliveryEntry(environment: AnyEnvironment): DeliveryEntry {
  if (isOnPrem(environment))
    return { name: environment.name, target: "rancher", deployedBy: environment.delivery.deployedBy };
  const state = environment.stateBackend;
  return {
    name: environment.name,
    target: "aws",
    deployedBy: environment.delivery.deployedBy,
    ...(environment.delivery.runnerLabels
      ? {
          runsOn: environment.delivery.runnerLabels,
          diffRunsOn: environment.delivery.diffRunnerLabels ?? environment.delivery.runnerLabels,
        }
      : {}),
    region: environment.aws.region,
    ...(state
      ? {
          foundationState: {
            bucket: state.bucket,
            region: state.region,
            key: `${state.keyPrefix}/${environment.name}-foundation.tfstate`,
          },
        }
      : {}),
  };
}

/** The environments matching `filter`, in promotion order. */
export function deliveryEntries(
  environments: readonly AnyEnvironment[],
  filter: DeliveryFilter = {},
): DeliveryEntry[] {
  return promotionOrder(environments.map(deliveryEntry)).filter(
    (entry) =>
      (filter.deployedBy === undefined || entry.deployedBy === filter.deployedBy) &&
      (filter.target === undefined || entry.target === filter.target),
  );
}
