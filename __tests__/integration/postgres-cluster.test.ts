/**
 * MLflow's PostgreSQL on CloudNativePG as the pinned charts render it from the constructs' values
 * (cloudnative-pg 0.29.0 with operator 1.30.0, cluster 0.8.1, raw 2.0.2), checked against the
 * pinned CRDs (CloudNativePG v1.30.0, prometheus-operator v0.93.1, External Secrets v2.9.0) and
 * the restricted Pod Security controls. The values themselves and the validation of the props
 * are in constructs/postgres-cluster.test.ts. Skipped, with the reason printed, when the pinned
 * sources are not on this machine.
 */
import type { HelmValues } from "../../constructs/lib/values";
import {
  BARMAN_PLUGIN_MIGRATION,
  CNPG_OPERATOR_METRICS_PORT,
  CNPG_OPERATOR_POD_LABELS,
  CNPG_WEBHOOK_PORT,
  MLFLOW_AUTH_DATABASE_NAME,
} from "../../constructs/platform/postgres-cluster";
import { podSecurityViolations } from "../../scripts/verify/rules/pod-security";
import type { PodSpec } from "../../scripts/verify/workloads";
import { build, operatorProps, resources } from "../support/postgres-cluster";
import {
  crdSchema,
  describeWithUpstream,
  renderPinnedChart,
  schemaValidator,
  type KubernetesObject,
} from "../support/upstream";

const rendered = describeWithUpstream("__tests__/integration/postgres-cluster.test.ts", "chart renders");
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
    const [, minor] = /:1\.(\d+)\./.exec(container.image) ?? [];
    if (Number(minor) >= 31) throw new Error(`the chart runs ${container.image}. ${BARMAN_PLUGIN_MIGRATION}`);
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
