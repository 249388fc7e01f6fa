/**
 * Names and values for the environments the tests scaffold, derived to be absent from the
 * registry (a committed `uat` or `onprem-uat`, as the README's example makes, must not make the
 * scaffold tests refuse "exists already"), and the `--set` options an on-prem scaffold needs.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { overlaps, parseCidr } from "../../constructs/lib/cidr";
import { isOnPremInput, type AnyEnvironmentInput } from "../../environments/targets";

/** `base`, or `base-2`, `base-3`, ...: the first no environment of `registry` has and no file holds. */
export function absentName(
  base: string,
  registry: readonly AnyEnvironmentInput[],
  environmentsDirectory?: string,
): string {
  const taken = (name: string) =>
    registry.some((e) => e.name === name) ||
    (environmentsDirectory !== undefined &&
      (existsSync(join(environmentsDirectory, `${name}.ts`)) ||
        existsSync(join(environmentsDirectory, "releases", `${name}.json`))));
  for (let n = 1; n < 100; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!taken(name)) return name;
  }
  throw new Error(`every name from ${base} to ${base}-99 is taken`);
}

/** The first `10.<x>.0.0/24` (x from 100) that overlaps no address range of an on-prem environment. */
function absentRange(registry: readonly AnyEnvironmentInput[]): string {
  const used = registry
    .filter(isOnPremInput)
    .flatMap((e) =>
      [
        ...e.cluster.apiServerCidrs,
        ...e.cluster.ingressSourceCidrs,
        ...e.objectStore.cidrs,
        ...e.directory.cidrs,
      ].flatMap((text) => parseCidr(text) ?? []),
    );
  for (let x = 100; x < 256; x++) {
    const candidate = parseCidr(`10.${x}.0.0/24`)!;
    if (!used.some((range) => overlaps(candidate, range))) return `10.${x}.0`;
  }
  throw new Error("no 10.x.0.0/24 (x >= 100) is free of the on-prem environments' ranges");
}

/**
 * The `--set` options for an on-prem scaffold named `name`: its own cluster context, buckets,
 * Artifactory repositories and cluster addresses, all derived from the name or absent from the registry.
 */
export function onPremSets(name: string, registry: readonly AnyEnvironmentInput[]): string[] {
  const prefix = absentRange(registry);
  const values: Record<string, string> = {
    "cluster.kubeconfigContext": `rancher-mlops-${name}`,
    "cluster.apiServerCidrs": JSON.stringify([`${prefix}.11/32`, `${prefix}.12/32`, `${prefix}.13/32`]),
    "cluster.ingressSourceCidrs": JSON.stringify([`${prefix}.0/24`]),
    "objectStore.artifactsBucket": `mlops-${name}-artifacts`,
    "objectStore.dataBucket": `mlops-${name}-data`,
    "registry.servingRepository": `ml-docker-${name}-local/mlops-serving`,
    "registry.trainingRepository": `ml-docker-${name}-local/mlops-training`,
  };
  return Object.entries(values).flatMap(([field, value]) => ["--set", `${field}=${value}`]);
}
