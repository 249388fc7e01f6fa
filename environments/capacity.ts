/**
 * What a release asks of the environment it runs in: a model served on a GPU needs GPU nodes
 * the environment declares, and a namespace quota that admits a GPU request; a model that logs
 * needs training nodes its monitoring job fits on, and a stall window its monitoring runs can
 * keep (environment: `monitoring.predictionLogStallMinutes`; release: the model's schedule and
 * batching). The release and
 * the environment are two files; the message names both, as either may be the one to change.
 */
import { isOnPrem, type AnyEnvironment } from "./targets";
import { batchIntervalSeconds, type ReleaseContent } from "./release-schema";
import { INSTANCE_TYPE } from "./fields/node-groups";
import { MODEL_MONITORING_JOB } from "../constructs/serving/model-monitoring";
import { longestIntervalMinutes, parseCron } from "../constructs/lib/cron";

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

/** Mebibytes of a Kubernetes quantity of memory (Ki, Mi, Gi, Ti or plain bytes). */
function mebibytes(quantity: string): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`memory quantity "${quantity}" is not in Ki, Mi, Gi or Ti`);
  const factor = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[match[2] ?? ""] ?? 1 / (1024 * 1024);
  return Number(match[1]) * factor;
}

/** Millicores of a Kubernetes CPU quantity. */
function millicores(quantity: string): number {
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Number(quantity) * 1000;
}

/** GiB of memory per vCPU by instance family class, where the class fixes it (EC2's published sizes). */
const MEMORY_PER_VCPU_GIB: readonly [RegExp, number][] = [
  [/^c\d/, 2],
  [/^m\d/, 4],
  [/^r\d/, 8],
  [/^x\d/, 16],
];
/** The burstable families: 2 vCPUs up to large, memory doubling from nano's 0.5 GiB. */
const BURSTABLE_SIZES: Readonly<Record<string, { vcpus: number; memoryGib: number }>> = {
  nano: { vcpus: 2, memoryGib: 0.5 },
  micro: { vcpus: 2, memoryGib: 1 },
  small: { vcpus: 2, memoryGib: 2 },
  medium: { vcpus: 2, memoryGib: 4 },
  large: { vcpus: 2, memoryGib: 8 },
  xlarge: { vcpus: 4, memoryGib: 16 },
  "2xlarge": { vcpus: 8, memoryGib: 32 },
};

/**
 * vCPUs and memory of an EC2 instance type, where its family and size determine them (the
 * general-purpose, compute, memory and burstable classes); undefined for the others.
 */
export function instanceCapacity(type: string): { vcpus: number; memoryGib: number } | undefined {
  const match = INSTANCE_TYPE.exec(type);
  if (!match) return undefined;
  const [, family, size] = match;
  if (/^t\d/.test(family)) return BURSTABLE_SIZES[size];
  const perVcpu = MEMORY_PER_VCPU_GIB.find(([pattern]) => pattern.test(family))?.[1];
  const vcpus =
    size === "medium"
      ? 1
      : size === "large"
        ? 2
        : size === "xlarge"
          ? 4
          : /^(\d+)xlarge$/.test(size)
            ? 4 * Number(size.slice(0, -6))
            : undefined;
  if (perVcpu === undefined || vcpus === undefined) return undefined;
  return { vcpus, memoryGib: vcpus * perVcpu };
}

/**
 * What the kubelet of an EKS node leaves to pods, approximated from below: EKS reserves CPU for
 * the system (6% of the first core, 1% of the second, 0.5% of the next two, 0.25% of the rest)
 * and memory (kube-reserved grows with the pods a node may run, plus the eviction threshold);
 * a tenth of the memory stands for both, and 100m for the node's DaemonSets' CPU.
 */
export function allocatable(capacity: { vcpus: number; memoryGib: number }): {
  millicores: number;
  mebibytes: number;
} {
  const cores = capacity.vcpus;
  const reservedCpu =
    60 + (cores > 1 ? 10 : 0) + Math.min(Math.max(cores - 2, 0), 2) * 5 + Math.max(cores - 4, 0) * 2.5;
  return {
    millicores: cores * 1000 - reservedCpu - 100,
    mebibytes: capacity.memoryGib * 1024 * 0.9 - 100,
  };
}

/**
 * Whether one monitoring run fits a training node: on AWS the job's requests and memory limit
 * must fit what every instance type of the training group leaves to pods (its pods would stay
 * Pending, or be killed at the limit, on a node too small).
 */
export function monitoringCapacityProblems(
  environment: AnyEnvironment,
  release: Pick<ReleaseContent, "models">,
  releaseFile: string,
): string[] {
  if (isOnPrem(environment)) return [];
  const monitored = release.models.filter((model) => model.monitoring.logging.mode !== "off");
  if (monitored.length === 0) return [];
  const { requests, limits } = MODEL_MONITORING_JOB.resources;
  const needCpu = millicores(requests.cpu);
  const needMemory = Math.max(mebibytes(requests.memory), mebibytes(limits.memory));
  const problems: string[] = [];
  environment.nodeGroups.training.instanceTypes.forEach((type, index) => {
    const capacity = instanceCapacity(type);
    if (capacity === undefined) return;
    const free = allocatable(capacity);
    if (free.millicores >= needCpu && free.mebibytes >= needMemory) return;
    problems.push(
      `${environment.name}: nodeGroups.training.instanceTypes[${index}] = ${JSON.stringify(type)}: leaves about ${Math.floor(free.millicores)}m CPU and ${Math.floor(free.mebibytes)}Mi memory to pods, less than a monitoring job needs (${requests.cpu} CPU requested, ${limits.memory} memory at its limit) for ${monitored.map((model) => model.name).join(", ")} in ${releaseFile}; fix: use a training instance type with at least 2 vCPUs and 8 GiB, e.g. c5.xlarge, or set monitoring.logging.mode to "off" for these models`,
    );
  });
  return problems;
}

/**
 * Whether the environment's stall window can tell a stalled prediction log from a quiet one, per
 * model that logs. The newest object a run reports is up to the longest gap between its runs,
 * plus the run's deadline, plus the batch interval (a partial batch is written only when it
 * elapses) old while logging works: PredictionLoggingStalled must wait longer than that.
 */
export function predictionLogStallProblems(
  environment: AnyEnvironment,
  release: Pick<ReleaseContent, "models">,
  releaseFile: string,
): string[] {
  const stall = environment.monitoring.predictionLogStallMinutes;
  const deadlineMinutes = MODEL_MONITORING_JOB.deadlineSeconds / 60;
  const problems: string[] = [];
  release.models.forEach((model, index) => {
    const logging = model.monitoring.logging;
    if (logging.mode === "off") return;
    const schedule = model.monitoring.schedule ?? environment.monitoring.schedule;
    const scheduleField =
      model.monitoring.schedule !== undefined
        ? `models[${index}].monitoring.schedule in ${releaseFile}`
        : `the environment's monitoring.schedule`;
    const parsed = parseCron(schedule);
    // An invalid or never-running schedule is refused where it is read.
    const gap = parsed.ok ? longestIntervalMinutes(parsed) : undefined;
    if (gap === undefined) return;
    const batchSeconds =
      logging.batchSize > 1 && logging.batchInterval !== undefined
        ? batchIntervalSeconds(logging.batchInterval)
        : 0;
    const needed = gap + deadlineMinutes + batchSeconds / 60;
    if (stall > needed) return;
    const minimum = Math.floor(needed) + 1;
    const batch = batchSeconds > 0 ? ` plus its batchInterval ${logging.batchInterval}` : "";
    problems.push(
      `${environment.name}: monitoring.predictionLogStallMinutes = ${stall}: must be above the longest gap between ${model.name}'s monitoring runs (${gap} minutes on "${schedule}", ${scheduleField}) plus the run's ${deadlineMinutes}-minute deadline${batch}, or PredictionLoggingStalled fires while its logging works; fix: raise monitoring.predictionLogStallMinutes to at least ${minimum}${minimum > 10080 ? " (above its 10080 maximum, so schedule the runs more often)" : ""}, or run ${model.name}'s monitoring more often (${scheduleField})`,
    );
  });
  return problems;
}

/** Everything a release asks of its environment: GPU models, monitoring jobs and their windows. */
export function capacityProblems(
  environment: AnyEnvironment,
  release: Pick<ReleaseContent, "models">,
  releaseFile: string,
): string[] {
  return [
    ...gpuCapacityProblems(environment, release, releaseFile),
    ...monitoringCapacityProblems(environment, release, releaseFile),
    ...predictionLogStallProblems(environment, release, releaseFile),
  ];
}
