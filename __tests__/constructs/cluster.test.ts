import { KubernetesCluster, type KubernetesClusterProps } from "../../constructs/aws/kubernetes-cluster";
import { NodeGroup, type NodeGroupProps } from "../../constructs/aws/node-group";
import { EncryptionKey } from "../../constructs/aws/encryption-key";
import { awsFixture, synthJson } from "../support/aws-fixture";
import { resourceFor, resourcesOf } from "../support/synth";

const ADDONS = {
  vpcCni: "v1.0.0-eksbuild.1",
  coredns: "v1.0.0-eksbuild.1",
  kubeProxy: "v1.0.0-eksbuild.1",
  ebsCsiDriver: "v1.0.0-eksbuild.1",
};

function cluster(overrides: Partial<KubernetesClusterProps> = {}) {
  const fixture = awsFixture();
  const construct = new KubernetesCluster(fixture.stack, "Cluster", {
    name: "unit",
    account: fixture.account,
    version: "1.34",
    addonVersions: ADDONS,
    network: fixture.network,
    key: fixture.key,
    adminPrincipalArns: ["arn:aws:iam::111111111111:role/admin"],
    ...overrides,
  });
  return { ...fixture, cluster: construct };
}

function nodeGroup(overrides: Partial<NodeGroupProps> = {}) {
  const fixture = cluster();
  const construct = new NodeGroup(fixture.stack, "Nodes", {
    cluster: fixture.cluster,
    network: fixture.network,
    name: "gpu",
    instanceTypes: ["g4dn.xlarge", "g5.xlarge"],
    capacityType: "SPOT",
    minSize: 0,
    desiredSize: 0,
    maxSize: 2,
    diskSizeGib: 100,
    amiType: "AL2023_x86_64_NVIDIA",
    ...overrides,
  });
  return { ...fixture, nodeGroup: construct };
}

describe("KubernetesCluster", () => {
  it("defaults to a private-only endpoint and standard support", () => {
    const { stack, cluster: construct } = cluster();
    const json = synthJson(stack);
    const eks = resourceFor(json, construct.cluster);
    expect(eks.vpc_config).toMatchObject({ endpoint_private_access: true, endpoint_public_access: false });
    expect(eks.kubernetes_network_config).toEqual({ ip_family: "ipv4", service_ipv4_cidr: "172.20.0.0/16" });
    expect(eks.bootstrap_self_managed_addons).toBe(false);
  });

  it("creates its control-plane log group first, encrypted", () => {
    const { stack, cluster: construct } = cluster({ logRetentionDays: 30 });
    const json = synthJson(stack);
    const [logGroupId] = resourceFor(json, construct.cluster).depends_on;
    const logGroup = resourcesOf(json, "aws_cloudwatch_log_group")[logGroupId.split(".")[1]];
    expect(logGroup).toMatchObject({ name: "/aws/eks/unit/cluster", retention_in_days: 30 });
  });

  it("fails on a name EKS refuses", () => {
    expect(() => cluster({ name: "-unit" })).toThrow('KubernetesCluster: name "-unit" must be 1-100 letters');
  });

  it("fails without an admin principal", () => {
    expect(() => cluster({ adminPrincipalArns: [] })).toThrow("adminPrincipalArns is empty");
  });

  it("fails on a public endpoint open to the internet", () => {
    expect(() => cluster({ publicEndpoint: { enabled: true, allowedCidrs: ["0.0.0.0/0"] } })).toThrow(
      "publicEndpoint.allowedCidrs (0.0.0.0/0) opens the API to the internet",
    );
  });

  it("fails on a public endpoint without source ranges", () => {
    expect(() => cluster({ publicEndpoint: { enabled: true, allowedCidrs: [] } })).toThrow(
      "publicEndpoint is enabled with no allowedCidrs, which EKS reads as 0.0.0.0/0",
    );
  });
});

describe("NodeGroup", () => {
  it("labels nodes with their workload and tells the autoscaler about taints and GPUs", () => {
    const { stack, nodeGroup: construct } = nodeGroup({
      taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
      resources: { "nvidia.com/gpu": "1" },
      labels: { team: "vision" },
    });
    const json = synthJson(stack);
    expect(resourceFor(json, construct.nodeGroup).labels).toEqual({ team: "vision", workload: "gpu" });
    const tags = Object.values(resourcesOf(json, "aws_autoscaling_group_tag")).map((t) => [
      t.tag.key,
      t.tag.value,
      t.tag.propagate_at_launch,
    ]);
    expect(tags.sort()).toEqual([
      ["k8s.io/cluster-autoscaler/node-template/label/team", "vision", false],
      ["k8s.io/cluster-autoscaler/node-template/label/workload", "gpu", false],
      ["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu", "1", false],
      ["k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu", "true:NoSchedule", false],
    ]);
  });

  it("fails when minSize exceeds maxSize", () => {
    expect(() => nodeGroup({ minSize: 3, desiredSize: 3, maxSize: 2 })).toThrow(
      "NodeGroup gpu: minSize (3) and maxSize (2) must satisfy 0 <= minSize <= maxSize",
    );
  });

  it("fails on a zero maxSize", () => {
    expect(() => nodeGroup({ minSize: 0, desiredSize: 0, maxSize: 0 })).toThrow("maxSize >= 1");
  });

  it("fails when desiredSize is outside the bounds", () => {
    expect(() => nodeGroup({ desiredSize: 5 })).toThrow(
      "NodeGroup gpu: desiredSize (5) must be within [0, 2]",
    );
  });

  it("fails on a SPOT group with one instance type", () => {
    expect(() => nodeGroup({ instanceTypes: ["g5.xlarge"] })).toThrow(
      "a SPOT group needs two or more instance types, got g5.xlarge",
    );
  });
});

describe("EncryptionKey", () => {
  it.each([6, 31, 7.5])("fails on a deletion window of %s days", (days) => {
    const { stack, account } = awsFixture();
    expect(
      () =>
        new EncryptionKey(stack, "Other", {
          alias: "x",
          account,
          description: "x",
          deletionWindowDays: days,
        }),
    ).toThrow(`EncryptionKey x: deletionWindowDays (${days}) must be a whole number from 7 to 30`);
  });
});
