import type { App } from "cdktf";
import { isAws, isOnPrem, type AnyEnvironment } from "../environments/targets";
import type { ReleaseContent } from "../environments/release-schema";
import type { ClusterTarget } from "../constructs/platform/cluster-target";
import { FoundationStack, type MonitoredData } from "./foundation-stack";
import { PlatformStack } from "./platform-stack";
import { ServingStack } from "./serving-stack";
import { eksClusterTarget } from "./targets/eks-target";
import { rancherClusterTarget } from "./targets/rancher-target";
import { loadChartValues } from "./helm-values";
import { promotionLinks } from "./promotion-topology";
import { BootstrapStack, bootstrapAccounts, bootstrapStackName } from "./bootstrap-stack";

/** What one environment is built from: its validated configuration and its current release. */
export interface EnvironmentBuild {
  readonly environment: AnyEnvironment;
  readonly release: ReleaseContent;
}

/**
 * The stacks of one environment. AWS environments have a foundation (network, EKS, database,
 * buckets, registries) the other two read; on-prem environments run on an existing cluster and
 * have none.
 */
export interface EnvironmentStacks {
  readonly foundation?: FoundationStack;
  readonly platform: PlatformStack;
  readonly serving: ServingStack;
}

/** Adds every stack of every environment to the app; the builds come from `loadBuilds`, validated. */
export function addEnvironmentStacks(app: App, builds: readonly EnvironmentBuild[]): EnvironmentStacks[] {
  // The releases' fit (capacity, bucket paths, replicated prefixes) was checked by loadBuilds.
  const links = promotionLinks(builds.map((build) => build.environment).filter(isAws));
  return builds.map(({ environment, release }) => {
    try {
      return addStacksOf(app, environment, release, links.get(environment.name));
    } catch (error) {
      throw new EnvironmentBuildError(environment.name, error);
    }
  });
}

type PromotionLink = ReturnType<typeof promotionLinks> extends Map<string, infer L> ? L : never;

/**
 * An error a construct raised while building one environment's stacks, with the environment it
 * was building: the construct's check names the field, the environment tells whose.
 */
export class EnvironmentBuildError extends Error {
  constructor(
    public readonly environment: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "EnvironmentBuildError";
  }
}

function addStacksOf(
  app: App,
  environment: EnvironmentBuild["environment"],
  release: EnvironmentBuild["release"],
  promotion: PromotionLink | undefined,
): EnvironmentStacks {
  let foundation: FoundationStack | undefined;
  let target: ClusterTarget;
  if (isOnPrem(environment)) target = rancherClusterTarget(environment);
  else {
    foundation = new FoundationStack(app, `${environment.name}-foundation`, {
      environment,
      promotion,
      monitoredModels: monitoredModels(release),
    });
    target = eksClusterTarget(foundation);
  }
  const platform = new PlatformStack(app, `${environment.name}-platform`, {
    environment,
    target,
    release,
    chartValues: loadChartValues(environment.name),
  });
  if (foundation) platform.addDependency(foundation);
  const serving = new ServingStack(app, `${environment.name}-serving`, {
    environment,
    target,
    release,
    trackingUri: platform.mlflow.trackingUri,
  });
  serving.addDependency(platform);
  return { foundation, platform, serving };
}

/**
 * One bootstrap stack per AWS account hosting environments (`bootstrap-<account id>`): state
 * bucket, GitHub OIDC provider, deploy and diff roles. `localState` keeps their own state in
 * local files, for the first apply before the bucket exists.
 */
export function addBootstrapStacks(
  app: App,
  environments: readonly AnyEnvironment[],
  localState: boolean,
): BootstrapStack[] {
  return bootstrapAccounts(environments.filter(isAws)).map(
    (account) => new BootstrapStack(app, bootstrapStackName(account.accountId), { account, localState }),
  );
}

/** What the monitoring jobs of a release's models read: the models that log predictions. */
export function monitoredModels(release: ReleaseContent): MonitoredData[] {
  return release.models
    .filter((model) => model.monitoring.logging.mode !== "off")
    .map((model) => ({
      model: model.name,
      referenceData: model.monitoring.referenceData,
      groundTruth: model.monitoring.groundTruth,
    }));
}
