/**
 * PostgreSQL for MLflow on clusters without a managed database: the CloudNativePG operator
 * (chart `cloudnative-pg`) and one CloudNativePG `Cluster` (chart `cluster`, catalog key
 * `postgres-cluster`) in MLflow's namespace, backed up to the S3-compatible object store.
 */
import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { ChartCatalog } from "./chart-catalog";
import type { GeneratedCredential } from "./platform-secrets";
import type { PlatformRelease } from "./helm-release";
import type { ContainerResources } from "../lib/workload-defaults";
import type { HelmValues } from "../lib/values";
import { PLATFORM_ALERT_LABELS, type AlertRule } from "./observability";

/** PostgreSQL major version of the MLflow database. Changing it is a major upgrade. */
export const POSTGRES_MAJOR = 17;
/**
 * Operator versions of the `cloudnative-pg` chart versions the platform has been checked with.
 * Every one still runs the in-tree Barman Cloud backups (`backup.barmanObjectStore`), which
 * CloudNativePG 1.31.0 removes: a chart whose operator is 1.31 or later needs
 * `BARMAN_PLUGIN_MIGRATION` first.
 */
export const CNPG_OPERATOR_OF_CHART: Readonly<Record<string, string>> = { "0.29.0": "1.30.0" };

/** What an operator bump to CloudNativePG 1.31 or later needs before it is pinned. */
export const BARMAN_PLUGIN_MIGRATION =
  "CloudNativePG 1.31 removes the in-tree Barman Cloud backups this platform configures " +
  "(Cluster spec.backup.barmanObjectStore, ScheduledBackup method barmanObjectStore). Before pinning a " +
  "cloudnative-pg chart whose operator is 1.31 or later: install the Barman Cloud plugin (chart " +
  "plugin-barman-cloud from https://cloudnative-pg.github.io/charts, which needs cert-manager) in the " +
  "operator's namespace, with its network flows; switch MlflowPostgres to the plugin (chart cluster: " +
  "backups.method plugin and pluginConfiguration.name barman-cloud.cloudnative-pg.io, which render an " +
  "ObjectStore barmancloud.cnpg.io/v1 and spec.plugins [{name: barman-cloud.cloudnative-pg.io, " +
  "isWALArchiver: true, parameters.barmanObjectName}], and scheduledBackups[].method plugin); move the " +
  "backup credentials and CA to the ObjectStore; check the backup alerts against the metrics the plugin " +
  "exports (cnpg_collector_*_backup_timestamp are deprecated in 1.30); then add the chart's version to " +
  "CNPG_OPERATOR_OF_CHART in constructs/platform/postgres-cluster.ts";

/** Port of the `-rw`, `-ro` and `-r` Services and of the instances. */
export const POSTGRES_PORT = 5432;
/** Port of an instance's status endpoint, which the operator calls. */
export const CNPG_INSTANCE_STATUS_PORT = 8000;
/** Port of an instance's metrics exporter (the PodMonitor's `metrics` port). */
export const CNPG_INSTANCE_METRICS_PORT = 9187;
/** Port of the operator's admission webhook, called by the API server. */
export const CNPG_WEBHOOK_PORT = 9443;
/** Port of the operator's own metrics. */
export const CNPG_OPERATOR_METRICS_PORT = 8080;
/** MLflow's tracking database, created by `initdb` and owned by `MLFLOW_DATABASE_OWNER`. */
export const MLFLOW_TRACKING_DATABASE = "mlflow";
/** MLflow's basic-auth database, created by a `Database` resource. */
export const MLFLOW_AUTH_DATABASE_NAME = "mlflow_auth";
/** Role that owns both databases; the credentials Secret's `username` must be this. */
export const MLFLOW_DATABASE_OWNER = "mlflow";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^([0-9]+(\.[0-9]+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const SIZE = /^[1-9][0-9]*(Mi|Gi|Ti)$/;

function fail(owner: string, field: string, value: unknown, allowed: string, fix: string): never {
  throw new Error(`${owner}: ${field} is ${JSON.stringify(value)}; allowed: ${allowed}; fix: ${fix}`);
}

function requireName(owner: string, field: string, value: string, maxLength = 63): void {
  if (!DNS_LABEL.test(value) || value.length > maxLength)
    fail(
      owner,
      field,
      value,
      `a DNS label of at most ${maxLength} characters (lowercase letters, digits, '-')`,
      `rename it`,
    );
}

function requireSecretName(owner: string, field: string, value: string): void {
  if (!DNS_SUBDOMAIN.test(value) || value.length > 253)
    fail(
      owner,
      field,
      value,
      "the name of a Secret (a lowercase DNS subdomain)",
      "give the Secret's name, not its content",
    );
}

function requireResources(owner: string, field: string, resources: ContainerResources): void {
  for (const kind of ["requests", "limits"] as const) {
    for (const name of ["cpu", "memory"] as const) {
      const value = resources[kind][name];
      if (!QUANTITY.test(value))
        fail(
          owner,
          `${field}.${kind}.${name}`,
          value,
          "a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi",
          "set a quantity",
        );
    }
  }
}

export interface PostgresOperatorProps {
  readonly charts: ChartCatalog;
  /** The operator's own namespace, e.g. `cnpg-system` (Pod Security `restricted`), created by the caller. */
  readonly namespace: string;
  /** Two operator replicas on different nodes (leader election is always on). */
  readonly highAvailability: boolean;
  readonly resources: ContainerResources;
  /** A PodMonitor for the operator's metrics; needs the prometheus-operator CRDs first. */
  readonly monitoring: boolean;
  /** The namespace and the monitoring CRDs when `monitoring` is set. */
  readonly dependsOn?: ITerraformDependable[];
}

/** Labels of the operator's pod (chart `cloudnative-pg` 0.29.0, `cloudnative-pg.selectorLabels`). */
export const CNPG_OPERATOR_POD_LABELS = {
  "app.kubernetes.io/name": "cloudnative-pg",
  "app.kubernetes.io/instance": "cloudnative-pg",
} as const;

/**
 * The CloudNativePG operator, cluster-wide, with its CRDs and admission webhooks. Its pod runs
 * as non-root with a read-only root, no capabilities and the runtime's seccomp profile (the
 * chart's defaults), so its namespace can enforce `restricted`.
 */
export class PostgresOperator extends Construct {
  public readonly release: PlatformRelease;
  public readonly namespace: string;

  constructor(scope: Construct, id: string, props: PostgresOperatorProps) {
    super(scope, id);
    const owner = "PostgresOperator";
    requireName(owner, "namespace", props.namespace);
    requireResources(owner, "resources", props.resources);
    this.namespace = props.namespace;
    const replicas = props.highAvailability ? 2 : 1;
    this.release = props.charts.install(this, "Operator", {
      chart: "cloudnative-pg",
      name: "cloudnative-pg",
      namespace: props.namespace,
      computedValues: {
        replicaCount: replicas,
        crds: { create: true },
        config: { clusterWide: true },
        resources: props.resources,
        ...(props.highAvailability
          ? {
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    {
                      topologyKey: "kubernetes.io/hostname",
                      labelSelector: { matchLabels: CNPG_OPERATOR_POD_LABELS },
                    },
                  ],
                },
              },
            }
          : {}),
        monitoring: { podMonitorEnabled: props.monitoring },
      },
      dependsOn: props.dependsOn,
    });
  }
}

/** Where the backups go: the S3-compatible object store. */
export interface PostgresBackupProps {
  /** `https://` URL of the S3 endpoint (appliance or Ceph RGW). */
  readonly endpointURL: string;
  readonly region: string;
  /** Bucket; it must exist (Barman Cloud 3.16+ does not create it on the first backup). */
  readonly bucket: string;
  /** Prefix inside the bucket, starting and ending with `/`, e.g. `/postgres/`. */
  readonly path: string;
  /**
   * The existing Secret with the store's keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`
   * (the platform's object-store convention). It is copied, renamed to the keys CloudNativePG's
   * chart reads, into `<cluster>-backup-s3-creds` in the database's namespace.
   */
  readonly credentialsSecret: { readonly namespace: string; readonly name: string };
  /** Existing Secret (database namespace) with the CA bundle of the endpoint's certificate. */
  readonly caSecret?: { readonly name: string; readonly key: string };
  /** How long base backups and WAL are kept, e.g. `30d` (`<n>d`, `<n>w` or `<n>m`). */
  readonly retentionPolicy: string;
  /** Six-field cron (seconds first) of the daily base backup, e.g. `0 0 2 * * *`. */
  readonly schedule: string;
  /** Ask the store for server-side encryption (`AES256`); only where the store supports SSE-S3. */
  readonly serverSideEncryption: boolean;
}

export interface MlflowPostgresProps {
  readonly charts: ChartCatalog;
  readonly operator: PostgresOperator;
  /** MLflow's namespace (Pod Security `restricted`); the Cluster lives beside MLflow. */
  readonly namespace: string;
  /** Name of the Cluster (and of its Services `<name>-rw`, `-ro`, `-r`). @default "mlflow-postgres" */
  readonly name?: string;
  /** PostgreSQL instances: 1 (test) or 3 (prod), each on its own node. */
  readonly instances: number;
  /**
   * Operand image with Barman Cloud (`-system-` images), PostgreSQL 17, pinned:
   * `ghcr.io/cloudnative-pg/postgresql:17.<minor>-system-<distribution>`.
   */
  readonly image: string;
  readonly storage: { readonly storageClass: string; readonly size: string };
  readonly resources: ContainerResources;
  /**
   * The generated Secret of the database owner (`username` = `mlflow`, `password`): `initdb`
   * creates the role with it and MLflow connects with it.
   */
  readonly credentials: GeneratedCredential;
  readonly backup: PostgresBackupProps;
  /**
   * PodMonitor and PrometheusRule of the Cluster (the chart's rules less those that cannot be
   * true here, see `excludedChartAlerts`) and the archiving and backup alerts
   * (`postgresBackupAlerts`); need the prometheus-operator CRDs first.
   */
  readonly monitoring: boolean;
  /**
   * More databases owned by the same role, each a `Database` resource like the auth database
   * (e.g. the directory login's users database of MLflow). @default none
   */
  readonly extraDatabases?: readonly string[];
  /**
   * What must exist first: the namespace, the generated credentials (External Secrets), the
   * monitoring CRDs when `monitoring` is set.
   */
  readonly dependsOn?: ITerraformDependable[];
}

/** A network flow of the database, for the NetworkPolicies of its namespaces. */
export interface DatabaseFlow {
  /** Namespace of the pods the policy selects. */
  readonly namespace: string;
  readonly direction: "ingress" | "egress";
  readonly podLabels: Readonly<Record<string, string>>;
  readonly peer:
    | {
        readonly kind: "pods";
        readonly namespace: string;
        readonly podLabels: Readonly<Record<string, string>>;
      }
    | { readonly kind: "api-server" }
    | { readonly kind: "object-store"; readonly host: string }
    | { readonly kind: "prometheus" };
  readonly port: number;
  readonly reason: string;
}

const ESO_API = "external-secrets.io/v1";
const IMAGE =
  /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+:17(\.[0-9]+)?-system-[a-z0-9]+(@sha256:[a-f0-9]{64})?$/;
const CRON6 = /^(\S+\s+){5}\S+$/;

/**
 * MLflow's PostgreSQL: a CloudNativePG Cluster of `instances` PostgreSQL 17 instances spread
 * over nodes, the tracking database `mlflow` created by `initdb` with the generated owner
 * credentials, the auth database `mlflow_auth` as a `Database` resource, metrics for
 * Prometheus, and continuous WAL archiving plus a daily base backup to the object store.
 *
 * Backups use the operator's in-tree `barmanObjectStore`, deprecated since CloudNativePG 1.26
 * and removed in 1.31.0; 1.30 still runs it without further components. Moving to the Barman
 * Cloud plugin (an extra operator, cert-manager certificates, an `ObjectStore` resource) is due
 * before upgrading the operator to 1.31.
 */
export class MlflowPostgres extends Construct {
  public readonly release: PlatformRelease;
  /** The release copying the object store's keys for Barman Cloud. */
  public readonly backupCredentials: PlatformRelease;
  /** The WAL archiving and backup alerts (a PrometheusRule), when `monitoring` is set. */
  public readonly alerts?: PlatformRelease;
  public readonly clusterName: string;
  /** Read-write Service: `<cluster>-rw.<namespace>.svc`. */
  public readonly host: string;
  public readonly port = POSTGRES_PORT;
  public readonly databases = {
    tracking: MLFLOW_TRACKING_DATABASE,
    auth: MLFLOW_AUTH_DATABASE_NAME,
  } as const;
  /** The Secret MLflow reads (`username`, `password`). */
  public readonly credentialsSecret: string;
  /** Labels of the instance pods (for NetworkPolicies). */
  public readonly podLabels: Record<string, string>;
  /** The Secret Barman Cloud reads (`ACCESS_KEY_ID`, `ACCESS_SECRET_KEY`). */
  public readonly backupSecretName: string;
  public readonly namespace: string;
  private readonly operatorNamespace: string;
  private readonly backupEndpoint: string;

  constructor(scope: Construct, id: string, props: MlflowPostgresProps) {
    super(scope, id);
    const owner = "MlflowPostgres";
    const name = props.name ?? "mlflow-postgres";
    // The operator derives names such as `<name>-superuser` and `<name>-1` from it.
    requireName(owner, "name", name, 50);
    requireName(owner, "namespace", props.namespace);
    if (!Number.isInteger(props.instances) || props.instances < 1 || props.instances > 9)
      fail(
        owner,
        "instances",
        props.instances,
        "a whole number from 1 to 9 (1 in test, 3 in prod)",
        "set instances to 1 or 3",
      );
    if (!IMAGE.test(props.image))
      fail(
        owner,
        "image",
        props.image,
        `a pinned PostgreSQL ${POSTGRES_MAJOR} image with Barman Cloud, <registry>/<path>:${POSTGRES_MAJOR}.<minor>-system-<distribution>[@sha256:<digest>]`,
        `use e.g. ghcr.io/cloudnative-pg/postgresql:${POSTGRES_MAJOR}.6-system-trixie; -standard- and -minimal- images lack barman-cloud, which the in-tree backup runs`,
      );
    if (!DNS_SUBDOMAIN.test(props.storage.storageClass))
      fail(
        owner,
        "storage.storageClass",
        props.storage.storageClass,
        "the name of a StorageClass",
        "name the cluster's storage class",
      );
    if (!SIZE.test(props.storage.size))
      fail(owner, "storage.size", props.storage.size, "a size in Mi, Gi or Ti such as 20Gi", "set a size");
    requireResources(owner, "resources", props.resources);
    (props.extraDatabases ?? []).forEach((database, index) => {
      if (
        !/^[a-z_][a-z0-9_]{0,62}$/.test(database) ||
        [MLFLOW_TRACKING_DATABASE, MLFLOW_AUTH_DATABASE_NAME].includes(database)
      )
        fail(
          owner,
          `extraDatabases[${index}]`,
          database,
          `a PostgreSQL database name of lowercase letters, digits and '_', other than ${MLFLOW_TRACKING_DATABASE} and ${MLFLOW_AUTH_DATABASE_NAME}`,
          'name it e.g. "mlflow_oidc_auth"',
        );
    });
    this.validateCredentials(owner, props);
    const backup = props.backup;
    this.validateBackup(owner, backup);

    this.clusterName = name;
    this.namespace = props.namespace;
    this.operatorNamespace = props.operator.namespace;
    this.backupEndpoint = backup.endpointURL;
    this.host = `${name}-rw.${props.namespace}.svc`;
    this.credentialsSecret = props.credentials.secretName;
    this.podLabels = { "cnpg.io/cluster": name, "cnpg.io/podRole": "instance" };
    this.backupSecretName = `${name}-backup-s3-creds`;

    this.backupCredentials = props.charts.install(this, "BackupCredentials", {
      chart: "platform-resources",
      name: `${name}-backup-credentials`,
      namespace: props.namespace,
      computedValues: {
        resources: backupCredentialCopy(props.namespace, this.backupSecretName, backup.credentialsSecret),
      },
      dependsOn: props.dependsOn,
    });

    this.release = props.charts.install(this, "Cluster", {
      chart: "postgres-cluster",
      name,
      namespace: props.namespace,
      computedValues: mlflowPostgresValues(props, name, this.backupSecretName),
      dependsOn: [props.operator.release.release, this.backupCredentials.release, ...(props.dependsOn ?? [])],
    });

    if (props.monitoring) {
      this.alerts = props.charts.install(this, "Alerts", {
        chart: "platform-resources",
        name: `${name}-alerts`,
        namespace: props.namespace,
        computedValues: {
          resources: [
            {
              apiVersion: "monitoring.coreos.com/v1",
              kind: "PrometheusRule",
              metadata: { name: `${name}-backup-alerts`, namespace: props.namespace },
              spec: { groups: [postgresBackupRuleGroup(props.namespace, name)] },
            },
          ],
        },
        dependsOn: props.dependsOn,
      });
    }
  }

  /**
   * The traffic of the database and its operator (CloudNativePG 1.30.0 docs, security.md
   * "Exposed Ports" and networking.md): `clients` are the pods that connect (MLflow).
   * Egress to the API server is listed at its port after DNAT; the policy engine decides
   * whether the Service address must be allowed too.
   */
  public flows(
    clients: { readonly namespace: string; readonly podLabels: Readonly<Record<string, string>> },
    /** The API server's port after DNAT (the target's `apiServer.port`), e.g. 6443. */
    apiServerPort: number,
  ): DatabaseFlow[] {
    const namespace = this.namespace;
    const instances = this.podLabels;
    const operator = {
      kind: "pods" as const,
      namespace: this.operatorNamespace,
      podLabels: CNPG_OPERATOR_POD_LABELS,
    };
    const self = { kind: "pods" as const, namespace, podLabels: instances };
    const endpoint = new URL(this.backupEndpoint);
    const storePort = endpoint.port === "" ? 443 : Number(endpoint.port);
    const inbound = (peer: DatabaseFlow["peer"], port: number, reason: string): DatabaseFlow => ({
      namespace,
      direction: "ingress",
      podLabels: instances,
      peer,
      port,
      reason,
    });
    const outbound = (peer: DatabaseFlow["peer"], port: number, reason: string): DatabaseFlow => ({
      namespace,
      direction: "egress",
      podLabels: instances,
      peer,
      port,
      reason,
    });
    return [
      inbound({ kind: "pods", ...clients }, POSTGRES_PORT, "clients connect to the -rw Service"),
      {
        namespace: clients.namespace,
        direction: "egress",
        podLabels: clients.podLabels,
        peer: self,
        port: POSTGRES_PORT,
        reason: "clients connect to the -rw Service",
      },
      inbound(operator, CNPG_INSTANCE_STATUS_PORT, "the operator reads each instance's status"),
      inbound(operator, POSTGRES_PORT, "the operator connects to PostgreSQL"),
      inbound(self, POSTGRES_PORT, "replicas stream WAL from the primary"),
      inbound(self, CNPG_INSTANCE_STATUS_PORT, "instances call each other's status endpoint"),
      outbound(self, POSTGRES_PORT, "replicas stream WAL from the primary"),
      outbound(self, CNPG_INSTANCE_STATUS_PORT, "instances call each other's status endpoint"),
      inbound(
        { kind: "prometheus" },
        CNPG_INSTANCE_METRICS_PORT,
        "Prometheus scrapes the instances (PodMonitor)",
      ),
      outbound(
        { kind: "api-server" },
        apiServerPort,
        "the instance manager watches its Cluster and reads its Secrets",
      ),
      outbound(
        { kind: "object-store", host: endpoint.hostname },
        storePort,
        "Barman Cloud archives WAL and base backups",
      ),
      {
        namespace: this.operatorNamespace,
        direction: "egress",
        podLabels: CNPG_OPERATOR_POD_LABELS,
        peer: self,
        port: CNPG_INSTANCE_STATUS_PORT,
        reason: "the operator reads each instance's status",
      },
      {
        namespace: this.operatorNamespace,
        direction: "egress",
        podLabels: CNPG_OPERATOR_POD_LABELS,
        peer: self,
        port: POSTGRES_PORT,
        reason: "the operator connects to PostgreSQL",
      },
      {
        namespace: this.operatorNamespace,
        direction: "egress",
        podLabels: CNPG_OPERATOR_POD_LABELS,
        peer: { kind: "api-server" },
        port: apiServerPort,
        reason: "the operator reconciles its resources",
      },
      {
        namespace: this.operatorNamespace,
        direction: "ingress",
        podLabels: CNPG_OPERATOR_POD_LABELS,
        peer: { kind: "api-server" },
        port: CNPG_WEBHOOK_PORT,
        reason: "the API server calls the admission webhooks",
      },
      {
        namespace: this.operatorNamespace,
        direction: "ingress",
        podLabels: CNPG_OPERATOR_POD_LABELS,
        peer: { kind: "prometheus" },
        port: CNPG_OPERATOR_METRICS_PORT,
        reason: "Prometheus scrapes the operator (PodMonitor)",
      },
    ];
  }

  private validateCredentials(owner: string, props: MlflowPostgresProps): void {
    const credentials = props.credentials;
    requireSecretName(owner, "credentials.secretName", credentials.secretName);
    if (credentials.namespace !== props.namespace)
      fail(
        owner,
        "credentials.namespace",
        credentials.namespace,
        `"${props.namespace}" (the Cluster's namespace)`,
        "generate the Secret in the database's namespace",
      );
    if (credentials.userKey !== "username" || credentials.passwordKey !== "password")
      fail(
        owner,
        "credentials keys",
        `${credentials.userKey}/${credentials.passwordKey}`,
        "username/password (CloudNativePG reads the basic-auth keys)",
        "generate the Secret with userKey username and passwordKey password",
      );
    if (credentials.userName !== MLFLOW_DATABASE_OWNER)
      fail(
        owner,
        "credentials.userName",
        credentials.userName,
        `"${MLFLOW_DATABASE_OWNER}" (initdb's owner; CloudNativePG requires the Secret's username to match it)`,
        `generate the Secret with userName ${MLFLOW_DATABASE_OWNER}`,
      );
  }

  private validateBackup(owner: string, backup: PostgresBackupProps): void {
    let url: URL | undefined;
    try {
      url = new URL(backup.endpointURL);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== "https:" || url.pathname !== "/" || url.search !== "" || url.username !== "")
      fail(
        owner,
        "backup.endpointURL",
        backup.endpointURL,
        "an https:// URL of the S3 endpoint without a path, e.g. https://s3.example.com",
        "give the endpoint only; the bucket goes in backup.bucket",
      );
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(backup.region))
      fail(
        owner,
        "backup.region",
        backup.region,
        "a region name such as us-east-1 or default",
        "set the store's region",
      );
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(backup.bucket))
      fail(
        owner,
        "backup.bucket",
        backup.bucket,
        "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')",
        "name the bucket only, no s3:// or path",
      );
    if (!/^\/([a-z0-9._-]+\/)*$/.test(backup.path))
      fail(
        owner,
        "backup.path",
        backup.path,
        "a prefix starting and ending with '/', e.g. /postgres/",
        "set backup.path",
      );
    requireName(owner, "backup.credentialsSecret.namespace", backup.credentialsSecret.namespace);
    requireSecretName(owner, "backup.credentialsSecret.name", backup.credentialsSecret.name);
    if (backup.caSecret) {
      requireSecretName(owner, "backup.caSecret.name", backup.caSecret.name);
      if (!/^[-._a-zA-Z0-9]+$/.test(backup.caSecret.key))
        fail(
          owner,
          "backup.caSecret.key",
          backup.caSecret.key,
          "a Secret key such as ca.crt",
          "name the key holding the PEM bundle",
        );
    }
    if (!/^[1-9][0-9]*[dwm]$/.test(backup.retentionPolicy))
      fail(
        owner,
        "backup.retentionPolicy",
        backup.retentionPolicy,
        "<n>d, <n>w or <n>m, e.g. 30d",
        "set a retention such as 30d",
      );
    if (!CRON6.test(backup.schedule.trim()))
      fail(
        owner,
        "backup.schedule",
        backup.schedule,
        "a six-field cron with seconds first, e.g. 0 0 2 * * *",
        "prepend the seconds field",
      );
  }
}

/** An alert of the chart `cluster` the platform leaves out, and why it cannot be true there. */
export interface ExcludedAlert {
  readonly alert: string;
  readonly reason: string;
}

/**
 * The alerts of the chart `cluster` 0.8.1 (`prometheus_rules/`) that cannot be true for a
 * Cluster of `instances` instances on the platform's clusters, so would fire forever or never:
 * - CNPGClusterHACritical (`streaming replicas - wal receiver up < 1`) with one instance,
 *   which has no standby to stream to;
 * - CNPGClusterHAWarning (`< 2`) with fewer than three instances;
 * - CNPGClusterZoneSpreadWarning, which counts zones through `kube_node_labels`'
 *   `label_topology_kubernetes_io_zone`: kube-state-metrics exports no node label unless
 *   allow-listed (the platform allows none), so it sees one zone and fires whenever
 *   instances > 1; on-prem nodes carry no zone either;
 * - the six logical replication alerts: the Cluster has no subscriptions and the chart's
 *   logical replication queries are off (`instrumentation.logicalReplication: false`), so their
 *   metrics never exist.
 */
export function excludedChartAlerts(instances: number): ExcludedAlert[] {
  const logical = [
    "CNPGClusterLogicalReplicationErrors",
    "CNPGClusterLogicalReplicationErrorsCritical",
    "CNPGClusterLogicalReplicationLagging",
    "CNPGClusterLogicalReplicationLaggingCritical",
    "CNPGClusterLogicalReplicationStopped",
    "CNPGClusterLogicalReplicationStoppedCritical",
  ];
  return [
    ...(instances < 2
      ? [{ alert: "CNPGClusterHACritical", reason: "one instance has no standby replica" }]
      : []),
    ...(instances < 3
      ? [
          {
            alert: "CNPGClusterHAWarning",
            reason: `${instances} instance(s) never have two standby replicas`,
          },
        ]
      : []),
    {
      alert: "CNPGClusterZoneSpreadWarning",
      reason: "kube-state-metrics exports no zone label of the nodes (kube_node_labels)",
    },
    ...logical.map((alert) => ({
      alert,
      reason: "no logical replication: no subscriptions, and its metrics are not collected",
    })),
  ];
}

/** Hours a base backup may be old before it is overdue: the daily schedule plus time to finish. */
export const BACKUP_MAX_AGE_HOURS = 26;

/**
 * Alerts on what keeps the database recoverable, over the metrics CloudNativePG 1.30 exports
 * (pkg/management/postgres/webserver/metricserver/pg_collector.go; the `pg_stat_archiver` query
 * of config/manager/default-monitoring.yaml, collected on the primary only):
 * - WAL archiving fails: PostgreSQL's last failed archival is newer than its last successful one
 *   (`cnpg_pg_stat_archiver_last_failed_time` > `..._last_archived_time`, -1 when never). A
 *   re-created Cluster over an archive prefix that is not empty fails every archival this way
 *   and keeps its WAL until `pg_wal` fills the volume. Clears at the next successful archival.
 * - the last successful base backup is older than `BACKUP_MAX_AGE_HOURS`
 *   (`cnpg_collector_last_available_backup_timestamp`, from the Cluster's status, 0 before the
 *   first; only the primary sets it, so the maximum over the instances is the Cluster's). The
 *   chart's ScheduledBackup runs one at creation (`immediate`), so a new Cluster has one within
 *   the hour. Clears at the next successful backup.
 * - the last backup failed (`cnpg_collector_last_failed_backup_timestamp` newer than the last
 *   successful one). Clears at the next successful backup.
 */
export function postgresBackupAlerts(namespace: string, cluster: string): AlertRule[] {
  const pods = `namespace="${namespace}", pod=~"${cluster}-([1-9][0-9]*)$"`;
  const backup = (metric: string) => `max by (namespace) (cnpg_collector_${metric}{${pods}})`;
  return [
    {
      alert: "CNPGWALArchivingFailing",
      expr: `max by (namespace, pod) (cnpg_pg_stat_archiver_last_failed_time{${pods}}) > max by (namespace, pod) (cnpg_pg_stat_archiver_last_archived_time{${pods}})`,
      for: "15m",
      severity: "critical",
      summary: `WAL archiving of ${namespace}/${cluster} fails`,
      description: `PostgreSQL on {{ $labels.pod }} has failed to archive WAL to the object store since its last successful archival: point-in-time recovery stops at that point and WAL piles up in pg_wal until the volume is full. Read the instance's log (barman-cloud-wal-archive); a re-created Cluster refuses an archive prefix that is not empty.`,
    },
    {
      alert: "CNPGBackupTooOld",
      expr: `time() - ${backup("last_available_backup_timestamp")} > ${BACKUP_MAX_AGE_HOURS * 3600}`,
      for: "1h",
      severity: "warning",
      summary: `The last base backup of ${namespace}/${cluster} is older than ${BACKUP_MAX_AGE_HOURS}h`,
      description: `No base backup of ${cluster} has succeeded for {{ $value | humanizeDuration }} (the ScheduledBackup runs daily). Check the Backup resources in ${namespace} and the object store.`,
    },
    {
      alert: "CNPGBackupFailed",
      expr: `${backup("last_failed_backup_timestamp")} > ${backup("last_available_backup_timestamp")}`,
      for: "5m",
      severity: "warning",
      summary: `The last base backup of ${namespace}/${cluster} failed`,
      description: `The most recent base backup of ${cluster} failed after the last successful one. Check the failed Backup resource in ${namespace} (kubectl get backups) and the object store.`,
    },
  ];
}

/** The backup alerts as one rule group of a PrometheusRule. */
export function postgresBackupRuleGroup(namespace: string, cluster: string): Record<string, unknown> {
  return {
    name: `cloudnative-pg-backups/${cluster}`,
    rules: postgresBackupAlerts(namespace, cluster).map((rule) => ({
      alert: rule.alert,
      expr: rule.expr,
      for: rule.for,
      labels: { severity: rule.severity, namespace, cnpg_cluster: cluster, ...PLATFORM_ALERT_LABELS },
      annotations: { summary: rule.summary, description: rule.description },
    })),
  };
}

/** The chart values of the Cluster (chart `cluster` 0.8.1). */
function mlflowPostgresValues(props: MlflowPostgresProps, name: string, backupSecret: string): HelmValues {
  const backup = props.backup;
  const encryption = backup.serverSideEncryption ? "AES256" : "";
  return {
    fullnameOverride: name,
    type: "postgresql",
    mode: "standalone",
    version: { postgresql: String(POSTGRES_MAJOR) },
    cluster: {
      instances: props.instances,
      imageName: props.image,
      storage: { size: props.storage.size, storageClass: props.storage.storageClass },
      resources: props.resources,
      // One instance per node; with one instance a PodDisruptionBudget would block node drains.
      affinity: {
        enablePodAntiAffinity: true,
        topologyKey: "kubernetes.io/hostname",
        podAntiAffinityType: "required",
      },
      enablePDB: props.instances > 1,
      // The application owner is enough; the operator reconciles with its own superuser
      // connection, which needs no Secret.
      enableSuperuserAccess: false,
      // Barman Cloud inherits the instance manager's environment; boto3 reads the region here.
      env: [{ name: "AWS_DEFAULT_REGION", value: backup.region }],
      initdb: {
        database: MLFLOW_TRACKING_DATABASE,
        owner: MLFLOW_DATABASE_OWNER,
        secret: { name: props.credentials.secretName },
      },
      monitoring: {
        enabled: props.monitoring,
        podMonitor: { enabled: true },
        prometheusRule: {
          enabled: true,
          excludeRules: excludedChartAlerts(props.instances).map((excluded) => excluded.alert),
        },
        // The chart renders these queries into a ConfigMap the Cluster does not reference; no
        // logical replication here either.
        instrumentation: { logicalReplication: false },
      },
    },
    databases: [MLFLOW_AUTH_DATABASE_NAME, ...(props.extraDatabases ?? [])].map((database) => ({
      name: database,
      owner: MLFLOW_DATABASE_OWNER,
      ensure: "present",
    })),
    backups: {
      enabled: true,
      method: "barmanObjectStore",
      provider: "s3",
      endpointURL: backup.endpointURL,
      s3: { region: backup.region, bucket: backup.bucket, path: backup.path },
      secret: { create: false, name: backupSecret },
      endpointCA: backup.caSecret
        ? { create: false, name: backup.caSecret.name, key: backup.caSecret.key }
        : { create: false, name: "", key: "" },
      wal: { compression: "gzip", encryption },
      data: { compression: "gzip", encryption },
      retentionPolicy: backup.retentionPolicy,
      scheduledBackups: [
        {
          name: "daily",
          schedule: backup.schedule,
          backupOwnerReference: "self",
          method: "barmanObjectStore",
        },
      ],
    },
  };
}

/**
 * Copies the object store's keys into the Secret Barman Cloud reads, under the names the
 * chart `cluster` 0.8.1 hard-codes (`ACCESS_KEY_ID`, `ACCESS_SECRET_KEY`), with External
 * Secrets' Kubernetes provider: a service account in the database namespace may read exactly
 * the source Secret. Rotating the source rotates the copy within the refresh interval; the copy
 * carries `cnpg.io/reload` so instances pick it up.
 */
export function backupCredentialCopy(
  namespace: string,
  target: string,
  source: { readonly namespace: string; readonly name: string },
): Record<string, unknown>[] {
  const reader = `${target}-reader`;
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: reader, namespace } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: reader, namespace: source.namespace },
      rules: [
        {
          apiGroups: [""],
          resources: ["secrets"],
          resourceNames: [source.name],
          verbs: ["get", "list", "watch"],
        },
        { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectrulesreviews"], verbs: ["create"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: reader, namespace: source.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: reader },
      subjects: [{ kind: "ServiceAccount", name: reader, namespace }],
    },
    {
      apiVersion: ESO_API,
      kind: "SecretStore",
      metadata: { name: reader, namespace },
      spec: {
        provider: {
          kubernetes: {
            remoteNamespace: source.namespace,
            server: { caProvider: { type: "ConfigMap", name: "kube-root-ca.crt", key: "ca.crt" } },
            auth: { serviceAccount: { name: reader } },
          },
        },
      },
    },
    {
      apiVersion: ESO_API,
      kind: "ExternalSecret",
      metadata: { name: target, namespace },
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "SecretStore", name: reader },
        target: {
          name: target,
          creationPolicy: "Owner",
          template: { metadata: { labels: { "cnpg.io/reload": "true" } } },
        },
        data: [
          { secretKey: "ACCESS_KEY_ID", remoteRef: { key: source.name, property: "AWS_ACCESS_KEY_ID" } },
          {
            secretKey: "ACCESS_SECRET_KEY",
            remoteRef: { key: source.name, property: "AWS_SECRET_ACCESS_KEY" },
          },
        ],
      },
    },
  ];
}
