import type { App } from "cdktf";
import { isOnPrem, type AnyEnvironment } from "../environments/targets";
import type { ReleaseContent } from "../environments/release-schema";
import type { ClusterTarget } from "../constructs/platform/cluster-target";
import { FoundationStack } from "./foundation-stack";
import { PlatformStack } from "./platform-stack";
import { ServingStack } from "./serving-stack";
import { eksClusterTarget } from "./targets/eks-target";
import { rancherClusterTarget } from "./targets/rancher-target";
import { loadChartValues } from "./helm-values";

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

/** Adds every stack of every environment to the app; inputs must already be validated. */
export function addEnvironmentStacks(app: App, builds: readonly EnvironmentBuild[]): EnvironmentStacks[] {
  return builds.map(({ environment, release }) => {
    let foundation: FoundationStack | undefined;
    let target: ClusterTarget;
    if (isOnPrem(environment)) target = rancherClusterTarget(environment);
    else {
      foundation = new FoundationStack(app, `${environment.name}-foundation`, { environment });
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
  });
}
