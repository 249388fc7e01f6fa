/**
 * Where the API server's calls into the cluster (admission and conversion webhooks, aggregated
 * APIs) come from as the policy engine of the called pod sees them, per target. Each source is
 * a concrete address verify sends every webhook flow from, with the range a NetworkPolicy
 * admits it by.
 */
import { hostInCidr, parseBlock, formatAddress } from "./net";
import type { TerraformJson } from "./terraform";

export interface ApiServerSource {
  /** The address the webhook's pod sees. */
  readonly ip: string;
  /** What the address is, for findings: `control-plane node 10.61.0.11 (Canal tunnel address)`. */
  readonly description: string;
  /** The range a NetworkPolicy admits it by (a fix names it). */
  readonly admitWith: string;
}

/**
 * EKS: the API server reaches pods from the cross-account network interfaces EKS places in the
 * subnets the cluster is given (`vpc_config.subnet_ids`), one or more per subnet, at addresses
 * EKS picks and changes on upgrades. One interface per subnet, at an address inside it; the
 * VPC is the range that admits every one.
 */
export function eksApiServerSources(
  vpcCidr: string,
  foundation: TerraformJson | undefined,
): ApiServerSource[] {
  const subnets = clusterSubnetCidrs(foundation);
  return (subnets.length > 0 ? subnets : [vpcCidr]).map((cidr) => {
    const ip = hostInCidr(cidr, 10);
    return {
      ip,
      description: `EKS control-plane network interface ${ip} (subnet ${cidr})`,
      admitWith: vpcCidr,
    };
  });
}

/** The CIDR blocks of the subnets the foundation gives the EKS cluster. */
function clusterSubnetCidrs(foundation: TerraformJson | undefined): string[] {
  const resources = (foundation?.resource ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const subnets = resources.aws_subnet ?? {};
  const out: string[] = [];
  for (const cluster of Object.values(resources.aws_eks_cluster ?? {})) {
    const config = cluster.vpc_config as { subnet_ids?: string[] } | { subnet_ids?: string[] }[] | undefined;
    const ids = (Array.isArray(config) ? config[0] : config)?.subnet_ids ?? [];
    for (const id of ids) {
      const name = /^\$\{aws_subnet\.([^.}]+)\.id\}$/.exec(id)?.[1];
      const cidr = name ? (subnets[name]?.cidr_block as string | undefined) : undefined;
      if (cidr && parseBlock(cidr)) out.push(cidr);
    }
  }
  return out;
}

/** kube-controller-manager's default `--node-cidr-mask-size-ipv4`, which RKE2 keeps. */
export const RKE2_NODE_CIDR_MASK = 24;

/**
 * RKE2 with Canal (Calico policy over flannel VXLAN): the API server on a control-plane node
 * reaches a pod on its own node from the node's address, and a pod on any other node through
 * the tunnel, from `flannel.1`'s address: the first address of the node's podCIDR, which is
 * what RKE2 admits for host networking (pkg/controllers/cisnetworkpolicy,
 * `generateHostNetworkPolicyIngressRule`). The controller manager hands each node a
 * `/24` of the cluster CIDR when it joins, in no order a file can know, so the model puts the
 * control-plane nodes' podCIDRs apart across the range (first, last, and between): a policy
 * admitting fewer tunnel addresses than the whole range fails here as it would on a rebuilt node.
 */
export function rke2ApiServerSources(
  apiServerCidrs: readonly string[],
  podCidr: string,
  nodeMask: number = RKE2_NODE_CIDR_MASK,
): ApiServerSource[] {
  const pods = parseBlock(podCidr);
  if (!pods) throw new Error(`cluster.podCidr ${podCidr} is not an IPv4 CIDR block`);
  const blockSize = Math.min(pods.size, 2 ** (32 - nodeMask));
  const blocks = pods.size / blockSize;
  const nodes = apiServerCidrs.map((cidr) => {
    const block = parseBlock(cidr)!;
    return { cidr, ip: formatAddress(block.size === 1 ? block.base : block.base + 1) };
  });
  const out: ApiServerSource[] = nodes.map((node) => ({
    ip: node.ip,
    description: `control-plane node ${node.ip}`,
    admitWith: node.cidr,
  }));
  nodes.forEach((node, i) => {
    const index = nodes.length === 1 ? blocks - 1 : Math.round((i * (blocks - 1)) / (nodes.length - 1));
    const ip = formatAddress(pods.base + index * blockSize);
    out.push({
      ip,
      description: `control-plane node ${node.ip} through its Canal tunnel address ${ip}`,
      admitWith: podCidr,
    });
  });
  return out;
}
