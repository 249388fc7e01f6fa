import type { App } from "cdktf";
import type { Environment } from "../environments/schema";
import type { ReleaseContent } from "../environments/release-schema";
import { FoundationStack } from "./foundation-stack";
import { PlatformStack } from "./platform-stack";
import { ServingStack } from "./serving-stack";
import { eksClusterTarget } from "./targets/eks-target";
import { loadChartValues } from "./helm-values";

/** What one environment is built from: its validated configuration and its current release. */
export interface EnvironmentBuild {
  readonly environment: Environment;
  readonly release: ReleaseContent;
}

export interface EnvironmentStacks {
  readonly foundation: FoundationStack;
  readonly platform: PlatformStack;
  readonly serving: ServingStack;
}

/** Adds every stack of every environment to the app; inputs must already be validated. */
export function addEnvironmentStacks(app: App, builds: readonly EnvironmentBuild[]): EnvironmentStacks[] {
  return builds.map(({ environment, release }) => {
    const foundation = new FoundationStack(app, `${environment.name}-foundation`, { environment });
    const target = eksClusterTarget(foundation);
    const platform = new PlatformStack(app, `${environment.name}-platform`, {
      environment,
      target,
      release,
      chartValues: loadChartValues(environment.name),
    });
    platform.addDependency(foundation);
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
