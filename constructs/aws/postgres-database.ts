import { Construct } from "constructs";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { EncryptionKey } from "./encryption-key";
import type { Network } from "./network";

export interface PostgresDatabaseProps {
  /** Instance identifier, e.g. `mlops-dev-mlflow`. */
  readonly identifier: string;
  readonly network: Network;
  /** Security group of the clients admitted on 5432 (the cluster's). */
  readonly clientSecurityGroupId: string;
  readonly key: EncryptionKey;
  /** PostgreSQL major version, e.g. `17`. */
  readonly majorVersion: string;
  readonly instanceClass: string;
  readonly allocatedStorageGib: number;
  /** Storage autoscaling ceiling. @default 5 x allocatedStorageGib */
  readonly maxAllocatedStorageGib?: number;
  /** @default "mlflow" */
  readonly databaseName?: string;
  /** @default "mlflow_admin" */
  readonly masterUsername?: string;
  readonly multiAz: boolean;
  readonly backupRetentionDays: number;
  readonly deletionProtection: boolean;
  /** @default false */
  readonly performanceInsights?: boolean;
  /** Days the exported logs are kept. */
  readonly logRetentionDays: number;
  /**
   * The instance exported its logs before the foundation created their log groups, so RDS
   * created them: adopt them with Terraform `import` blocks instead of creating them (creating
   * fails with ResourceAlreadyExistsException). An import block whose log group does not exist
   * fails the plan, so a first deploy leaves this unset.
   * @default false
   */
  readonly importExistingLogGroups?: boolean;
  /**
   * Keep the data when the stack goes: final snapshot on delete and `prevent_destroy`.
   * @default true
   */
  readonly retainOnDelete?: boolean;
}

/**
 * RDS PostgreSQL for the MLflow backend store: private, encrypted with the platform key,
 * SSL forced, the master password generated and rotated by RDS in Secrets Manager (it never
 * passes through Terraform), reachable on 5432 from the cluster only. The log groups it exports
 * into are created first, encrypted with the platform key and expiring: RDS would otherwise
 * create them itself, unencrypted and kept forever.
 */
export class PostgresDatabase extends Construct {
  public readonly instance: DbInstance;
  public readonly address: string;
  public readonly port: number;
  public readonly databaseName: string;
  /** Secrets Manager secret holding the master user's credentials (JSON: username, password). */
  public readonly masterUserSecretArn: string;
  public readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: PostgresDatabaseProps) {
    super(scope, id);
    const where = `PostgresDatabase ${props.identifier}`;
    if (!/^\d{2}$/.test(props.majorVersion)) {
      throw new Error(
        `${where}: majorVersion "${props.majorVersion}" must be a PostgreSQL major version such as "17"`,
      );
    }
    const maxStorage = props.maxAllocatedStorageGib ?? props.allocatedStorageGib * 5;
    if (maxStorage < props.allocatedStorageGib) {
      throw new Error(
        `${where}: maxAllocatedStorageGib (${maxStorage}) must be >= allocatedStorageGib (${props.allocatedStorageGib})`,
      );
    }
    if (
      !Number.isInteger(props.backupRetentionDays) ||
      props.backupRetentionDays < 0 ||
      props.backupRetentionDays > 35
    ) {
      throw new Error(
        `${where}: backupRetentionDays (${props.backupRetentionDays}) must be a whole number from 0 to 35`,
      );
    }
    const retain = props.retainOnDelete ?? true;
    this.port = 5432;
    this.databaseName = props.databaseName ?? "mlflow";

    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      name: `${props.identifier}-postgres`,
      description: `PostgreSQL ${props.identifier}: 5432 from the cluster only`,
      vpcId: props.network.vpc.id,
      tags: { Name: `${props.identifier}-postgres` },
    });
    new VpcSecurityGroupIngressRule(this, "FromCluster", {
      securityGroupId: this.securityGroup.id,
      referencedSecurityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: this.port,
      toPort: this.port,
      description: "PostgreSQL from the EKS cluster",
    });

    const subnetGroup = new DbSubnetGroup(this, "SubnetGroup", {
      name: props.identifier,
      description: `Private subnets of ${props.identifier}`,
      subnetIds: props.network.privateSubnets.map((subnet) => subnet.id),
    });

    const parameters = new DbParameterGroup(this, "Parameters", {
      namePrefix: `${props.identifier}-pg${props.majorVersion}-`,
      family: `postgres${props.majorVersion}`,
      description: `PostgreSQL ${props.majorVersion} for ${props.identifier}: TLS only`,
      parameter: [
        { name: "rds.force_ssl", value: "1", applyMethod: "pending-reboot" },
        { name: "log_min_duration_statement", value: "1000" },
      ],
      lifecycle: { createBeforeDestroy: true },
    });

    /** Log types RDS exports to CloudWatch Logs, each into `/aws/rds/instance/<id>/<type>`. */
    const exported = ["postgresql", "upgrade"];
    const logGroups = exported.map((type) => {
      const name = `/aws/rds/instance/${props.identifier}/${type}`;
      const group = new CloudwatchLogGroup(this, `Logs-${type}`, {
        name,
        retentionInDays: props.logRetentionDays,
        kmsKeyId: props.key.arn,
      });
      // The provider imports a log group by its name.
      if (props.importExistingLogGroups) group.importFrom(name);
      return group;
    });

    this.instance = new DbInstance(this, "Instance", {
      identifier: props.identifier,
      engine: "postgres",
      engineVersion: props.majorVersion,
      autoMinorVersionUpgrade: true,
      instanceClass: props.instanceClass,
      dbName: this.databaseName,
      username: props.masterUsername ?? "mlflow_admin",
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: props.key.arn,
      port: this.port,
      allocatedStorage: props.allocatedStorageGib,
      maxAllocatedStorage: maxStorage,
      storageType: "gp3",
      storageEncrypted: true,
      kmsKeyId: props.key.arn,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: [this.securityGroup.id],
      parameterGroupName: parameters.name,
      publiclyAccessible: false,
      multiAz: props.multiAz,
      backupRetentionPeriod: props.backupRetentionDays,
      backupWindow: "02:00-03:00",
      maintenanceWindow: "sun:03:30-sun:04:30",
      copyTagsToSnapshot: true,
      deletionProtection: props.deletionProtection,
      skipFinalSnapshot: !retain,
      finalSnapshotIdentifier: retain ? `${props.identifier}-final` : undefined,
      performanceInsightsEnabled: props.performanceInsights ?? false,
      performanceInsightsKmsKeyId: props.performanceInsights ? props.key.arn : undefined,
      performanceInsightsRetentionPeriod: props.performanceInsights ? 7 : undefined,
      enabledCloudwatchLogsExports: exported,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      applyImmediately: false,
      lifecycle: { preventDestroy: retain },
      dependsOn: logGroups,
    });
    this.address = this.instance.address;
    this.masterUserSecretArn = this.instance.masterUserSecret.get(0).secretArn;
  }
}
