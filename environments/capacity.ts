/**
 * What a release asks of the environment it runs in: a model served on a GPU needs GPU nodes
 * the environment declares, and a namespace quota that admits a GPU request. The release and
 * the environment are two files; the message names both, as either may be the one to change.
 */
import { isOnPrem, type AnyEnvironment } from "./targets";
import type { ReleaseContent } from "./release-schema";

export function gpuCapacityProblems(
  environment: AnyEnvironment,
  release: Pick<ReleaseContent, "models">,
  releaseFile: string,
): string[] {
  const gpuModels = release.models.flatMap((model, index) => (model.gpu ? [{ model, index }] : []));
  if (gpuModels.length === 0) return [];
  const { index, model } = gpuModels[0];
  const where = `${releaseFile} models[${index}] (${model.name}) has gpu: true${gpuModels.length > 1 ? ` (and ${gpuModels.length - 1} more GPU models)` : ""}`;
  const problems: string[] = [];
  if (isOnPrem(environment) && environment.cluster.gpuNodes.maxNodes === 0)
    problems.push(
      `${environment.name}: cluster.gpuNodes.maxNodes = 0: the environment declares no GPU nodes, but ${where}, so its predictor would stay Pending; fix: declare the GPU nodes (cluster.gpuNodes.maxNodes) or serve the model on CPU (gpu: false) in ${releaseFile}`,
    );
  if (environment.platform.namespaceQuota.gpus === 0)
    problems.push(
      `${environment.name}: platform.namespaceQuota.gpus = 0: the namespace quota admits no GPU request, but ${where}, so its predictor would be refused at admission; fix: raise platform.namespaceQuota.gpus to the GPUs the models need, or serve the model on CPU (gpu: false) in ${releaseFile}`,
    );
  return problems;
}
