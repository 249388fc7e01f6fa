import type { App } from "cdktf";
import type { Environment } from "../environments/schema";
import { FoundationStack } from "./foundation-stack";

export interface EnvironmentStacks {
  readonly foundation: FoundationStack;
}

/** Adds every stack of every environment to the app; environments must already be validated. */
export function addEnvironmentStacks(app: App, environments: readonly Environment[]): EnvironmentStacks[] {
  return environments.map((environment) => ({
    foundation: new FoundationStack(app, `${environment.name}-foundation`, { environment }),
  }));
}
