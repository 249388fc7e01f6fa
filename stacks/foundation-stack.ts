import { Construct } from "constructs";
import { Aspects, TerraformOutput, TerraformStack } from "cdktf";
import { AwsAccount } from "../constructs/aws/account";
import { EncryptionKey } from "../constructs/aws/encryption-key";
import { Network } from "../constructs/aws/network";
import { KubernetesCluster } from "../constructs/aws/kubernetes-cluster";
import { NodeGroup, type NodeTaint } from "../constructs/aws/node-group";
import { PostgresDatabase } from "../constructs/aws/postgres-database";
import { SecureBucket } from "../constructs/aws/secure-bucket";
import { PREDICTION_LOG_PREFIX } from "../constructs/serving/inference-services";
import { ContainerRegistry } from "../constructs/aws/container-registry";
import { WorkloadIdentity } from "../constructs/aws/workload-identity";
import type { PolicyStatement } from "../constructs/aws/policy";
import {
  bucketAccessStatements,
  prefixReadStatements,
  clusterAutoscalerStatements,
  loadBalancerControllerStatements,
  secretReaderStatements,
} from "../constructs/aws/controller-policies";
import {
  PLATFORM_SERVICE_ACCOUNTS,
  type PlatformServiceAccount,
} from "../constructs/platform/service-accounts";
import {
  EKS_VERSIONS,
  gpusPerInstance,
  NODE_GROUP_KINDS,
  type Environment,
  type NodeGroupKind,
} from "../environments/schema";
import { configureStateBackend } from "./state-backend";
import { configureAwsProvider } from "./aws-provider";
import { EcrReplicationConfiguration } from "@cdktf/provider-aws/lib/ecr-replication-configuration";
import { EcrRegistryPolicy } from "@cdktf/provider-aws/lib/ecr-registry-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { S3BucketReplicationConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-replication-configuration";
import { assertExplicitActions, policyDocument } from "../constructs/aws/policy";
import { modelReplicationStatements, permissionsBoundaryArn } from "../constructs/aws/delivery-policies";
import { DIFF_ROLE_NAME } from "../environments/github";
import { PULL_REQUEST_DIFF_GROUP } from "../constructs/platform/pull-request-diff";
import {
  MODEL_ARTIFACT_PREFIX,
  modelReplicationRoleName,
  platformKeyAlias,
  type PromotionLinks,
} from "./promotion-topology";

export interface FoundationStackProps {
  readonly environment: Environment;
  /** Where this environment's images and models go, or come from (stacks/promotion-topology.ts). */
  readonly promotion?: PromotionLinks;
  /**
   * The data the models' monitoring jobs read (from the release): their logged predictions, their
   * reference data sets in the artifacts bucket and their ground truth in the data bucket.
   * @default none: the monitoring role reads nothing but the prediction log's own prefix
   */
  readonly monitoredModels?: readonly MonitoredData[];
}

/** What one model's monitoring job reads. */
export interface MonitoredData {
  readonly model: string;
  readonly referenceData?: string;
  readonly groundTruth?: string;
}

/** The taint that keeps other pods off a dedicated group; `general` takes anything. */
const GROUP_TAINTS: Record<NodeGroupKind, NodeTaint[]> = {
  general: [],
  training: [{ key: "workload", value: "training", effect: "NoSchedule" }],
  gpu: [{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }],
};

/**
 * Everything AWS of one environment: KMS, VPC, EKS with its node groups, RDS PostgreSQL, S3,
 * ECR and the IRSA roles of the platform's workloads. Nothing here talks to Kubernetes.
 */
export class FoundationStack extends TerraformStack {
  public readonly environment: Environment;
  public readonly key: EncryptionKey;
  public readonly network: Network;
  public readonly cluster: KubernetesCluster;
  public readonly nodeGroups: Record<NodeGroupKind, NodeGroup>;
  public readonly database: PostgresDatabase;
  public readonly artifactsBucket: SecureBucket;
  public readonly dataBucket: SecureBucket;
  public readonly servingRepository: ContainerRegistry;
  public readonly trainingRepository: ContainerRegistry;
  /** IRSA roles by the service account they serve. */
  public readonly identities: Record<PlatformServiceAccount, WorkloadIdentity>;
  /** On a producer: the registry's replication towards the consumers' accounts, if any. */
  public readonly imageReplication?: EcrReplicationConfiguration;
  /** On a consumer: the registry policy admitting the producer's replication. */
  public readonly imageReplicationPolicy?: EcrRegistryPolicy;
  /** On a producer: the artifacts bucket's replication of model artifacts to the consumers. */
  public readonly modelReplication?: S3BucketReplicationConfigurationA;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id);
    const env = props.environment;
    this.environment = env;
    const prefix = `mlops-${env.name}`;
    const retain = env.protection === "protected";

    configureStateBackend(this, id, env);
    configureAwsProvider(this, env);
    const account = new AwsAccount(this, "Account", env.aws.region);
    const producer = props.promotion?.producer;
    const consumers = props.promotion?.consumers ?? [];
    // A consumer admits the producer's replication role by its ARN as a condition on the
    // producer account: the role need not exist yet when this policy is written.
    const replicationRole = producer
      ? {
          account: `arn:${account.partition}:iam::${producer.accountId}:root`,
          role: `arn:${account.partition}:iam::${producer.accountId}:role/${modelReplicationRoleName(producer.environment)}`,
        }
      : undefined;
    const fromReplicationRole = (role: { account: string; role: string }) => ({
      principals: [{ type: "AWS" as const, identifiers: [role.account] }],
      conditions: [{ test: "ArnEquals", variable: "aws:PrincipalArn", values: [role.role] }],
    });

    this.key = new EncryptionKey(this, "PlatformKey", {
      alias: platformKeyAlias(env.name),
      account,
      description: `Encrypts the ${env.name} MLOps platform: EKS secrets, S3, RDS, ECR, logs`,
      deletionWindowDays: retain ? 30 : 7,
      preventDestroy: retain,
      additionalStatements: replicationRole
        ? [
            {
              sid: "ProducerReplicationEncryptsModelReplicas",
              actions: ["kms:Encrypt", "kms:GenerateDataKey"],
              resources: ["*"],
              ...fromReplicationRole(replicationRole),
              conditions: [
                ...fromReplicationRole(replicationRole).conditions,
                {
                  test: "StringEquals",
                  variable: "kms:ViaService",
                  values: [`s3.${env.aws.region}.amazonaws.com`],
                },
              ],
            },
          ]
        : undefined,
    });

    this.network = new Network(this, "Network", {
      name: prefix,
      account,
      cidr: env.network.vpcCidr,
      azCount: env.network.azCount,
      natGateways: env.network.natGateways,
      clusterName: prefix,
      key: this.key,
      flowLogRetentionDays: env.network.flowLogRetentionDays,
    });

    this.cluster = new KubernetesCluster(this, "Cluster", {
      name: prefix,
      account,
      version: env.eks.version,
      addonVersions: EKS_VERSIONS[env.eks.version],
      network: this.network,
      key: this.key,
      adminPrincipalArns: env.eks.adminPrincipalArns,
      // The pull-request diff role of the bootstrap stack (environments/github.ts): the view
      // policy, plus the platform stack's RBAC for its group (reading the CRDs a plan lists).
      viewers: [
        {
          principalArn: `arn:${account.partition}:iam::${account.accountId}:role/${DIFF_ROLE_NAME}`,
          kubernetesGroups: [PULL_REQUEST_DIFF_GROUP],
        },
      ],
      publicEndpoint: env.eks.publicEndpoint,
      serviceIpv4Cidr: env.eks.serviceIpv4Cidr,
      logRetentionDays: env.eks.controlPlaneLogRetentionDays,
      deletionProtection: retain,
    });

    const groups = {} as Record<NodeGroupKind, NodeGroup>;
    for (const kind of NODE_GROUP_KINDS) {
      const config = env.nodeGroups[kind];
      const gpus = kind === "gpu" ? gpusPerInstance(config.instanceTypes[0]) : undefined;
      groups[kind] = new NodeGroup(this, `${kind[0].toUpperCase()}${kind.slice(1)}Nodes`, {
        cluster: this.cluster,
        network: this.network,
        name: kind,
        instanceTypes: config.instanceTypes,
        capacityType: config.capacityType,
        minSize: config.minSize,
        desiredSize: config.desiredSize,
        maxSize: config.maxSize,
        diskSizeGib: config.diskSizeGib,
        amiType: config.amiType,
        labels: config.labels,
        taints: [...GROUP_TAINTS[kind], ...config.taints],
        resources: gpus !== undefined ? { "nvidia.com/gpu": String(gpus) } : {},
        dependsOn: this.cluster.networkingAddons,
      });
    }
    this.nodeGroups = groups;
    this.cluster.addWorkloadAddons([groups.general.nodeGroup]);

    this.database = new PostgresDatabase(this, "MlflowDatabase", {
      identifier: `${prefix}-mlflow`,
      network: this.network,
      clientSecurityGroupId: this.cluster.securityGroupId,
      key: this.key,
      majorVersion: env.database.engineVersion,
      instanceClass: env.database.instanceClass,
      allocatedStorageGib: env.database.allocatedStorageGib,
      maxAllocatedStorageGib: env.database.maxAllocatedStorageGib,
      databaseName: "mlflow",
      multiAz: env.database.multiAz,
      backupRetentionDays: env.database.backupRetentionDays,
      deletionProtection: env.database.deletionProtection,
      performanceInsights: env.database.performanceInsights ?? retain,
      logRetentionDays: env.database.logRetentionDays,
      importExistingLogGroups: env.database.importExistingLogGroups ?? false,
      retainOnDelete: retain,
    });

    const bucket = (id: string, bucketName: string, additionalPolicyStatements?: PolicyStatement[]) =>
      new SecureBucket(this, id, {
        bucketName,
        key: this.key,
        noncurrentVersionExpirationDays: env.storage.noncurrentVersionExpirationDays,
        retainOnDelete: retain,
        additionalPolicyStatements,
      });
    const artifactsArn = `arn:${account.partition}:s3:::${env.storage.artifactsBucket}`;
    this.artifactsBucket = bucket(
      "ArtifactsBucket",
      env.storage.artifactsBucket,
      replicationRole
        ? [
            {
              sid: "ProducerReplicatesModelArtifacts",
              actions: ["s3:ObjectOwnerOverrideToBucketOwner", "s3:ReplicateObject", "s3:ReplicateTags"],
              resources: [`${artifactsArn}/${MODEL_ARTIFACT_PREFIX}*`],
              ...fromReplicationRole(replicationRole),
            },
            {
              sid: "ProducerChecksReplicaBucket",
              actions: ["s3:GetBucketVersioning", "s3:ListBucket"],
              resources: [artifactsArn],
              ...fromReplicationRole(replicationRole),
            },
          ]
        : undefined,
    );
    this.dataBucket = new SecureBucket(this, "DataBucket", {
      bucketName: env.storage.dataBucket,
      key: this.key,
      noncurrentVersionExpirationDays: env.storage.noncurrentVersionExpirationDays,
      retainOnDelete: retain,
      // The models' logged predictions are kept for the environment's retention, then expire.
      expiringPrefixes: [{ prefix: PREDICTION_LOG_PREFIX, days: env.storage.predictionLogRetentionDays }],
    });

    const repository = (id: string, name: string) =>
      new ContainerRegistry(this, id, {
        name,
        key: this.key,
        immutableTags: env.registry.immutableTags,
        keepTaggedImages: env.registry.keepTaggedImages,
        untaggedImageExpiryDays: env.registry.untaggedImageExpiryDays,
        retainOnDelete: retain,
      });
    this.servingRepository = repository("ServingRepository", env.registry.servingRepository);
    this.trainingRepository = repository("TrainingRepository", env.registry.trainingRepository);

    const keyed = { account, key: this.key };
    const artifacts = this.artifactsBucket.arn;
    const data = this.dataBucket.arn;
    const read = (bucketArn: string) => ({ bucketArn, access: "read" as const });
    const readWrite = (bucketArn: string) => ({ bucketArn, access: "read-write" as const });
    const predictionLogs = { bucketArn: data, prefix: PREDICTION_LOG_PREFIX };
    const monitored = props.monitoredModels ?? [];
    /** Who may do what: one IRSA role per platform service account. */
    const grants: Record<PlatformServiceAccount, { purpose: string; statements: PolicyStatement[] }> = {
      clusterAutoscaler: {
        purpose: "scales this cluster's node groups, from zero included",
        statements: clusterAutoscalerStatements(account, prefix),
      },
      loadBalancerController: {
        purpose: "creates the NLBs and ALBs of Services and Ingresses",
        statements: loadBalancerControllerStatements(account),
      },
      externalSecrets: {
        purpose: "copies this environment's database and alert receiver credentials into Kubernetes Secrets",
        statements: secretReaderStatements(keyed, this.database.masterUserSecretArn, [
          ...env.platform.alerting.receivers.map((receiver) => receiver.secret.remoteKey),
          ...(env.platform.alerting.heartbeat ? [env.platform.alerting.heartbeat.secret.remoteKey] : []),
        ]),
      },
      mlflowServer: {
        purpose: "reads and writes run artifacts and models in the artifacts bucket",
        statements: bucketAccessStatements(keyed, [readWrite(artifacts)]),
      },
      pipelineRunner: {
        purpose: "pipeline steps read and write the artifacts and data buckets",
        statements: bucketAccessStatements(keyed, [readWrite(artifacts), readWrite(data)]),
      },
      modelServing: {
        purpose:
          "the serving Deployment reads models from the artifacts bucket and writes its predictions under predictions/ of the data bucket",
        statements: bucketAccessStatements(keyed, [read(artifacts)], [predictionLogs]),
      },
      kservePredictor: {
        purpose:
          "KServe's storage initializer reads models from the artifacts bucket; its logger writes predictions under predictions/ of the data bucket",
        statements: bucketAccessStatements(keyed, [read(artifacts)], [predictionLogs]),
      },
      modelTraining: {
        purpose: "the monthly retraining job reads datasets and writes models to the artifacts bucket",
        statements: bucketAccessStatements(keyed, [readWrite(artifacts), read(data)]),
      },
      batchInference: {
        purpose: "the nightly batch-inference job reads models and writes predictions to the data bucket",
        statements: bucketAccessStatements(keyed, [read(artifacts), readWrite(data)]),
      },
      modelMonitoring: {
        purpose:
          "the models' monitoring jobs list and read their logged predictions, reference data sets and ground truth, nothing else",
        statements: prefixReadStatements(keyed, [
          {
            sid: "ListPredictionsAndGroundTruth",
            bucketArn: data,
            prefixes: monitored.length
              ? monitored.flatMap((entry) => [
                  `${PREDICTION_LOG_PREFIX}${entry.model}/`,
                  ...(entry.groundTruth !== undefined ? [entry.groundTruth] : []),
                ])
              : [PREDICTION_LOG_PREFIX],
          },
          {
            sid: "ListReferenceData",
            bucketArn: artifacts,
            prefixes: monitored.flatMap((entry) =>
              entry.referenceData !== undefined ? [entry.referenceData] : [],
            ),
          },
        ]),
      },
    };
    const identities = {} as Record<PlatformServiceAccount, WorkloadIdentity>;
    for (const [key, grant] of Object.entries(grants) as [
      PlatformServiceAccount,
      (typeof grants)[PlatformServiceAccount],
    ][]) {
      const ref = PLATFORM_SERVICE_ACCOUNTS[key];
      // Construct ids are part of the state: `<Account>Identity`, e.g. MlflowServerIdentity.
      identities[key] = new WorkloadIdentity(this, `${key[0].toUpperCase()}${key.slice(1)}Identity`, {
        roleName: `${prefix}-${ref.name}`,
        cluster: this.cluster,
        namespace: ref.namespace,
        serviceAccount: ref.name,
        purpose: grant.purpose,
        statements: grant.statements,
      });
    }
    this.identities = identities;

    if (consumers.length > 0) {
      const replicated = consumers.filter((consumer) => consumer.replicateImages);
      if (replicated.length > 0) {
        this.imageReplication = new EcrReplicationConfiguration(this, "ImageReplication", {
          replicationConfiguration: {
            rule: [
              {
                destination: replicated.map((consumer) => ({
                  region: consumer.region,
                  registryId: consumer.accountId,
                })),
                repositoryFilter: [env.registry.servingRepository, env.registry.trainingRepository].map(
                  (filter) => ({ filter, filterType: "PREFIX_MATCH" }),
                ),
              },
            ],
          },
        });
      }
      this.modelReplication = this.replicateModels(account, consumers);
    }
    if (producer?.replicateImages) {
      this.imageReplicationPolicy = new EcrRegistryPolicy(this, "ImageReplicationPolicy", {
        policy: policyDocument(this, "ImageReplicationPolicyDocument", [
          {
            sid: "ProducerReplicatesReleaseImages",
            actions: ["ecr:ReplicateImage"],
            resources: [this.servingRepository.arn, this.trainingRepository.arn],
            principals: [
              { type: "AWS", identifiers: [`arn:${account.partition}:iam::${producer.accountId}:root`] },
            ],
          },
        ]).json,
      });
    }

    // Every role here carries the account's permissions boundary (created by its bootstrap):
    // the deploy role may create and change only roles that do.
    const boundary = permissionsBoundaryArn(account.partition, account.accountId);
    Aspects.of(this).add({
      visit: (node) => {
        if (node instanceof IamRole) node.permissionsBoundary = boundary;
      },
    });

    this.addOutputs();
  }

  /**
   * S3 replication of the model artifacts (MLflow's prefix) into every consumer's artifacts
   * bucket, encrypted there with the consumer's key, owned by the consumer's account.
   */
  private replicateModels(
    account: AwsAccount,
    consumers: NonNullable<FoundationStackProps["promotion"]>["consumers"],
  ): S3BucketReplicationConfigurationA {
    const env = this.environment;
    const { partition } = account;
    const destinations = consumers.map((consumer) => ({
      consumer,
      bucketArn: `arn:${partition}:s3:::${consumer.artifactsBucket}`,
      keysArn: `arn:${partition}:kms:${consumer.region}:${consumer.accountId}:key/*`,
      keyAliasArn: `arn:${partition}:kms:${consumer.region}:${consumer.accountId}:alias/${platformKeyAlias(consumer.environment)}`,
      region: consumer.region,
    }));
    const statements = modelReplicationStatements({
      sourceBucketArn: this.artifactsBucket.arn,
      sourceKeyArn: this.key.arn,
      sourceRegion: env.aws.region,
      prefix: MODEL_ARTIFACT_PREFIX,
      destinations,
    });
    assertExplicitActions("model replication role", statements);
    const role = new IamRole(this, "ModelReplicationRole", {
      name: modelReplicationRoleName(env.name),
      description: `S3 replicates ${env.name}'s model artifacts to ${consumers.map((c) => c.environment).join(", ")}`,
      assumeRolePolicy: policyDocument(this, "ModelReplicationTrust", [
        {
          sid: "S3AssumesRoleForThisAccount",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["s3.amazonaws.com"] }],
          conditions: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [account.accountId] }],
        },
      ]).json,
    });
    new IamRolePolicy(this, "ModelReplicationPermissions", {
      name: "permissions",
      role: role.name,
      policy: policyDocument(this, "ModelReplicationPermissionsDocument", statements).json,
    });
    return new S3BucketReplicationConfigurationA(this, "ModelReplication", {
      bucket: this.artifactsBucket.bucket.id,
      role: role.arn,
      rule: destinations.map((destination, index) => ({
        id: `models-to-${destination.consumer.environment}`,
        priority: index + 1,
        status: "Enabled",
        filter: { prefix: MODEL_ARTIFACT_PREFIX },
        deleteMarkerReplication: { status: "Disabled" },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
        destination: {
          bucket: destination.bucketArn,
          account: destination.consumer.accountId,
          accessControlTranslation: { owner: "Destination" },
          encryptionConfiguration: { replicaKmsKeyId: destination.keyAliasArn },
        },
      })),
      dependsOn: [this.artifactsBucket.versioning],
    });
  }

  private addOutputs(): void {
    const outputs: Record<string, { value: string; description: string; sensitive?: boolean }> = {
      region: { value: this.environment.aws.region, description: "AWS region of the environment" },
      vpc_id: {
        value: this.network.vpc.id,
        description: "VPC of the cluster (for the load balancer controller)",
      },
      cluster_name: { value: this.cluster.name, description: "EKS cluster name" },
      cluster_endpoint: { value: this.cluster.endpoint, description: "Kubernetes API endpoint" },
      cluster_certificate_authority: {
        value: this.cluster.certificateAuthorityData,
        description: "Base64 CA bundle of the Kubernetes API",
      },
      cluster_oidc_issuer_url: { value: this.cluster.oidcIssuerUrl, description: "OIDC issuer for IRSA" },
      database_address: {
        value: this.database.address,
        description: "PostgreSQL host of the MLflow backend store",
      },
      database_port: { value: String(this.database.port), description: "PostgreSQL port" },
      database_name: { value: this.database.databaseName, description: "MLflow database" },
      database_secret_arn: {
        value: this.database.masterUserSecretArn,
        description: "Secrets Manager secret with the database credentials (the ARN, not the secret)",
      },
      artifacts_bucket: {
        value: this.artifactsBucket.bucketName,
        description: "MLflow and pipeline artifacts",
      },
      data_bucket: { value: this.dataBucket.bucketName, description: "Datasets and the DVC remote" },
      serving_repository_url: {
        value: this.servingRepository.repositoryUrl,
        description: "ECR repository of serving images",
      },
      training_repository_url: {
        value: this.trainingRepository.repositoryUrl,
        description: "ECR repository of training images",
      },
    };
    for (const [name, identity] of Object.entries(this.identities)) {
      outputs[`${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}_role_arn`] = {
        value: identity.roleArn,
        description: `IRSA role of ${identity.namespace}/${identity.serviceAccount}`,
      };
    }
    for (const [name, spec] of Object.entries(outputs)) {
      new TerraformOutput(this, name, spec);
    }
  }
}
