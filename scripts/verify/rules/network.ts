/**
 * network: evaluates each flow the platform needs against the NetworkPolicies as the cluster's
 * policy engine does and fails every blocked flow. On EKS the VPC CNI network policy agent
 * matches `ipBlock` peers against the destination before DNAT: a Service's ClusterIP (the
 * `kubernetes` Service IP for the API server), not the endpoints behind it. Webhooks are called
 * from every address the environment's API server calls from (`apiServerSources`).
 */
import type { Finding } from "../finding";
import { flowApplies, REQUIRED_FLOWS, type Flow, type FlowDestination } from "../flows";
import { hostInCidr, inBlock } from "../net";
import type { ClusterState, StateObject } from "../state";
import { allContainers, objectName, selects, serviceAccountOf, workloads, type Workload } from "../workloads";
import type { ApiServerSource } from "../api-server-sources";
import type { KubernetesObject, Decoded } from "../convert";
import { findingFor, type Rule } from "./rule";

type Selector = Parameters<typeof selects>[0];

interface PolicyPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string; except?: string[] };
}
interface PolicyRule {
  ports?: { port?: number | string; endPort?: number; protocol?: string }[];
  to?: PolicyPeer[];
  from?: PolicyPeer[];
}
interface Policy {
  namespace: string;
  name: string;
  podSelector: Selector;
  types: string[];
  ingress: PolicyRule[];
  egress: PolicyRule[];
}

/** One end of a connection as the policy engine sees it. */
interface Endpoint {
  readonly description: string;
  /** Pod ends: namespace and labels; external ends have none. */
  readonly pod?: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
  /** The address the engine sees for this end. */
  readonly ip: string;
  /** For external sources: the range a NetworkPolicy admits this address by. */
  readonly admitWith?: string;
}

interface Target {
  readonly description: string;
  /** Address and port before DNAT (ClusterIP and Service port for Services). */
  readonly preDnat: { readonly ip: string; readonly port: number };
  /** Backend pods (with their port) or an external address after DNAT. */
  readonly backend: {
    readonly pod?: Endpoint["pod"];
    readonly ip: string;
    readonly port: number;
    readonly portName?: string;
  };
  readonly protocol: string;
}

function policiesOf(state: ClusterState): Policy[] {
  return state.objects
    .filter((o) => o.object.kind === "NetworkPolicy")
    .map((o) => {
      const spec = (o.object.spec ?? {}) as Record<string, Decoded>;
      const ingress = (spec.ingress ?? []) as PolicyRule[];
      const egress = (spec.egress ?? []) as PolicyRule[];
      const types: string[] = spec.policyTypes ?? (egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"]);
      return {
        namespace: o.object.metadata.namespace ?? "",
        name: o.object.metadata.name ?? "",
        podSelector: spec.podSelector ?? {},
        types,
        ingress,
        egress,
      };
    });
}

function namespaceLabels(state: ClusterState, namespace: string): Record<string, string> {
  const object = state.objects.find(
    (o) => o.object.kind === "Namespace" && o.object.metadata.name === namespace,
  )?.object;
  return { ...(object?.metadata.labels ?? {}), "kubernetes.io/metadata.name": namespace };
}

function portMatches(rule: PolicyRule, port: number, protocol: string, portName?: string): boolean {
  if (!rule.ports || rule.ports.length === 0) return true;
  return rule.ports.some((p) => {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "string" && !/^\d+$/.test(p.port)) return p.port === portName;
    const from = Number(p.port);
    return port >= from && port <= (p.endPort ?? from);
  });
}

function peerMatches(
  state: ClusterState,
  peer: PolicyPeer,
  policyNamespace: string,
  end: { pod?: Endpoint["pod"]; ip: string },
): boolean {
  if (peer.ipBlock) {
    return inBlock(end.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((e) => inBlock(end.ip, e));
  }
  if (!end.pod) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaceLabels(state, end.pod.namespace))
    : end.pod.namespace === policyNamespace;
  const podOk = peer.podSelector ? selects(peer.podSelector, end.pod.labels) : true;
  return namespaceOk && podOk;
}

function selectsAll(selector: Selector): boolean {
  return (
    !!selector &&
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

function applies(policy: Policy, pod: NonNullable<Endpoint["pod"]>, type: "Ingress" | "Egress"): boolean {
  return (
    policy.namespace === pod.namespace &&
    policy.types.includes(type) &&
    (selectsAll(policy.podSelector) || selects(policy.podSelector, pod.labels))
  );
}

/** Whether the source's egress policies let the connection out. */
function egressAllowed(
  state: ClusterState,
  policies: Policy[],
  source: Endpoint,
  target: Target,
  preDnatEngine: boolean,
): boolean {
  if (!source.pod) return true;
  const relevant = policies.filter((p) => applies(p, source.pod!, "Egress"));
  if (relevant.length === 0) return true;
  return relevant.some((p) =>
    p.egress.some((rule) => {
      if (!rule.to || rule.to.length === 0)
        return (
          portMatches(rule, target.backend.port, target.protocol, target.backend.portName) ||
          portMatches(rule, target.preDnat.port, target.protocol)
        );
      return rule.to.some((peer) => {
        if (peer.ipBlock && preDnatEngine) {
          return (
            peerMatches(state, peer, p.namespace, { ip: target.preDnat.ip }) &&
            portMatches(rule, target.preDnat.port, target.protocol)
          );
        }
        return (
          peerMatches(state, peer, p.namespace, target.backend) &&
          portMatches(rule, target.backend.port, target.protocol, target.backend.portName)
        );
      });
    }),
  );
}

/** Whether the destination pods' ingress policies let the connection in. */
function ingressAllowed(state: ClusterState, policies: Policy[], source: Endpoint, target: Target): boolean {
  const pod = target.backend.pod;
  if (!pod) return true;
  const relevant = policies.filter((p) => applies(p, pod, "Ingress"));
  if (relevant.length === 0) return true;
  return relevant.some((p) =>
    p.ingress.some(
      (rule) =>
        portMatches(rule, target.backend.port, target.protocol, target.backend.portName) &&
        (!rule.from ||
          rule.from.length === 0 ||
          rule.from.some((peer) => peerMatches(state, peer, p.namespace, source))),
    ),
  );
}

class Addresses {
  private readonly services = new Map<string, string>();
  private readonly pods = new Map<string, string>();
  constructor(private readonly state: ClusterState) {}
  service(namespace: string, name: string): string {
    const key = `${namespace}/${name}`;
    if (!this.services.has(key))
      this.services.set(key, hostInCidr(this.state.environment.serviceCidr, 100 + this.services.size));
    return this.services.get(key)!;
  }
  pod(w: { namespace: string; labels: Readonly<Record<string, string>> }): string {
    const key = `${w.namespace}/${JSON.stringify(w.labels)}`;
    if (!this.pods.has(key))
      this.pods.set(key, hostInCidr(this.state.environment.podCidr, 1024 + this.pods.size));
    return this.pods.get(key)!;
  }
}

function resolvePort(
  w: Workload | undefined,
  target: number | string | undefined,
  fallback: number,
): { port: number; portName?: string } {
  if (typeof target === "number") return { port: target };
  if (typeof target === "string" && /^\d+$/.test(target)) return { port: Number(target) };
  if (typeof target === "string" && w) {
    for (const { container } of allContainers(w.spec)) {
      const p = (container.ports ?? []).find((x) => x.name === target);
      if (p) return { port: p.containerPort, portName: target };
    }
  }
  return { port: fallback, portName: typeof target === "string" ? target : undefined };
}

const API_SERVER_TO_WEBHOOK = "api-server-to-webhook";

/** Where the API server's webhook calls come from; without a model, its own endpoint addresses. */
function apiServerSources(env: ClusterState["environment"]): readonly ApiServerSource[] {
  return (
    env.apiServerSources ??
    (env.apiEndpointIps ?? [env.apiEndpointIp]).map((ip) => ({ ip, description: ip, admitWith: `${ip}/32` }))
  );
}

type Hook = {
  clientConfig?: { service?: { namespace: string; name: string } };
  failurePolicy?: string;
  timeoutSeconds?: number;
};

/** What a webhook configuration does when its Service is unreachable (admissionregistration/v1 defaults: Fail, 10 s). */
function whenUnreachable(owner: StateObject | undefined, service: string): string {
  const o = owner?.object;
  if (!o || !o.kind.endsWith("WebhookConfiguration")) return "its API calls fail";
  const hooks = ((o as { webhooks?: Hook[] }).webhooks ?? []).filter((h) => {
    const s = h.clientConfig?.service;
    return s !== undefined && service.startsWith(`Service ${s.namespace}/${s.name}:`);
  });
  if (hooks.some((h) => (h.failurePolicy ?? "Fail") === "Fail"))
    return "failurePolicy Fail: the API server refuses every request the webhook covers";
  const timeout = Math.max(...hooks.map((h) => h.timeoutSeconds ?? 10));
  return `failurePolicy Ignore: every request it covers waits ${timeout} s, then passes without the webhook`;
}

/**
 * The webhook flows a policy blocks, one line per called Service: which API server sources are
 * refused, what that does, and the ranges and port to admit.
 */
function webhookFindings(state: ClusterState, blocked: readonly ConcreteFlow[]): Finding[] {
  const groups = new Map<string, ConcreteFlow[]>();
  for (const f of blocked) {
    const key = f.target.description;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  return [...groups.values()].map((flows) => {
    const [first] = flows;
    const callers = [...new Set(flows.map((f) => (f.owner ? objectName(f.owner.object) : "")))];
    const sources = [...new Set(flows.map((f) => f.source.description))];
    const ranges = [...new Set(flows.map((f) => f.source.admitWith ?? `${f.source.ip}/32`))];
    const namespace = first.target.backend.pod?.namespace;
    const others = callers.length > 1 ? ` (and ${callers.length - 1} more webhook configurations)` : "";
    return findingFor(
      state,
      "network",
      first.owner!,
      `flow ${API_SERVER_TO_WEBHOOK}: ${first.target.description}/${first.target.protocol}${others} is blocked by ingress into ${namespace} from ${sources.join(", ")}; ${whenUnreachable(first.owner, first.target.description)}`,
      `admit ${ranges.join(", ")} on port ${first.target.backend.port} into the webhook's pods in ${namespace} (a NetworkPolicy ingress rule with these ipBlocks; the platform's are webhookIngressRules in stacks/platform-webhooks.ts, from the target's apiServer.webhookSourceCidrs)`,
    );
  });
}

interface ConcreteFlow {
  readonly flow: string;
  readonly owner?: StateObject;
  readonly source: Endpoint;
  readonly target: Target;
}

function serviceTargets(
  state: ClusterState,
  all: Workload[],
  addresses: Addresses,
  namespace: string,
  name: string,
  port: number | string | undefined,
  protocol = "TCP",
): Target[] | string {
  const service = state.objects.find(
    (o) =>
      o.object.kind === "Service" &&
      o.object.metadata.namespace === namespace &&
      o.object.metadata.name === name,
  )?.object;
  if (!service) return `Service ${namespace}/${name} does not exist`;
  const spec = (service.spec ?? {}) as {
    selector?: Record<string, string>;
    ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
  };
  const servicePort = (spec.ports ?? []).find((p) =>
    port === undefined ? true : typeof port === "number" ? p.port === port : p.name === port,
  );
  if (!servicePort) return `Service ${namespace}/${name} has no port ${port}`;
  const pods = all.filter(
    (w) =>
      w.namespace === namespace &&
      spec.selector &&
      Object.entries(spec.selector).every(([k, v]) => w.labels[k] === v),
  );
  if (pods.length === 0) return `Service ${namespace}/${name} selects no pods`;
  return pods.map((w) => {
    const resolved = resolvePort(w, servicePort.targetPort ?? servicePort.port, servicePort.port);
    return {
      description: `Service ${namespace}/${name}:${servicePort.port} (${w.owner.object.kind} ${w.owner.object.metadata.name})`,
      preDnat: { ip: addresses.service(namespace, name), port: servicePort.port },
      backend: { pod: { namespace, labels: w.labels }, ip: addresses.pod(w), ...resolved },
      protocol: servicePort.protocol ?? protocol,
    };
  });
}

function podEndpoint(w: Workload, addresses: Addresses): Endpoint {
  return {
    description: `${w.owner.object.kind} ${w.namespace}/${w.owner.object.metadata.name}`,
    pod: { namespace: w.namespace, labels: w.labels },
    ip: addresses.pod(w),
  };
}

/** Every concrete (source pod, destination) pair the platform needs, with problems naming flows that match nothing. */
export function concreteFlows(
  state: ClusterState,
  table: readonly Flow[],
): { flows: ConcreteFlow[]; problems: { flow: string; message: string }[] } {
  const env = state.environment;
  const all = workloads(state);
  const addresses = new Addresses(state);
  const flows: ConcreteFlow[] = [];
  const problems: { flow: string; message: string }[] = [];
  const external = (kind: "load-balancer" | "api-server"): Endpoint =>
    kind === "load-balancer"
      ? { description: "load balancer", ip: env.loadBalancerIp }
      : { description: `API server (${env.apiEndpointIp})`, ip: env.apiEndpointIp };
  // Every endpoint of the `kubernetes` Service: after DNAT a connection may reach any of them.
  const apiServers: Target[] = (env.apiEndpointIps ?? [env.apiEndpointIp]).map((ip) => ({
    description: `API server (kubernetes Service ${env.apiServiceIp}:443${env.apiEndpointIps ? `, endpoint ${ip}:${env.apiEndpointPort}` : ""})`,
    preDnat: { ip: env.apiServiceIp, port: 443 },
    backend: { ip, port: env.apiEndpointPort },
    protocol: "TCP",
  }));
  const destinationTargets = (to: FlowDestination, protocol: string): Target[] | string => {
    if ("apiServer" in to) return apiServers;
    if ("database" in to) {
      // In the cluster (CloudNativePG): the pods behind the read-write Service.
      if (env.databaseService)
        return serviceTargets(
          state,
          all,
          addresses,
          env.databaseService.namespace,
          env.databaseService.name,
          env.databasePort,
          protocol,
        );
      return [
        {
          description: `database ${env.databaseIp}:${env.databasePort}`,
          preDnat: { ip: env.databaseIp, port: env.databasePort },
          backend: { ip: env.databaseIp, port: env.databasePort },
          protocol,
        },
      ];
    }
    if ("objectStore" in to) {
      return [
        {
          description: `object store ${env.objectStoreIp}:443`,
          preDnat: { ip: env.objectStoreIp, port: 443 },
          backend: { ip: env.objectStoreIp, port: 443 },
          protocol,
        },
      ];
    }
    if ("service" in to)
      return serviceTargets(state, all, addresses, to.service.namespace, to.service.name, to.port, protocol);
    const pods = all.filter(
      (w) =>
        w.namespace === to.pods.namespace &&
        Object.entries(to.pods.labels).every(([k, v]) => w.labels[k] === v),
    );
    if (pods.length === 0) return `no pods with ${JSON.stringify(to.pods.labels)} in ${to.pods.namespace}`;
    return pods.map((w) => ({
      description: `${w.owner.object.kind} ${w.namespace}/${w.owner.object.metadata.name}:${to.port}`,
      preDnat: { ip: addresses.pod(w), port: to.port },
      backend: { pod: { namespace: w.namespace, labels: w.labels }, ip: addresses.pod(w), port: to.port },
      protocol,
    }));
  };

  for (const flow of table.filter((f) => flowApplies(f, env))) {
    const protocol = flow.protocol ?? "TCP";
    const targets = destinationTargets(flow.to, protocol);
    if (typeof targets === "string") {
      problems.push({ flow: flow.name, message: `destination: ${targets}` });
      continue;
    }
    if ("external" in flow.from) {
      for (const target of targets)
        flows.push({ flow: flow.name, source: external(flow.from.external), target });
      continue;
    }
    const from = flow.from;
    if ("createdAtRunTime" in from) {
      const pod = { namespace: from.namespace, labels: from.podLabels };
      const source = {
        description: `${from.createdAtRunTime} pod in ${from.namespace}`,
        pod,
        ip: addresses.pod(pod),
      };
      for (const target of targets) flows.push({ flow: flow.name, source, target });
      continue;
    }
    const sources = all.filter(
      (w) =>
        w.namespace === from.namespace &&
        Object.entries(from.podLabels ?? {}).every(([k, v]) => w.labels[k] === v),
    );
    if (sources.length === 0) {
      problems.push({
        flow: flow.name,
        message: `source: no pods${from.podLabels ? ` with ${JSON.stringify(from.podLabels)}` : ""} in ${from.namespace}`,
      });
      continue;
    }
    for (const w of sources)
      for (const target of targets)
        flows.push({ flow: flow.name, owner: w.owner, source: podEndpoint(w, addresses), target });
  }

  // DNS from every pod, to CoreDNS behind the kube-dns Service (its ClusterIP is the service CIDR's tenth address).
  const dnsIp = hostInCidr(env.serviceCidr, 10);
  for (const w of all) {
    for (const protocol of ["UDP", "TCP"]) {
      flows.push({
        flow: `dns-${protocol.toLowerCase()}`,
        owner: w.owner,
        source: podEndpoint(w, addresses),
        target: {
          description: `kube-dns ${dnsIp}:53/${protocol}`,
          preDnat: { ip: dnsIp, port: 53 },
          backend: {
            pod: { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
            ip: hostInCidr(env.podCidr, 53),
            port: 53,
          },
          protocol,
        },
      });
    }
  }

  // Controllers to the API server: pods whose ServiceAccount is bound to a role and mounts a token.
  const bound = new Set<string>();
  for (const { object } of state.objects) {
    if (object.kind !== "RoleBinding" && object.kind !== "ClusterRoleBinding") continue;
    for (const s of (
      object as KubernetesObject & { subjects?: { kind: string; name: string; namespace?: string }[] }
    ).subjects ?? []) {
      if (s.kind === "ServiceAccount") bound.add(`${s.namespace ?? object.metadata.namespace}/${s.name}`);
    }
  }
  for (const w of all) {
    const { name: account, object: sa } = serviceAccountOf(state, w);
    const automount =
      w.spec.automountServiceAccountToken ??
      (sa as { automountServiceAccountToken?: boolean } | undefined)?.automountServiceAccountToken ??
      true;
    if (bound.has(`${w.namespace}/${account}`) && automount !== false) {
      for (const target of apiServers)
        flows.push({
          flow: "controller-to-api-server",
          owner: w.owner,
          source: podEndpoint(w, addresses),
          target,
        });
    }
  }

  // Webhooks and aggregated APIs: the API server calls the Service behind them.
  for (const at of state.objects) {
    const o = at.object;
    const services: { namespace: string; name: string; port?: number }[] = [];
    if (o.kind === "ValidatingWebhookConfiguration" || o.kind === "MutatingWebhookConfiguration") {
      for (const hook of (
        o as {
          webhooks?: { clientConfig?: { service?: { namespace: string; name: string; port?: number } } }[];
        }
      ).webhooks ?? []) {
        if (hook.clientConfig?.service) services.push(hook.clientConfig.service);
      }
    }
    if (
      o.kind === "APIService" &&
      (o.spec as { service?: { namespace: string; name: string; port?: number } })?.service
    ) {
      services.push((o.spec as { service: { namespace: string; name: string; port?: number } }).service);
    }
    const conversion = (
      o.spec as
        | {
            conversion?: {
              webhook?: { clientConfig?: { service?: { namespace: string; name: string; port?: number } } };
            };
          }
        | undefined
    )?.conversion;
    if (o.kind === "CustomResourceDefinition" && conversion?.webhook?.clientConfig?.service)
      services.push(conversion.webhook.clientConfig.service);
    for (const s of services) {
      const targets = serviceTargets(state, all, addresses, s.namespace, s.name, s.port ?? 443);
      if (typeof targets === "string") {
        problems.push({ flow: `webhook ${o.kind} ${o.metadata.name}`, message: targets });
        continue;
      }
      // The API server calls from every address the target says its calls come from.
      for (const source of apiServerSources(env))
        for (const target of targets)
          flows.push({
            flow: API_SERVER_TO_WEBHOOK,
            owner: at,
            source: {
              description: `API server (${source.description})`,
              ip: source.ip,
              admitWith: source.admitWith,
            },
            target,
          });
    }
  }

  // Prometheus to every scrape target.
  const prometheus = all.filter(
    (w) => w.labels["app.kubernetes.io/name"] === "prometheus" && w.owner.object.kind === "Prometheus",
  );
  for (const at of state.objects) {
    const o = at.object;
    const spec = (o.spec ?? {}) as Record<string, Decoded>;
    if (o.kind !== "ServiceMonitor" && o.kind !== "PodMonitor") continue;
    const namespaces: string[] = spec.namespaceSelector?.matchNames?.length
      ? spec.namespaceSelector.matchNames
      : [o.metadata.namespace ?? ""];
    const targets: Target[] = [];
    if (o.kind === "ServiceMonitor") {
      const services = state.objects.filter(
        (s) =>
          s.object.kind === "Service" &&
          namespaces.includes(s.object.metadata.namespace ?? "") &&
          selects(spec.selector, s.object.metadata.labels ?? {}),
      );
      for (const s of services) {
        for (const endpoint of (spec.endpoints ?? []) as { port?: string }[]) {
          const t = serviceTargets(
            state,
            all,
            addresses,
            s.object.metadata.namespace ?? "",
            s.object.metadata.name ?? "",
            endpoint.port,
          );
          if (typeof t !== "string") targets.push(...t);
        }
      }
    } else {
      for (const w of all.filter(
        (x) => namespaces.includes(x.namespace) && selects(spec.selector, x.labels),
      )) {
        for (const endpoint of (spec.podMetricsEndpoints ?? []) as {
          port?: string;
          portNumber?: number;
          relabelings?: { targetLabel?: string; replacement?: string }[];
        }[]) {
          // A relabeling that rewrites __address__ to `$1:<port>` scrapes that port.
          const rewritten = (endpoint.relabelings ?? [])
            .filter((r) => r.targetLabel === "__address__")
            .map((r) => /:(\d+)$/.exec(r.replacement ?? "")?.[1])
            .find((p) => p !== undefined);
          const explicit = rewritten !== undefined ? Number(rewritten) : endpoint.portNumber;
          const resolved = resolvePort(w, explicit ?? endpoint.port, explicit ?? 0);
          if (resolved.port === 0) continue;
          targets.push({
            description: `${w.owner.object.kind} ${w.namespace}/${w.owner.object.metadata.name}:${resolved.port}`,
            preDnat: { ip: addresses.pod(w), port: resolved.port },
            backend: { pod: { namespace: w.namespace, labels: w.labels }, ip: addresses.pod(w), ...resolved },
            protocol: "TCP",
          });
        }
      }
    }
    for (const p of prometheus)
      for (const target of targets)
        flows.push({
          flow: `prometheus-scrape ${o.kind} ${o.metadata.name}`,
          owner: at,
          source: podEndpoint(p, addresses),
          target,
        });
  }

  // Load balancers to Ingress backends (ALB in IP mode) and LoadBalancer Services.
  for (const at of state.objects) {
    const o = at.object;
    const spec = (o.spec ?? {}) as Record<string, Decoded>;
    if (o.kind === "Ingress") {
      for (const rule of spec.rules ?? []) {
        for (const path of rule.http?.paths ?? []) {
          const service = path.backend?.service;
          if (!service) continue;
          const t = serviceTargets(
            state,
            all,
            addresses,
            o.metadata.namespace ?? "",
            service.name,
            service.port?.number ?? service.port?.name,
          );
          if (typeof t === "string") continue;
          for (const target of t)
            flows.push({
              flow: "load-balancer-to-ingress-backend",
              owner: at,
              source: external("load-balancer"),
              target: { ...target, preDnat: { ip: target.backend.ip, port: target.backend.port } },
            });
        }
      }
    }
    if (o.kind === "Service" && spec.type === "LoadBalancer") {
      for (const port of spec.ports ?? []) {
        const t = serviceTargets(
          state,
          all,
          addresses,
          o.metadata.namespace ?? "",
          o.metadata.name ?? "",
          port.port,
        );
        if (typeof t === "string") continue;
        for (const target of t)
          flows.push({
            flow: "load-balancer-to-service",
            owner: at,
            source: external("load-balancer"),
            target: { ...target, preDnat: { ip: target.backend.ip, port: target.backend.port } },
          });
      }
    }
  }
  return { flows, problems };
}

export function networkRule(table: readonly Flow[] = REQUIRED_FLOWS): Rule {
  return {
    name: "network",
    summary:
      "the flows the platform needs pass the NetworkPolicies as the cluster's policy engine evaluates them",
    check(state) {
      const findings: Finding[] = [];
      const policies = policiesOf(state);
      const { flows, problems } = concreteFlows(state, table);
      const preDnat = state.environment.networkPolicyEngine === "pre-dnat";
      const anchor = (o?: StateObject): StateObject =>
        o ?? { object: { apiVersion: "v1", kind: "Flow", metadata: {} }, source: "scripts/verify/flows.ts" };
      for (const p of problems) {
        findings.push({
          ...findingFor(
            state,
            "network",
            anchor(),
            `flow ${p.flow}: ${p.message}`,
            "update the flow in scripts/verify/flows.ts or create what it needs",
          ),
          object: `flow ${p.flow}`,
        });
      }
      const reported = new Set<string>();
      const blockedWebhooks: ConcreteFlow[] = [];
      for (const f of flows) {
        const out = egressAllowed(state, policies, f.source, f.target, preDnat);
        const into = ingressAllowed(state, policies, f.source, f.target);
        if (out && into) continue;
        if (f.flow === API_SERVER_TO_WEBHOOK && f.owner) {
          blockedWebhooks.push(f);
          continue;
        }
        const side = !out
          ? `egress from ${f.source.pod?.namespace}`
          : `ingress into ${f.target.backend.pod?.namespace}`;
        const key = `${f.flow} ${f.source.description} ${f.target.description} ${side}`;
        if (reported.has(key)) continue;
        reported.add(key);
        const seen =
          !out && preDnat
            ? ` (the policy engine sees ${f.target.preDnat.ip}:${f.target.preDnat.port} before DNAT)`
            : "";
        const fix = !out
          ? `allow egress from ${f.source.description} to ${f.target.description}${f.target.preDnat.ip !== f.target.backend.ip ? ` (with ipBlock peers, ${f.target.preDnat.ip}/32 port ${f.target.preDnat.port})` : ""}`
          : `allow ingress into ${f.target.description} from ${f.source.description}`;
        findings.push(
          findingFor(
            state,
            "network",
            anchor(f.owner),
            `flow ${f.flow}: ${f.source.description} -> ${f.target.description}/${f.target.protocol} is blocked by ${side}${seen}`,
            fix,
          ),
        );
      }
      findings.push(...webhookFindings(state, blockedWebhooks));
      return findings;
    },
  };
}
