/**
 * Least-privilege permissions of the cluster controllers and ML workloads, as data.
 * Every action is named; `*` resources appear only where the API has no resource-level
 * permissions (Describe calls) or where tag conditions do the scoping.
 */
import type { PolicyStatement } from "./policy";
import type { AwsAccount } from "./account";
import type { EncryptionKey } from "./encryption-key";

interface KeyedScope {
  readonly account: AwsAccount;
  readonly key: EncryptionKey;
}

/** Use of a KMS key by an AWS service on the caller's behalf only. */
function keyViaService(sid: string, scope: KeyedScope, service: string, actions: string[]): PolicyStatement {
  return {
    sid,
    actions,
    resources: [scope.key.arn],
    conditions: [
      {
        test: "StringEquals",
        variable: "kms:ViaService",
        values: [`${service}.${scope.account.region}.amazonaws.com`],
      },
    ],
  };
}

const KMS_DECRYPT = ["kms:Decrypt", "kms:DescribeKey"];
const KMS_ENCRYPT_DECRYPT = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"];

export function ebsCsiDriverStatements(scope: KeyedScope): PolicyStatement[] {
  const { partition, region, accountId } = scope.account;
  const volumes = `arn:${partition}:ec2:${region}:${accountId}:volume/*`;
  const snapshots = `arn:${partition}:ec2:${region}::snapshot/*`;
  return [
    {
      sid: "DescribeVolumesAndInstances",
      actions: [
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInstances",
        "ec2:DescribeSnapshots",
        "ec2:DescribeTags",
        "ec2:DescribeVolumes",
        "ec2:DescribeVolumesModifications",
      ],
      resources: ["*"],
    },
    {
      sid: "AttachAndModifyVolumes",
      actions: ["ec2:AttachVolume", "ec2:DetachVolume", "ec2:ModifyVolume", "ec2:CreateSnapshot"],
      resources: [volumes, snapshots, `arn:${partition}:ec2:${region}:${accountId}:instance/*`],
    },
    {
      sid: "TagOnlyWhatItCreates",
      actions: ["ec2:CreateTags"],
      resources: [volumes, snapshots],
      conditions: [
        { test: "StringEquals", variable: "ec2:CreateAction", values: ["CreateVolume", "CreateSnapshot"] },
      ],
    },
    {
      sid: "CreateVolumesTaggedForTheDriver",
      actions: ["ec2:CreateVolume"],
      resources: [volumes, snapshots],
      conditions: [
        { test: "StringLike", variable: "aws:RequestTag/ebs.csi.aws.com/cluster", values: ["true"] },
      ],
    },
    {
      sid: "DeleteOnlyDriverVolumes",
      actions: ["ec2:DeleteVolume", "ec2:DeleteTags"],
      resources: [volumes],
      conditions: [
        { test: "StringLike", variable: "ec2:ResourceTag/ebs.csi.aws.com/cluster", values: ["true"] },
      ],
    },
    {
      sid: "DeleteOnlyDriverSnapshots",
      actions: ["ec2:DeleteSnapshot"],
      resources: [snapshots],
      conditions: [
        { test: "StringLike", variable: "ec2:ResourceTag/ebs.csi.aws.com/cluster", values: ["true"] },
      ],
    },
    keyViaService("UseVolumeKeyThroughEc2", scope, "ec2", [
      ...KMS_ENCRYPT_DECRYPT,
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKeyWithoutPlaintext",
    ]),
    {
      sid: "GrantVolumeKeyToEc2",
      actions: ["kms:CreateGrant"],
      resources: [scope.key.arn],
      conditions: [{ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }],
    },
  ];
}

/** The VPC CNI (aws-node): gives pods VPC addresses through ENIs on its node. */
export function vpcCniStatements(account: AwsAccount): PolicyStatement[] {
  const { partition, region, accountId } = account;
  return [
    {
      sid: "DescribeNetwork",
      actions: [
        "ec2:DescribeInstances",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeTags",
      ],
      resources: ["*"],
    },
    {
      sid: "ManagePodNetworkInterfaces",
      actions: [
        "ec2:AssignPrivateIpAddresses",
        "ec2:AttachNetworkInterface",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DetachNetworkInterface",
        "ec2:ModifyNetworkInterfaceAttribute",
        "ec2:UnassignPrivateIpAddresses",
      ],
      resources: ["*"],
    },
    {
      sid: "TagPodNetworkInterfaces",
      actions: ["ec2:CreateTags"],
      resources: [`arn:${partition}:ec2:${region}:${accountId}:network-interface/*`],
    },
  ];
}

export function clusterAutoscalerStatements(account: AwsAccount, clusterName: string): PolicyStatement[] {
  const { partition, region, accountId } = account;
  return [
    {
      sid: "DiscoverGroupsAndInstanceShapes",
      actions: [
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations",
        "autoscaling:DescribeScalingActivities",
        "autoscaling:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeInstanceTypes",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements",
      ],
      resources: ["*"],
    },
    {
      // Labels and taints of empty groups, so pods asking for them can scale a group up from 0.
      sid: "ReadNodeGroupTemplates",
      actions: ["eks:DescribeNodegroup"],
      resources: [`arn:${partition}:eks:${region}:${accountId}:nodegroup/${clusterName}/*/*`],
    },
    {
      sid: "ScaleOnlyThisClustersGroups",
      actions: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
      resources: [
        `arn:${partition}:autoscaling:${region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
      ],
      conditions: [
        {
          test: "StringEquals",
          variable: `aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`,
          values: ["owned"],
        },
      ],
    },
  ];
}

export function loadBalancerControllerStatements(account: AwsAccount): PolicyStatement[] {
  const { partition, region, accountId } = account;
  const elb = (resource: string) =>
    `arn:${partition}:elasticloadbalancing:${region}:${accountId}:${resource}`;
  const securityGroups = `arn:${partition}:ec2:${region}:${accountId}:security-group/*`;
  const balancers = [elb("targetgroup/*/*"), elb("loadbalancer/net/*/*"), elb("loadbalancer/app/*/*")];
  const clusterTagAbsent = (kind: "Request" | "Resource") => ({
    test: "Null",
    variable: `aws:${kind}Tag/elbv2.k8s.aws/cluster`,
    values: [kind === "Request" ? "true" : "false"],
  });
  const ownsResource = { test: "Null", variable: "aws:ResourceTag/elbv2.k8s.aws/cluster", values: ["false"] };
  const tagsRequest = { test: "Null", variable: "aws:RequestTag/elbv2.k8s.aws/cluster", values: ["false"] };
  return [
    {
      sid: "CreateElbServiceLinkedRole",
      actions: ["iam:CreateServiceLinkedRole"],
      resources: ["*"],
      conditions: [
        {
          test: "StringEquals",
          variable: "iam:AWSServiceName",
          values: ["elasticloadbalancing.amazonaws.com"],
        },
      ],
    },
    {
      sid: "DescribeNetworkAndLoadBalancers",
      actions: [
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeAddresses",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeVpcs",
        "ec2:DescribeVpcPeeringConnections",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeInstances",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeTags",
        "ec2:DescribeRouteTables",
        "ec2:DescribeIpamPools",
        "ec2:GetCoipPoolUsage",
        "ec2:DescribeCoipPools",
        "ec2:GetSecurityGroupsForVpc",
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeListenerAttributes",
        "elasticloadbalancing:DescribeListenerCertificates",
        "elasticloadbalancing:DescribeSSLPolicies",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags",
        "elasticloadbalancing:DescribeTrustStores",
        "elasticloadbalancing:DescribeCapacityReservation",
      ],
      resources: ["*"],
    },
    {
      sid: "ReadCertificatesAndProtections",
      actions: [
        "acm:ListCertificates",
        "acm:DescribeCertificate",
        "iam:ListServerCertificates",
        "iam:GetServerCertificate",
        "cognito-idp:DescribeUserPoolClient",
        "wafv2:GetWebACL",
        "wafv2:GetWebACLForResource",
        "wafv2:AssociateWebACL",
        "wafv2:DisassociateWebACL",
        "shield:GetSubscriptionState",
        "shield:DescribeProtection",
        "shield:CreateProtection",
        "shield:DeleteProtection",
      ],
      resources: ["*"],
    },
    { sid: "CreateSecurityGroups", actions: ["ec2:CreateSecurityGroup"], resources: ["*"] },
    {
      sid: "TagSecurityGroupsItCreates",
      actions: ["ec2:CreateTags"],
      resources: [securityGroups],
      conditions: [
        { test: "StringEquals", variable: "ec2:CreateAction", values: ["CreateSecurityGroup"] },
        tagsRequest,
      ],
    },
    {
      sid: "RetagOwnSecurityGroups",
      actions: ["ec2:CreateTags", "ec2:DeleteTags"],
      resources: [securityGroups],
      conditions: [clusterTagAbsent("Request"), clusterTagAbsent("Resource")],
    },
    {
      sid: "ManageOwnSecurityGroups",
      actions: [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup",
      ],
      resources: [securityGroups],
      conditions: [ownsResource],
    },
    {
      // Node security group rules for target traffic (the group is not the controller's own).
      sid: "OpenNodeSecurityGroupsToLoadBalancers",
      actions: ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
      resources: [securityGroups],
    },
    {
      sid: "CreateTaggedLoadBalancers",
      actions: ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
      resources: ["*"],
      conditions: [tagsRequest],
    },
    {
      sid: "ManageListenersAndRules",
      actions: [
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DeleteRule",
      ],
      resources: ["*"],
    },
    {
      sid: "RetagOwnLoadBalancers",
      actions: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
      resources: balancers,
      conditions: [clusterTagAbsent("Request"), clusterTagAbsent("Resource")],
    },
    {
      sid: "TagListenersAndRules",
      actions: ["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"],
      resources: [
        elb("listener/net/*/*/*"),
        elb("listener/app/*/*/*"),
        elb("listener-rule/net/*/*/*"),
        elb("listener-rule/app/*/*/*"),
      ],
    },
    {
      sid: "TagOnCreate",
      actions: ["elasticloadbalancing:AddTags"],
      resources: balancers,
      conditions: [
        {
          test: "StringEquals",
          variable: "elasticloadbalancing:CreateAction",
          values: ["CreateTargetGroup", "CreateLoadBalancer"],
        },
        tagsRequest,
      ],
    },
    {
      sid: "ModifyOwnLoadBalancers",
      actions: [
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:ModifyCapacityReservation",
        "elasticloadbalancing:ModifyIpPools",
      ],
      resources: ["*"],
      conditions: [ownsResource],
    },
    {
      sid: "RegisterTargets",
      actions: ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
      resources: [elb("targetgroup/*/*")],
    },
    {
      sid: "ConfigureListeners",
      actions: [
        "elasticloadbalancing:SetWebAcl",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:SetRulePriorities",
      ],
      resources: ["*"],
    },
  ];
}

/**
 * External Secrets reads exactly the Secrets Manager secrets the platform copies: the
 * database's, and those of the alert receivers (given by name or ARN in the environment).
 */
export function secretReaderStatements(
  scope: KeyedScope,
  secretArn: string,
  alertReceiverSecrets: readonly string[] = [],
): PolicyStatement[] {
  const reading = [
    "secretsmanager:GetSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:ListSecretVersionIds",
  ];
  const statements: PolicyStatement[] = [
    { sid: "ReadDatabaseSecret", actions: reading, resources: [secretArn] },
    keyViaService("DecryptSecretThroughSecretsManager", scope, "secretsmanager", KMS_DECRYPT),
  ];
  if (alertReceiverSecrets.length > 0) {
    statements.push({
      sid: "ReadAlertReceiverSecrets",
      actions: reading,
      resources: [...new Set(alertReceiverSecrets)].flatMap((key) => secretsManagerArns(scope.account, key)),
    });
  }
  return statements;
}

/**
 * IAM resources of a secret given by name or ARN. Secrets Manager appends `-` and six random
 * characters to a secret's name in its ARN; a given ARN may be complete or stop at the name.
 */
function secretsManagerArns(account: AwsAccount, key: string): string[] {
  if (key.startsWith("arn:")) return [key, `${key}-??????`];
  return [
    `arn:${account.partition}:secretsmanager:${account.region}:${account.accountId}:secret:${key}-??????`,
  ];
}

export type BucketAccessLevel = "read" | "read-write";

export interface BucketGrant {
  readonly bucketArn: string;
  readonly access: BucketAccessLevel;
}

/** New objects under one prefix of a bucket, nothing else of it: neither list, read nor delete. */
export interface PrefixWriteGrant {
  readonly bucketArn: string;
  /** Key prefix ending in `/`, e.g. `predictions/`. */
  readonly prefix: string;
}

/**
 * S3 object access to the given buckets, with the KMS use their SSE-KMS encryption needs; and
 * where `appendOnly` names prefixes, PutObject under them alone.
 */
export function bucketAccessStatements(
  scope: KeyedScope,
  grants: readonly BucketGrant[],
  appendOnly: readonly PrefixWriteGrant[] = [],
): PolicyStatement[] {
  for (const grant of appendOnly) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\/$/.test(grant.prefix)) {
      throw new Error(
        `bucketAccessStatements: prefix "${grant.prefix}" must be one path segment ending in /, e.g. predictions/`,
      );
    }
  }
  const statements: PolicyStatement[] = [
    {
      sid: "ListBuckets",
      actions: ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
      resources: grants.map((grant) => grant.bucketArn),
    },
    {
      sid: "ReadObjects",
      actions: ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
      resources: grants.map((grant) => `${grant.bucketArn}/*`),
    },
  ];
  const writable = grants.filter((grant) => grant.access === "read-write");
  if (writable.length > 0) {
    statements.push({
      sid: "WriteObjects",
      actions: [
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
      ],
      resources: writable.map((grant) => `${grant.bucketArn}/*`),
    });
  }
  if (appendOnly.length > 0) {
    statements.push({
      sid: "PutObjectsUnderPrefix",
      actions: ["s3:PutObject", "s3:AbortMultipartUpload"],
      resources: appendOnly.map((grant) => `${grant.bucketArn}/${grant.prefix}*`),
    });
  }
  statements.push(
    keyViaService(
      "UseBucketKeyThroughS3",
      scope,
      "s3",
      writable.length + appendOnly.length > 0 ? KMS_ENCRYPT_DECRYPT : KMS_DECRYPT,
    ),
  );
  return statements;
}

/** Objects under key prefixes of one bucket, to be listed and read and nothing else. */
export interface PrefixReadGrant {
  /** Names the grant's list statement, e.g. `ListReferenceData`. */
  readonly sid: string;
  readonly bucketArn: string;
  /** Key prefixes without a leading /, e.g. `predictions/churn-classifier/`. */
  readonly prefixes: readonly string[];
}

/**
 * List and read under the given prefixes only (ListBucket conditioned on `s3:prefix`, GetObject
 * on the prefixes' objects), with the key's decrypt through S3: what a job that only reads
 * named data sets needs.
 */
export function prefixReadStatements(
  scope: KeyedScope,
  grants: readonly PrefixReadGrant[],
): PolicyStatement[] {
  const used = grants.filter((grant) => grant.prefixes.length > 0);
  if (used.length === 0) throw new Error("prefixReadStatements: no prefix to read; fix: name at least one");
  for (const grant of used)
    for (const prefix of grant.prefixes)
      if (!/^[A-Za-z0-9][A-Za-z0-9._\/-]*$/.test(prefix) || prefix.split("/").includes(".."))
        throw new Error(
          `prefixReadStatements: prefix "${prefix}" is not a key prefix; fix: give it without a leading /, * or ..`,
        );
  // A path names a folder (a release refuses a file's name for artifactPath and referenceData):
  // `a/b` reads the marker key `a/b` and everything under `a/b/`, never `a/bc`.
  const keys = (prefix: string) => {
    const bare = prefix.replace(/\/$/, "");
    return [bare, `${bare}/*`];
  };
  return [
    ...used.map((grant) => ({
      sid: grant.sid,
      actions: ["s3:ListBucket"],
      resources: [grant.bucketArn],
      conditions: [
        { test: "StringLike", variable: "s3:prefix", values: [...new Set(grant.prefixes.flatMap(keys))] },
      ],
    })),
    {
      sid: "ReadObjectsUnderPrefixes",
      actions: ["s3:GetObject"],
      resources: [
        ...new Set(
          used.flatMap((grant) =>
            grant.prefixes.flatMap((prefix) => keys(prefix).map((key) => `${grant.bucketArn}/${key}`)),
          ),
        ),
      ],
    },
    keyViaService("UseBucketKeyThroughS3", scope, "s3", KMS_DECRYPT),
  ];
}
