import "./support/cdktf-matchers";
import { EksCluster } from "@cdktf/provider-aws/lib/eks-cluster";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { EKS_VERSIONS, type NodeGroupKind } from "../environments/schema";
import {
  idOf,
  onlyResource,
  policyStatements,
  referencedResource,
  referenceTo,
  resourceFor,
  resourcesOf,
  synthesizeEnvironments,
  AWS_ENVIRONMENT_INPUTS,
  type TerraformJson,
} from "./support/synth";
import { variant } from "./support/environment-variant";

const synthesized = synthesizeEnvironments();
const dev = synthesized.dev.foundation.json;
const devStack = synthesized.dev.stacks.foundation;
const prodStack = synthesized.prod.stacks.foundation;
const staging = synthesized.staging.foundation.json;
const prod = synthesized.prod.foundation.json;
/** Every AWS environment of the registry. */
const ALL: [string, TerraformJson][] = Object.entries(synthesized).map(([name, env]) => [
  name,
  env.foundation.json,
]);

const KEY_ARN = referenceTo(devStack.key.key, "arn");

describe.each(Object.keys(synthesized))("%s-foundation snapshot", (name) => {
  it("matches the reviewed Terraform", () => {
    expect(synthesized[name].foundation.text).toMatchSnapshot();
  });
});

describe("provider and state", () => {
  it.each(ALL)(
    "%s: pins region, account and tags every resource with owner, cost-center and environment",
    (name, json) => {
      const env = synthesized[name].environment;
      expect(synthesized[name].foundation.text).toHaveProviderWithProperties(AwsProvider, {
        region: "eu-west-1",
        allowed_account_ids: env.aws.allowedAccountIds,
      });
      const tags = json.provider!.aws[0].default_tags[0].tags;
      expect(tags).toMatchObject({
        owner: "ml-platform",
        "cost-center": `ml-platform-${name}`,
        environment: name,
      });
    },
  );

  it("keeps dev's state in a local file outside cdktf.out, by a relative path", () => {
    expect(dev.terraform.backend).toEqual({ local: { path: "../../../terraform.dev-foundation.tfstate" } });
  });

  it("keeps prod's state in S3, encrypted and locked with a lock file", () => {
    expect(prod.terraform.backend).toEqual({
      s3: {
        bucket: "acme-mlops-terraform-state-prod",
        key: "mlops-platform/prod-foundation.tfstate",
        region: "eu-west-1",
        encrypt: true,
        kms_key_id: "arn:aws:kms:eu-west-1:333333333333:alias/mlops-terraform-state",
        use_lockfile: true,
      },
    });
  });

  it("pins the AWS provider exactly", () => {
    expect(dev.terraform.required_providers.aws.version).toBe("6.25.0");
  });
});

describe("KMS key", () => {
  it.each(ALL)("%s: rotates yearly", (_name, json) => {
    expect(onlyResource(json, "aws_kms_key")).toMatchObject({
      enable_key_rotation: true,
      rotation_period_in_days: 365,
    });
  });

  it("can be destroyed quickly in dev and is protected in prod", () => {
    expect(onlyResource(dev, "aws_kms_key")).toMatchObject({
      deletion_window_in_days: 7,
      lifecycle: { prevent_destroy: false },
    });
    expect(synthesized.prod.foundation.text).toHaveResourceWithProperties(KmsKey, {
      deletion_window_in_days: 30,
      lifecycle: { prevent_destroy: true },
    });
  });

  it("lets CloudWatch Logs use it for this account's log groups only", () => {
    const statements = policyStatements(dev, onlyResource(dev, "aws_kms_key").policy);
    const logs = statements.find((s) => s.sid === "CloudWatchLogsEncryptsThisAccountsLogGroups");
    expect(logs.principals).toEqual([{ type: "Service", identifiers: ["logs.eu-west-1.amazonaws.com"] }]);
    expect(logs.condition[0].variable).toBe("kms:EncryptionContext:aws:logs:arn");
  });

  it("encrypts EKS secrets, S3, RDS, ECR and every log group", () => {
    expect(onlyResource(dev, "aws_eks_cluster").encryption_config).toEqual({
      provider: { key_arn: KEY_ARN },
      resources: ["secrets"],
    });
    for (const sse of Object.values(resourcesOf(dev, "aws_s3_bucket_server_side_encryption_configuration"))) {
      expect(sse.rule[0].apply_server_side_encryption_by_default.kms_master_key_id).toBe(KEY_ARN);
    }
    expect(onlyResource(dev, "aws_db_instance")).toMatchObject({
      storage_encrypted: true,
      kms_key_id: KEY_ARN,
    });
    for (const repository of Object.values(resourcesOf(dev, "aws_ecr_repository"))) {
      expect(repository.encryption_configuration).toEqual([{ encryption_type: "KMS", kms_key: KEY_ARN }]);
    }
    const logGroups = Object.values(resourcesOf(dev, "aws_cloudwatch_log_group"));
    // The control plane, the flow logs, and the two types RDS exports.
    expect(logGroups).toHaveLength(4);
    for (const group of logGroups) expect(group.kms_key_id).toBe(KEY_ARN);
  });
});

describe("network", () => {
  it.each(ALL)("%s: spreads public and private subnets over three AZs", (_name, json) => {
    const subnets = Object.values(resourcesOf(json, "aws_subnet"));
    const privateSubnets = subnets.filter((s) => s.tags["kubernetes.io/role/internal-elb"] === "1");
    const publicSubnets = subnets.filter((s) => s.tags["kubernetes.io/role/elb"] === "1");
    expect(privateSubnets).toHaveLength(3);
    expect(publicSubnets).toHaveLength(3);
    for (const [i, subnet] of privateSubnets.entries()) {
      expect(subnet.availability_zone).toMatch(
        new RegExp(
          `^\\$\\{element\\(data\\.aws_availability_zones\\.Network_Zones_[0-9A-F]{8}\\.names, ${i}\\)\\}$`,
        ),
      );
    }
    for (const subnet of subnets) {
      expect(subnet.tags[`kubernetes.io/cluster/mlops-${_name}`]).toBe("shared");
      expect(subnet.map_public_ip_on_launch ?? false).toBe(false);
    }
  });

  it("lays subnets out from the VPC range: an eighth per private subnet, small public ones", () => {
    const cidrs = Object.values(resourcesOf(prod, "aws_subnet")).map((s) => s.cidr_block);
    expect(cidrs.sort()).toEqual(
      [
        "10.30.0.0/19",
        "10.30.32.0/19",
        "10.30.64.0/19",
        "10.30.224.0/22",
        "10.30.228.0/22",
        "10.30.232.0/22",
      ].sort(),
    );
  });

  it("gives prod a NAT gateway per AZ and dev a single one", () => {
    expect(Object.keys(resourcesOf(prod, "aws_nat_gateway"))).toHaveLength(3);
    expect(Object.keys(resourcesOf(dev, "aws_nat_gateway"))).toHaveLength(1);
    const natOf = (json: TerraformJson, table: any) => resourceFor(json, table).route[0].nat_gateway_id;
    const prodRoutes = prodStack.network.privateRouteTables.map((table) => natOf(prod, table));
    expect(new Set(prodRoutes).size).toBe(3);
    const devRoutes = devStack.network.privateRouteTables.map((table) => natOf(dev, table));
    expect(new Set(devRoutes).size).toBe(1);
  });

  it.each(ALL)("%s: strips the default security group of every rule", (_name, json) => {
    expect(onlyResource(json, "aws_default_security_group")).toMatchObject({ ingress: [], egress: [] });
  });

  it.each(ALL)("%s: logs all VPC traffic to an encrypted log group with retention", (name, json) => {
    const flowLog = onlyResource(json, "aws_flow_log");
    expect(flowLog).toMatchObject({ traffic_type: "ALL", log_destination_type: "cloud-watch-logs" });
    const group = referencedResource(json, flowLog.log_destination);
    expect(group.kms_key_id).toBe(KEY_ARN);
    expect(group.retention_in_days).toBe(synthesized[name].environment.network.flowLogRetentionDays);
  });

  it("routes S3 traffic of the private subnets through a gateway endpoint", () => {
    const endpoint = onlyResource(dev, "aws_vpc_endpoint");
    expect(endpoint).toMatchObject({
      vpc_endpoint_type: "Gateway",
      service_name: "com.amazonaws.eu-west-1.s3",
    });
    expect(endpoint.route_table_ids).toHaveLength(3);
  });
});

describe("EKS cluster", () => {
  it.each(ALL)(
    "%s: runs a pinned version with the private endpoint, API access entries and control-plane logs",
    (_n, json) => {
      const cluster = onlyResource(json, "aws_eks_cluster");
      expect(cluster.version).toBe("1.34");
      expect(cluster.vpc_config.endpoint_private_access).toBe(true);
      expect(cluster.access_config).toEqual({
        authentication_mode: "API",
        bootstrap_cluster_creator_admin_permissions: false,
      });
      expect(cluster.enabled_cluster_log_types).toEqual([
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
      ]);
      expect(cluster.upgrade_policy).toEqual({ support_type: "STANDARD" });
      expect(cluster.vpc_config.subnet_ids).toHaveLength(3);
      expect(cluster.vpc_config.subnet_ids.every((id: string) => id.includes("PrivateSubnet"))).toBe(true);
    },
  );

  it("keeps prod's API private and limits dev's public endpoint to the configured ranges", () => {
    const prodCluster = onlyResource(prod, "aws_eks_cluster");
    expect(prodCluster.vpc_config).toMatchObject({
      endpoint_public_access: false,
      endpoint_private_access: true,
    });
    expect(prodCluster.vpc_config.public_access_cidrs).toBeUndefined();
    expect(synthesized.prod.foundation.text).toHaveResourceWithProperties(EksCluster, {
      deletion_protection: true,
    });
    const devCluster = onlyResource(dev, "aws_eks_cluster");
    expect(devCluster.vpc_config.endpoint_public_access).toBe(true);
    expect(devCluster.vpc_config.public_access_cidrs).toEqual(["203.0.113.0/24"]);
  });

  it("grants cluster-admin to exactly the configured principals, and view rights to the diff role", () => {
    const entries = Object.values(resourcesOf(prod, "aws_eks_access_entry"));
    const viewer = expect.stringMatching(
      /^arn:\$\{data\.aws_partition\.[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:role\/ci-diff$/,
    );
    expect(entries.map((e) => e.principal_arn)).toEqual([
      ...synthesized.prod.environment.eks.adminPrincipalArns,
      viewer,
    ]);
    // Only the diff role is in a Kubernetes group: the one the platform stack lets read the
    // CRDs its plans list (docs/delivery.md, "Pull-request diffs of deployed environments").
    expect(entries.map((e) => e.kubernetes_groups)).toEqual([
      ...synthesized.prod.environment.eks.adminPrincipalArns.map(() => undefined),
      ["mlops:pull-request-diff"],
    ]);
    const associations = Object.values(resourcesOf(prod, "aws_eks_access_policy_association"));
    expect(associations.map((a) => a.policy_arn.replace(/^.*\//, ""))).toEqual([
      "AmazonEKSClusterAdminPolicy",
      "AmazonEKSClusterAdminPolicy",
      "AmazonEKSViewPolicy",
    ]);
    for (const association of associations) {
      expect(association.policy_arn).toMatch(/^arn:\$\{[^}]+\}:eks::aws:cluster-access-policy\//);
      expect(association.access_scope).toEqual({ type: "cluster" });
    }
  });

  it("has an IAM OIDC provider for IRSA", () => {
    const provider = onlyResource(dev, "aws_iam_openid_connect_provider");
    expect(provider.client_id_list).toEqual(["sts.amazonaws.com"]);
    expect(provider.url).toBe(referenceTo(devStack.cluster.cluster, "identity[0].oidc[0].issuer"));
  });

  it("installs the managed add-ons at pinned versions, the VPC CNI enforcing NetworkPolicies", () => {
    const addons = Object.fromEntries<any>(
      Object.values(resourcesOf(dev, "aws_eks_addon")).map((a) => [a.addon_name, a]),
    );
    const pinned = EKS_VERSIONS["1.34"];
    expect(
      Object.fromEntries(Object.entries(addons).map(([name, addon]) => [name, addon.addon_version])),
    ).toEqual({
      "vpc-cni": pinned.vpcCni,
      coredns: pinned.coredns,
      "kube-proxy": pinned.kubeProxy,
      "aws-ebs-csi-driver": pinned.ebsCsiDriver,
    });
    expect(JSON.parse(addons["vpc-cni"].configuration_values)).toEqual({ enableNetworkPolicy: "true" });
    expect(addons["aws-ebs-csi-driver"].service_account_role_arn).toBe(
      referenceTo(devStack.cluster.ebsCsiDriverIdentity.role, "arn"),
    );
  });

  it("gives the VPC CNI its own IRSA role and the node role no network permissions", () => {
    const cni = Object.values(resourcesOf(dev, "aws_eks_addon")).find((a) => a.addon_name === "vpc-cni");
    expect(cni.service_account_role_arn).toBe(referenceTo(devStack.cluster.vpcCniIdentity.role, "arn"));
    const attached = Object.values(resourcesOf(dev, "aws_iam_role_policy_attachment")).map(
      (a) => a.policy_arn,
    );
    expect(attached.some((arn: string) => arn.endsWith("AmazonEKS_CNI_Policy"))).toBe(false);
    expect(
      attached.filter((arn: string) =>
        /AmazonEKSWorkerNodePolicy|AmazonEC2ContainerRegistryPullOnly/.test(arn),
      ),
    ).toHaveLength(2);
  });

  it("brings up networking add-ons before nodes, and pod add-ons after the general nodes", () => {
    const addons = Object.fromEntries(
      Object.values(resourcesOf(dev, "aws_eks_addon")).map((a) => [a.addon_name, a]),
    );
    for (const group of Object.values(resourcesOf(dev, "aws_eks_node_group"))) {
      expect(group.depends_on).toEqual([
        ...devStack.cluster.networkingAddons.map((addon) => `aws_eks_addon.${idOf(addon)}`),
      ]);
    }
    expect(addons.coredns.depends_on).toEqual([
      `aws_eks_node_group.${idOf(devStack.nodeGroups.general.nodeGroup)}`,
    ]);
  });
});

describe("node groups", () => {
  const stackOf = (json: TerraformJson) => (json === dev ? devStack : prodStack);
  const group = (json: TerraformJson, kind: string) =>
    resourceFor(json, stackOf(json).nodeGroups[kind.toLowerCase() as NodeGroupKind].nodeGroup);

  it("runs general nodes on demand on t3.large", () => {
    expect(group(dev, "General")).toMatchObject({
      capacity_type: "ON_DEMAND",
      instance_types: ["t3.large"],
      ami_type: "AL2023_x86_64_STANDARD",
      labels: { workload: "general" },
      taint: [],
    });
  });

  it("runs training on SPOT c5.2xlarge with interchangeable types, tainted, idle at zero", () => {
    const training = group(prod, "Training");
    expect(training.capacity_type).toBe("SPOT");
    expect(training.instance_types[0]).toBe("c5.2xlarge");
    expect(training.instance_types.length).toBeGreaterThanOrEqual(2);
    expect(training.labels).toEqual({ workload: "training" });
    expect(training.taint).toEqual([{ key: "workload", value: "training", effect: "NO_SCHEDULE" }]);
    expect(training.scaling_config).toMatchObject({ min_size: 0, desired_size: 0 });
  });

  it("runs GPU nodes on SPOT g4dn/g5 with the NVIDIA AMI, tainted nvidia.com/gpu, idle at zero", () => {
    const gpu = group(prod, "Gpu");
    expect(gpu).toMatchObject({
      capacity_type: "SPOT",
      instance_types: ["g4dn.xlarge", "g5.xlarge"],
      ami_type: "AL2023_x86_64_NVIDIA",
      labels: { workload: "gpu" },
      taint: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }],
      scaling_config: { min_size: 0, desired_size: 0, max_size: 4 },
    });
  });

  it.each(["General", "Training", "Gpu"])(
    "%s: private subnets only, autoscaler owns the desired size",
    (kind) => {
      const nodes = group(prod, kind);
      expect(nodes.subnet_ids.every((id: string) => id.includes("PrivateSubnet"))).toBe(true);
      expect(nodes.lifecycle.ignore_changes).toEqual(["scaling_config[0].desired_size"]);
    },
  );

  it.each(["General", "Training", "Gpu"])(
    "%s: launch template requires IMDSv2 and encrypts a gp3 root volume",
    (kind) => {
      const nodes = group(prod, kind);
      const template = referencedResource(prod, nodes.launch_template.id);
      expect(template.metadata_options).toMatchObject({
        http_tokens: "required",
        http_put_response_hop_limit: 1,
      });
      expect(template.block_device_mappings[0].ebs).toMatchObject({ volume_type: "gp3", encrypted: "true" });
    },
  );

  it("tells the cluster autoscaler the labels, taints and GPUs of groups at zero nodes", () => {
    const tags = Object.values(resourcesOf(prod, "aws_autoscaling_group_tag"));
    const byGroup = (kind: string) =>
      Object.fromEntries(
        tags
          .filter((t) => t.autoscaling_group_name.includes(`${kind}Nodes_NodeGroup`))
          .map((t) => [t.tag.key, t.tag.value]),
      );
    expect(byGroup("Gpu")).toEqual({
      "k8s.io/cluster-autoscaler/node-template/label/workload": "gpu",
      "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
      "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "1",
    });
    expect(byGroup("Training")).toEqual({
      "k8s.io/cluster-autoscaler/node-template/label/workload": "training",
      "k8s.io/cluster-autoscaler/node-template/taint/workload": "training:NoSchedule",
    });
    expect(tags[0].autoscaling_group_name).toMatch(/\.resources\[0\]\.autoscaling_groups\[0\]\.name\}$/);
  });
});

describe("PostgreSQL for MLflow", () => {
  it.each(ALL)("%s: private, encrypted, TLS-only, password managed by RDS, database mlflow", (_n, json) => {
    const db = onlyResource(json, "aws_db_instance");
    expect(db).toMatchObject({
      engine: "postgres",
      engine_version: "17",
      db_name: "mlflow",
      publicly_accessible: false,
      storage_encrypted: true,
      manage_master_user_password: true,
      master_user_secret_kms_key_id: KEY_ARN,
    });
    expect(db.password).toBeUndefined();
    const parameters = referencedResource(json, db.parameter_group_name);
    expect(parameters.family).toBe("postgres17");
    expect(parameters.parameter).toContainEqual({
      name: "rds.force_ssl",
      value: "1",
      apply_method: "pending-reboot",
    });
    const subnetGroup = referencedResource(json, db.db_subnet_group_name);
    expect(subnetGroup.subnet_ids.every((id: string) => id.includes("PrivateSubnet"))).toBe(true);
  });

  it("admits 5432 from the cluster security group only", () => {
    const rules = Object.values(resourcesOf(prod, "aws_vpc_security_group_ingress_rule"));
    expect(rules).toEqual([
      expect.objectContaining({
        from_port: 5432,
        to_port: 5432,
        ip_protocol: "tcp",
        referenced_security_group_id: referenceTo(
          prodStack.cluster.cluster,
          "vpc_config[0].cluster_security_group_id",
        ),
      }),
    ]);
    expect(rules[0].cidr_ipv4).toBeUndefined();
  });

  it("runs prod Multi-AZ with Performance Insights, deletion protection, a final snapshot and prevent_destroy", () => {
    expect(onlyResource(prod, "aws_db_instance")).toMatchObject({
      multi_az: true,
      performance_insights_enabled: true,
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: "mlops-prod-mlflow-final",
      backup_retention_period: 30,
      lifecycle: { prevent_destroy: true },
    });
  });

  it.each(ALL)("%s: creates the exported log groups on a first deploy, with no import block", (_n, json) => {
    const groups = Object.values<any>(resourcesOf(json, "aws_cloudwatch_log_group")).map((g) => g.name);
    expect(groups).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/aws\/rds\/instance\/mlops-[a-z-]+-mlflow\/postgresql$/),
        expect.stringMatching(/^\/aws\/rds\/instance\/mlops-[a-z-]+-mlflow\/upgrade$/),
      ]),
    );
    expect((json as any).import).toBeUndefined();
  });

  it("imports the log groups RDS made itself on an environment deployed before the foundation created them", () => {
    const input = AWS_ENVIRONMENT_INPUTS.find((e) => e.name === "dev") as Parameters<typeof variant>[0];
    const deployed = synthesizeEnvironments([
      variant(input, (e) => (e.database.importExistingLogGroups = true)),
    ]).dev.foundation.json as any;
    const groups = resourcesOf(deployed, "aws_cloudwatch_log_group");
    const rds = Object.entries<any>(groups).filter(([, g]) => g.name.startsWith("/aws/rds/instance/"));
    expect(rds).toHaveLength(2);
    // Terraform's import block: the resource address, and the provider's import id (the name).
    expect(deployed.import).toEqual(
      expect.arrayContaining(
        rds.map(([id, g]) => expect.objectContaining({ to: `aws_cloudwatch_log_group.${id}`, id: g.name })),
      ),
    );
    expect(deployed.import).toHaveLength(2);
  });

  it("lets dev's database go without a snapshot", () => {
    expect(onlyResource(dev, "aws_db_instance")).toMatchObject({
      multi_az: false,
      deletion_protection: false,
      skip_final_snapshot: true,
      backup_retention_period: 1,
      lifecycle: { prevent_destroy: false },
    });
  });
});

describe("S3 buckets", () => {
  it.each(ALL)(
    "%s: artifacts and data buckets are versioned, SSE-KMS with bucket keys, private and TLS-only",
    (name, json) => {
      const buckets = Object.values(resourcesOf(json, "aws_s3_bucket")).map((b) => b.bucket);
      expect(buckets).toEqual([`acme-mlops-${name}-artifacts`, `acme-mlops-${name}-data`]);
      for (const versioning of Object.values(resourcesOf(json, "aws_s3_bucket_versioning"))) {
        expect(versioning.versioning_configuration.status).toBe("Enabled");
      }
      for (const sse of Object.values(
        resourcesOf(json, "aws_s3_bucket_server_side_encryption_configuration"),
      )) {
        expect(sse.rule[0]).toMatchObject({
          bucket_key_enabled: true,
          apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms" },
        });
      }
      for (const block of Object.values(resourcesOf(json, "aws_s3_bucket_public_access_block"))) {
        expect(block).toMatchObject({
          block_public_acls: true,
          block_public_policy: true,
          ignore_public_acls: true,
          restrict_public_buckets: true,
        });
      }
      for (const ownership of Object.values(resourcesOf(json, "aws_s3_bucket_ownership_controls"))) {
        expect(ownership.rule.object_ownership).toBe("BucketOwnerEnforced");
      }
      for (const policy of Object.values(resourcesOf(json, "aws_s3_bucket_policy"))) {
        const [deny] = policyStatements(json, policy.policy);
        expect(deny).toMatchObject({
          effect: "Deny",
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        });
      }
      for (const lifecycle of Object.values(resourcesOf(json, "aws_s3_bucket_lifecycle_configuration"))) {
        // The data bucket also expires the models' logged predictions (model-monitoring.test.ts).
        expect(lifecycle.rule.map((r: any) => r.id).slice(0, 2)).toEqual([
          "expire-noncurrent-versions",
          "abort-incomplete-uploads",
        ]);
        expect(lifecycle.rule.slice(2).map((r: any) => r.id)).toEqual(
          lifecycle.rule.length > 2 ? ["expire-predictions"] : [],
        );
        expect(lifecycle.rule[1].abort_incomplete_multipart_upload[0].days_after_initiation).toBe(7);
      }
    },
  );

  it("lets dev buckets be destroyed with their objects and never prod's", () => {
    for (const bucket of Object.values(resourcesOf(dev, "aws_s3_bucket"))) {
      expect(bucket).toMatchObject({ force_destroy: true, lifecycle: { prevent_destroy: false } });
    }
    for (const bucket of Object.values(resourcesOf(prod, "aws_s3_bucket"))) {
      expect(bucket).toMatchObject({ force_destroy: false, lifecycle: { prevent_destroy: true } });
    }
  });

  it("expires noncurrent versions after the configured days", () => {
    const [lifecycle] = Object.values(resourcesOf(prod, "aws_s3_bucket_lifecycle_configuration"));
    expect(lifecycle.rule[0].noncurrent_version_expiration).toEqual([{ noncurrent_days: 365 }]);
  });
});

describe("ECR repositories", () => {
  it.each(ALL)(
    "%s: the serving and training repositories scan on push and keep 10 tagged images",
    (name, json) => {
      const repositories = Object.values(resourcesOf(json, "aws_ecr_repository"));
      const { registry } = synthesized[name].environment;
      expect(repositories.map((r) => r.name)).toEqual([
        registry.servingRepository,
        registry.trainingRepository,
      ]);
      for (const repository of repositories)
        expect(repository.image_scanning_configuration).toEqual({ scan_on_push: true });
      for (const lifecycle of Object.values(resourcesOf(json, "aws_ecr_lifecycle_policy"))) {
        const rules = JSON.parse(lifecycle.policy).rules;
        expect(rules[0].selection).toMatchObject({
          tagStatus: "untagged",
          countUnit: "days",
          countNumber: 7,
        });
        expect(rules[1].selection).toMatchObject({ tagStatus: "tagged", tagPatternList: ["*.*.*"] });
        expect(rules[2].selection).toMatchObject({
          tagStatus: "tagged",
          countType: "imageCountMoreThan",
          countNumber: 10,
        });
      }
    },
  );

  it("makes tags immutable in staging and prod, not in dev", () => {
    const mutability = (json: TerraformJson) =>
      Object.values(resourcesOf(json, "aws_ecr_repository")).map((r) => r.image_tag_mutability);
    expect(mutability(dev)).toEqual(["MUTABLE", "MUTABLE"]);
    expect(mutability(staging)).toEqual(["IMMUTABLE", "IMMUTABLE"]);
    expect(mutability(prod)).toEqual(["IMMUTABLE", "IMMUTABLE"]);
  });
});

describe("workload identities (IRSA)", () => {
  const ARTIFACTS_ARN = referenceTo(prodStack.artifactsBucket.bucket, "arn");
  const roles = Object.values(resourcesOf(prod, "aws_iam_role")).filter(
    (r) => r.name.startsWith("mlops-prod-") && r.description?.startsWith("IRSA"),
  );
  const roleNamed = (suffix: string) => {
    const role = roles.find((r) => r.name === `mlops-prod-${suffix}`);
    if (!role) throw new Error(`no role mlops-prod-${suffix}`);
    return role;
  };
  const permissionsOf = (role: any) => {
    const roleRef = Object.entries(resourcesOf(prod, "aws_iam_role")).find(([, r]) => r === role)![0];
    const policy = Object.values(resourcesOf(prod, "aws_iam_role_policy")).find(
      (p) => p.role === `\${aws_iam_role.${roleRef}.name}`,
    );
    return policyStatements(prod, policy.policy);
  };

  it("has one role per platform service account", () => {
    expect(roles.map((r) => r.name).sort()).toEqual(
      [
        "aws-load-balancer-controller",
        "batch-inference",
        "cluster-autoscaler",
        "ebs-csi-driver",
        "external-secrets",
        "kserve-predictor",
        "mlflow",
        "mlops-serving",
        "model-monitoring",
        "model-training",
        "pipeline-runner",
        "vpc-cni",
      ].map((n) => `mlops-prod-${n}`),
    );
  });

  it.each([
    ["vpc-cni", "kube-system", "aws-node"],
    ["ebs-csi-driver", "kube-system", "ebs-csi-controller-sa"],
    ["cluster-autoscaler", "kube-system", "cluster-autoscaler"],
    ["aws-load-balancer-controller", "kube-system", "aws-load-balancer-controller"],
    ["external-secrets", "external-secrets", "external-secrets"],
    ["mlflow", "mlflow", "mlflow"],
    ["pipeline-runner", "kubeflow", "pipeline-runner"],
    ["mlops-serving", "mlops", "mlops-serving"],
    ["kserve-predictor", "mlops", "kserve-predictor"],
    ["model-training", "mlops", "model-training"],
    ["batch-inference", "mlops", "batch-inference"],
    ["model-monitoring", "mlops", "model-monitoring"],
  ])(
    "%s trusts exactly system:serviceaccount:%s:%s with audience sts.amazonaws.com",
    (role, namespace, sa) => {
      const [trust] = policyStatements(prod, roleNamed(role).assume_role_policy);
      expect(trust.actions).toEqual(["sts:AssumeRoleWithWebIdentity"]);
      expect(trust.principals).toEqual([
        {
          type: "Federated",
          identifiers: [referenceTo(prodStack.cluster.oidcProvider, "arn")],
        },
      ]);
      const issuer = `\${replace(aws_eks_cluster.${idOf(prodStack.cluster.cluster)}.identity[0].oidc[0].issuer, "https://", "")}`;
      expect(trust.condition).toEqual([
        {
          test: "StringEquals",
          variable: `${issuer}:sub`,
          values: [`system:serviceaccount:${namespace}:${sa}`],
        },
        { test: "StringEquals", variable: `${issuer}:aud`, values: ["sts.amazonaws.com"] },
      ]);
    },
  );

  it("lets MLflow read and write the artifacts bucket only, with the bucket key", () => {
    const statements = permissionsOf(roleNamed("mlflow"));
    const resources = statements.flatMap((s: any) => s.resources);
    expect(resources.filter((r: string) => r.includes("aws_s3_bucket"))).toEqual(
      expect.arrayContaining([ARTIFACTS_ARN, `${ARTIFACTS_ARN}/*`]),
    );
    expect(resources.some((r: string) => r.includes("DataBucket"))).toBe(false);
    expect(statements.find((s: any) => s.sid === "WriteObjects").actions).toContain("s3:PutObject");
    const kms = statements.find((s: any) => s.sid === "UseBucketKeyThroughS3");
    expect(kms.actions).toEqual(expect.arrayContaining(["kms:Decrypt", "kms:GenerateDataKey"]));
    expect(kms.resources).toEqual([KEY_ARN]);
    expect(kms.condition).toEqual([
      { test: "StringEquals", variable: "kms:ViaService", values: ["s3.eu-west-1.amazonaws.com"] },
    ]);
  });

  it("lets pipeline steps read and write artifacts and data", () => {
    const write = permissionsOf(roleNamed("pipeline-runner")).find((s: any) => s.sid === "WriteObjects");
    expect(write.resources).toEqual([
      `${ARTIFACTS_ARN}/*`,
      `${referenceTo(prodStack.dataBucket.bucket, "arn")}/*`,
    ]);
  });

  it.each(["mlops-serving", "kserve-predictor"])(
    "gives %s read-only access to artifacts and adds predictions to the data bucket only",
    (role) => {
      const statements = permissionsOf(roleNamed(role));
      expect(statements.map((s: any) => s.sid)).toEqual([
        "ListBuckets",
        "ReadObjects",
        "PutObjectsUnderPrefix",
        "UseBucketKeyThroughS3",
      ]);
      expect(statements[0].resources).toHaveLength(1);
      expect(statements[1].resources).toHaveLength(1);
      expect(statements[2].resources).toEqual([expect.stringMatching(/\/predictions\/\*$/)]);
      // SSE-KMS needs a data key to write the logged predictions.
      expect(statements.find((s: any) => s.sid === "UseBucketKeyThroughS3").actions).toEqual([
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:Encrypt",
        "kms:GenerateDataKey",
      ]);
    },
  );

  it("lets External Secrets read this environment's database secret and nothing else", () => {
    const statements = permissionsOf(roleNamed("external-secrets"));
    expect(statements[0].resources).toEqual([
      referenceTo(prodStack.database.instance, "master_user_secret[0].secret_arn"),
    ]);
    expect(statements[1].condition[0].values).toEqual(["secretsmanager.eu-west-1.amazonaws.com"]);
  });

  it("lets the cluster autoscaler scale only groups tagged as this cluster's", () => {
    const scale = permissionsOf(roleNamed("cluster-autoscaler")).find(
      (s: any) => s.sid === "ScaleOnlyThisClustersGroups",
    );
    expect(scale.condition).toEqual([
      {
        test: "StringEquals",
        variable: "aws:ResourceTag/k8s.io/cluster-autoscaler/mlops-prod",
        values: ["owned"],
      },
    ]);
    const describe = permissionsOf(roleNamed("cluster-autoscaler")).find(
      (s: any) => s.sid === "ReadNodeGroupTemplates",
    );
    expect(describe.actions).toEqual(["eks:DescribeNodegroup"]);
  });
});

describe("outputs for the platform stack", () => {
  it("exports cluster access, identities, storage, database and registries", () => {
    const declared = Object.keys(prod.output!).filter((name) => !name.startsWith("cross-stack-output-"));
    expect(declared.sort()).toEqual(
      [
        "artifacts_bucket",
        "cluster_autoscaler_role_arn",
        "cluster_certificate_authority",
        "cluster_endpoint",
        "cluster_name",
        "cluster_oidc_issuer_url",
        "data_bucket",
        "database_address",
        "database_name",
        "database_port",
        "database_secret_arn",
        "external_secrets_role_arn",
        "kserve_predictor_role_arn",
        "model_training_role_arn",
        "batch_inference_role_arn",
        "load_balancer_controller_role_arn",
        "mlflow_server_role_arn",
        "model_serving_role_arn",
        "model_monitoring_role_arn",
        "pipeline_runner_role_arn",
        "region",
        "serving_repository_url",
        "training_repository_url",
        "vpc_id",
      ].sort(),
    );
  });
});
