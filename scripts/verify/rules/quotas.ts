/**
 * quotas: per namespace, the requests and limits of every pod at the most the environment runs
 * (HPA maxima, DaemonSets on every node of the groups they fit at the groups' maxima, one
 * rolling-update surge) after LimitRange defaults, against the namespace's ResourceQuota.
 */
import type { Finding } from "../finding";
import { formatQuantity, parseQuantity } from "../quantity";
import type { ClusterState } from "../state";
import { workloads, type Container, type PodSpec } from "../workloads";
import { findingFor, type Rule } from "./rule";

interface Defaults {
  readonly request: Record<string, string | number>;
  readonly limit: Record<string, string | number>;
}

type Usage = Record<string, number>;

/**
 * A container's requests and limits as admission leaves them: API defaulting first copies a
 * limit to a missing request, then the LimitRanger fills missing limits with `default` and
 * missing requests with `defaultRequest` (which itself defaults to `default`).
 */
export function effectiveResources(
  container: Container,
  defaults: Defaults | undefined,
): { requests: Usage; limits: Usage } {
  const requests: Usage = {};
  const limits: Usage = {};
  for (const [k, v] of Object.entries(container.resources?.limits ?? {})) limits[k] = parseQuantity(v);
  for (const [k, v] of Object.entries(container.resources?.requests ?? {})) requests[k] = parseQuantity(v);
  for (const [k, v] of Object.entries(limits)) if (requests[k] === undefined) requests[k] = v;
  if (defaults) {
    for (const [k, v] of Object.entries(defaults.limit))
      if (limits[k] === undefined) limits[k] = parseQuantity(v);
    const defaultRequest = { ...defaults.limit, ...defaults.request };
    for (const [k, v] of Object.entries(defaultRequest))
      if (requests[k] === undefined) requests[k] = parseQuantity(v);
  }
  return { requests, limits };
}

/** A pod's usage: the containers' sum, or the largest init container when that is more. */
export function podUsage(
  spec: PodSpec,
  defaults: Defaults | undefined,
): { requests: Usage; limits: Usage; unbounded: string[] } {
  const sum = { requests: {} as Usage, limits: {} as Usage };
  const unbounded: string[] = [];
  for (const c of spec.containers ?? []) {
    const r = effectiveResources(c, defaults);
    for (const kind of ["requests", "limits"] as const) {
      for (const [k, v] of Object.entries(r[kind])) sum[kind][k] = (sum[kind][k] ?? 0) + v;
    }
    for (const resource of ["cpu", "memory"])
      if (r.limits[resource] === undefined) unbounded.push(`${c.name} (${resource})`);
  }
  for (const c of spec.initContainers ?? []) {
    const r = effectiveResources(c, defaults);
    for (const kind of ["requests", "limits"] as const) {
      for (const [k, v] of Object.entries(r[kind])) sum[kind][k] = Math.max(sum[kind][k] ?? 0, v);
    }
  }
  return { ...sum, unbounded };
}

interface LimitRangeItem {
  type?: string;
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
  max?: Record<string, string>;
  min?: Record<string, string>;
}

/**
 * Container defaults per namespace, with the LimitRange's own defaulting: a missing default
 * limit is the max, a missing default request is the default limit, then the min.
 */
function defaultsByNamespace(state: ClusterState): Map<string, Defaults> {
  const out = new Map<string, Defaults>();
  for (const o of state.objects) {
    if (o.object.kind !== "LimitRange") continue;
    const limits = (o.object.spec as { limits?: LimitRangeItem[] })?.limits ?? [];
    const container = limits.find((l) => l.type === "Container");
    if (!container) continue;
    const limit = { ...container.max, ...container.default };
    const request = { ...container.min, ...limit, ...container.defaultRequest };
    out.set(o.object.metadata.namespace ?? "", { limit, request });
  }
  return out;
}

/** ResourceQuota key to the usage it counts. */
function usageKey(key: string): { kind: "requests" | "limits"; resource: string } | undefined {
  const match = /^(requests|limits)\.(.+)$/.exec(key);
  if (match) return { kind: match[1] as "requests" | "limits", resource: match[2] };
  if (key === "cpu" || key === "memory") return { kind: "requests", resource: key };
  return undefined;
}

export const quotaRule: Rule = {
  name: "quotas",
  summary:
    "per namespace, requests and limits at maximum scale (after LimitRange defaults) within the ResourceQuota",
  check(state) {
    const findings: Finding[] = [];
    const defaults = defaultsByNamespace(state);
    const all = workloads(state);
    for (const quota of state.objects.filter((o) => o.object.kind === "ResourceQuota")) {
      const namespace = quota.object.metadata.namespace ?? "";
      const hard = (quota.object.spec as { hard?: Record<string, string> })?.hard ?? {};
      const inNamespace = all.filter((w) => w.namespace === namespace);
      const totals = { requests: {} as Usage, limits: {} as Usage };
      const contributions: { name: string; pods: number; usage: ReturnType<typeof podUsage> }[] = [];
      for (const w of inNamespace) {
        const usage = podUsage(w.spec, defaults.get(namespace));
        const pods = w.maxPods + w.surgePods;
        contributions.push({ name: `${w.owner.object.kind} ${w.owner.object.metadata.name}`, pods, usage });
        for (const kind of ["requests", "limits"] as const) {
          for (const [k, v] of Object.entries(usage[kind]))
            totals[kind][k] = (totals[kind][k] ?? 0) + v * pods;
        }
        const limited = Object.keys(hard)
          .map(usageKey)
          .filter((k) => k?.kind === "limits");
        if (limited.length > 0 && usage.unbounded.length > 0 && !defaults.get(namespace)) {
          findings.push(
            findingFor(
              state,
              "quotas",
              w.owner,
              `containers without limits (${usage.unbounded.join(", ")}) are rejected: the quota in ${namespace} counts limits and no LimitRange gives defaults`,
              "set resources.limits on every container",
            ),
          );
        }
      }
      for (const [key, value] of Object.entries(hard)) {
        const target = usageKey(key);
        if (!target) continue;
        const limit = parseQuantity(value);
        const used = totals[target.kind][target.resource] ?? 0;
        if (used <= limit + 1e-9) continue;
        const top = contributions
          .map((c) => ({
            name: c.name,
            amount: (c.usage[target.kind][target.resource] ?? 0) * c.pods,
            pods: c.pods,
          }))
          .filter((c) => c.amount > 0)
          .sort((a, b) => b.amount - a.amount)
          .slice(0, 4)
          .map((c) => `${c.name} ${formatQuantity(target.resource, c.amount)} (${c.pods} pods)`);
        findings.push(
          findingFor(
            state,
            "quotas",
            quota,
            `${key} at maximum scale is ${formatQuantity(target.resource, used)}, over the quota of ${value} (largest: ${top.join(", ")})`,
            `raise ${key} to at least ${formatQuantity(target.resource, used)}, or set explicit requests and limits on the workloads (LimitRange defaults apply to every container without them)`,
          ),
        );
      }
    }
    return findings;
  },
};
