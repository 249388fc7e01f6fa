import type { RancherEnvironmentInput } from "./rancher-schema";
import { ORGANISATION_ROOT_CA } from "./organisation-ca";
import { onPremChartRepositories } from "../constructs/platform/charts";

/**
 * Artifactory's Helm remote for an upstream chart repository, as the organisation names them:
 * `https://charts.jetstack.io` -> `https://artifactory.example.com/artifactory/api/helm/charts-jetstack-io`,
 * OCI registries through the Docker remote of the same key.
 */
export function artifactoryChartRemote(host: string, upstream: string): string {
  const key = upstream.replace(/^(https|oci):\/\//, "").replace(/[^a-z0-9]+/g, "-");
  return upstream.startsWith("oci://")
    ? `oci://${host}/${key}`
    : `https://${host}/artifactory/api/helm/${key}`;
}

/** The organisation's outbound HTTP proxy: the clusters reach the internet only through it. */
export const ORGANISATION_PROXY = "http://proxy.example.com:3128";

/** Artifactory of the on-prem environments and its remote repository per upstream registry. */
const ARTIFACTORY = "artifactory.example.com";
const REGISTRY_REMOTES = {
  "docker.io": "docker-remote",
  "quay.io": "quay-remote",
  "ghcr.io": "ghcr-remote",
  "registry.k8s.io": "k8s-remote",
  "nvcr.io": "nvcr-remote",
  "public.ecr.aws": "ecr-public-remote",
  "ecr-public.aws.com": "ecr-public-legacy-remote",
  "gcr.io": "gcr-remote",
};

/** On-prem test: the Rancher test cluster on RHEL, with the GPU test nodes. Disposable. */
export const onPremTest: RancherEnvironmentInput = {
  name: "onprem-test",
  target: "rancher",
  protection: "disposable",
  delivery: { deployedBy: "pipeline" },
  cluster: {
    kubeconfigContext: "rancher-mlops-test",
    kubernetesVersion: "1.34",
    apiServerCidrs: ["10.60.0.11/32", "10.60.0.12/32", "10.60.0.13/32"],
    ingressSourceCidrs: ["10.60.0.0/24"],
    storageClassName: "longhorn",
    maxNodes: 8,
    gpuNodes: { labelKey: "node.example.com/gpu", labelValue: "gpu-test", maxNodes: 2 },
  },
  registry: {
    host: ARTIFACTORY,
    remotes: REGISTRY_REMOTES,
    pullSecretName: "artifactory-pull",
    chartRepositories: Object.fromEntries(
      onPremChartRepositories().map((url) => [url, artifactoryChartRemote(ARTIFACTORY, url)]),
    ),
    servingRepository: "ml-docker-test-local/mlops-serving",
    trainingRepository: "ml-docker-test-local/mlops-training",
  },
  objectStore: {
    endpoint: "https://s3.example.com",
    artifactsBucket: "mlops-test-artifacts",
    dataBucket: "mlops-test-data",
    credentialsSecret: "object-store-credentials",
    cidrs: ["10.70.0.10/32"],
    caBundleSecret: { name: "corp-ca-bundle", key: "ca.crt" },
  },
  database: { instances: 1, storageGib: 30, backupRetentionDays: 14 },
  directory: {
    url: "ldaps://ad.example.com:636",
    bindDn: "CN=svc-mlops-test,OU=Service Accounts,DC=example,DC=com",
    bindPasswordSecret: { name: "ad-bind", key: "password" },
    caSecret: { name: "corp-ca-bundle", key: "ca.crt" },
    userBaseDn: "OU=People,DC=example,DC=com",
    groupBaseDn: "OU=Groups,DC=example,DC=com",
    cidrs: ["10.50.0.10/32", "10.50.0.11/32"],
    roles: {
      admins: ["mlops-admins"],
      editors: ["mlops-engineers", "data-scientists"],
      viewers: ["mlops-viewers"],
    },
  },
  tls: { caSecret: "corp-ca", caBundleSecret: { name: "corp-ca-bundle", key: "ca.crt" } },
  platform: {
    highAvailability: false,
    domain: "mlops.test.example.com",
    // The serving namespace at full scale: serving HPA at its ceiling, every predictor at its
    // maximum with KServe's logger agent (every model logs), the monthly retraining, the nightly
    // batch run and both models' monitoring jobs at once (12.95 CPU, 50.5Gi of memory limits).
    namespaceQuota: { cpu: "14", memory: "56Gi" },
    monitoring: { retentionDays: 7, storageGib: 20 },
    // The clusters reach no internet: Argo CD reads the manifests from the organisation's mirror.
    pipelines: {
      manifestsRepository: "https://git.example.com/mirrors/kubeflow-pipelines.git",
      // The mirror's certificate comes from the organisation's CA.
      manifestsRepositoryCaCertificate: ORGANISATION_ROOT_CA,
      // Its kustomizations pull Argo Workflows from GitHub as remote bases: the repo server's git
      // is pointed at the organisation's mirror of it, on the same host and CA.
      remoteBaseMirrors: {
        "https://github.com/argoproj/argo-workflows": "https://git.example.com/mirrors/argo-workflows.git",
      },
    },
    // Slack and the heartbeat service are on the internet, reached through the organisation's proxy.
    alerting: {
      receivers: [
        {
          kind: "slack",
          name: "platform-team",
          channel: "#mlops-test-alerts",
          severities: ["critical", "warning"],
          proxyUrl: ORGANISATION_PROXY,
        },
      ],
      heartbeat: { proxyUrl: ORGANISATION_PROXY },
    },
  },
};
