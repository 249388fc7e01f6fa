/**
 * PlatformSecrets on targets with and without a cloud secret store: generated passwords work
 * everywhere, copies from a store only where one exists, and asking for a copy without a store
 * fails with the fix.
 */
import { Testing, TerraformStack } from "cdktf";
import { parse } from "yaml";
import { renderValues } from "../../constructs/lib/values";
import { ChartCatalog } from "../../constructs/platform/chart-catalog";
import type { ClusterTarget } from "../../constructs/platform/cluster-target";
import { PlatformSecrets, type PlatformSecretsProps } from "../../constructs/platform/platform-secrets";

/** A target that reaches its cluster by kubeconfig and keeps its database credentials in the cluster. */
function inClusterTarget(overrides: Partial<ClusterTarget> = {}): ClusterTarget {
  return {
    description: "test cluster",
    clusterName: "test",
    access: { kind: "kubeconfig", configPath: "~/.kube/config", context: "test" },
    apiServer: {
      serviceIp: "10.43.0.1",
      servicePort: 443,
      cidrs: ["10.60.0.0/24"],
      port: 6443,
      webhookSourceCidrs: ["10.60.0.0/24", "10.42.0.0/16"],
    },
    networkPolicyEngine: "post-dnat",
    podCidrs: ["10.42.0.0/16"],
    database: {
      host: "mlflow-db-rw.mlflow.svc",
      port: 5432,
      name: "mlflow",
      credentials: { kind: "existing-secret", secretName: "mlflow-database" },
    },
    databaseCidrs: ["10.42.0.0/16"],
    objectStore: {
      artifactsBucket: "artifacts",
      dataBucket: "data",
      region: "us-east-1",
      endpoint: "https://s3.example.com",
      credentials: { kind: "secret", secretName: "object-store" },
    },
    registry: {
      servingRepository: "registry.example.com/serving",
      trainingRepository: "registry.example.com/training",
      requireImages: () => undefined,
    },
    traffic: {
      ingressClassName: "nginx",
      ingressAnnotations: () => ({}),
      loadBalancerServiceAnnotations: () => ({}),
      healthCheckAnnotations: () => ({}),
      largeRequestAnnotations: () => ({}),
      tls: true,
      sourceCidrs: ["10.60.0.0/24"],
      servingExposure: "ingress",
      weightedRouting: "canary-ingress",
      targetNamespaceLabels: {},
    },
    objectStoreCidrs: ["10.70.0.0/24"],
    storageClass: { name: "longhorn" },
    serviceAccountAnnotations: () => ({}),
    scrapeableComponents: { controllerManager: true, scheduler: true, etcd: true, kubeProxy: true },
    databaseProvisioning: { kind: "cloudnative-pg", instances: 1, storageGib: 20, backupRetentionDays: 7 },
    gpu: { kind: "gpu-operator", driver: "preinstalled" },
    gpuNodes: { labels: { "node.example.com/gpu": "true" } },
    placement: {
      general: { nodeSelector: {}, tolerations: [] },
      training: { nodeSelector: {}, tolerations: [] },
      gpu: { nodeSelector: { "node.example.com/gpu": "true" }, tolerations: [] },
    },
    bundled: { metricsServer: true },
    ...overrides,
  };
}

const credential = {
  namespace: "mlflow",
  secretName: "mlflow-admin",
  userKey: "username",
  passwordKey: "password",
  userName: "admin",
};

function resourcesOf(target: ClusterTarget, extra: Partial<PlatformSecretsProps> = {}): any[] {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  const secrets = new PlatformSecrets(stack, "Secrets", {
    charts: new ChartCatalog({ versions: { "platform-resources": "2.0.2" }, values: {} }),
    target,
    namespace: "external-secrets",
    databaseSecret: { namespace: "mlflow", name: "database-admin" },
    generated: [credential],
    ...extra,
  });
  // The values as Helm receives them (rendered to YAML and read back).
  return parse(renderValues(secrets.release.values)).resources;
}

describe("PlatformSecrets", () => {
  it("generates passwords on a target without a cloud secret store, and creates no store", () => {
    const kinds = resourcesOf(inClusterTarget()).map((r) => `${r.kind}/${r.metadata.name}`);
    expect(kinds).toEqual(["Password/mlflow-admin-password", "ExternalSecret/mlflow-admin"]);
  });

  it("reads the database credentials from the store where the target has one", () => {
    const target = inClusterTarget({
      secretStore: { provider: "aws-secrets-manager", region: "eu-west-1" },
      database: {
        host: "db.example.com",
        port: 5432,
        name: "mlflow",
        credentials: { kind: "external-secret", remoteKey: "arn:aws:secretsmanager:eu-west-1:1:secret:rds" },
      },
    });
    const [store, database] = resourcesOf(target);
    expect(store).toMatchObject({
      kind: "ClusterSecretStore",
      spec: { provider: { aws: { region: "eu-west-1" } } },
    });
    expect(database).toMatchObject({
      kind: "ExternalSecret",
      metadata: { name: "database-admin", namespace: "mlflow" },
    });
  });

  it("refuses store copies on a target without a store, naming them and the fix", () => {
    expect(() =>
      resourcesOf(inClusterTarget(), {
        fromSecretStore: [
          { namespace: "monitoring", secretName: "alert-receiver-team", keys: { url: { remoteKey: "x" } } },
        ],
      }),
    ).toThrow(
      "PlatformSecrets: test cluster has no cloud secret store, yet secrets (monitoring/alert-receiver-team) are to come from one; fix: give the target a secretStore, or create those Secrets in the cluster and reference them by name",
    );
    expect(() =>
      resourcesOf(
        inClusterTarget({
          database: {
            host: "h",
            port: 5432,
            name: "m",
            credentials: { kind: "external-secret", remoteKey: "rds" },
          },
        }),
      ),
    ).toThrow("yet its database credentials (rds) are to come from one");
  });
});
