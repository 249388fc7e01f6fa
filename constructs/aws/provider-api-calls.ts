/**
 * The IAM actions the pinned AWS provider (hashicorp/aws 6.25) needs to create, read (refresh),
 * update and delete each resource type the foundation stacks declare, with the settings those
 * stacks use, and to read each data source. Written as IAM actions, not API names: where they
 * differ the action is the one IAM checks (S3's DeleteBucketLifecycle is
 * `s3:PutLifecycleConfiguration`, DeletePublicAccessBlock `s3:PutBucketPublicAccessBlock`).
 *
 * The deploy role (`delivery-policies.ts`) must allow every action here and the diff role every
 * `read`; the tests hold both, and a resource type the stacks start using without an entry
 * here fails them. Tags: resources created with the provider's default tags are tagged in the
 * create call (EC2 TagSpecifications, which IAM checks as `ec2:CreateTags`), re-tagged on update.
 */
export interface ApiCalls {
  readonly create: readonly string[];
  readonly read: readonly string[];
  readonly update: readonly string[];
  readonly delete: readonly string[];
}

const ec2Tags = ["ec2:CreateTags", "ec2:DeleteTags"];

export const PROVIDER_API_CALLS: Readonly<Record<string, ApiCalls>> = {
  aws_autoscaling_group_tag: {
    create: ["autoscaling:CreateOrUpdateTags"],
    read: ["autoscaling:DescribeTags"],
    update: ["autoscaling:CreateOrUpdateTags"],
    delete: ["autoscaling:DeleteTags"],
  },
  aws_cloudwatch_log_group: {
    create: ["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:TagResource"],
    read: ["logs:DescribeLogGroups", "logs:ListTagsForResource"],
    update: [
      "logs:AssociateKmsKey",
      "logs:DeleteRetentionPolicy",
      "logs:DisassociateKmsKey",
      "logs:PutRetentionPolicy",
      "logs:TagResource",
      "logs:UntagResource",
    ],
    delete: ["logs:DeleteLogGroup"],
  },
  aws_db_instance: {
    create: ["rds:AddTagsToResource", "rds:CreateDBInstance"],
    read: ["rds:DescribeDBInstances", "rds:ListTagsForResource"],
    update: ["rds:AddTagsToResource", "rds:ModifyDBInstance", "rds:RemoveTagsFromResource"],
    // A final snapshot where the environment keeps one.
    delete: ["rds:CreateDBSnapshot", "rds:DeleteDBInstance"],
  },
  aws_db_parameter_group: {
    create: ["rds:AddTagsToResource", "rds:CreateDBParameterGroup", "rds:ModifyDBParameterGroup"],
    read: ["rds:DescribeDBParameterGroups", "rds:DescribeDBParameters", "rds:ListTagsForResource"],
    // A parameter removed from the group is reset to the engine default.
    update: [
      "rds:AddTagsToResource",
      "rds:ModifyDBParameterGroup",
      "rds:RemoveTagsFromResource",
      "rds:ResetDBParameterGroup",
    ],
    delete: ["rds:DeleteDBParameterGroup"],
  },
  aws_db_subnet_group: {
    create: ["rds:AddTagsToResource", "rds:CreateDBSubnetGroup"],
    read: ["rds:DescribeDBSubnetGroups", "rds:ListTagsForResource"],
    update: ["rds:AddTagsToResource", "rds:ModifyDBSubnetGroup", "rds:RemoveTagsFromResource"],
    delete: ["rds:DeleteDBSubnetGroup"],
  },
  // Adopts the VPC's default group and strips its rules; deleting only forgets it.
  aws_default_security_group: {
    create: [
      "ec2:DescribeSecurityGroups",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      ...ec2Tags,
    ],
    read: ["ec2:DescribeSecurityGroups"],
    update: [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      ...ec2Tags,
    ],
    delete: [],
  },
  aws_ecr_lifecycle_policy: {
    create: ["ecr:PutLifecyclePolicy"],
    read: ["ecr:GetLifecyclePolicy"],
    update: ["ecr:PutLifecyclePolicy"],
    delete: ["ecr:DeleteLifecyclePolicy"],
  },
  aws_ecr_registry_policy: {
    create: ["ecr:PutRegistryPolicy"],
    read: ["ecr:GetRegistryPolicy"],
    update: ["ecr:PutRegistryPolicy"],
    delete: ["ecr:DeleteRegistryPolicy"],
  },
  // Deleting writes an empty configuration.
  aws_ecr_replication_configuration: {
    create: ["ecr:PutReplicationConfiguration"],
    read: ["ecr:DescribeRegistry"],
    update: ["ecr:PutReplicationConfiguration"],
    delete: ["ecr:PutReplicationConfiguration"],
  },
  aws_ecr_repository: {
    create: ["ecr:CreateRepository", "ecr:TagResource"],
    read: ["ecr:DescribeRepositories", "ecr:ListTagsForResource"],
    update: [
      "ecr:PutImageScanningConfiguration",
      "ecr:PutImageTagMutability",
      "ecr:TagResource",
      "ecr:UntagResource",
    ],
    delete: ["ecr:DeleteRepository"],
  },
  aws_eip: {
    create: ["ec2:AllocateAddress", ...ec2Tags],
    read: ["ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"],
    update: ec2Tags,
    delete: ["ec2:DisassociateAddress", "ec2:ReleaseAddress"],
  },
  aws_eks_access_entry: {
    create: ["eks:CreateAccessEntry", "eks:TagResource"],
    read: ["eks:DescribeAccessEntry"],
    update: ["eks:TagResource", "eks:UntagResource", "eks:UpdateAccessEntry"],
    delete: ["eks:DeleteAccessEntry"],
  },
  aws_eks_access_policy_association: {
    create: ["eks:AssociateAccessPolicy"],
    read: ["eks:ListAssociatedAccessPolicies"],
    update: ["eks:AssociateAccessPolicy"],
    delete: ["eks:DisassociateAccessPolicy"],
  },
  // An add-on with a service account role passes it to EKS.
  aws_eks_addon: {
    create: ["eks:CreateAddon", "eks:DescribeAddon", "eks:TagResource", "iam:PassRole"],
    read: ["eks:DescribeAddon"],
    update: ["eks:DescribeUpdate", "eks:TagResource", "eks:UntagResource", "eks:UpdateAddon", "iam:PassRole"],
    delete: ["eks:DeleteAddon", "eks:DescribeAddon"],
  },
  aws_eks_cluster: {
    create: ["eks:CreateCluster", "eks:DescribeCluster", "eks:TagResource", "iam:PassRole"],
    read: ["eks:DescribeCluster"],
    update: [
      "eks:DescribeUpdate",
      "eks:TagResource",
      "eks:UntagResource",
      "eks:UpdateClusterConfig",
      "eks:UpdateClusterVersion",
    ],
    delete: ["eks:DeleteCluster", "eks:DescribeCluster"],
  },
  // A launch template change rolls the group: UpdateNodegroupVersion with the new version.
  aws_eks_node_group: {
    create: [
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:RunInstances",
      "eks:CreateNodegroup",
      "eks:DescribeNodegroup",
      "eks:TagResource",
      "iam:PassRole",
    ],
    read: ["eks:DescribeNodegroup"],
    update: [
      "ec2:DescribeLaunchTemplateVersions",
      "ec2:RunInstances",
      "eks:DescribeUpdate",
      "eks:TagResource",
      "eks:UntagResource",
      "eks:UpdateNodegroupConfig",
      "eks:UpdateNodegroupVersion",
    ],
    delete: ["eks:DeleteNodegroup", "eks:DescribeNodegroup"],
  },
  aws_flow_log: {
    create: ["ec2:CreateFlowLogs", "iam:PassRole", ...ec2Tags],
    read: ["ec2:DescribeFlowLogs"],
    update: ec2Tags,
    delete: ["ec2:DeleteFlowLogs"],
  },
  aws_iam_openid_connect_provider: {
    create: ["iam:CreateOpenIDConnectProvider", "iam:TagOpenIDConnectProvider"],
    read: ["iam:GetOpenIDConnectProvider"],
    update: [
      "iam:AddClientIDToOpenIDConnectProvider",
      "iam:RemoveClientIDFromOpenIDConnectProvider",
      "iam:TagOpenIDConnectProvider",
      "iam:UntagOpenIDConnectProvider",
      "iam:UpdateOpenIDConnectProviderThumbprint",
    ],
    delete: ["iam:DeleteOpenIDConnectProvider"],
  },
  aws_iam_role: {
    create: ["iam:CreateRole", "iam:TagRole"],
    read: ["iam:GetRole", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies"],
    update: [
      "iam:PutRolePermissionsBoundary",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ],
    delete: ["iam:DeleteRole", "iam:ListInstanceProfilesForRole"],
  },
  aws_iam_role_policy: {
    create: ["iam:PutRolePolicy"],
    read: ["iam:GetRolePolicy"],
    update: ["iam:PutRolePolicy"],
    delete: ["iam:DeleteRolePolicy"],
  },
  aws_iam_role_policy_attachment: {
    create: ["iam:AttachRolePolicy"],
    read: ["iam:ListAttachedRolePolicies"],
    update: [],
    delete: ["iam:DetachRolePolicy"],
  },
  aws_internet_gateway: {
    create: ["ec2:AttachInternetGateway", "ec2:CreateInternetGateway", ...ec2Tags],
    read: ["ec2:DescribeInternetGateways"],
    update: ec2Tags,
    delete: ["ec2:DeleteInternetGateway", "ec2:DetachInternetGateway"],
  },
  aws_kms_alias: {
    create: ["kms:CreateAlias"],
    read: ["kms:ListAliases"],
    update: ["kms:UpdateAlias"],
    delete: ["kms:DeleteAlias"],
  },
  aws_kms_key: {
    create: ["kms:CreateKey", "kms:EnableKeyRotation", "kms:TagResource"],
    read: ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"],
    update: [
      "kms:EnableKeyRotation",
      "kms:PutKeyPolicy",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateKeyDescription",
    ],
    delete: ["kms:ScheduleKeyDeletion"],
  },
  // update_default_version: every change is a new version made the default.
  aws_launch_template: {
    create: ["ec2:CreateLaunchTemplate", ...ec2Tags],
    read: ["ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates"],
    update: ["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate", ...ec2Tags],
    delete: ["ec2:DeleteLaunchTemplate"],
  },
  aws_nat_gateway: {
    create: ["ec2:CreateNatGateway", ...ec2Tags],
    read: ["ec2:DescribeNatGateways"],
    update: ec2Tags,
    delete: ["ec2:DeleteNatGateway"],
  },
  aws_route_table: {
    create: ["ec2:CreateRoute", "ec2:CreateRouteTable", ...ec2Tags],
    read: ["ec2:DescribeRouteTables"],
    update: ["ec2:CreateRoute", "ec2:DeleteRoute", "ec2:ReplaceRoute", ...ec2Tags],
    delete: ["ec2:DeleteRouteTable"],
  },
  aws_route_table_association: {
    create: ["ec2:AssociateRouteTable"],
    read: ["ec2:DescribeRouteTables"],
    update: ["ec2:ReplaceRouteTableAssociation"],
    delete: ["ec2:DisassociateRouteTable"],
  },
  aws_s3_bucket: {
    create: ["s3:CreateBucket", "s3:PutBucketTagging"],
    read: [
      "s3:GetAccelerateConfiguration",
      "s3:GetBucketAcl",
      "s3:GetBucketCORS",
      "s3:GetBucketLogging",
      "s3:GetBucketObjectLockConfiguration",
      "s3:GetBucketPolicy",
      "s3:GetBucketRequestPayment",
      "s3:GetBucketTagging",
      "s3:GetBucketVersioning",
      "s3:GetBucketWebsite",
      "s3:GetEncryptionConfiguration",
      "s3:GetLifecycleConfiguration",
      "s3:GetReplicationConfiguration",
      "s3:ListBucket",
    ],
    update: ["s3:PutBucketTagging"],
    // force_destroy (unprotected environments) empties the bucket first.
    delete: ["s3:DeleteBucket", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucketVersions"],
  },
  aws_s3_bucket_lifecycle_configuration: {
    create: ["s3:PutLifecycleConfiguration"],
    read: ["s3:GetLifecycleConfiguration"],
    update: ["s3:PutLifecycleConfiguration"],
    delete: ["s3:PutLifecycleConfiguration"],
  },
  aws_s3_bucket_ownership_controls: {
    create: ["s3:PutBucketOwnershipControls"],
    read: ["s3:GetBucketOwnershipControls"],
    update: ["s3:PutBucketOwnershipControls"],
    delete: ["s3:PutBucketOwnershipControls"],
  },
  aws_s3_bucket_policy: {
    create: ["s3:PutBucketPolicy"],
    read: ["s3:GetBucketPolicy"],
    update: ["s3:PutBucketPolicy"],
    delete: ["s3:DeleteBucketPolicy"],
  },
  aws_s3_bucket_public_access_block: {
    create: ["s3:PutBucketPublicAccessBlock"],
    read: ["s3:GetBucketPublicAccessBlock"],
    update: ["s3:PutBucketPublicAccessBlock"],
    delete: ["s3:PutBucketPublicAccessBlock"],
  },
  // S3 checks that the caller may pass the replication role.
  aws_s3_bucket_replication_configuration: {
    create: ["iam:PassRole", "s3:PutReplicationConfiguration"],
    read: ["s3:GetReplicationConfiguration"],
    update: ["iam:PassRole", "s3:PutReplicationConfiguration"],
    delete: ["s3:PutReplicationConfiguration"],
  },
  aws_s3_bucket_server_side_encryption_configuration: {
    create: ["s3:PutEncryptionConfiguration"],
    read: ["s3:GetEncryptionConfiguration"],
    update: ["s3:PutEncryptionConfiguration"],
    delete: ["s3:PutEncryptionConfiguration"],
  },
  aws_s3_bucket_versioning: {
    create: ["s3:PutBucketVersioning"],
    read: ["s3:GetBucketVersioning"],
    update: ["s3:PutBucketVersioning"],
    delete: ["s3:PutBucketVersioning"],
  },
  // Created with its default egress rule revoked; deleting waits for its network interfaces.
  aws_security_group: {
    create: [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:CreateSecurityGroup",
      "ec2:RevokeSecurityGroupEgress",
      ...ec2Tags,
    ],
    read: ["ec2:DescribeSecurityGroups"],
    update: [
      "ec2:AuthorizeSecurityGroupEgress",
      "ec2:AuthorizeSecurityGroupIngress",
      "ec2:RevokeSecurityGroupEgress",
      "ec2:RevokeSecurityGroupIngress",
      ...ec2Tags,
    ],
    delete: ["ec2:DeleteSecurityGroup", "ec2:DescribeNetworkInterfaces"],
  },
  aws_subnet: {
    create: ["ec2:CreateSubnet", "ec2:ModifySubnetAttribute", ...ec2Tags],
    read: ["ec2:DescribeSubnets"],
    update: ["ec2:ModifySubnetAttribute", ...ec2Tags],
    delete: ["ec2:DeleteSubnet", "ec2:DescribeNetworkInterfaces"],
  },
  // Reading a VPC also reads its default security group, route table and network ACL.
  aws_vpc: {
    create: ["ec2:CreateVpc", "ec2:ModifyVpcAttribute", ...ec2Tags],
    read: [
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeRouteTables",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeVpcAttribute",
      "ec2:DescribeVpcs",
    ],
    update: ["ec2:ModifyVpcAttribute", ...ec2Tags],
    delete: ["ec2:DeleteVpc"],
  },
  aws_vpc_endpoint: {
    create: ["ec2:CreateVpcEndpoint", "ec2:DescribePrefixLists", ...ec2Tags],
    read: ["ec2:DescribePrefixLists", "ec2:DescribeVpcEndpoints"],
    update: ["ec2:ModifyVpcEndpoint", ...ec2Tags],
    delete: ["ec2:DeleteVpcEndpoints"],
  },
  aws_vpc_security_group_ingress_rule: {
    create: ["ec2:AuthorizeSecurityGroupIngress", ...ec2Tags],
    read: ["ec2:DescribeSecurityGroupRules"],
    update: ["ec2:ModifySecurityGroupRules", ...ec2Tags],
    delete: ["ec2:RevokeSecurityGroupIngress"],
  },
};

/** What each data source the AWS stacks read calls; the deploy and diff roles both read them. */
export const DATA_SOURCE_API_CALLS: Readonly<Record<string, readonly string[]>> = {
  aws_availability_zones: ["ec2:DescribeAvailabilityZones"],
  aws_caller_identity: ["sts:GetCallerIdentity"],
  aws_ecr_images: ["ecr:ListImages"],
  aws_iam_policy_document: [],
  aws_partition: [],
};
