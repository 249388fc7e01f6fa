/**
 * The platform stack on a Rancher target, from an on-prem environment: no AWS anywhere, state in
 * the cluster, the GPU Operator instead of the device plugin, no second metrics-server, and
 * MLflow's PostgreSQL run by CloudNativePG with the environment's size and backups to the
 * S3-compatible store.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { parse } from "yaml";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";
import { onPremTestInput } from "./support/onprem-fixture";
import { releaseFileSchema } from "../environments/release-schema";
import { PlatformStack } from "../stacks/platform-stack";
import { rancherClusterTarget } from "../stacks/targets/rancher-target";
import { loadChartValues } from "../stacks/helm-values";
import { MLFLOW_UPLOAD_LIMITS } from "../constructs/platform/mlflow";

const environment = rancherEnvironmentSchema.parse(onPremTestInput);
const staging = releaseFileSchema.parse(
  JSON.parse(readFileSync(join(__dirname, "..", "environments", "releases", "staging.json"), "utf8")),
);
const release = {
  ...staging.current,
  charts: {
    ...staging.current.charts,
    "cloudnative-pg": "0.29.0",
    "postgres-cluster": "0.8.1",
    "gpu-operator": "v26.7.0",
  },
};

const app = Testing.app();
const stack = new PlatformStack(app, "onprem-test-platform", {
  environment,
  target: rancherClusterTarget(environment),
  release,
  chartValues: loadChartValues("onprem-test"),
});
const json = JSON.parse(Testing.synth(stack));
const releases = Object.values<any>(json.resource.helm_release);
const releaseOf = (chart: string) => releases.find((r) => r.chart === chart || r.chart.endsWith(`/${chart}`));
const valuesOf = (chart: string) => parse(releaseOf(chart).values[0]);

describe("the platform stack on a Rancher cluster", () => {
  it("labels no namespace for load balancer readiness gates (ingress-nginx proxies to endpoints)", () => {
    for (const ns of Object.values<any>(json.resource.kubernetes_namespace_v1)) {
      expect(Object.keys(ns.metadata.labels ?? {}).filter((key) => key.startsWith("elbv2.k8s.aws/"))).toEqual(
        [],
      );
    }
  });

  it("takes every chart from an Artifactory remote", () => {
    for (const release of releases) {
      const source = release.repository ?? release.chart;
      expect({ release: release.name, source }).toEqual({
        release: release.name,
        source: expect.stringMatching(/^(https|oci):\/\/artifactory\.example\.com\//),
      });
    }
  });

  it("points every chart's images at Artifactory, with the pull Secret", () => {
    for (const chart of [
      "cert-manager",
      "kube-prometheus-stack",
      "mlflow",
      "argo-cd",
      "gpu-operator",
      "cloudnative-pg",
    ]) {
      const text = JSON.stringify(valuesOf(chart));
      expect({ chart, mirrored: text.includes("artifactory.example.com") }).toEqual({
        chart,
        mirrored: true,
      });
      expect({ chart, pullSecret: text.includes("artifactory-pull") }).toEqual({ chart, pullSecret: true });
    }
    const pipelines = valuesOf("argocd-apps").applications["kubeflow-pipelines"].source.kustomize;
    expect(pipelines.images.length).toBeGreaterThan(10);
    expect(
      pipelines.images.every((entry: string) => entry.split("=")[1].startsWith("artifactory.example.com/")),
    ).toBe(true);
  });

  it("serves the UIs over TLS with certificates from the organisation's CA", () => {
    const issuer = releases.find((r) => r.name === "certificate-issuer");
    const resources = parse(issuer.values[0]).resources;
    expect(resources.map((r: any) => r.kind)).toEqual(["ClusterIssuer", "Certificate"]);
    expect(resources[0]).toEqual({
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "organisation-ca" },
      spec: { ca: { secretName: "corp-ca" } },
    });
    const mlflow = valuesOf("mlflow").ingress;
    expect(mlflow.annotations["cert-manager.io/cluster-issuer"]).toBe("organisation-ca");
    expect(mlflow.tls).toEqual([
      { hosts: ["mlflow.mlops.test.example.com"], secretName: "mlflow-mlops-test-example-com-tls" },
    ]);
    const argocd = valuesOf("argo-cd").server.ingress;
    expect(argocd).toMatchObject({
      tls: true,
      annotations: { "cert-manager.io/cluster-issuer": "organisation-ca" },
    });
  });

  it("holds no AWS provider, resource or data source", () => {
    expect(Object.keys(json.provider ?? {}).sort()).toEqual(["helm", "kubernetes"]);
    expect(Object.keys(json.resource).filter((type) => type.startsWith("aws_"))).toEqual([]);
    expect(Object.keys(json.data ?? {}).filter((type) => type.startsWith("aws_"))).toEqual([]);
    expect(JSON.stringify(json)).not.toMatch(/amazonaws\.com|arn:aws/);
  });

  it("reaches the cluster through the kubeconfig context, the file coming from KUBE_CONFIG_PATH", () => {
    expect(json.provider.kubernetes).toEqual([{ config_context: "rancher-mlops-test" }]);
    expect(json.provider.helm).toEqual([{ kubernetes: { config_context: "rancher-mlops-test" } }]);
    expect(json.terraform.backend).toEqual({
      kubernetes: {
        secret_suffix: "onprem-test-platform",
        namespace: "terraform-state",
        config_context: "rancher-mlops-test",
      },
    });
  });

  it("runs the GPU Operator on the environment's GPU nodes instead of the device plugin and its DCGM chart", () => {
    expect(releaseOf("gpu-operator")).toBeDefined();
    expect(releaseOf("nvidia-device-plugin")).toBeUndefined();
    expect(releaseOf("dcgm-exporter")).toBeUndefined();
    expect(JSON.stringify(valuesOf("gpu-operator"))).toContain("node.example.com/gpu");
  });

  it("leaves metrics to RKE2's own metrics-server and installs no cloud controllers", () => {
    for (const chart of ["metrics-server", "aws-load-balancer-controller", "cluster-autoscaler"]) {
      expect(releaseOf(chart)).toBeUndefined();
    }
  });

  it("runs MLflow's PostgreSQL with CloudNativePG at the environment's size, backed up to the store", () => {
    expect(releaseOf("cloudnative-pg").namespace).toBe("cnpg-system");
    const cluster = valuesOf("cluster");
    expect(cluster.cluster.instances).toBe(1);
    expect(cluster.cluster.storage).toEqual({ size: "30Gi", storageClass: "longhorn" });
    expect(cluster.backups).toMatchObject({
      enabled: true,
      endpointURL: "https://s3.example.com",
      retentionPolicy: "14d",
    });
    const mlflow = valuesOf("mlflow");
    expect(mlflow.backendStore.postgres.host).toBe("mlflow-postgres-rw.mlflow.svc");
    expect(mlflow.backendStore.existingDatabaseSecret.name).toBe("mlflow-database");
    // The RDS master-user Job exists only for managed databases.
    const jobs = Object.values<any>(json.resource.kubernetes_job_v1 ?? {}).map((j) => j.metadata.name);
    expect(jobs).not.toContain("mlflow-database-user");
  });

  it("lets the CloudNativePG operator reach the instances and the instances reach the API server", () => {
    const policies = Object.values<any>(json.resource.kubernetes_network_policy_v1).filter(
      (p) => p.metadata.namespace.includes("Mlflow") || p.metadata.namespace === "mlflow",
    );
    const names = policies.map((p) => p.metadata.name);
    expect(names).toEqual(
      expect.arrayContaining(["allow-ingress-postgres-operator", "allow-egress-kubernetes-api"]),
    );
    // Canal matches after DNAT: the API server at the control-plane nodes on 6443, no Service IP rule.
    const api = policies.find((p) => p.metadata.name === "allow-egress-kubernetes-api");
    expect(api.spec.egress[0].ports).toEqual([{ port: "6443", protocol: "TCP" }]);
    expect(names).not.toContain("allow-egress-kubernetes-api-service");
  });

  it("lets uploads of model artifacts up to 5 GiB through ingress-nginx to MLflow, with matching timeouts", () => {
    expect(valuesOf("mlflow").ingress.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/proxy-body-size": "5120m",
      "nginx.ingress.kubernetes.io/proxy-read-timeout": "600",
      "nginx.ingress.kubernetes.io/proxy-send-timeout": "600",
    });
    expect(MLFLOW_UPLOAD_LIMITS).toEqual({ maxBodyMiB: 5120, timeoutSeconds: 600 });
  });
});
