import { Construct } from "constructs";
import { Fn } from "cdktf";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import { EksAccessEntry } from "@cdktf/provider-aws/lib/eks-access-entry";
import { EksAccessPolicyAssociation } from "@cdktf/provider-aws/lib/eks-access-policy-association";
import { EksAddon } from "@cdktf/provider-aws/lib/eks-addon";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { ITerraformDependable } from "cdktf";
import { policyDocument } from "./policy";
import { ebsCsiDriverStatements, vpcCniStatements } from "./controller-policies";
import { WorkloadIdentity, type OidcIdentityProvider } from "./workload-identity";
import type { AwsAccount } from "./account";
import type { EncryptionKey } from "./encryption-key";
import type { Network } from "./network";

/** Versions of the EKS managed add-ons, pinned per Kubernetes version. */
export interface ClusterAddonVersions {
  readonly vpcCni: string;
  readonly coredns: string;
  readonly kubeProxy: string;
  readonly ebsCsiDriver: string;
}

export interface PublicEndpoint {
  readonly enabled: boolean;
  /** Source ranges admitted to the public endpoint; never 0.0.0.0/0. */
  readonly allowedCidrs: readonly string[];
}

/** An IAM principal with read-only access to the cluster. */
export interface ClusterViewer {
  readonly principalArn: string;
  /**
   * Kubernetes groups its access entry carries, for RBAC the cluster grants on top of the view
   * policy (the union applies). Not `system:` groups, which EKS refuses. @default none
   */
  readonly kubernetesGroups?: readonly string[];
}

export interface KubernetesClusterProps {
  readonly name: string;
  readonly account: AwsAccount;
  /** Kubernetes minor version, e.g. `1.34`. */
  readonly version: string;
  readonly addonVersions: ClusterAddonVersions;
  readonly network: Network;
  /** Envelope-encrypts Kubernetes Secrets and the control-plane logs. */
  readonly key: EncryptionKey;
  /** IAM principals granted cluster-admin through access entries. */
  readonly adminPrincipalArns: readonly string[];
  /**
   * IAM principals granted read-only access (AmazonEKSViewPolicy, which leaves out Secrets and
   * custom resources) through access entries, e.g. the role pull-request diffs run as, each with
   * the Kubernetes groups its entry carries. @default none
   */
  readonly viewers?: readonly ClusterViewer[];
  /** @default disabled - only the private endpoint answers */
  readonly publicEndpoint?: PublicEndpoint;
  /** @default "172.20.0.0/16" */
  readonly serviceIpv4Cidr?: string;
  /** @default 90 */
  readonly logRetentionDays?: number;
  /** Refuse deletion of the cluster (EKS deletion protection). @default false */
  readonly deletionProtection?: boolean;
}

const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"];
const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/**
 * EKS control plane: private endpoint, API access entries, envelope encryption, control-plane
 * logs, an IAM OIDC provider for IRSA, and pinned managed add-ons. The VPC CNI enforces
 * Kubernetes NetworkPolicies (its network policy agent is switched on).
 */
export class KubernetesCluster extends Construct implements OidcIdentityProvider {
  public readonly cluster: EksCluster;
  public readonly name: string;
  public readonly endpoint: string;
  public readonly certificateAuthorityData: string;
  public readonly oidcIssuerUrl: string;
  public readonly oidcIssuerHostPath: string;
  public readonly oidcProviderArn: string;
  public readonly oidcProvider: IamOpenidConnectProvider;
  /** Security group EKS attaches to the control plane and to managed nodes. */
  public readonly securityGroupId: string;
  public readonly nodeRole: IamRole;
  public readonly ebsCsiDriverIdentity: WorkloadIdentity;
  /** The VPC CNI's own role: the node role keeps no network permissions. */
  public readonly vpcCniIdentity: WorkloadIdentity;
  /** Add-ons nodes need before they can become Ready (CNI, kube-proxy). */
  public readonly networkingAddons: EksAddon[];
  private readonly props: KubernetesClusterProps;

  constructor(scope: Construct, id: string, props: KubernetesClusterProps) {
    super(scope, id);
    this.props = props;
    if (!CLUSTER_NAME.test(props.name)) {
      throw new Error(
        `KubernetesCluster: name "${props.name}" must be 1-100 letters, digits, - or _, starting with a letter or digit`,
      );
    }
    if (props.adminPrincipalArns.length === 0) {
      throw new Error(
        "KubernetesCluster: adminPrincipalArns is empty; name at least one IAM role, or nobody can reach the cluster",
      );
    }
    const viewers = props.viewers ?? [];
    const both = viewers
      .map((viewer) => viewer.principalArn)
      .filter((arn) => props.adminPrincipalArns.includes(arn));
    if (both.length > 0) {
      throw new Error(
        `KubernetesCluster ${props.name}: ${both.join(", ")} is in both adminPrincipalArns and viewers; EKS allows one access entry per principal; fix: keep it in one list`,
      );
    }
    const systemGroups = viewers.flatMap((viewer) =>
      (viewer.kubernetesGroups ?? []).filter((group) => group.startsWith("system:")),
    );
    if (systemGroups.length > 0) {
      throw new Error(
        `KubernetesCluster ${props.name}: viewer groups ${systemGroups.join(", ")} start with "system:", which EKS refuses on access entries; fix: name a group of the platform's own (e.g. mlops:...) and bind RBAC to it`,
      );
    }
    const publicEndpoint = props.publicEndpoint ?? { enabled: false, allowedCidrs: [] };
    if (publicEndpoint.allowedCidrs.some((block) => block.endsWith("/0"))) {
      throw new Error(
        `KubernetesCluster ${props.name}: publicEndpoint.allowedCidrs (${publicEndpoint.allowedCidrs.join(", ")}) opens the API to the internet; list the CI and office ranges`,
      );
    }
    if (publicEndpoint.enabled && publicEndpoint.allowedCidrs.length === 0) {
      throw new Error(
        `KubernetesCluster ${props.name}: publicEndpoint is enabled with no allowedCidrs, which EKS reads as 0.0.0.0/0; list the ranges or disable it`,
      );
    }
    const { partition } = props.account;

    const clusterRole = new IamRole(this, "ClusterRole", {
      name: `${props.name}-cluster`,
      assumeRolePolicy: policyDocument(this, "ClusterTrust", [
        {
          sid: "EksControlPlaneAssumesRole",
          actions: ["sts:AssumeRole", "sts:TagSession"],
          principals: [{ type: "Service", identifiers: ["eks.amazonaws.com"] }],
        },
      ]).json,
    });
    new IamRolePolicyAttachment(this, "ClusterPolicy", {
      role: clusterRole.name,
      policyArn: `arn:${partition}:iam::aws:policy/AmazonEKSClusterPolicy`,
    });
    new IamRolePolicy(this, "ClusterEncryption", {
      name: "envelope-encryption",
      role: clusterRole.name,
      policy: policyDocument(this, "ClusterEncryptionDocument", [
        {
          sid: "EncryptKubernetesSecrets",
          actions: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
          resources: [props.key.arn],
        },
      ]).json,
    });

    // EKS would create this group itself, unencrypted and kept forever.
    const logGroup = new CloudwatchLogGroup(this, "ControlPlaneLogs", {
      name: `/aws/eks/${props.name}/cluster`,
      retentionInDays: props.logRetentionDays ?? 90,
      kmsKeyId: props.key.arn,
    });

    this.cluster = new EksCluster(this, "Cluster", {
      name: props.name,
      version: props.version,
      roleArn: clusterRole.arn,
      vpcConfig: {
        subnetIds: props.network.privateSubnets.map((subnet) => subnet.id),
        endpointPrivateAccess: true,
        endpointPublicAccess: publicEndpoint.enabled,
        publicAccessCidrs: publicEndpoint.enabled ? [...publicEndpoint.allowedCidrs] : undefined,
      },
      accessConfig: {
        authenticationMode: "API",
        bootstrapClusterCreatorAdminPermissions: false,
      },
      encryptionConfig: { provider: { keyArn: props.key.arn }, resources: ["secrets"] },
      enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
      kubernetesNetworkConfig: {
        ipFamily: "ipv4",
        serviceIpv4Cidr: props.serviceIpv4Cidr ?? "172.20.0.0/16",
      },
      // The managed add-ons below replace the self-managed ones EKS would otherwise install.
      bootstrapSelfManagedAddons: false,
      upgradePolicy: { supportType: "STANDARD" },
      deletionProtection: props.deletionProtection ?? false,
      dependsOn: [logGroup],
    });

    this.name = this.cluster.name;
    this.endpoint = this.cluster.endpoint;
    this.certificateAuthorityData = this.cluster.certificateAuthority.get(0).data;
    this.oidcIssuerUrl = this.cluster.identity.get(0).oidc.get(0).issuer;
    this.oidcIssuerHostPath = Fn.replace(this.oidcIssuerUrl, "https://", "");
    this.securityGroupId = this.cluster.vpcConfig.clusterSecurityGroupId;

    const oidcProvider = (this.oidcProvider = new IamOpenidConnectProvider(this, "OidcProvider", {
      url: this.oidcIssuerUrl,
      clientIdList: ["sts.amazonaws.com"],
      tags: { Name: `${props.name}-irsa` },
    }));
    this.oidcProviderArn = oidcProvider.arn;

    props.adminPrincipalArns.forEach((principalArn, index) => {
      const entry = new EksAccessEntry(this, `AdminAccess${index}`, {
        clusterName: this.cluster.name,
        principalArn,
        type: "STANDARD",
      });
      new EksAccessPolicyAssociation(this, `AdminAccess${index}Policy`, {
        clusterName: this.cluster.name,
        principalArn: entry.principalArn,
        policyArn: `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
        accessScope: { type: "cluster" },
      });
    });
    viewers.forEach(({ principalArn, kubernetesGroups }, index) => {
      const entry = new EksAccessEntry(this, `ViewAccess${index}`, {
        clusterName: this.cluster.name,
        principalArn,
        type: "STANDARD",
        kubernetesGroups: kubernetesGroups && kubernetesGroups.length > 0 ? [...kubernetesGroups] : undefined,
      });
      new EksAccessPolicyAssociation(this, `ViewAccess${index}Policy`, {
        clusterName: this.cluster.name,
        principalArn: entry.principalArn,
        policyArn: `arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSViewPolicy`,
        accessScope: { type: "cluster" },
      });
    });

    this.nodeRole = new IamRole(this, "NodeRole", {
      name: `${props.name}-node`,
      assumeRolePolicy: policyDocument(this, "NodeTrust", [
        {
          sid: "Ec2InstancesAssumeRole",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }],
        },
      ]).json,
    });
    for (const [attachmentId, policy] of [
      ["NodeWorkerPolicy", "AmazonEKSWorkerNodePolicy"],
      ["NodeRegistryPolicy", "AmazonEC2ContainerRegistryPullOnly"],
    ] as const) {
      new IamRolePolicyAttachment(this, attachmentId, {
        role: this.nodeRole.name,
        policyArn: `arn:${partition}:iam::aws:policy/${policy}`,
      });
    }

    this.vpcCniIdentity = new WorkloadIdentity(this, "VpcCniIdentity", {
      roleName: `${props.name}-vpc-cni`,
      cluster: this,
      namespace: "kube-system",
      serviceAccount: "aws-node",
      purpose: "attaches network interfaces and assigns pod addresses (VPC CNI)",
      statements: vpcCniStatements(props.account),
    });
    this.networkingAddons = [
      this.addon("VpcCni", "vpc-cni", props.addonVersions.vpcCni, {
        configurationValues: JSON.stringify({ enableNetworkPolicy: "true" }),
        serviceAccountRoleArn: this.vpcCniIdentity.roleArn,
      }),
      this.addon("KubeProxy", "kube-proxy", props.addonVersions.kubeProxy),
    ];

    this.ebsCsiDriverIdentity = new WorkloadIdentity(this, "EbsCsiDriverIdentity", {
      roleName: `${props.name}-ebs-csi-driver`,
      cluster: this,
      namespace: "kube-system",
      serviceAccount: "ebs-csi-controller-sa",
      purpose: "creates, attaches and deletes the EBS volumes behind PersistentVolumes",
      statements: ebsCsiDriverStatements({ account: props.account, key: props.key }),
    });
  }

  /**
   * Installs the add-ons that run as pods (CoreDNS, EBS CSI driver); they only become healthy
   * once nodes exist, so they wait for `nodes`.
   */
  public addWorkloadAddons(nodes: ITerraformDependable[]): EksAddon[] {
    return [
      this.addon("CoreDns", "coredns", this.props.addonVersions.coredns, { dependsOn: nodes }),
      this.addon("EbsCsiDriver", "aws-ebs-csi-driver", this.props.addonVersions.ebsCsiDriver, {
        serviceAccountRoleArn: this.ebsCsiDriverIdentity.roleArn,
        dependsOn: nodes,
      }),
    ];
  }

  private addon(
    id: string,
    addonName: string,
    addonVersion: string,
    extra: {
      configurationValues?: string;
      serviceAccountRoleArn?: string;
      dependsOn?: ITerraformDependable[];
    } = {},
  ): EksAddon {
    return new EksAddon(this, id, {
      clusterName: this.cluster.name,
      addonName,
      addonVersion,
      resolveConflictsOnCreate: "OVERWRITE",
      resolveConflictsOnUpdate: "OVERWRITE",
      ...extra,
    });
  }
}
