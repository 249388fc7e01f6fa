/**
 * The two kinds of environment: AWS (EKS, with a foundation stack) and on-prem (an existing
 * Rancher cluster). AWS environment files say nothing of their target; on-prem ones say
 * `target: "rancher"`.
 */
import type { Environment } from "./schema";
import type { RancherEnvironment } from "./rancher-schema";

export type AnyEnvironment = Environment | RancherEnvironment;

/** True for an on-prem environment. */
export function isOnPrem(environment: AnyEnvironment): environment is RancherEnvironment {
  return "target" in environment && environment.target === "rancher";
}
