/**
 * The environment registry: every environment the app builds stacks for.
 * Add an environment by adding its file and listing it here.
 */
import { dev } from "./dev";
import { prod } from "./prod";
import { staging } from "./staging";
import type { EnvironmentInput } from "./schema";

export const ENVIRONMENTS: readonly EnvironmentInput[] = [dev, staging, prod];
