/**
 * Permissions of the delivery roles (the pipeline's deploy and diff roles) and of the S3 role
 * that replicates model artifacts between accounts, as data. Every action is named.
 */
import type { PolicyStatement } from "./policy";

/** An account's Terraform state: bucket, key prefix and the key that encrypts it. */
export interface StateLocation {
  readonly bucketArn: string;
  readonly keyPrefix: string;
  readonly keyArn: string;
  readonly region: string;
}

/**
 * Access to Terraform state. `plan` reads the state and, with S3 native locking, writes and
 * deletes the `<key>.tflock` object beside it (plan locks unless told `-lock=false`), so even
 * the read-only role writes lock files; only `apply` writes the state itself.
 */
export function stateAccessStatements(state: StateLocation, access: "plan" | "apply"): PolicyStatement[] {
  const objects = `${state.bucketArn}/${state.keyPrefix}/*`;
  const locks = `${state.bucketArn}/${state.keyPrefix}/*.tflock`;
  return [
    { sid: "ListStateBucket", actions: ["s3:ListBucket"], resources: [state.bucketArn] },
    { sid: "ReadState", actions: ["s3:GetObject"], resources: [objects] },
    {
      sid: access === "apply" ? "WriteStateAndLocks" : "WriteLocks",
      actions: ["s3:PutObject", "s3:DeleteObject"],
      resources: [access === "apply" ? objects : locks],
    },
    {
      sid: "StateKeyThroughS3",
      actions: ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
      resources: [state.keyArn],
      conditions: [
        { test: "StringEquals", variable: "kms:ViaService", values: [`s3.${state.region}.amazonaws.com`] },
      ],
    },
  ];
}

/** What the environments of one account create, for scoping the deploy role. */
export interface DeployScope {
  readonly partition: string;
  readonly accountId: string;
  /** Buckets the foundations own (artifacts, data). */
  readonly bucketNames: readonly string[];
  /** ECR repositories the foundations own. */
  readonly repositoryNames: readonly string[];
  /** Prefix of every IAM role, log group and cluster name, e.g. `mlops-`. */
  readonly namePrefix: string;
}

/**
 * The deploy role: create, change, read and delete what the foundation, platform and serving
 * stacks declare. Resources are scoped by name where the API allows it; EC2, EKS, RDS and
 * Auto Scaling create calls take `*` because the resource does not exist yet when they are
 * authorized (their names or ids are generated).
 */
export function deployRoleStatements(scope: DeployScope): PolicyStatement[] {
  const { partition, accountId, namePrefix } = scope;
  const arn = (service: string, resource: string, region = "*") =>
    `arn:${partition}:${service}:${region}:${accountId}:${resource}`;
  const buckets = scope.bucketNames.map((name) => `arn:${partition}:s3:::${name}`);
  return [
    {
      sid: "Identity",
      actions: ["sts:GetCallerIdentity"],
      resources: ["*"],
    },
    {
      sid: "Network",
      actions: [
        "ec2:AllocateAddress",
        "ec2:AssociateRouteTable",
        "ec2:AttachInternetGateway",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:CreateFlowLogs",
        "ec2:CreateInternetGateway",
        "ec2:CreateLaunchTemplate",
        "ec2:CreateLaunchTemplateVersion",
        "ec2:CreateNatGateway",
        "ec2:CreateRoute",
        "ec2:CreateRouteTable",
        "ec2:CreateSecurityGroup",
        "ec2:CreateSubnet",
        "ec2:CreateTags",
        "ec2:CreateVpc",
        "ec2:CreateVpcEndpoint",
        "ec2:DeleteFlowLogs",
        "ec2:DeleteInternetGateway",
        "ec2:DeleteLaunchTemplate",
        "ec2:DeleteLaunchTemplateVersions",
        "ec2:DeleteNatGateway",
        "ec2:DeleteRoute",
        "ec2:DeleteRouteTable",
        "ec2:DeleteSecurityGroup",
        "ec2:DeleteSubnet",
        "ec2:DeleteTags",
        "ec2:DeleteVpc",
        "ec2:DeleteVpcEndpoints",
        "ec2:DescribeAccountAttributes",
        "ec2:DescribeAddresses",
        "ec2:DescribeAddressesAttribute",
        "ec2:DescribeAvailabilityZones",
        "ec2:DescribeFlowLogs",
        "ec2:DescribeInternetGateways",
        "ec2:DescribeLaunchTemplateVersions",
        "ec2:DescribeLaunchTemplates",
        "ec2:DescribeNatGateways",
        "ec2:DescribeNetworkAcls",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribePrefixLists",
        "ec2:DescribeRouteTables",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSubnets",
        "ec2:DescribeTags",
        "ec2:DescribeVpcAttribute",
        "ec2:DescribeVpcEndpoints",
        "ec2:DescribeVpcs",
        "ec2:DetachInternetGateway",
        "ec2:DisassociateAddress",
        "ec2:DisassociateRouteTable",
        "ec2:ModifySubnetAttribute",
        "ec2:ModifyVpcAttribute",
        "ec2:ModifyVpcEndpoint",
        "ec2:ReleaseAddress",
        "ec2:ReplaceRoute",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RunInstances",
      ],
      resources: ["*"],
    },
    {
      sid: "Kubernetes",
      actions: [
        "eks:AssociateAccessPolicy",
        "eks:CreateAccessEntry",
        "eks:CreateAddon",
        "eks:CreateCluster",
        "eks:CreateNodegroup",
        "eks:DeleteAccessEntry",
        "eks:DeleteAddon",
        "eks:DeleteCluster",
        "eks:DeleteNodegroup",
        "eks:DescribeAccessEntry",
        "eks:DescribeAddon",
        "eks:DescribeAddonVersions",
        "eks:DescribeCluster",
        "eks:DescribeNodegroup",
        "eks:DescribeUpdate",
        "eks:DisassociateAccessPolicy",
        "eks:ListAccessPolicies",
        "eks:ListAssociatedAccessPolicies",
        "eks:ListAddons",
        "eks:ListNodegroups",
        "eks:ListTagsForResource",
        "eks:TagResource",
        "eks:UntagResource",
        "eks:UpdateAccessEntry",
        "eks:UpdateAddon",
        "eks:UpdateClusterConfig",
        "eks:UpdateClusterVersion",
        "eks:UpdateNodegroupConfig",
        "eks:UpdateNodegroupVersion",
      ],
      resources: ["*"],
    },
    {
      sid: "NodeGroupScalingTags",
      actions: [
        "autoscaling:CreateOrUpdateTags",
        "autoscaling:DeleteTags",
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:DescribeTags",
      ],
      resources: ["*"],
    },
    {
      sid: "PlatformRoles",
      actions: [
        "iam:AttachRolePolicy",
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListRolePolicies",
        "iam:PassRole",
        "iam:PutRolePolicy",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
      ],
      resources: [`arn:${partition}:iam::${accountId}:role/${namePrefix}*`],
    },
    {
      sid: "ClusterOidcProviders",
      actions: [
        "iam:CreateOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:GetOpenIDConnectProvider",
        "iam:TagOpenIDConnectProvider",
        "iam:UntagOpenIDConnectProvider",
        "iam:UpdateOpenIDConnectProviderThumbprint",
      ],
      resources: [`arn:${partition}:iam::${accountId}:oidc-provider/oidc.eks.*`],
    },
    {
      sid: "ServiceLinkedRoles",
      actions: ["iam:CreateServiceLinkedRole"],
      resources: [`arn:${partition}:iam::${accountId}:role/aws-service-role/*`],
      conditions: [
        {
          test: "StringEquals",
          variable: "iam:AWSServiceName",
          values: [
            "eks.amazonaws.com",
            "eks-nodegroup.amazonaws.com",
            "autoscaling.amazonaws.com",
            "rds.amazonaws.com",
            "replication.ecr.amazonaws.com",
          ],
        },
      ],
    },
    {
      sid: "PlatformKeys",
      actions: [
        "kms:CreateAlias",
        "kms:CreateGrant",
        "kms:CreateKey",
        "kms:Decrypt",
        "kms:DeleteAlias",
        "kms:DescribeKey",
        "kms:EnableKeyRotation",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ],
      resources: ["*"],
    },
    {
      sid: "LogGroups",
      actions: [
        "logs:AssociateKmsKey",
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:DeleteRetentionPolicy",
        "logs:DescribeLogGroups",
        "logs:DisassociateKmsKey",
        "logs:ListTagsForResource",
        "logs:PutRetentionPolicy",
        "logs:TagResource",
        "logs:UntagResource",
      ],
      resources: [arn("logs", "log-group:*")],
    },
    {
      sid: "Database",
      actions: [
        "rds:AddTagsToResource",
        "rds:CreateDBInstance",
        "rds:CreateDBParameterGroup",
        "rds:CreateDBSnapshot",
        "rds:CreateDBSubnetGroup",
        "rds:DeleteDBInstance",
        "rds:DeleteDBParameterGroup",
        "rds:DeleteDBSubnetGroup",
        "rds:DescribeDBInstances",
        "rds:DescribeDBParameterGroups",
        "rds:DescribeDBParameters",
        "rds:DescribeDBSubnetGroups",
        "rds:ListTagsForResource",
        "rds:ModifyDBInstance",
        "rds:ModifyDBParameterGroup",
        "rds:ModifyDBSubnetGroup",
        "rds:RemoveTagsFromResource",
      ],
      resources: ["*"],
    },
    // RDS creates and rotates the master-user secret as the caller: with
    // manage_master_user_password and a customer key (master_user_secret_kms_key_id) the caller
    // needs these Secrets Manager calls and the key's data-key and decrypt calls, through
    // Secrets Manager.
    {
      sid: "DatabaseMasterSecret",
      actions: [
        "secretsmanager:CreateSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:RotateSecret",
        "secretsmanager:TagResource",
      ],
      resources: [arn("secretsmanager", "secret:rds!*")],
    },
    {
      sid: "DatabaseMasterSecretKey",
      actions: ["kms:Decrypt", "kms:GenerateDataKey"],
      resources: [arn("kms", "key/*")],
      conditions: [
        { test: "StringLike", variable: "kms:ViaService", values: ["secretsmanager.*.amazonaws.com"] },
      ],
    },
    {
      sid: "Buckets",
      actions: [
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:DeleteBucketPolicy",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
        "s3:GetAccelerateConfiguration",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketLogging",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPolicy",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketRequestPayment",
        "s3:GetBucketTagging",
        "s3:GetBucketVersioning",
        "s3:GetBucketWebsite",
        "s3:GetEncryptionConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:ListBucket",
        "s3:ListBucketVersions",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "s3:PutBucketVersioning",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutReplicationConfiguration",
      ],
      resources: [...buckets, ...buckets.map((bucket) => `${bucket}/*`)],
    },
    {
      sid: "Registries",
      actions: [
        "ecr:CreateRepository",
        "ecr:DeleteLifecyclePolicy",
        "ecr:DeleteRepository",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetLifecyclePolicy",
        "ecr:ListImages",
        "ecr:ListTagsForResource",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutImageTagMutability",
        "ecr:PutLifecyclePolicy",
        "ecr:TagResource",
        "ecr:UntagResource",
      ],
      resources: scope.repositoryNames.map((name) => arn("ecr", `repository/${name}`)),
    },
    {
      sid: "RegistryReplication",
      actions: [
        "ecr:DeleteRegistryPolicy",
        "ecr:DescribeRegistry",
        "ecr:GetRegistryPolicy",
        "ecr:PutRegistryPolicy",
        "ecr:PutReplicationConfiguration",
      ],
      resources: ["*"],
    },
  ];
}

/** A bucket models replicate to, in another account or the same one. */
export interface ReplicaDestination {
  readonly bucketArn: string;
  /** KMS keys of the destination account, region-scoped (`arn:…:kms:<region>:<account>:key/*`). */
  readonly keysArn: string;
  readonly region: string;
}

/**
 * The role S3 assumes to copy model artifacts: read the source versions (and decrypt them
 * through S3), write replicas under the same prefix in each destination, owned by the
 * destination account and encrypted with its key. The destination's own key and bucket policies
 * must admit the role too.
 */
export function modelReplicationStatements(props: {
  readonly sourceBucketArn: string;
  readonly sourceKeyArn: string;
  readonly sourceRegion: string;
  readonly prefix: string;
  readonly destinations: readonly ReplicaDestination[];
}): PolicyStatement[] {
  const { destinations } = props;
  return [
    {
      sid: "ReadReplicationConfiguration",
      actions: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
      resources: [props.sourceBucketArn],
    },
    {
      sid: "ReadSourceVersions",
      actions: ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
      resources: [`${props.sourceBucketArn}/${props.prefix}*`],
    },
    {
      sid: "DecryptSourceThroughS3",
      actions: ["kms:Decrypt", "kms:DescribeKey"],
      resources: [props.sourceKeyArn],
      conditions: [
        {
          test: "StringEquals",
          variable: "kms:ViaService",
          values: [`s3.${props.sourceRegion}.amazonaws.com`],
        },
      ],
    },
    {
      sid: "WriteReplicas",
      actions: ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateObject", "s3:ReplicateTags"],
      resources: destinations.map((d) => `${d.bucketArn}/${props.prefix}*`),
    },
    {
      sid: "EncryptReplicasThroughS3",
      actions: ["kms:Encrypt", "kms:GenerateDataKey"],
      resources: [...new Set(destinations.map((d) => d.keysArn))],
      conditions: [
        {
          test: "StringEquals",
          variable: "kms:ViaService",
          values: [...new Set(destinations.map((d) => `s3.${d.region}.amazonaws.com`))],
        },
      ],
    },
  ];
}
