/**
 * The two kinds of environment: AWS (EKS, with a foundation stack) and on-prem (an existing
 * Rancher cluster). AWS environment files say nothing of their target; on-prem ones say
 * `target: "rancher"`.
 */
import type { Environment, EnvironmentInput } from "./schema";
import type { RancherEnvironment, RancherEnvironmentInput } from "./rancher-schema";

export type AnyEnvironment = Environment | RancherEnvironment;
export type AnyEnvironmentInput = EnvironmentInput | RancherEnvironmentInput;

/** True for an on-prem environment. */
export function isOnPrem(environment: AnyEnvironment): environment is RancherEnvironment {
  return "target" in environment && environment.target === "rancher";
}

/** True for an AWS environment. */
export function isAws(environment: AnyEnvironment): environment is Environment {
  return !isOnPrem(environment);
}

/** True for an environment file that names a target (on-prem); AWS files name none. */
export function isOnPremInput(input: AnyEnvironmentInput): input is RancherEnvironmentInput {
  return "target" in input;
}
