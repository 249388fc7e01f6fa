/**
 * The environment registry: every environment the app builds stacks for.
 * Add an environment by adding its file and listing it here.
 */
import { dev } from "./dev";
import { onPremProd } from "./onprem-prod";
import { onPremTest } from "./onprem-test";
import { prod } from "./prod";
import { staging } from "./staging";
import type { AnyEnvironmentInput } from "./targets";

/** AWS environments (EKS) and on-prem ones (Rancher, `target: "rancher"`). */
export const ENVIRONMENTS: readonly AnyEnvironmentInput[] = [dev, staging, prod, onPremTest, onPremProd];
