import { Construct } from "constructs";
import { TerraformOutput, TerraformStack } from "cdktf";
import { AwsAccount } from "../constructs/aws/account";
import { EncryptionKey } from "../constructs/aws/encryption-key";
import { Network } from "../constructs/aws/network";
import { KubernetesCluster } from "../constructs/aws/kubernetes-cluster";
import { NodeGroup, type NodeTaint } from "../constructs/aws/node-group";
import { PostgresDatabase } from "../constructs/aws/postgres-database";
import { SecureBucket } from "../constructs/aws/secure-bucket";
import { ContainerRegistry } from "../constructs/aws/container-registry";
import { WorkloadIdentity } from "../constructs/aws/workload-identity";
import type { PolicyStatement } from "../constructs/aws/policy";
import {
  bucketAccessStatements,
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

export interface FoundationStackProps {
  readonly environment: Environment;
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

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id);
    const env = props.environment;
    this.environment = env;
    const prefix = `mlops-${env.name}`;
    const retain = env.protection === "protected";

    configureStateBackend(this, id, env);
    configureAwsProvider(this, env);
    const account = new AwsAccount(this, "Account", env.aws.region);

    this.key = new EncryptionKey(this, "PlatformKey", {
      alias: prefix,
      account,
      description: `Encrypts the ${env.name} MLOps platform: EKS secrets, S3, RDS, ECR, logs`,
      deletionWindowDays: retain ? 30 : 7,
      preventDestroy: retain,
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
      retainOnDelete: retain,
    });

    const bucket = (id: string, bucketName: string) =>
      new SecureBucket(this, id, {
        bucketName,
        key: this.key,
        noncurrentVersionExpirationDays: env.storage.noncurrentVersionExpirationDays,
        retainOnDelete: retain,
      });
    this.artifactsBucket = bucket("ArtifactsBucket", env.storage.artifactsBucket);
    this.dataBucket = bucket("DataBucket", env.storage.dataBucket);

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
        statements: secretReaderStatements(
          keyed,
          this.database.masterUserSecretArn,
          env.platform.alerting.receivers.map((receiver) => receiver.secret.remoteKey),
        ),
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
        purpose: "the serving Deployment reads models from the artifacts bucket",
        statements: bucketAccessStatements(keyed, [read(artifacts)]),
      },
      kservePredictor: {
        purpose: "KServe's storage initializer reads models from the artifacts bucket",
        statements: bucketAccessStatements(keyed, [read(artifacts)]),
      },
      modelTraining: {
        purpose: "the monthly retraining job reads datasets and writes models to the artifacts bucket",
        statements: bucketAccessStatements(keyed, [readWrite(artifacts), read(data)]),
      },
      batchInference: {
        purpose: "the nightly batch-inference job reads models and writes predictions to the data bucket",
        statements: bucketAccessStatements(keyed, [read(artifacts), readWrite(data)]),
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

    this.addOutputs();
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
