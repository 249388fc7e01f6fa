import { KubernetesCluster, type KubernetesClusterProps } from "../../constructs/aws/kubernetes-cluster";
import { awsFixture, synthJson } from "../support/aws-fixture";
import { resourcesOf } from "../support/synth";

const ADDONS = {
  vpcCni: "v1.0.0-eksbuild.1",
  coredns: "v1.0.0-eksbuild.1",
  kubeProxy: "v1.0.0-eksbuild.1",
  ebsCsiDriver: "v1.0.0-eksbuild.1",
};
const ADMIN = "arn:aws:iam::111111111111:role/admin";
const VIEWER = "arn:aws:iam::111111111111:role/viewer";

function cluster(overrides: Partial<KubernetesClusterProps>) {
  const fixture = awsFixture();
  new KubernetesCluster(fixture.stack, "Cluster", {
    name: "unit",
    account: fixture.account,
    version: "1.34",
    addonVersions: ADDONS,
    network: fixture.network,
    key: fixture.key,
    adminPrincipalArns: [ADMIN],
    ...overrides,
  });
  return synthJson(fixture.stack);
}

describe("KubernetesCluster viewers", () => {
  it("gives each viewer the view policy and, on its access entry, the Kubernetes groups it names", () => {
    const json = cluster({
      viewers: [
        { principalArn: VIEWER, kubernetesGroups: ["mlops:pull-request-diff"] },
        { principalArn: "arn:aws:iam::111111111111:role/auditor" },
      ],
    });
    const entries = Object.values(resourcesOf(json, "aws_eks_access_entry"));
    expect(entries.map((e) => [e.principal_arn, e.kubernetes_groups])).toEqual([
      [ADMIN, undefined],
      [VIEWER, ["mlops:pull-request-diff"]],
      ["arn:aws:iam::111111111111:role/auditor", undefined],
    ]);
    const policies = Object.values(resourcesOf(json, "aws_eks_access_policy_association"));
    expect(policies.map((p) => [p.principal_arn, p.policy_arn.replace(/^.*\//, "")])).toEqual([
      [expect.stringContaining("AdminAccess0"), "AmazonEKSClusterAdminPolicy"],
      [expect.stringContaining("ViewAccess0"), "AmazonEKSViewPolicy"],
      [expect.stringContaining("ViewAccess1"), "AmazonEKSViewPolicy"],
    ]);
  });

  it("refuses system: groups, which EKS refuses on access entries", () => {
    expect(() =>
      cluster({ viewers: [{ principalArn: VIEWER, kubernetesGroups: ["system:masters"] }] }),
    ).toThrow(/viewer groups system:masters start with "system:".*fix: name a group of the platform's own/);
  });

  it("refuses a principal that is both admin and viewer (one access entry per principal)", () => {
    expect(() => cluster({ viewers: [{ principalArn: ADMIN }] })).toThrow(
      /is in both adminPrincipalArns and viewers/,
    );
  });
});
