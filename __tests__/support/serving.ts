/**
 * Readers of what the synthesized stacks hand to KServe and to the serving stack's image check,
 * shared by the in-process tests and the ones that render the pinned charts or run Terraform.
 */
import { resourcesOf, type TerraformJson } from "./synth";

/** The InferenceService manifests of a serving stack. */
export const inferenceServices = (json: TerraformJson): any[] =>
  Object.values(resourcesOf(json, "kubernetes_manifest"))
    .map((m) => m.manifest)
    .filter((m) => m.kind === "InferenceService");

/** Every predictor of an InferenceService: the stable one and each canary's. */
export const predictors = (isvc: any): any[] => [
  isvc.spec.predictor,
  ...(isvc.spec.canary ?? []).map((c: any) => c.predictor),
];

/** The values (YAML texts) of the helm_release named `release`. */
export const helmValues = (json: TerraformJson, release: string): string[] => {
  const found = Object.values(resourcesOf(json, "helm_release")).find((r) => r.name === release);
  if (!found) throw new Error(`no helm_release ${release}`);
  return found.values as string[];
};

/** The `aws_ecr_images` data sources of a serving stack, by their logical id. */
export const ecrImageListings = (json: TerraformJson): Record<string, any> => json.data?.aws_ecr_images ?? {};
