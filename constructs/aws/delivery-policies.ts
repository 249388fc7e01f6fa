/**
 * Permissions of the delivery roles (the pipeline's deploy and diff roles) and of the S3 role
 * that replicates model artifacts between accounts, as data. Every action is named.
 */
import type { PolicyStatement } from "./policy";
import { DATA_SOURCE_API_CALLS, PROVIDER_API_CALLS } from "./provider-api-calls";

/** An account's Terraform state: bucket, key prefix and the key that encrypts it. */
export interface StateLocation {
  readonly bucketArn: string;
  readonly keyPrefix: string;
  readonly keyArn: string;
  readonly region: string;
}

/** The stacks of an environment whose state lives in the account's state bucket. */
export const ENVIRONMENT_STACKS = ["foundation", "platform", "serving"] as const;

/**
 * The state objects the deploy role writes: each environment stack's state and its lock file
 * (`<prefix>/<env>-<stack>.tfstate[.tflock]`), never the bootstrap stack's
 * (`<prefix>/bootstrap-<account>.tfstate`), which only an administrator applies.
 */
export function environmentStateObjects(state: StateLocation, environments: readonly string[]): string[] {
  return environments.flatMap((env) =>
    ENVIRONMENT_STACKS.flatMap((stack) => {
      const key = `${state.bucketArn}/${state.keyPrefix}/${env}-${stack}.tfstate`;
      return [key, `${key}.tflock`];
    }),
  );
}

/**
 * Access to Terraform state. `apply` reads the state and writes the environments' states and
 * their `<key>.tflock` lock files (S3 native locking), never the bootstrap's. `plan` only
 * reads: pull-request plans run with `-lock=false`, so a pull request can neither take a
 * deploy's lock nor break it.
 */
export function stateAccessStatements(
  state: StateLocation,
  access: "plan" | "apply",
  environments: readonly string[],
): PolicyStatement[] {
  const objects = `${state.bucketArn}/${state.keyPrefix}/*`;
  return [
    { sid: "ListStateBucket", actions: ["s3:ListBucket"], resources: [state.bucketArn] },
    { sid: "ReadState", actions: ["s3:GetObject"], resources: [objects] },
    ...(access === "apply"
      ? [
          {
            sid: "WriteEnvironmentStatesAndLocks",
            actions: ["s3:DeleteObject", "s3:PutObject"],
            resources: environmentStateObjects(state, environments),
          },
        ]
      : []),
    {
      sid: "StateKeyThroughS3",
      actions:
        access === "apply"
          ? ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
          : ["kms:Decrypt", "kms:DescribeKey"],
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
  /**
   * The foundation stacks the role deploys (`<env>-foundation`): their KMS keys carry the
   * provider's default tag `mlops-platform/stack` with that name, which is how the role finds
   * them (and not the state key, tagged with the bootstrap stack).
   */
  readonly foundationStacks: readonly string[];
  /** Aliases of the platform keys, without `alias/` (`mlops-<env>`). */
  readonly keyAliases: readonly string[];
}

/** Name of the managed policy every role the deploy role creates must carry as its permissions boundary. */
export const PERMISSIONS_BOUNDARY_NAME = "mlops-permissions-boundary";

export function permissionsBoundaryArn(partition: string, accountId: string): string {
  return `arn:${partition}:iam::${accountId}:policy/${PERMISSIONS_BOUNDARY_NAME}`;
}

/**
 * The AWS managed policies the foundation attaches to its roles (the EKS cluster and node
 * roles); the deploy role may attach these and no other.
 */
export const ATTACHABLE_MANAGED_POLICIES = [
  "AmazonEKSClusterPolicy",
  "AmazonEKSWorkerNodePolicy",
  "AmazonEC2ContainerRegistryPullOnly",
] as const;

/** The tag the provider's default tags put on everything a stack creates: its stack name. */
export const STACK_TAG = "mlops-platform/stack";

/**
 * The services whose calls a platform role may make on any resource (within the denies below):
 * the EKS cluster and node roles (through the managed policies above), the load balancer
 * controller, the EBS CSI driver, the VPC CNI, the cluster autoscaler and flow logs. The
 * services holding data or code (S3, ECR, EKS, KMS, Secrets Manager) are reachable only on the
 * platform's own resources (`permissionsBoundaryStatements`); SSM not at all.
 */
export const WORKLOAD_SERVICES = [
  "acm",
  "autoscaling",
  "cognito-idp",
  "ec2",
  "elasticloadbalancing",
  "iam",
  "logs",
  "shield",
  "tag",
  "waf-regional",
  "wafv2",
] as const;

/** The image-pull calls of `AmazonEC2ContainerRegistryPullOnly` (nodes pull EKS add-on images from AWS's registries too). */
export const IMAGE_PULL_ACTIONS = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:GetAuthorizationToken",
  "ecr:GetDownloadUrlForLayer",
] as const;

/**
 * Calls that run code on, or hand access to, what a role does not own: commands and sessions
 * on instances, instance attributes and user data (launch templates), EKS access entries (who is
 * cluster admin). No platform role makes them; the boundary refuses them whatever the role's
 * policy says.
 */
export const BOUNDARY_DENIED_ACTIONS = [
  "ec2-instance-connect:SendSSHPublicKey",
  "ec2-instance-connect:SendSerialConsoleSSHPublicKey",
  "ec2:CreateLaunchTemplateVersion",
  "ec2:GetPasswordData",
  "ec2:ModifyInstanceAttribute",
  "ec2:ModifyInstanceMetadataOptions",
  "ec2:ModifyLaunchTemplate",
  "eks:AssociateAccessPolicy",
  "eks:CreateAccessEntry",
  "eks:DeleteAccessEntry",
  "eks:DisassociateAccessPolicy",
  "eks:UpdateAccessEntry",
  "ssm:ResumeSession",
  "ssm:SendCommand",
  "ssm:StartAutomationExecution",
  "ssm:StartSession",
] as const;

/** A bucket in another environment's account that the platform's model replication writes to. */
export interface ReplicaTarget {
  readonly accountId: string;
  readonly bucketName: string;
  /** The destination foundation's stack (its key carries it as the stack tag). */
  readonly foundationStack: string;
}

/** What the roles the deploy role creates may reach: the platform's own resources. */
export interface BoundaryScope extends DeployScope {
  /**
   * Secrets Manager secrets the platform reads besides the database's (`rds!*`): alert
   * receivers' secrets, by name or ARN as the environments give them.
   */
  readonly secrets: readonly string[];
  /** Replication destinations of the account's producers. */
  readonly replicas: readonly ReplicaTarget[];
  readonly state?: { readonly bucketArn: string; readonly keyArn: string };
}

/** IAM resources of a secret given by name or ARN (Secrets Manager appends `-` and six characters). */
export function secretResources(partition: string, accountId: string, secret: string): string[] {
  if (secret.startsWith("arn:")) return [secret, `${secret}-??????`];
  return [`arn:${partition}:secretsmanager:*:${accountId}:secret:${secret}-??????`];
}

/**
 * The permissions boundary of every role the deploy role creates (`PERMISSIONS_BOUNDARY_NAME`,
 * created by the account's bootstrap, outside the deploy role's reach). It is a ceiling, not a
 * grant: each role's own policy names its actions. A role the deploy role creates, whatever
 * its policy and whoever its trust policy admits, reaches the platform's buckets, repositories,
 * clusters, keys and secrets, and nothing of the same services elsewhere in the account; it
 * never administers identities or keys, never touches the Terraform state, never runs
 * commands on instances nor changes who may administer a cluster.
 */
export function permissionsBoundaryStatements(scope: BoundaryScope): PolicyStatement[] {
  const { partition, accountId, namePrefix } = scope;
  const buckets = [
    ...scope.bucketNames.map((name) => `arn:${partition}:s3:::${name}`),
    ...scope.replicas.map((replica) => `arn:${partition}:s3:::${replica.bucketName}`),
  ];
  const keyAccounts = [...new Set([accountId, ...scope.replicas.map((replica) => replica.accountId)])];
  const keyStacks = [
    ...new Set([...scope.foundationStacks, ...scope.replicas.map((r) => r.foundationStack)]),
  ];
  return [
    {
      sid: "WorkloadServices",
      actions: WORKLOAD_SERVICES.map((service) => `${service}:*`),
      resources: ["*"],
    },
    {
      sid: "PlatformBuckets",
      actions: ["s3:*"],
      resources: [...new Set([...buckets, ...buckets.map((bucket) => `${bucket}/*`)])],
    },
    {
      sid: "PlatformRepositories",
      actions: ["ecr:*"],
      resources: scope.repositoryNames.map(
        (name) => `arn:${partition}:ecr:*:${accountId}:repository/${name}`,
      ),
    },
    { sid: "PullImages", actions: [...IMAGE_PULL_ACTIONS], resources: ["*"] },
    {
      sid: "PlatformClusters",
      actions: ["eks:*", "eks-auth:*"],
      resources: [`arn:${partition}:eks:*:${accountId}:*/${namePrefix}*`],
    },
    {
      sid: "DescribeClusters",
      actions: ["eks:DescribeAddonVersions", "eks:DescribeClusterVersions", "eks:ListClusters"],
      resources: ["*"],
    },
    {
      sid: "PlatformKeys",
      actions: ["kms:*"],
      resources: keyAccounts.map((account) => `arn:${partition}:kms:*:${account}:key/*`),
      conditions: [{ test: "StringEquals", variable: `aws:ResourceTag/${STACK_TAG}`, values: keyStacks }],
    },
    {
      sid: "PlatformSecrets",
      actions: ["secretsmanager:*"],
      resources: [
        `arn:${partition}:secretsmanager:*:${accountId}:secret:rds!*`,
        ...new Set(scope.secrets.flatMap((secret) => secretResources(partition, accountId, secret))),
      ],
    },
    {
      sid: "NoCommandsOnInstancesNorClusterAccess",
      effect: "Deny",
      actions: [...BOUNDARY_DENIED_ACTIONS],
      resources: ["*"],
    },
    {
      sid: "NoIdentityAdministration",
      effect: "Deny",
      actions: [
        "iam:Add*",
        "iam:Attach*",
        "iam:Change*",
        "iam:Create*",
        "iam:Deactivate*",
        "iam:Delete*",
        "iam:Detach*",
        "iam:Enable*",
        "iam:Pass*",
        "iam:Put*",
        "iam:Remove*",
        "iam:Reset*",
        "iam:Resync*",
        "iam:Set*",
        "iam:Tag*",
        "iam:Untag*",
        "iam:Update*",
        "iam:Upload*",
      ],
      resources: ["*"],
      // The load balancer controller and EKS create the ELB service-linked role on first use.
      conditions: [
        {
          test: "StringNotEquals",
          variable: "iam:AWSServiceName",
          values: ["elasticloadbalancing.amazonaws.com"],
        },
      ],
    },
    {
      sid: "NoKeyAdministration",
      effect: "Deny",
      actions: [
        "kms:CancelKeyDeletion",
        "kms:CreateAlias",
        "kms:CreateKey",
        "kms:DeleteAlias",
        "kms:DeleteImportedKeyMaterial",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:ImportKeyMaterial",
        "kms:PutKeyPolicy",
        "kms:ReplicateKey",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdatePrimaryRegion",
      ],
      resources: ["*"],
    },
    ...(scope.state
      ? [
          {
            sid: "NoTerraformState",
            effect: "Deny" as const,
            actions: ["s3:*"],
            resources: [scope.state.bucketArn, `${scope.state.bucketArn}/*`],
          },
          {
            sid: "NoTerraformStateKey",
            effect: "Deny" as const,
            actions: ["kms:*"],
            resources: [scope.state.keyArn],
          },
        ]
      : []),
  ];
}

/**
 * What the deploy role may never do to the account's Terraform state key, whatever else allows
 * it: change who may use it, delete, disable or re-alias it.
 */
export function stateKeyProtectionStatements(keyArn: string): PolicyStatement[] {
  return [
    {
      sid: "StateKeyIsNotTheDeployRoles",
      effect: "Deny",
      actions: [
        "kms:CancelKeyDeletion",
        "kms:CreateAlias",
        "kms:CreateGrant",
        "kms:DeleteAlias",
        "kms:DisableKey",
        "kms:DisableKeyRotation",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ],
      resources: [keyArn],
    },
  ];
}

/**
 * The deploy role: create, change, read and delete what the foundation, platform and serving
 * stacks declare: every IAM action `provider-api-calls.ts` lists for their resource types. Resources are scoped by name where the API allows it; EC2, EKS, RDS and
 * Auto Scaling create calls take `*` because the resource does not exist yet when they are
 * authorized (their names or ids are generated).
 *
 * The role cannot make itself admin: every role it creates or changes carries the permissions
 * boundary (`iam:PermissionsBoundary`), which it can neither remove nor edit (no
 * `iam:DeleteRolePermissionsBoundary`, no IAM policy actions); it attaches only the managed
 * policies the foundation uses; its KMS calls reach only the keys its foundations created
 * (tagged with their stack), never the state key.
 */
export function deployRoleStatements(scope: DeployScope): PolicyStatement[] {
  const { partition, accountId, namePrefix } = scope;
  const arn = (service: string, resource: string, region = "*") =>
    `arn:${partition}:${service}:${region}:${accountId}:${resource}`;
  const roles = [`arn:${partition}:iam::${accountId}:role/${namePrefix}*`];
  const withBoundary = {
    test: "StringEquals",
    variable: "iam:PermissionsBoundary",
    values: [permissionsBoundaryArn(partition, accountId)],
  };
  const platformKeys = [arn("kms", "key/*")];
  const taggedByFoundation = {
    test: "StringEquals",
    variable: `aws:ResourceTag/${STACK_TAG}`,
    values: [...scope.foundationStacks],
  };
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
        "ec2:ModifyLaunchTemplate",
        "ec2:ModifySecurityGroupRules",
        "ec2:ModifySubnetAttribute",
        "ec2:ModifyVpcAttribute",
        "ec2:ModifyVpcEndpoint",
        "ec2:ReleaseAddress",
        "ec2:ReplaceRoute",
        "ec2:ReplaceRouteTableAssociation",
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
      sid: "ReadPlatformRoles",
      actions: [
        "iam:GetRole",
        "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
        "iam:ListRolePolicies",
      ],
      resources: roles,
    },
    // iam:PermissionsBoundary is in the request of these calls only (IAM's service
    // authorization reference): the boundary the new role gets, or the one the role has.
    {
      sid: "PlatformRolesCarryTheBoundary",
      actions: [
        "iam:CreateRole",
        "iam:DeleteRolePolicy",
        "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:PutRolePolicy",
      ],
      resources: roles,
      conditions: [withBoundary],
    },
    {
      sid: "AttachOnlyThePlatformsManagedPolicies",
      actions: ["iam:AttachRolePolicy"],
      resources: roles,
      conditions: [
        withBoundary,
        {
          test: "ArnEquals",
          variable: "iam:PolicyARN",
          values: ATTACHABLE_MANAGED_POLICIES.map((name) => `arn:${partition}:iam::aws:policy/${name}`),
        },
      ],
    },
    {
      sid: "ManagePlatformRoles",
      actions: [
        "iam:DeleteRole",
        "iam:PassRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
      ],
      resources: roles,
    },
    {
      sid: "ClusterOidcProviders",
      actions: [
        "iam:AddClientIDToOpenIDConnectProvider",
        "iam:CreateOpenIDConnectProvider",
        "iam:DeleteOpenIDConnectProvider",
        "iam:GetOpenIDConnectProvider",
        "iam:RemoveClientIDFromOpenIDConnectProvider",
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
    // Keys are created with the provider's default tags (CreateKey's Tags), so the stack tag is
    // in the request; every later call finds the key by that tag. CreateKey with Tags is
    // authorized as kms:CreateKey plus kms:TagResource, both on `*` (the key has no ARN yet:
    // AWS KMS Developer Guide, "ABAC for AWS KMS" / CreateKey "Required permissions"), so
    // TagResource on `*` is allowed only where no key exists yet (`aws:ResourceTag` absent is
    // also what an untagged existing key looks like, hence the deny below).
    {
      sid: "CreatePlatformKeys",
      actions: ["kms:CreateKey", "kms:TagResource"],
      resources: ["*"],
      conditions: [
        {
          test: "StringEquals",
          variable: `aws:RequestTag/${STACK_TAG}`,
          values: [...scope.foundationStacks],
        },
      ],
    },
    // Someone else's key is an existing key ARN, not `*`: tagging it (and so bringing it under
    // PlatformKeys) is refused unless it already carries one of the foundations' stack tags.
    {
      sid: "NoTaggingKeysThePlatformDidNotCreate",
      effect: "Deny",
      actions: ["kms:TagResource", "kms:UntagResource"],
      resources: platformKeys,
      conditions: [
        {
          test: "StringNotEquals",
          variable: `aws:ResourceTag/${STACK_TAG}`,
          values: [...scope.foundationStacks],
        },
      ],
    },
    {
      sid: "PlatformKeys",
      actions: [
        "kms:CreateAlias",
        "kms:CreateGrant",
        "kms:Decrypt",
        "kms:DeleteAlias",
        "kms:DescribeKey",
        "kms:EnableKeyRotation",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ],
      resources: platformKeys,
      conditions: [taggedByFoundation],
    },
    {
      sid: "PlatformKeyAliases",
      actions: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
      resources: scope.keyAliases.map((alias) => arn("kms", `alias/${alias}`)),
    },
    {
      sid: "ListKeyAliases",
      actions: ["kms:ListAliases"],
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
        "rds:ResetDBParameterGroup",
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
      resources: platformKeys,
      conditions: [
        { test: "StringLike", variable: "kms:ViaService", values: ["secretsmanager.*.amazonaws.com"] },
        taggedByFoundation,
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

/**
 * The diff role: what a plan of the account's stacks reads, and nothing else. Every `read` of
 * `provider-api-calls.ts` (a plan refreshes each resource) and every data source's call, on the
 * platform's own buckets, repositories, roles, keys and log groups where IAM can scope the call;
 * no object, image layer, secret or parameter is readable (AWS's `ReadOnlyAccess` reads all of
 * them: SSM SecureStrings, every image, every bucket without KMS).
 */
export function diffRoleStatements(scope: DeployScope): PolicyStatement[] {
  const { partition, accountId, namePrefix } = scope;
  const arn = (service: string, resource: string) => `arn:${partition}:${service}:*:${accountId}:${resource}`;
  const reads = [
    ...new Set([
      ...Object.values(PROVIDER_API_CALLS).flatMap((calls) => calls.read),
      ...Object.values(DATA_SOURCE_API_CALLS).flat(),
    ]),
  ].sort();
  const of = (service: string, filter: (action: string) => boolean = () => true) =>
    reads.filter((action) => action.startsWith(`${service}:`) && filter(action));
  const registryWide = (action: string) => /Registry/.test(action);
  const oidcProvider = (action: string) => /OpenIDConnectProvider/.test(action);
  const scoped = ["s3", "ecr", "iam", "kms", "logs"];
  const buckets = scope.bucketNames.map((name) => `arn:${partition}:s3:::${name}`);
  return [
    {
      sid: "DescribeWhatThePlansRefresh",
      actions: reads.filter((action) => !scoped.includes(action.split(":")[0])),
      resources: ["*"],
    },
    { sid: "PlatformBucketSettings", actions: of("s3"), resources: buckets },
    {
      sid: "PlatformRepositorySettings",
      actions: of("ecr", (a) => !registryWide(a)),
      resources: scope.repositoryNames.map((name) => arn("ecr", `repository/${name}`)),
    },
    { sid: "RegistrySettings", actions: of("ecr", registryWide), resources: ["*"] },
    {
      sid: "PlatformRoles",
      actions: of("iam", (a) => !oidcProvider(a)),
      resources: [`arn:${partition}:iam::${accountId}:role/${namePrefix}*`],
    },
    {
      sid: "ClusterOidcProviders",
      actions: of("iam", oidcProvider),
      resources: [`arn:${partition}:iam::${accountId}:oidc-provider/oidc.eks.*`],
    },
    {
      sid: "PlatformKeySettings",
      actions: of("kms", (a) => a !== "kms:ListAliases"),
      resources: [arn("kms", "key/*")],
      conditions: [
        {
          test: "StringEquals",
          variable: `aws:ResourceTag/${STACK_TAG}`,
          values: [...scope.foundationStacks],
        },
      ],
    },
    { sid: "KeyAliases", actions: ["kms:ListAliases"], resources: ["*"] },
    { sid: "LogGroupSettings", actions: of("logs"), resources: [arn("logs", "log-group:*")] },
  ];
}
