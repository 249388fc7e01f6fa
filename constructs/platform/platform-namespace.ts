import { Construct } from "constructs";
import { NamespaceV1 } from "@cdktf/provider-kubernetes/lib/namespace-v1";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import { ResourceQuotaV1 } from "@cdktf/provider-kubernetes/lib/resource-quota-v1";
import { LimitRangeV1 } from "@cdktf/provider-kubernetes/lib/limit-range-v1";

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

/** A source or destination of traffic. */
export type TrafficPeer =
  | { readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> }
  | { readonly cidr: string }
  | { readonly sameNamespace: true };

export interface TrafficPort {
  readonly port: number;
  /** @default "TCP" */
  readonly protocol?: "TCP" | "UDP";
}

export interface TrafficRule {
  /** Becomes the NetworkPolicy name `allow-<ingress|egress>-<name>`. */
  readonly name: string;
  readonly peers: readonly TrafficPeer[];
  /** @default all ports */
  readonly ports?: readonly TrafficPort[];
  /** Pods of this namespace the rule applies to. @default every pod */
  readonly podLabels?: Readonly<Record<string, string>>;
}

/**
 * What a namespace may hold. CPU is capped on requests only: the platform sets no CPU limits
 * (a limit throttles a container even on an idle node), so a cap on CPU limits would count
 * nothing but the container defaults.
 */
export interface NamespaceQuota {
  /** Total CPU requests, e.g. `16`. */
  readonly cpu: string;
  /** Total memory requests and limits, e.g. `64Gi`. */
  readonly memory: string;
  /** GPUs the namespace may request. */
  readonly gpus: number;
}

export interface PlatformNamespaceProps {
  readonly name: string;
  /** Pod Security Admission level enforced (and warned and audited at the same level). */
  readonly podSecurity: PodSecurityLevel;
  /** Why the namespace cannot run `restricted`; required for any other level. */
  readonly podSecurityException?: string;
  /** @default no quota */
  readonly quota?: NamespaceQuota;
  /** Requests and memory limit of containers that set none. @default no LimitRange */
  readonly containerDefaults?: {
    readonly request: { readonly cpu: string; readonly memory: string };
    readonly limit: { readonly memory: string };
  };
  /**
   * Deny all ingress and egress except DNS and these rules. Unset: no NetworkPolicy at all.
   * @default no isolation
   */
  readonly isolation?: { readonly ingress: readonly TrafficRule[]; readonly egress: readonly TrafficRule[] };
  /** @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

function selectorOf(peer: TrafficPeer) {
  if ("cidr" in peer) return { ipBlock: { cidr: peer.cidr } };
  if ("sameNamespace" in peer) return { podSelector: {} };
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": peer.namespace } },
    podSelector: peer.podLabels ? { matchLabels: { ...peer.podLabels } } : undefined,
  };
}

function portsOf(rule: TrafficRule) {
  return rule.ports?.map((p) => ({ port: String(p.port), protocol: p.protocol ?? "TCP" }));
}

/**
 * A namespace of the platform with its guard rails: Pod Security Admission labels, a quota
 * (GPUs included), container defaults and, when isolated, a default-deny NetworkPolicy with
 * DNS and the listed flows allowed. Everything namespaced references the namespace, so it is
 * created after it on a first apply.
 */
/** Egress to the cluster's DNS (CoreDNS pods labelled `k8s-app: kube-dns` in kube-system), as a policy rule. */
export const DNS_EGRESS = {
  to: [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
      podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
    },
  ],
  ports: [
    { port: "53", protocol: "UDP" },
    { port: "53", protocol: "TCP" },
  ],
};

export class PlatformNamespace extends Construct {
  public readonly namespace: NamespaceV1;
  /** The namespace name as a reference: use it so objects are created after the namespace. */
  public readonly name: string;
  /** The namespace name as written (for construct ids and comparisons). */
  public readonly literalName: string;
  public readonly podSecurity: PodSecurityLevel;

  constructor(scope: Construct, id: string, props: PlatformNamespaceProps) {
    super(scope, id);
    const where = `PlatformNamespace ${props.name}`;
    if (!NAME.test(props.name) || props.name.length > 63) {
      throw new Error(`${where}: name must be a DNS label (lower-case letters, digits, -; at most 63)`);
    }
    if (props.podSecurity !== "restricted" && !props.podSecurityException) {
      throw new Error(
        `${where}: podSecurity "${props.podSecurity}" needs podSecurityException saying why restricted is impossible; add it or use "restricted"`,
      );
    }
    if (props.quota) {
      for (const field of ["cpu", "memory"] as const) {
        if (!QUANTITY.test(props.quota[field])) {
          throw new Error(
            `${where}: quota.${field} "${props.quota[field]}" must be a Kubernetes quantity such as 16 or 64Gi`,
          );
        }
      }
      if (!Number.isInteger(props.quota.gpus) || props.quota.gpus < 0) {
        throw new Error(`${where}: quota.gpus (${props.quota.gpus}) must be a whole number >= 0`);
      }
    }
    this.podSecurity = props.podSecurity;
    const level = props.podSecurity;
    this.namespace = new NamespaceV1(this, "Namespace", {
      metadata: {
        name: props.name,
        labels: {
          ...props.labels,
          "app.kubernetes.io/part-of": "mlops-platform",
          "pod-security.kubernetes.io/enforce": level,
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/warn": level,
          "pod-security.kubernetes.io/audit": level,
        },
        annotations: props.podSecurityException
          ? { "mlops-platform/pod-security-exception": props.podSecurityException }
          : undefined,
      },
    });
    this.name = this.namespace.metadata.name;
    this.literalName = props.name;

    if (props.quota) {
      new ResourceQuotaV1(this, "Quota", {
        metadata: { name: "platform-quota", namespace: this.name },
        spec: {
          hard: {
            "requests.cpu": props.quota.cpu,
            "requests.memory": props.quota.memory,
            "limits.memory": props.quota.memory,
            "requests.nvidia.com/gpu": String(props.quota.gpus),
          },
        },
      });
    }
    if (props.containerDefaults) {
      new LimitRangeV1(this, "ContainerDefaults", {
        metadata: { name: "container-defaults", namespace: this.name },
        spec: {
          limit: [
            {
              type: "Container",
              defaultRequest: { ...props.containerDefaults.request },
              default: { ...props.containerDefaults.limit },
            },
          ],
        },
      });
    }
    if (props.isolation) this.isolate(props.isolation);
  }

  private isolate(isolation: NonNullable<PlatformNamespaceProps["isolation"]>): void {
    new NetworkPolicyV1(this, "DefaultDeny", {
      metadata: { name: "default-deny", namespace: this.name },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    new NetworkPolicyV1(this, "AllowDns", {
      metadata: { name: "allow-dns", namespace: this.name },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [DNS_EGRESS],
      },
    });
    const seen = new Set<string>();
    const policy = (direction: "Ingress" | "Egress", rule: TrafficRule) => {
      const name = `allow-${direction.toLowerCase()}-${rule.name}`;
      if (seen.has(name)) {
        throw new Error(
          `PlatformNamespace: two ${direction.toLowerCase()} rules are named ${rule.name}; rename one`,
        );
      }
      seen.add(name);
      const peers = rule.peers.map(selectorOf);
      const podSelector = rule.podLabels ? { matchLabels: { ...rule.podLabels } } : {};
      new NetworkPolicyV1(this, name, {
        metadata: { name, namespace: this.name },
        spec:
          direction === "Ingress"
            ? { podSelector, policyTypes: ["Ingress"], ingress: [{ from: peers, ports: portsOf(rule) }] }
            : { podSelector, policyTypes: ["Egress"], egress: [{ to: peers, ports: portsOf(rule) }] },
      });
    };
    isolation.ingress.forEach((rule) => policy("Ingress", rule));
    isolation.egress.forEach((rule) => policy("Egress", rule));
  }
}
