import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { JobV1 } from "@cdktf/provider-kubernetes/lib/job-v1";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import type { ChartCatalog } from "./chart-catalog";
import type { ClusterTarget } from "./cluster-target";
import type { PlatformRelease } from "./helm-release";
import { PLATFORM_SERVICE_ACCOUNTS } from "./service-accounts";
import { RESTRICTED_CONTAINER_SECURITY, restrictedPodSecurity } from "../lib/workload-defaults";
import { hostPatterns } from "../lib/cidr";
import { imageFrom, pullSecrets } from "./image-mirror";
import { OBJECT_STORE_CA_DIRECTORY, OBJECT_STORE_CA_FILE } from "../serving/object-store-access";
import { mergeValues, type HelmValues } from "../lib/values";

/** Where MLflow keeps run artifacts and model versions in the artifacts bucket (`s3://<bucket>/<this>/`). */
export const MLFLOW_ARTIFACT_PATH = "mlflow";

/** A Secret holding an MLflow user's name and password. */
export interface MlflowUserSecret {
  readonly secretName: string;
  readonly userKey: string;
  readonly passwordKey: string;
  /**
   * The account creates experiments and registered models (the workloads' user). Under the
   * directory login, where creating needs EDIT on the new name, it is granted EDIT on every
   * name. @default false
   */
  readonly creates?: boolean;
}

export interface MlflowProps {
  readonly charts: ChartCatalog;
  readonly target: ClusterTarget;
  readonly namespace: string;
  readonly highAvailability: boolean;
  /** Public host of the UI and API, e.g. `mlflow.mlops.example.com`. */
  readonly host: string;
  readonly exposure: "internal" | "public";
  /**
   * Secret with `username`/`password` of MLflow's own database user, whose password is letters
   * and digits only (the chart writes it into an INI file with `sed`).
   */
  readonly databaseSecret: string;
  /**
   * Secret with `username`/`password` of a database administrator (RDS: the master user, whose
   * password RDS rotates). When set, a Job creates MLflow's user with the password of
   * `databaseSecret`, hands it the tracking database and creates the auth database; MLflow never
   * uses these credentials. Unset: MLflow's user and both databases exist already.
   */
  readonly databaseAdminSecret?: string;
  /** Secret with `username`/`password` of MLflow's first admin. */
  readonly adminSecret: string;
  /** Image of the one-off Job that prepares the database (psql). */
  readonly postgresClientImage: string;
  /**
   * MLflow users of the platform's workloads (serving, retraining, batch inference) and of the
   * metrics scraper, created through MLflow's API by a Job once the server runs.
   */
  readonly users?: {
    /** Image with curl, e.g. `curlimages/curl:<version>`. */
    readonly image: string;
    readonly accounts: readonly MlflowUserSecret[];
  };
  /**
   * The user Prometheus scrapes `/metrics` as (MLflow's basic auth protects every route but
   * `/health`); one of `users.accounts`. Unset: no ServiceMonitor.
   */
  readonly metricsUser?: MlflowUserSecret;
  /** Address ranges of pods: Prometheus scrapes by pod IP, which MLflow checks as a Host header. */
  readonly podCidrs: readonly string[];
  /** Browsers reach the UI over HTTPS (CORS origins are built with that scheme). */
  readonly tls: boolean;
  /** Annotations that point the load balancer's health check at a path. */
  readonly healthCheckAnnotations: Record<string, string>;
  /**
   * Directory login: the chart's `oidcAuth` mode instead of basic auth. `users.accounts` then
   * become the plugin's service accounts (basic auth with their generated password still works
   * for them), written into the plugin's users database by a Job in the server's image.
   */
  readonly login?: MlflowLogin;
  readonly dependsOn?: ITerraformDependable[];
}

export interface MlflowLogin {
  /** Values of `mlflowLoginValues`. */
  readonly values: HelmValues;
  /** Volumes of `mlflowIssuerCaMounts`, appended to the server's own. */
  readonly caMounts: {
    readonly extraVolumes: readonly Record<string, unknown>[];
    readonly extraVolumeMounts: readonly Record<string, unknown>[];
  };
  /** The plugin's users database, as in `MlflowLoginProps.mlflowUsersDatabase`. */
  readonly usersDatabase: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly secret: string;
  };
  /** The image the chart runs the server with (it carries the plugin), e.g. `burakince/mlflow:3.15.1`. */
  readonly serverImage: string;
  /**
   * AD groups of the editors: with resource creation restricted (`mlflowLoginValues`), each is
   * granted EDIT on every experiment and registered model name, which creating needs.
   */
  readonly editorGroups: readonly string[];
}

/** In-cluster tracking URI of the MLflow release `mlflow` in `namespace` (Service port 80). */
export function mlflowTrackingUri(namespace: string): string {
  return `http://mlflow.${namespace}.svc.cluster.local`;
}

/** Database MLflow's basic-auth keeps users and permissions in (beside the tracking database). */
export const MLFLOW_AUTH_DATABASE = "mlflow_auth";

/** An environment variable read from a key of a Secret. */
function fromSecret(name: string, secret: string, key: string) {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

/** Directory `--expose-prometheus` keeps its multiprocess metrics in (an emptyDir: the root is read-only). */
export const MLFLOW_METRICS_DIRECTORY = "/mlflow/metrics";

/**
 * What one artifact upload through the server may need from the entry: 5 GiB, the largest
 * object S3 (and S3-compatible stores) take in one PUT, which is how a client sends one file
 * to the server's artifact proxy; larger models need multipart uploads
 * (`MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD`). Ten minutes between two reads or writes covers
 * the server writing a large file through to the store before it answers.
 */
export const MLFLOW_UPLOAD_LIMITS = { maxBodyMiB: 5120, timeoutSeconds: 600 } as const;

/**
 * Creates (or re-keys) MLflow's database user from the admin's session and hands it the
 * tracking database and the auth database. Idempotent; names and the password reach psql as
 * variables, quoted by psql itself.
 */
const DATABASE_USER_SCRIPT = [
  'psql -v ON_ERROR_STOP=1 -v user="$MLFLOW_DB_USER" -v password="$MLFLOW_DB_PASSWORD" -v tracking="$PGDATABASE" -v auth="$AUTH_DATABASE" <<\'SQL\'',
  "SELECT format('CREATE ROLE %I LOGIN', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user')\\gexec",
  "ALTER ROLE :\"user\" WITH LOGIN PASSWORD :'password';",
  'GRANT :"user" TO CURRENT_USER;',
  'ALTER DATABASE :"tracking" OWNER TO :"user";',
  "SELECT format('CREATE DATABASE %I OWNER %I', :'auth', :'user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'auth')\\gexec",
  'ALTER DATABASE :"auth" OWNER TO :"user";',
  "SQL",
].join("\n");

/**
 * MLflow 3 tracking server and model registry: PostgreSQL backend store under its own database
 * user (credentials from a Secret, never values), artifacts proxied to the artifacts bucket with
 * the server's workload identity, basic auth with users in PostgreSQL, host-header protection for
 * every name and address it is reached by, Prometheus metrics scraped with their own user, and in
 * HA two replicas spread over zones with a PDB.
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
    if (props.metricsUser && !props.users?.accounts.includes(props.metricsUser)) {
      throw new Error(
        `Mlflow: metricsUser ${props.metricsUser.secretName} is not one of users.accounts; add it there so the user is created`,
      );
    }

    const prepared: ITerraformDependable[] = [];
    if (props.databaseAdminSecret) {
      prepared.push(this.prepareDatabase(props));
    }

    const objectStore = target.objectStore;
    const metrics = props.metricsUser;
    this.release = props.charts.install(this, "Server", {
      chart: "mlflow",
      namespace: props.namespace,
      timeoutSeconds: 900,
      computedValues: mergeValues(
        {
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
            s3: {
              enabled: true,
              bucket: objectStore.artifactsBucket,
              path: MLFLOW_ARTIFACT_PATH,
              // Keys of an S3-compatible store: the chart (1.11.5) maps them to AWS_* variables.
              ...(objectStore.credentials.kind === "secret"
                ? {
                    existingSecret: {
                      name: objectStore.credentials.secretName,
                      keyOfAccessKeyId: "AWS_ACCESS_KEY_ID",
                      keyOfSecretAccessKey: "AWS_SECRET_ACCESS_KEY",
                    },
                  }
                : {}),
            },
          },
          ...(props.login
            ? {}
            : {
                auth: {
                  enabled: true,
                  existingAdminSecret: {
                    name: props.adminSecret,
                    usernameKey: "username",
                    passwordKey: "password",
                  },
                  postgres: {
                    enabled: true,
                    host: db.host,
                    port: db.port,
                    database: MLFLOW_AUTH_DATABASE,
                    existingSecret: {
                      name: props.databaseSecret,
                      usernameKey: "username",
                      passwordKey: "password",
                    },
                  },
                },
              }),
          // MLflow 3 refuses requests whose Host header it does not know: the in-cluster names,
          // and the pod addresses Prometheus scrapes by; the chart adds the ingress host.
          serverAllowedHosts: [
            "mlflow",
            `mlflow.${namespace}`,
            `mlflow.${namespace}.svc`,
            service,
            ...props.podCidrs.flatMap(hostPatterns),
          ],
          // The chart derives an http:// origin from the ingress when it holds no TLS section;
          // with TLS at the load balancer the browser's origin is https://.
          ...(props.tls ? { corsAllowedOrigins: [`https://${props.host}`] } : {}),
          extraEnvVars: {
            AWS_DEFAULT_REGION: objectStore.region,
            ...(objectStore.endpoint ? { MLFLOW_S3_ENDPOINT_URL: objectStore.endpoint } : {}),
            // boto3 trusts the store's internal CA through AWS_CA_BUNDLE (the server proxies artifacts).
            ...(objectStore.caBundle
              ? { AWS_CA_BUNDLE: `${OBJECT_STORE_CA_DIRECTORY}/${OBJECT_STORE_CA_FILE}` }
              : {}),
          },
          ingress: {
            enabled: true,
            className: target.traffic.ingressClassName,
            annotations: {
              ...target.traffic.ingressAnnotations(props.exposure),
              // `/` answers 401 (basic auth) and 403 (host check) to a load balancer.
              ...props.healthCheckAnnotations,
              // Artifacts (models) are uploaded through the server, one request per file.
              ...target.traffic.largeRequestAnnotations(MLFLOW_UPLOAD_LIMITS),
            },
            hosts: [{ host: props.host, paths: [{ path: "/", pathType: "Prefix" }] }],
            // TLS at the ingress controller: the chart then also allows the https:// origin.
            ...(target.traffic.ingressTlsSecret
              ? { tls: [{ hosts: [props.host], secretName: target.traffic.ingressTlsSecret(props.host) }] }
              : {}),
          },
          // The chart's own ServiceMonitor (serviceMonitor.enabled) targets a port name the pod
          // does not have and cannot authenticate; metrics are switched on here and scraped by
          // the ServiceMonitor below.
          ...(metrics
            ? {
                extraArgs: { exposePrometheus: MLFLOW_METRICS_DIRECTORY },
                extraDeploy: [mlflowServiceMonitor(props.namespace, labels, metrics)],
              }
            : {}),
          ...serverVolumes(metrics !== undefined, props.login, objectStore.caBundle),
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
        props.login?.values,
      ),
      dependsOn: [...prepared, ...(props.dependsOn ?? [])],
    });

    if (props.users && props.login) this.createServiceAccounts(props, props.users, props.login, this.release);
    else if (props.users) this.createUsers(props, props.users, this.release);

    if (props.highAvailability) {
      new PodDisruptionBudgetV1(this, "DisruptionBudget", {
        metadata: { name: "mlflow", namespace: props.namespace },
        spec: { minAvailable: "1", selector: { matchLabels: labels } },
        dependsOn: [this.release.release],
      });
    }
  }

  /** The Job that gives MLflow its own database user and databases, run as the admin. */
  private prepareDatabase(props: MlflowProps): JobV1 {
    const db = props.target.database;
    return new JobV1(this, "DatabaseUser", {
      metadata: { name: "mlflow-database-user", namespace: props.namespace },
      spec: {
        backoffLimit: 6,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "mlflow-database-user" } },
          spec: {
            restartPolicy: "OnFailure",
            // uid 70 is the postgres user of the alpine image.
            securityContext: restrictedPodSecurity(70),
            imagePullSecrets: pullSecrets(props.target.imageMirror?.pullSecretName),
            container: [
              {
                name: "create-user",
                image: imageFrom(props.target.imageMirror, props.postgresClientImage),
                command: ["sh", "-ec", DATABASE_USER_SCRIPT],
                env: [
                  { name: "PGHOST", value: db.host },
                  { name: "PGPORT", value: String(db.port) },
                  { name: "PGDATABASE", value: db.name },
                  { name: "PGSSLMODE", value: "require" },
                  { name: "AUTH_DATABASE", value: MLFLOW_AUTH_DATABASE },
                  fromSecret("PGUSER", props.databaseAdminSecret!, "username"),
                  fromSecret("PGPASSWORD", props.databaseAdminSecret!, "password"),
                  fromSecret("MLFLOW_DB_USER", props.databaseSecret, "username"),
                  fromSecret("MLFLOW_DB_PASSWORD", props.databaseSecret, "password"),
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
  }

  /**
   * With the directory login there is no admin password to call the API with: the workloads'
   * users are written into the plugin's users database by its own store, in the server's image,
   * once the server has migrated that database. Idempotent.
   */
  private createServiceAccounts(
    props: MlflowProps,
    users: NonNullable<MlflowProps["users"]>,
    login: MlflowLogin,
    server: PlatformRelease,
  ): void {
    const db = login.usersDatabase;
    new JobV1(this, "ServiceAccounts", {
      metadata: { name: "mlflow-service-accounts", namespace: props.namespace },
      spec: {
        backoffLimit: 10,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "mlflow-service-accounts" } },
          spec: {
            restartPolicy: "OnFailure",
            securityContext: restrictedPodSecurity(),
            imagePullSecrets: pullSecrets(props.target.imageMirror?.pullSecretName),
            container: [
              {
                name: "service-accounts",
                image: imageFrom(props.target.imageMirror, login.serverImage),
                command: ["python", "-c", SERVICE_ACCOUNTS_SCRIPT],
                env: [
                  { name: "HOME", value: "/tmp" },
                  fromSecret("OIDC_DB_USER", db.secret, "username"),
                  fromSecret("OIDC_DB_PASSWORD", db.secret, "password"),
                  // The chart's own form of the URI; the password is letters and digits only.
                  {
                    name: "OIDC_USERS_DB_URI",
                    value: `postgresql://$(OIDC_DB_USER):$(OIDC_DB_PASSWORD)@${db.host}:${db.port}/${db.database}`,
                  },
                  { name: "USER_COUNT", value: String(users.accounts.length) },
                  ...users.accounts.flatMap((account, index) => [
                    fromSecret(`USER_${index}`, account.secretName, account.userKey),
                    fromSecret(`PASSWORD_${index}`, account.secretName, account.passwordKey),
                    { name: `CREATES_${index}`, value: String(account.creates === true) },
                  ]),
                  // A JSON list: AD group names may hold spaces and commas.
                  { name: "EDITOR_GROUPS", value: JSON.stringify(login.editorGroups) },
                ],
                resources: {
                  requests: { cpu: "50m", memory: "128Mi" },
                  limits: { cpu: "500m", memory: "512Mi" },
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

  /** Creates (or re-keys) MLflow users with the admin's credentials; idempotent. */
  private createUsers(
    props: MlflowProps,
    users: NonNullable<MlflowProps["users"]>,
    server: PlatformRelease,
  ): void {
    // `%%{` is Terraform's escape for a literal `%{` (curl's write-out format).
    const script = [
      "i=0",
      'while [ "$i" -lt "$USER_COUNT" ]; do',
      '  eval "user=\\$USER_$i password=\\$PASSWORD_$i"',
      '  body="{\\"username\\": \\"$user\\", \\"password\\": \\"$password\\"}"',
      '  code=$(curl -sS -o /tmp/response -w "%%{http_code}" -u "$ADMIN_USER:$ADMIN_PASSWORD" -H "Content-Type: application/json" -X POST -d "$body" "$MLFLOW/api/2.0/mlflow/users/create")',
      '  if [ "$code" = 200 ]; then echo "created $user"',
      "  else",
      "    grep -q RESOURCE_ALREADY_EXISTS /tmp/response || { cat /tmp/response; exit 1; }",
      '    curl -sSf -u "$ADMIN_USER:$ADMIN_PASSWORD" -H "Content-Type: application/json" -X PATCH -d "$body" "$MLFLOW/api/2.0/mlflow/users/update-password" >/dev/null',
      '    echo "updated $user"',
      "  fi",
      "  i=$((i + 1))",
      "done",
    ].join("\n");
    new JobV1(this, "ClientUser", {
      metadata: { name: "mlflow-create-users", namespace: props.namespace },
      spec: {
        backoffLimit: 10,
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "mlflow-create-users" } },
          spec: {
            restartPolicy: "OnFailure",
            // uid 100 is curl_user of the curl image.
            securityContext: restrictedPodSecurity(100),
            imagePullSecrets: pullSecrets(props.target.imageMirror?.pullSecretName),
            container: [
              {
                name: "create-users",
                image: imageFrom(props.target.imageMirror, users.image),
                command: ["sh", "-euc", script],
                env: [
                  { name: "MLFLOW", value: this.trackingUri },
                  { name: "USER_COUNT", value: String(users.accounts.length) },
                  fromSecret("ADMIN_USER", props.adminSecret, "username"),
                  fromSecret("ADMIN_PASSWORD", props.adminSecret, "password"),
                  ...users.accounts.flatMap((account, index) => [
                    fromSecret(`USER_${index}`, account.secretName, account.userKey),
                    fromSecret(`PASSWORD_${index}`, account.secretName, account.passwordKey),
                  ]),
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

/**
 * Volumes of the server: the metrics directory, the issuer's CA where the login needs it, and the
 * object store's CA where it is internal. Lists replace each other when values merge, so all are
 * listed here once.
 */
function serverVolumes(
  metrics: boolean,
  login: MlflowLogin | undefined,
  storeCa: { readonly name: string; readonly key: string } | undefined,
): HelmValues {
  const volumes = [
    ...(metrics ? [{ name: "prometheus-metrics", emptyDir: { sizeLimit: "256Mi" } }] : []),
    ...(login?.caMounts.extraVolumes ?? []),
    ...(storeCa
      ? [
          {
            name: "object-store-ca",
            secret: { secretName: storeCa.name, items: [{ key: storeCa.key, path: OBJECT_STORE_CA_FILE }] },
          },
        ]
      : []),
  ];
  const mounts = [
    ...(metrics ? [{ name: "prometheus-metrics", mountPath: MLFLOW_METRICS_DIRECTORY }] : []),
    ...(login?.caMounts.extraVolumeMounts ?? []),
    ...(storeCa ? [{ name: "object-store-ca", mountPath: OBJECT_STORE_CA_DIRECTORY, readOnly: true }] : []),
  ];
  return volumes.length > 0 ? { extraVolumes: volumes, extraVolumeMounts: mounts } : {};
}

/**
 * Creates or re-keys the workloads' users as service accounts of the mlflow-oidc-auth plugin,
 * through the plugin's own store (the one its server uses): `has_user`, `create_user` and
 * `update_user` of mlflow_oidc_auth.store at 7.6.0. Basic auth of a service account checks the
 * password against the stored hash, so the workloads keep their `MLFLOW_TRACKING_USERNAME` and
 * `MLFLOW_TRACKING_PASSWORD`. Never admins.
 *
 * Then the grants creating needs once RESTRICT_RESOURCE_CREATION is on: at 7.6.0
 * `validate_can_create_experiment` and `validate_can_create_registered_model` ask for EDIT on the
 * new name from the user's name-regex and group-regex grants only, falling back to
 * DEFAULT_MLFLOW_PERMISSION (READ here). The editors' groups (created if no member logged in yet:
 * a grant needs the group) and the accounts that create get EDIT on `.*` for experiments and
 * registered models, at priority 100 (regex grants are matched lowest priority first, so a
 * narrower grant an admin adds below 100 wins). A group no longer among the editors loses the
 * grants of this form; other grants are left alone. Idempotent.
 */
export const SERVICE_ACCOUNTS_SCRIPT = [
  "import json",
  "import os",
  "from mlflow_oidc_auth.store import store",
  'REGEX, PRIORITY, PERMISSION = ".*", 100, "EDIT"',
  "def managed(grants):",
  "    return [g for g in grants if g.regex == REGEX and g.priority == PRIORITY]",
  "def ensure(what, grants, create, update):",
  "    ours = managed(grants)",
  "    if not ours:",
  "        create()",
  '        print("granted " + what)',
  "    elif ours[0].permission != PERMISSION:",
  "        update(ours[0].id)",
  '        print("updated " + what)',
  'for i in range(int(os.environ["USER_COUNT"])):',
  '    user = os.environ["USER_" + str(i)]',
  '    password = os.environ["PASSWORD_" + str(i)]',
  "    if store.has_user(user):",
  "        store.update_user(username=user, password=password, is_admin=False, is_service_account=True)",
  '        print("updated " + user)',
  "    else:",
  "        store.create_user(username=user, password=password, display_name=user, is_admin=False, is_service_account=True)",
  '        print("created " + user)',
  '    if os.environ["CREATES_" + str(i)] != "true":',
  "        continue",
  "    ensure(",
  '        "experiments to " + user,',
  "        store.list_experiment_regex_permissions(username=user),",
  "        lambda: store.create_experiment_regex_permission(regex=REGEX, priority=PRIORITY, permission=PERMISSION, username=user),",
  "        lambda id: store.update_experiment_regex_permission(regex=REGEX, priority=PRIORITY, permission=PERMISSION, username=user, id=id),",
  "    )",
  "    ensure(",
  '        "registered models to " + user,',
  "        store.list_registered_model_regex_permissions(username=user),",
  "        lambda: store.create_registered_model_regex_permission(regex=REGEX, priority=PRIORITY, permission=PERMISSION, username=user),",
  "        lambda id: store.update_registered_model_regex_permission(id=id, regex=REGEX, priority=PRIORITY, permission=PERMISSION, username=user),",
  "    )",
  'editors = json.loads(os.environ["EDITOR_GROUPS"])',
  "store.populate_groups(group_names=editors)",
  "for group in editors:",
  "    ensure(",
  '        "experiments to group " + group,',
  "        store.list_group_experiment_regex_permissions(group_name=group),",
  "        lambda: store.create_group_experiment_regex_permission(group_name=group, regex=REGEX, priority=PRIORITY, permission=PERMISSION),",
  "        lambda id: store.update_group_experiment_regex_permission(id=id, group_name=group, regex=REGEX, priority=PRIORITY, permission=PERMISSION),",
  "    )",
  "    ensure(",
  '        "registered models to group " + group,',
  "        store.list_group_registered_model_regex_permissions(group_name=group),",
  "        lambda: store.create_group_registered_model_regex_permission(group_name=group, regex=REGEX, priority=PRIORITY, permission=PERMISSION),",
  "        lambda id: store.update_group_registered_model_regex_permission(id=id, group_name=group, regex=REGEX, priority=PRIORITY, permission=PERMISSION),",
  "    )",
  "for group in store.get_groups():",
  "    if group in editors:",
  "        continue",
  "    for grant in managed(store.list_group_experiment_regex_permissions(group_name=group)):",
  "        store.delete_group_experiment_regex_permission(group_name=group, id=grant.id)",
  '        print("revoked experiments from group " + group)',
  "    for grant in managed(store.list_group_registered_model_regex_permissions(group_name=group)):",
  "        store.delete_group_registered_model_regex_permission(group_name=group, id=grant.id)",
  '        print("revoked registered models from group " + group)',
].join("\n");

/**
 * Scrapes `/metrics` through the Service's `http` port with the metrics user's credentials
 * (prometheus-operator reads the Secret from the ServiceMonitor's namespace).
 */
function mlflowServiceMonitor(
  namespace: string,
  labels: Record<string, string>,
  user: MlflowUserSecret,
): Record<string, unknown> {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: "mlflow", namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [
        {
          port: "http",
          path: "/metrics",
          interval: "30s",
          basicAuth: {
            username: { name: user.secretName, key: user.userKey },
            password: { name: user.secretName, key: user.passwordKey },
          },
        },
      ],
    },
  };
}
