/**
 * Checks over a whole registry that hold for every environment, whatever the registry lists:
 * run on the committed one and on one with an environment added by the scaffold.
 */
import { documentationRangeOf } from "../../environments/schema";
import { isAws, type AnyEnvironment } from "../../environments/targets";

/** What keeps the pipeline from deploying an environment safely, one line per problem. */
export function deliveryProblems(environments: readonly AnyEnvironment[]): string[] {
  return environments.filter(isAws).flatMap((env) => {
    if (env.delivery.deployedBy !== "pipeline") return [];
    return [
      ...(env.stateBackend ? [] : [`${env.name}: deployed by the pipeline with local state`]),
      ...(env.delivery.runnerLabels?.length ? [] : [`${env.name}: deployed by the pipeline with no runner`]),
      ...env.eks.publicEndpoint.allowedCidrs
        .filter((block) => documentationRangeOf(block) !== undefined)
        .map((block) => `${env.name}: deployed by the pipeline with the placeholder range ${block}`),
      ...(!env.eks.publicEndpoint.enabled && !env.delivery.runnerLabels?.includes("self-hosted")
        ? [`${env.name}: private endpoint but no self-hosted runner`]
        : []),
    ];
  });
}
