import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { JobV1 } from "@cdktf/provider-kubernetes/lib/job-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import type { ChartCatalog } from "./chart-catalog";
import type { ClusterTarget } from "./cluster-target";
import type { PlatformRelease } from "./helm-release";
import { PLATFORM_SERVICE_ACCOUNTS } from "./service-accounts";
import { RESTRICTED_CONTAINER_SECURITY, restrictedPodSecurity } from "../lib/workload-defaults";

export interface MlflowProps {
  readonly charts: ChartCatalog;
  readonly target: ClusterTarget;
  readonly namespace: string;
  readonly highAvailability: boolean;
  /** Public host of the UI and API, e.g. `mlflow.mlops.example.com`. */
  readonly host: string;
  readonly exposure: "internal" | "public";
  /** Secret with `username`/`password` of the database (in the namespace, kept in sync by the platform). */
  readonly databaseSecret: string;
  /** Secret with `username`/`password` of MLflow's first admin. */
  readonly adminSecret: string;
  /** Image of the one-off Job that creates the auth database. */
  readonly postgresClientImage: string;
  /**
   * A user for the platform's workloads (serving, retraining, batch inference), created through
   * MLflow's API by a Job once the server runs. Its Secret holds `userKey` and `passwordKey`.
   */
  readonly clientUser?: {
    readonly secretName: string;
    readonly userKey: string;
    readonly passwordKey: string;
    /** Image with curl, e.g. `curlimages/curl:<version>`. */
    readonly image: string;
  };
  readonly dependsOn?: ITerraformDependable[];
}

/** In-cluster tracking URI of the MLflow release `mlflow` in `namespace` (Service port 80). */
export function mlflowTrackingUri(namespace: string): string {
  return `http://mlflow.${namespace}.svc.cluster.local`;
}

/** Database MLflow's basic-auth keeps users and permissions in (beside the tracking database). */
export const MLFLOW_AUTH_DATABASE = "mlflow_auth";

/**
 * MLflow 3 tracking server and model registry: PostgreSQL backend store (credentials from a
 * Secret, never values), artifacts proxied to the artifacts bucket with the server's workload
 * identity, basic auth with users in PostgreSQL, host-header protection for every name it is
 * reached by, Prometheus metrics, and in HA two replicas spread over zones with a PDB.
 */
export class Mlflow extends Construct {
  public readonly release: PlatformRelease;
  /** In-cluster tracking URI. */
  public readonly trackingUri: string;

  constructor(scope: Construct, id: string, props: MlflowProps) {
    super(scope, id);
    const { target } = props;
    // Host names use the plain namespace name: the identity is bound to it.
    const namespace = PLATFORM_SERVICE_ACCOUNTS.mlflowServer.namespace;
    const service = `mlflow.${namespace}.svc.cluster.local`;
    this.trackingUri = mlflowTrackingUri(namespace);
    const labels = { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "mlflow" };
    const db = target.database;
    const replicas = props.highAvailability ? 2 : 1;

    const authDatabase = new JobV1(this, "AuthDatabase", {
      metadata: { name: "mlflow-create-auth-database", namespace: props.namespace },
      spec: {
        backoffLimit: 6,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "mlflow-auth-database" } },
          spec: {
            restartPolicy: "OnFailure",
            // uid 70 is the postgres user of the alpine image.
            securityContext: restrictedPodSecurity(70),
            container: [
              {
                name: "create-database",
                image: props.postgresClientImage,
                command: [
                  "sh",
                  "-ec",
                  `psql -tAc "SELECT 1 FROM pg_database WHERE datname = '${MLFLOW_AUTH_DATABASE}'" | grep -q 1 || psql -c "CREATE DATABASE ${MLFLOW_AUTH_DATABASE}"`,
                ],
                env: [
                  { name: "PGHOST", value: db.host },
                  { name: "PGPORT", value: String(db.port) },
                  { name: "PGDATABASE", value: db.name },
                  { name: "PGSSLMODE", value: "require" },
                  {
                    name: "PGUSER",
                    valueFrom: { secretKeyRef: { name: props.databaseSecret, key: "username" } },
                  },
                  {
                    name: "PGPASSWORD",
                    valueFrom: { secretKeyRef: { name: props.databaseSecret, key: "password" } },
                  },
                ],
                resources: {
                  requests: { cpu: "50m", memory: "64Mi" },
                  limits: { cpu: "200m", memory: "128Mi" },
                },
                securityContext: RESTRICTED_CONTAINER_SECURITY,
              },
            ],
          },
        },
      },
      waitForCompletion: true,
      timeouts: { create: "10m", update: "10m" },
      dependsOn: props.dependsOn,
    });

    const objectStore = target.objectStore;
    this.release = props.charts.install(this, "Server", {
      chart: "mlflow",
      namespace: props.namespace,
      timeoutSeconds: 900,
      computedValues: {
        replicaCount: replicas,
        serviceAccount: {
          create: true,
          name: PLATFORM_SERVICE_ACCOUNTS.mlflowServer.name,
          annotations: target.serviceAccountAnnotations("mlflowServer"),
        },
        backendStore: {
          databaseMigration: true,
          databaseConnectionCheck: true,
          postgres: { enabled: true, host: db.host, port: db.port, database: db.name },
          existingDatabaseSecret: {
            name: props.databaseSecret,
            usernameKey: "username",
            passwordKey: "password",
          },
        },
        artifactRoot: {
          // Clients upload and download through the server; only the server holds S3 access.
          proxiedArtifactStorage: true,
          s3: { enabled: true, bucket: objectStore.artifactsBucket, path: "mlflow" },
        },
        auth: {
          enabled: true,
          existingAdminSecret: { name: props.adminSecret, usernameKey: "username", passwordKey: "password" },
          postgres: {
            enabled: true,
            host: db.host,
            port: db.port,
            database: MLFLOW_AUTH_DATABASE,
            existingSecret: { name: props.databaseSecret, usernameKey: "username", passwordKey: "password" },
          },
        },
        // MLflow 3 refuses requests whose Host header it does not know; the ingress host is added by the chart.
        serverAllowedHosts: ["mlflow", `mlflow.${namespace}`, `mlflow.${namespace}.svc`, service],
        extraEnvVars: {
          AWS_DEFAULT_REGION: objectStore.region,
          ...(objectStore.endpoint ? { MLFLOW_S3_ENDPOINT_URL: objectStore.endpoint } : {}),
        },
        ingress: {
          enabled: true,
          className: target.traffic.ingressClassName,
          annotations: target.traffic.ingressAnnotations(props.exposure),
          hosts: [{ host: props.host, paths: [{ path: "/", pathType: "Prefix" }] }],
        },
        serviceMonitor: { namespace: props.namespace },
        affinity: props.highAvailability
          ? {
              podAntiAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 100,
                    podAffinityTerm: {
                      topologyKey: "topology.kubernetes.io/zone",
                      labelSelector: { matchLabels: labels },
                    },
                  },
                ],
              },
            }
          : {},
      },
      dependsOn: [authDatabase, ...(props.dependsOn ?? [])],
    });

    if (props.clientUser) this.createClientUser(props, this.release);

    if (props.highAvailability) {
      new PodDisruptionBudgetV1(this, "DisruptionBudget", {
        metadata: { name: "mlflow", namespace: props.namespace },
        spec: { minAvailable: "1", selector: { matchLabels: labels } },
        dependsOn: [this.release.release],
      });
    }
  }

  /** Creates (or re-keys) the workloads' MLflow user with the admin's credentials; idempotent. */
  private createClientUser(props: MlflowProps, server: PlatformRelease): void {
    const client = props.clientUser!;
    const fromSecret = (name: string, secret: string, key: string) => ({
      name,
      valueFrom: { secretKeyRef: { name: secret, key } },
    });
    // `%%{` is Terraform's escape for a literal `%{` (curl's write-out format).
    const script = [
      'body="{\\"username\\": \\"$CLIENT_USER\\", \\"password\\": \\"$CLIENT_PASSWORD\\"}"',
      'code=$(curl -sS -o /tmp/response -w "%%{http_code}" -u "$ADMIN_USER:$ADMIN_PASSWORD" -H "Content-Type: application/json" -X POST -d "$body" "$MLFLOW/api/2.0/mlflow/users/create")',
      'if [ "$code" = 200 ]; then echo "created $CLIENT_USER"; exit 0; fi',
      "grep -q RESOURCE_ALREADY_EXISTS /tmp/response || { cat /tmp/response; exit 1; }",
      'curl -sSf -u "$ADMIN_USER:$ADMIN_PASSWORD" -H "Content-Type: application/json" -X PATCH -d "$body" "$MLFLOW/api/2.0/mlflow/users/update-password" >/dev/null',
      'echo "updated $CLIENT_USER"',
    ].join("\n");
    new JobV1(this, "ClientUser", {
      metadata: { name: "mlflow-create-client-user", namespace: props.namespace },
      spec: {
        backoffLimit: 10,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "mlflow-client-user" } },
          spec: {
            restartPolicy: "OnFailure",
            // uid 100 is curl_user of the curl image.
            securityContext: restrictedPodSecurity(100),
            container: [
              {
                name: "create-user",
                image: client.image,
                command: ["sh", "-euc", script],
                env: [
                  { name: "MLFLOW", value: this.trackingUri },
                  fromSecret("ADMIN_USER", props.adminSecret, "username"),
                  fromSecret("ADMIN_PASSWORD", props.adminSecret, "password"),
                  fromSecret("CLIENT_USER", client.secretName, client.userKey),
                  fromSecret("CLIENT_PASSWORD", client.secretName, client.passwordKey),
                ],
                resources: {
                  requests: { cpu: "50m", memory: "32Mi" },
                  limits: { cpu: "100m", memory: "64Mi" },
                },
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMount: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volume: [{ name: "tmp", emptyDir: {} }],
          },
        },
      },
      waitForCompletion: true,
      timeouts: { create: "10m", update: "10m" },
      dependsOn: [server.release],
    });
  }
}
