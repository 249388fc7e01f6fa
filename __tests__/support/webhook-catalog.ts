/**
 * Holds stacks/platform-webhooks.ts to a collected cluster state: every webhook and aggregated
 * API the state's objects call, with the pod port its Service resolves to.
 */
import type { ClusterState } from "../../scripts/verify/state";
import { PLATFORM_WEBHOOKS } from "../../stacks/platform-webhooks";

type Loose = any;

/** `namespace/service port` of every webhook Service the state calls, with the pods' labels. */
export function calledWebhooks(state: ClusterState): { key: string; labels: Record<string, string>[] }[] {
  const services = new Map<string, { namespace: string; name: string; port: number }>();
  for (const { object } of state.objects) {
    const o = object as Loose;
    const refs: { namespace: string; name: string; port?: number }[] = [];
    if (o.kind === "ValidatingWebhookConfiguration" || o.kind === "MutatingWebhookConfiguration")
      for (const h of o.webhooks ?? []) if (h.clientConfig?.service) refs.push(h.clientConfig.service);
    if (o.kind === "APIService" && o.spec?.service) refs.push(o.spec.service);
    if (o.kind === "CustomResourceDefinition" && o.spec?.conversion?.webhook?.clientConfig?.service)
      refs.push(o.spec.conversion.webhook.clientConfig.service);
    for (const r of refs)
      services.set(`${r.namespace}/${r.name}`, { namespace: r.namespace, name: r.name, port: r.port ?? 443 });
  }
  const out: { key: string; labels: Record<string, string>[] }[] = [];
  for (const ref of services.values()) {
    const service = state.objects.find(
      (s) =>
        s.object.kind === "Service" &&
        s.object.metadata.namespace === ref.namespace &&
        s.object.metadata.name === ref.name,
    )?.object as Loose;
    // Services the cluster ships (RKE2's metrics-server) are not the platform's to list.
    if (!service || !state.objects.some((s) => s.object === service && !s.source.startsWith("cluster (")))
      continue;
    const port = service.spec.ports.find((p: Loose) => p.port === ref.port);
    const pods = state.objects
      .map((s) => s.object as Loose)
      .filter(
        (w) =>
          ["Deployment", "StatefulSet", "DaemonSet"].includes(w.kind) &&
          w.metadata.namespace === ref.namespace &&
          Object.entries(service.spec.selector ?? {}).every(
            ([k, v]) => w.spec.template.metadata.labels?.[k] === v,
          ),
      );
    const resolved = new Set<number>();
    for (const w of pods)
      for (const c of w.spec.template.spec.containers)
        for (const p of c.ports ?? [])
          if (p.name === port.targetPort || p.containerPort === port.targetPort)
            resolved.add(p.containerPort);
    out.push({
      key: `${ref.namespace}/${ref.name} ${[...resolved].join(",")}`,
      labels: pods.map((w) => w.spec.template.metadata.labels),
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/** The catalog's entries for a distribution, in the same form. */
export function catalogued(distribution: "eks" | "rke2"): string[] {
  return PLATFORM_WEBHOOKS.filter((w) => w.distributions.includes(distribution))
    .map((w) => `${w.namespace}/${w.service} ${w.port}`)
    .sort();
}

/** Catalog entries whose pod labels select none of the pods behind their Service. */
export function unselectedPods(state: ClusterState, distribution: "eks" | "rke2"): string[] {
  const called = calledWebhooks(state);
  return PLATFORM_WEBHOOKS.filter((w) => w.distributions.includes(distribution))
    .filter((w) => {
      const entry = called.find((c) => c.key.startsWith(`${w.namespace}/${w.service} `));
      return !entry?.labels.some((labels) =>
        Object.entries(w.podLabels).every(([k, v]) => labels?.[k] === v),
      );
    })
    .map((w) => `${w.namespace}/${w.service}`);
}
