/**
 * MLflow's PostgreSQL on CloudNativePG: the values the constructs pass, the validation of their
 * props, and the objects the pinned charts render from them (cloudnative-pg 0.29.0 with
 * operator 1.30.0, cluster 0.8.1, raw 2.0.2), checked against the pinned CRDs (CloudNativePG
 * v1.30.0, prometheus-operator v0.93.1, External Secrets v2.9.0) and the restricted Pod
 * Security controls. The renders are skipped, with the reason printed, when the pinned
 * sources are not on this machine.
 */
import { Testing, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { renderValues, type HelmValues } from "../../constructs/lib/values";
import { ChartCatalog } from "../../constructs/platform/chart-catalog";
import {
  CNPG_OPERATOR_METRICS_PORT,
  CNPG_OPERATOR_POD_LABELS,
  CNPG_WEBHOOK_PORT,
  MLFLOW_AUTH_DATABASE_NAME,
  MlflowPostgres,
  PostgresOperator,
  type MlflowPostgresProps,
  type PostgresOperatorProps,
} from "../../constructs/platform/postgres-cluster";
import { MLFLOW_AUTH_DATABASE } from "../../constructs/platform/mlflow";
import { podSecurityViolations } from "../../scripts/verify/rules/pod-security";
import type { PodSpec } from "../../scripts/verify/workloads";
import {
  crdSchema,
  describeWithUpstream,
  renderPinnedChart,
  schemaValidator,
  type KubernetesObject,
} from "../support/upstream";

const VERSIONS = { "cloudnative-pg": "0.29.0", "postgres-cluster": "0.8.1", "platform-resources": "2.0.2" };

const resources = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } };

const operatorProps = (charts: ChartCatalog, change: Partial<PostgresOperatorProps> = {}) => ({
  charts,
  namespace: "cnpg-system",
  highAvailability: true,
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  monitoring: true,
  ...change,
});

const baseProps: Omit<MlflowPostgresProps, "charts" | "operator"> = {
  namespace: "mlflow",
  instances: 3,
  image: "ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie",
  storage: { storageClass: "longhorn", size: "20Gi" },
  resources,
  credentials: {
    namespace: "mlflow",
    secretName: "mlflow-database",
    userKey: "username",
    passwordKey: "password",
    userName: "mlflow",
  },
  backup: {
    endpointURL: "https://s3.storage.example.com",
    region: "default",
    bucket: "mlops-backups",
    path: "/postgres/",
    credentialsSecret: { namespace: "mlflow", name: "object-store" },
    caSecret: { name: "object-store-ca", key: "ca.crt" },
    retentionPolicy: "45d",
    schedule: "0 0 2 * * *",
    serverSideEncryption: false,
  },
  monitoring: true,
};

interface Built {
  readonly operator: PostgresOperator;
  readonly database: MlflowPostgres;
  readonly json: any;
}

function build(
  change: Partial<MlflowPostgresProps> = {},
  operatorChange: Partial<PostgresOperatorProps> = {},
): Built {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  const charts = new ChartCatalog({ versions: VERSIONS, values: {} });
  const operator = new PostgresOperator(stack, "Postgres", operatorProps(charts, operatorChange));
  const database = new MlflowPostgres(stack, "MlflowPostgres", { charts, operator, ...baseProps, ...change });
  return { operator, database, json: JSON.parse(Testing.synth(stack)) };
}

/** The values as Helm receives them: the release's YAML read back. */
const helmValues = (values: HelmValues): any => parse(renderValues(values));

describe("PostgresOperator values", () => {
  const { operator, json } = build();
  const values = helmValues(operator.release.values);

  it("installs the pinned operator chart in its own namespace with CRDs, cluster-wide", () => {
    const release = Object.values(json.resource.helm_release).find(
      (r: any) => r.chart === "cloudnative-pg",
    ) as any;
    expect(release).toMatchObject({ namespace: "cnpg-system", version: "0.29.0", name: "cloudnative-pg" });
    expect(values.crds).toEqual({ create: true });
    expect(values.config).toEqual({ clusterWide: true });
  });

  it("runs two replicas on different nodes in HA, with resources and a PodMonitor", () => {
    expect(values.replicaCount).toBe(2);
    expect(values.resources).toEqual(operatorProps(undefined as never).resources);
    expect(values.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
      topologyKey: "kubernetes.io/hostname",
      labelSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "cloudnative-pg",
          "app.kubernetes.io/instance": "cloudnative-pg",
        },
      },
    });
    expect(values.monitoring).toEqual({ podMonitorEnabled: true });
  });

  it("runs one replica without anti-affinity outside HA", () => {
    const single = helmValues(build({}, { highAvailability: false }).operator.release.values);
    expect(single.replicaCount).toBe(1);
    expect(single.affinity).toBeUndefined();
  });
});

describe("MlflowPostgres values", () => {
  const { database, json } = build();
  const values = helmValues(database.release.values);

  it("exposes what MLflow needs: host, port, databases, credentials Secret", () => {
    expect(database.host).toBe("mlflow-postgres-rw.mlflow.svc");
    expect(database.port).toBe(5432);
    expect(database.databases).toEqual({ tracking: "mlflow", auth: "mlflow_auth" });
    // The auth database is the one MLflow's chart is configured with.
    expect(database.databases.auth).toBe(MLFLOW_AUTH_DATABASE);
    expect(database.credentialsSecret).toBe("mlflow-database");
    expect(database.podLabels).toEqual({
      "cnpg.io/cluster": "mlflow-postgres",
      "cnpg.io/podRole": "instance",
    });
  });

  it("installs the cluster chart after the operator and the backup credentials", () => {
    const releases = json.resource.helm_release as Record<string, any>;
    const [clusterId, cluster] = Object.entries(releases).find(([, r]) => r.chart === "cluster")!;
    const operatorId = Object.keys(releases).find((id) => releases[id].chart === "cloudnative-pg")!;
    const copyId = Object.keys(releases).find((id) => releases[id].chart === "raw")!;
    expect(cluster).toMatchObject({ namespace: "mlflow", version: "0.8.1", name: "mlflow-postgres" });
    expect(cluster.depends_on).toEqual(
      expect.arrayContaining([`helm_release.${operatorId}`, `helm_release.${copyId}`]),
    );
    expect(clusterId).toBeDefined();
  });

  it("pins PostgreSQL 17 and spreads the instances over nodes", () => {
    expect(values.version.postgresql).toBe("17");
    expect(values.cluster.imageName).toBe(baseProps.image);
    expect(values.cluster.instances).toBe(3);
    expect(values.cluster.affinity).toEqual({
      enablePodAntiAffinity: true,
      topologyKey: "kubernetes.io/hostname",
      podAntiAffinityType: "required",
    });
    expect(values.cluster.enablePDB).toBe(true);
    expect(values.cluster.storage).toEqual({ size: "20Gi", storageClass: "longhorn" });
    expect(values.cluster.resources).toEqual(resources);
    expect(values.cluster.enableSuperuserAccess).toBe(false);
  });

  it("holds no secret values, only Secret names", () => {
    // The chart would put keys and a CA given as values into Secrets of its own.
    expect(values.backups.s3).toEqual({ region: "default", bucket: "mlops-backups", path: "/postgres/" });
    expect(values.backups.endpointCA.value).toBeUndefined();
    expect(renderValues(database.release.values)).not.toMatch(/password|accessKey|secretKey/i);
    expect(values.backups.secret).toEqual({ create: false, name: "mlflow-postgres-backup-s3-creds" });
    expect(values.backups.endpointCA).toEqual({ create: false, name: "object-store-ca", key: "ca.crt" });
  });

  it("needs no PodDisruptionBudget with a single instance", () => {
    const single = helmValues(build({ instances: 1 }).database.release.values);
    expect(single.cluster.instances).toBe(1);
    expect(single.cluster.enablePDB).toBe(false);
  });
});

describe("MlflowPostgres flows", () => {
  const { database } = build();
  const mlflow = { namespace: "mlflow", podLabels: { "app.kubernetes.io/name": "mlflow" } };
  const flows = database.flows(mlflow, 6443);
  const find = (namespace: string, direction: string, port: number, peerKind: string) =>
    flows.filter(
      (f) =>
        f.namespace === namespace && f.direction === direction && f.port === port && f.peer.kind === peerKind,
    );

  it("MLflow reaches the instances on 5432, both ways round", () => {
    expect(find("mlflow", "egress", 5432, "pods").map((f) => f.podLabels)).toContainEqual(mlflow.podLabels);
    expect(find("mlflow", "ingress", 5432, "pods").map((f) => f.peer)).toContainEqual({
      kind: "pods",
      ...mlflow,
    });
  });

  it("the operator reaches the instances on 8000 and 5432, and the API server reaches its webhook on 9443", () => {
    for (const port of [8000, 5432]) {
      expect(find("cnpg-system", "egress", port, "pods")).toHaveLength(1);
      expect(find("mlflow", "ingress", port, "pods").map((f) => f.peer)).toContainEqual({
        kind: "pods",
        namespace: "cnpg-system",
        podLabels: {
          "app.kubernetes.io/name": "cloudnative-pg",
          "app.kubernetes.io/instance": "cloudnative-pg",
        },
      });
    }
    expect(find("cnpg-system", "ingress", 9443, "api-server")).toHaveLength(1);
    expect(find("cnpg-system", "egress", 6443, "api-server")).toHaveLength(1);
    expect(find("mlflow", "egress", 6443, "api-server")).toHaveLength(1);
  });

  it("the instances reach the object store at the endpoint's host and port", () => {
    expect(find("mlflow", "egress", 443, "object-store").map((f) => f.peer)).toEqual([
      { kind: "object-store", host: "s3.storage.example.com" },
    ]);
    const custom = build({
      backup: { ...baseProps.backup, endpointURL: "https://rgw.example.com:7480" },
    }).database;
    expect(
      custom
        .flows(mlflow, 6443)
        .filter((f) => f.peer.kind === "object-store")
        .map((f) => f.port),
    ).toEqual([7480]);
  });
});

describe("validation", () => {
  const cases: [string, Partial<MlflowPostgresProps>, RegExp][] = [
    ["instances 0", { instances: 0 }, /instances is 0; allowed: a whole number from 1 to 9.*fix:/],
    ["a fractional instance count", { instances: 1.5 }, /instances is 1\.5/],
    [
      "a PostgreSQL 16 image",
      { image: "ghcr.io/cloudnative-pg/postgresql:16.10-system-trixie" },
      /image is "ghcr.io\/cloudnative-pg\/postgresql:16.10-system-trixie"; allowed: a pinned PostgreSQL 17 image/,
    ],
    [
      "an image without barman-cloud",
      { image: "ghcr.io/cloudnative-pg/postgresql:17.6-standard-trixie" },
      /image is .*standard.*lack barman-cloud/,
    ],
    [
      "an unpinned image",
      { image: "ghcr.io/cloudnative-pg/postgresql:17" },
      /image is "ghcr.io\/cloudnative-pg\/postgresql:17"/,
    ],
    ["a size without unit", { storage: { storageClass: "longhorn", size: "20" } }, /storage\.size is "20"/],
    [
      "credentials of another user",
      { credentials: { ...baseProps.credentials, userName: "app" } },
      /credentials\.userName is "app"; allowed: "mlflow".*fix: generate the Secret with userName mlflow/,
    ],
    [
      "credentials in another namespace",
      { credentials: { ...baseProps.credentials, namespace: "other" } },
      /credentials\.namespace is "other"; allowed: "mlflow"/,
    ],
    [
      "credentials with other keys",
      { credentials: { ...baseProps.credentials, userKey: "user" } },
      /credentials keys is "user\/password"/,
    ],
    [
      "an http endpoint",
      { backup: { ...baseProps.backup, endpointURL: "http://s3.storage.example.com" } },
      /backup\.endpointURL is "http:\/\/s3.storage.example.com"; allowed: an https:\/\/ URL/,
    ],
    [
      "an endpoint with the bucket in the path",
      { backup: { ...baseProps.backup, endpointURL: "https://s3.storage.example.com/mlops-backups" } },
      /backup\.endpointURL is .*fix: give the endpoint only/,
    ],
    [
      "an s3:// bucket",
      { backup: { ...baseProps.backup, bucket: "s3://mlops-backups" } },
      /backup\.bucket is "s3:\/\/mlops-backups"/,
    ],
    [
      "a path without slashes",
      { backup: { ...baseProps.backup, path: "postgres" } },
      /backup\.path is "postgres"/,
    ],
    [
      "a retention in hours",
      { backup: { ...baseProps.backup, retentionPolicy: "48h" } },
      /backup\.retentionPolicy is "48h"/,
    ],
    [
      "a five-field cron",
      { backup: { ...baseProps.backup, schedule: "0 2 * * *" } },
      /backup\.schedule is "0 2 \* \* \*"; allowed: a six-field cron.*fix: prepend the seconds field/,
    ],
    [
      "a credentials Secret given as a value",
      { backup: { ...baseProps.backup, credentialsSecret: { namespace: "mlflow", name: "AKIA/secret" } } },
      /backup\.credentialsSecret\.name is "AKIA\/secret"/,
    ],
    [
      "an upper-case cluster name",
      { name: "MLflow" },
      /name is "MLflow"; allowed: a DNS label of at most 50/,
    ],
  ];
  it.each(cases)(
    "refuses %s, naming the field, the value, what is allowed and the fix",
    (_what, change, message) => {
      expect(() => build(change)).toThrow(message);
    },
  );

  it("refuses operator resources that are not quantities", () => {
    expect(() =>
      build(
        {},
        { resources: { requests: { cpu: "lots", memory: "128Mi" }, limits: { cpu: "1", memory: "1Gi" } } },
      ),
    ).toThrow(/PostgresOperator: resources\.requests\.cpu is "lots"/);
  });
});

const rendered = describeWithUpstream("__tests__/constructs/postgres-cluster.test.ts", "chart renders");
const render = (name: string, chart: string, version: string, namespace: string, values: HelmValues) =>
  renderPinnedChart({ name, chart, version, namespace, values });

function only(objects: KubernetesObject[], kind: string): any {
  const found = objects.filter((o) => o.kind === kind);
  if (found.length !== 1)
    throw new Error(
      `expected one ${kind} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`,
    );
  return found[0];
}

/**
 * Drops null fields, as the API server does before validating a custom resource whose schema
 * does not mark them nullable (the chart leaves `postgresql:` empty when it has no parameters).
 */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, child]) => child !== null)
      .map(([key, child]) => [key, withoutNulls(child)]),
  );
}

/** Go's inline regex flags, e.g. `(?i)`, are no JavaScript syntax: those patterns are left to the API server. */
function withoutGoPatterns(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutGoPatterns);
  if (schema === null || typeof schema !== "object") return schema;
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key, value]) => !(key === "pattern" && typeof value === "string" && value.includes("(?")))
      .map(([key, value]) => [key, withoutGoPatterns(value)]),
  );
}

/** Validates `object` against the served schema of its kind in `crds/<crdDir>`, unknown fields refused. */
function crdErrors(crdDir: string, object: KubernetesObject): string[] {
  const [group, version] = object.apiVersion.split("/");
  const schema = withoutGoPatterns(crdSchema(crdDir, group, object.kind, version)) as object;
  return schemaValidator(schema)(withoutNulls(object));
}

rendered("cluster 0.8.1 with MlflowPostgres's values", () => {
  let objects: KubernetesObject[];
  let copies: KubernetesObject[];
  beforeAll(async () => {
    const { database } = build();
    objects = await render("mlflow-postgres", "cluster", "0.8.1", "mlflow", database.release.values);
    copies = await render(
      "mlflow-postgres-backup-credentials",
      "raw",
      "2.0.2",
      "mlflow",
      database.backupCredentials.values,
    );
  }, 120_000);

  it("renders the Cluster, the auth Database, the daily backup and the monitoring, and no Secret or ConfigMap", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      "Cluster/mlflow-postgres",
      "Database/mlflow-postgres-mlflow-auth",
      "PodMonitor/mlflow-postgres-cluster-podmonitor",
      "PrometheusRule/mlflow-postgres-alert-rules",
      "ScheduledBackup/mlflow-postgres-daily",
    ]);
  });

  it("the Cluster runs 3 PostgreSQL 17 instances on distinct nodes with the storage and resources", () => {
    const spec = only(objects, "Cluster").spec;
    expect(spec.instances).toBe(3);
    expect(spec.imageName).toBe("ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie");
    expect(spec.storage).toEqual({ size: "20Gi", storageClass: "longhorn" });
    expect(spec.resources).toEqual(resources);
    expect(spec.affinity).toEqual({
      enablePodAntiAffinity: true,
      topologyKey: "kubernetes.io/hostname",
      podAntiAffinityType: "required",
    });
    expect(spec.enableSuperuserAccess).toBe(false);
    expect(spec.env).toEqual([{ name: "AWS_DEFAULT_REGION", value: "default" }]);
  });

  it("initdb creates the tracking database owned by mlflow from the generated Secret", () => {
    expect(only(objects, "Cluster").spec.bootstrap).toEqual({
      initdb: { database: "mlflow", owner: "mlflow", secret: { name: "mlflow-database" } },
    });
  });

  it("the auth database is a Database resource owned by mlflow on this Cluster", () => {
    const database = only(objects, "Database");
    expect(database.spec).toMatchObject({
      name: MLFLOW_AUTH_DATABASE_NAME,
      owner: "mlflow",
      ensure: "present",
      cluster: { name: "mlflow-postgres" },
      databaseReclaimPolicy: "retain",
    });
  });

  it("archives WAL and base backups to the object store with the copied keys and the CA", () => {
    const backup = only(objects, "Cluster").spec.backup;
    expect(backup.retentionPolicy).toBe("45d");
    expect(backup.barmanObjectStore).toEqual({
      endpointURL: "https://s3.storage.example.com",
      endpointCA: { name: "object-store-ca", key: "ca.crt" },
      destinationPath: "s3://mlops-backups/postgres/",
      s3Credentials: {
        accessKeyId: { name: "mlflow-postgres-backup-s3-creds", key: "ACCESS_KEY_ID" },
        secretAccessKey: { name: "mlflow-postgres-backup-s3-creds", key: "ACCESS_SECRET_KEY" },
      },
      wal: { compression: "gzip", maxParallel: 1 },
      data: { compression: "gzip", jobs: 2 },
    });
    // In-tree backups: no plugin section.
    expect(only(objects, "Cluster").spec.plugins).toBeUndefined();
    const scheduled = only(objects, "ScheduledBackup").spec;
    expect(scheduled).toMatchObject({
      schedule: "0 0 2 * * *",
      method: "barmanObjectStore",
      cluster: { name: "mlflow-postgres" },
    });
  });

  it("the copy gives Barman Cloud the keys the Cluster references, read from the object-store Secret", () => {
    const backup = only(objects, "Cluster").spec.backup.barmanObjectStore.s3Credentials;
    const external = only(copies, "ExternalSecret");
    expect(external.spec.target.name).toBe(backup.accessKeyId.name);
    const keys = Object.fromEntries(external.spec.data.map((d: any) => [d.secretKey, d.remoteRef]));
    expect(keys).toEqual({
      [backup.accessKeyId.key]: { key: "object-store", property: "AWS_ACCESS_KEY_ID" },
      [backup.secretAccessKey.key]: { key: "object-store", property: "AWS_SECRET_ACCESS_KEY" },
    });
    expect(external.spec.target.template.metadata.labels).toEqual({ "cnpg.io/reload": "true" });
    const store = only(copies, "SecretStore");
    expect(store.spec.provider.kubernetes.remoteNamespace).toBe("mlflow");
    const role = only(copies, "Role");
    expect(role.rules[0].resourceNames).toEqual(["object-store"]);
    const binding = only(copies, "RoleBinding");
    expect(binding.subjects).toEqual([
      {
        kind: "ServiceAccount",
        name: store.spec.provider.kubernetes.auth.serviceAccount.name,
        namespace: "mlflow",
      },
    ]);
  });

  it("the flows select the pods the chart's PodMonitor selects", () => {
    const { database } = build();
    const monitor = only(objects, "PodMonitor").spec;
    for (const flow of database.flows({ namespace: "mlflow", podLabels: { app: "mlflow" } }, 6443)) {
      if (flow.namespace === "mlflow" && flow.podLabels.app !== "mlflow")
        expect(flow.podLabels).toEqual(monitor.selector.matchLabels);
    }
  });

  it("the PodMonitor scrapes the instances' metrics port", () => {
    const monitor = only(objects, "PodMonitor").spec;
    expect(monitor.selector.matchLabels).toEqual({
      "cnpg.io/cluster": "mlflow-postgres",
      "cnpg.io/podRole": "instance",
    });
    expect(monitor.podMetricsEndpoints).toEqual([{ port: "metrics" }]);
  });

  it("leaves the pods' security contexts to the operator, whose defaults pass restricted", () => {
    // CloudNativePG 1.30.0 (pkg/specs/pods.go GetPodSecurityContext, containers.go
    // GetSecurityContext) sets runAsNonRoot, RuntimeDefault seccomp, no privilege escalation,
    // all capabilities dropped and a read-only root unless the Cluster overrides them.
    const spec = only(objects, "Cluster").spec;
    expect(spec.podSecurityContext).toBeUndefined();
    expect(spec.securityContext).toBeUndefined();
    expect(spec.seccompProfile).toBeUndefined();
    expect(spec.postgresUID).toBe(26);
    expect(spec.postgresGID).toBe(26);
  });

  it("every custom resource matches the pinned CRDs, unknown fields refused", () => {
    for (const object of objects) {
      const dir = object.apiVersion.startsWith("monitoring.coreos.com")
        ? "prometheus-operator-v0.93.1"
        : "cloudnative-pg-v1.30.0";
      expect({ object: `${object.kind}/${object.metadata.name}`, errors: crdErrors(dir, object) }).toEqual({
        object: `${object.kind}/${object.metadata.name}`,
        errors: [],
      });
    }
    for (const object of copies.filter((o) => o.apiVersion.startsWith("external-secrets.io"))) {
      expect({ object: object.kind, errors: crdErrors("external-secrets-v2.9.0", object) }).toEqual({
        object: object.kind,
        errors: [],
      });
    }
  });
});

rendered("cloudnative-pg 0.29.0 with PostgresOperator's values", () => {
  let objects: KubernetesObject[];
  beforeAll(async () => {
    const { operator } = build();
    objects = await render(
      "cloudnative-pg",
      "cloudnative-pg",
      "0.29.0",
      "cnpg-system",
      operator.release.values,
    );
  }, 120_000);

  it("runs operator 1.30.0 with two replicas, leader election, resources and anti-affinity", () => {
    const deployment = objects.find((o) => o.kind === "Deployment") as any;
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.image).toBe("ghcr.io/cloudnative-pg/cloudnative-pg:1.30.0");
    expect(container.args).toContain("--leader-elect");
    expect(container.resources).toEqual(operatorProps(undefined as never).resources);
    const [term] = pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    expect(deployment.spec.selector.matchLabels).toEqual(term.labelSelector.matchLabels);
    // The flows name the operator's pods by these labels, and its ports.
    expect(deployment.spec.template.metadata.labels).toMatchObject(CNPG_OPERATOR_POD_LABELS);
    const ports = Object.fromEntries(container.ports.map((p: any) => [p.name, p.containerPort]));
    expect(ports).toEqual({ metrics: CNPG_OPERATOR_METRICS_PORT, "webhook-server": CNPG_WEBHOOK_PORT });
  });

  it("its pod passes the restricted Pod Security level", () => {
    const deployment = objects.find((o) => o.kind === "Deployment") as any;
    expect(podSecurityViolations(deployment.spec.template.spec as PodSpec, "restricted")).toEqual([]);
  });

  it("installs the v1.30.0 CRDs, and a PodMonitor for itself", () => {
    const crds = objects.filter((o) => o.kind === "CustomResourceDefinition").map((o) => o.metadata.name);
    expect(crds).toEqual(
      expect.arrayContaining([
        "clusters.postgresql.cnpg.io",
        "databases.postgresql.cnpg.io",
        "scheduledbackups.postgresql.cnpg.io",
      ]),
    );
    const monitor = only(objects, "PodMonitor");
    expect(crdErrors("prometheus-operator-v0.93.1", monitor)).toEqual([]);
  });
});
