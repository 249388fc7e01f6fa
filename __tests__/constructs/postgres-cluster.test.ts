/**
 * MLflow's PostgreSQL on CloudNativePG: the values the constructs pass and the validation of
 * their props. The objects the pinned charts render from them, checked against the pinned CRDs
 * and the restricted Pod Security controls, are in integration/postgres-cluster.test.ts.
 */
import { parse } from "yaml";
import { renderValues, type HelmValues } from "../../constructs/lib/values";
import { MLFLOW_AUTH_DATABASE } from "../../constructs/platform/mlflow";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { isOnPremInput } from "../../environments/targets";
import {
  BARMAN_PLUGIN_MIGRATION,
  CNPG_OPERATOR_OF_CHART,
  type MlflowPostgresProps,
} from "../../constructs/platform/postgres-cluster";
import { baseProps, build, operatorProps, resources } from "../support/postgres-cluster";

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
    const copyId = Object.keys(releases).find(
      (id) => releases[id].chart === "raw" && releases[id].name === "mlflow-postgres-backup-credentials",
    )!;
    expect(cluster).toMatchObject({ namespace: "mlflow", version: "0.8.1", name: "mlflow-postgres" });
    expect(cluster.depends_on).toEqual(
      expect.arrayContaining([`helm_release.${operatorId}`, `helm_release.${copyId}`]),
    );
    expect(clusterId).toBeDefined();
  });

  it("leaves out the chart's alerts that cannot be true: the HA ones by instances, zone spread, logical replication", () => {
    const excluded = (instances: number) =>
      helmValues(build({ instances }).database.release.values).cluster.monitoring.prometheusRule;
    const always = [
      "CNPGClusterZoneSpreadWarning",
      "CNPGClusterLogicalReplicationErrors",
      "CNPGClusterLogicalReplicationErrorsCritical",
      "CNPGClusterLogicalReplicationLagging",
      "CNPGClusterLogicalReplicationLaggingCritical",
      "CNPGClusterLogicalReplicationStopped",
      "CNPGClusterLogicalReplicationStoppedCritical",
    ];
    expect(excluded(1)).toEqual({
      enabled: true,
      excludeRules: ["CNPGClusterHACritical", "CNPGClusterHAWarning", ...always],
    });
    expect(excluded(2).excludeRules).toEqual(["CNPGClusterHAWarning", ...always]);
    expect(excluded(3).excludeRules).toEqual(always);
  });

  it("installs the WAL archiving and backup alerts as a PrometheusRule beside the Cluster, with monitoring only", () => {
    const { database } = build();
    const [rule] = helmValues(database.alerts!.values).resources as any[];
    expect(rule.kind).toBe("PrometheusRule");
    expect(rule.metadata).toEqual({ name: "mlflow-postgres-backup-alerts", namespace: "mlflow" });
    expect(rule.spec.groups[0].rules.map((r: any) => r.alert)).toEqual([
      "CNPGWALArchivingFailing",
      "CNPGBackupTooOld",
      "CNPGBackupFailed",
    ]);
    for (const r of rule.spec.groups[0].rules) {
      expect(r.expr).toContain('namespace="mlflow", pod=~"mlflow-postgres-([1-9][0-9]*)$"');
      expect(r.labels).toMatchObject({
        namespace: "mlflow",
        cnpg_cluster: "mlflow-postgres",
        platform: "mlops",
      });
    }
    expect(build({ monitoring: false }).database.alerts).toBeUndefined();
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

describe("the pinned CloudNativePG operator", () => {
  const releasesDir = join(__dirname, "..", "..", "environments", "releases");
  const pinned = readdirSync(releasesDir)
    .filter((file) => file.endsWith(".json"))
    .flatMap((file) => {
      const version = JSON.parse(readFileSync(join(releasesDir, file), "utf8")).current.charts[
        "cloudnative-pg"
      ];
      return version === undefined ? [] : [[file, version as string]];
    });

  it("is pinned by the release file of every on-prem environment in the registry", () => {
    const onPrem = ENVIRONMENTS.filter(isOnPremInput).map((environment) => `${environment.name}.json`);
    expect(onPrem.length).toBeGreaterThan(0);
    expect(pinned.map(([file]) => file).sort()).toEqual([...onPrem].sort());
  });

  it.each(pinned)(
    "%s pins a chart whose operator still runs in-tree Barman Cloud backups (before 1.31)",
    (file, version) => {
      const operator = CNPG_OPERATOR_OF_CHART[version];
      const [major, minor] = (operator ?? "").split(".").map(Number);
      if (operator === undefined || major !== 1 || minor >= 31)
        throw new Error(
          `releases/${file} pins cloudnative-pg ${version}, whose operator is ${operator ?? "not known to run in-tree backups"}. ${BARMAN_PLUGIN_MIGRATION}`,
        );
      expect(operator).toBe("1.30.0");
    },
  );

  it("the message names the plugin, the Cluster's plugins section and the ObjectStore", () => {
    for (const needed of [
      "plugin-barman-cloud",
      "barman-cloud.cloudnative-pg.io",
      "isWALArchiver",
      "ObjectStore",
      "1.31",
    ])
      expect(BARMAN_PLUGIN_MIGRATION).toContain(needed);
  });
});
