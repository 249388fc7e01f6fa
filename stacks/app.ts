import type { App } from "cdktf";
import type { Environment } from "../environments/schema";
import type { ReleaseContent } from "../environments/release-schema";
import { FoundationStack } from "./foundation-stack";
import { PlatformStack } from "./platform-stack";
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
}

/** Adds every stack of every environment to the app; inputs must already be validated. */
export function addEnvironmentStacks(app: App, builds: readonly EnvironmentBuild[]): EnvironmentStacks[] {
  return builds.map(({ environment, release }) => {
    const foundation = new FoundationStack(app, `${environment.name}-foundation`, { environment });
    const platform = new PlatformStack(app, `${environment.name}-platform`, {
      environment,
      target: eksClusterTarget(foundation),
      release,
      chartValues: loadChartValues(environment.name),
    });
    platform.addDependency(foundation);
    return { foundation, platform };
  });
}
