/**
 * A minimal on-prem environment, for tests of the Rancher schema, target and stacks that vary
 * one field at a time (the registry's onprem-test sets more).
 */
import type { RancherEnvironmentInput } from "../../environments/rancher-schema";
import { onPremChartRepositories } from "../../constructs/platform/charts";
import { artifactoryChartRemote, onPremTest } from "../../environments/onprem-test";

export const onPremTestInput: RancherEnvironmentInput = {
  name: "onprem-test",
  target: "rancher",
  protection: "disposable",
  delivery: { deployedBy: "pipeline" },
  cluster: {
    kubeconfigContext: "rancher-mlops-test",
    apiServerCidrs: ["10.60.0.11/32", "10.60.0.12/32", "10.60.0.13/32"],
    ingressSourceCidrs: ["10.60.0.0/24"],
    storageClassName: "longhorn",
    maxNodes: 8,
    gpuNodes: { labelKey: "node.example.com/gpu", labelValue: "true", maxNodes: 2 },
  },
  registry: {
    host: "artifactory.example.com",
    remotes: { ...onPremTest.registry.remotes },
    pullSecretName: "artifactory-pull",
    chartRepositories: Object.fromEntries(
      onPremChartRepositories().map((url) => [url, artifactoryChartRemote("artifactory.example.com", url)]),
    ),
    servingRepository: "ml-docker-local/mlops-serving",
    trainingRepository: "ml-docker-local/mlops-training",
  },
  objectStore: {
    endpoint: "https://s3.example.com",
    artifactsBucket: "mlops-test-artifacts",
    dataBucket: "mlops-test-data",
    credentialsSecret: "object-store-credentials",
    cidrs: ["10.70.0.10/32"],
  },
  database: { instances: 1, storageGib: 30, backupRetentionDays: 14 },
  directory: {
    url: "ldaps://ad.example.com:636",
    bindDn: "CN=svc-mlops,OU=Service Accounts,DC=example,DC=com",
    bindPasswordSecret: { name: "ad-bind", key: "password" },
    userBaseDn: "OU=People,DC=example,DC=com",
    groupBaseDn: "OU=Groups,DC=example,DC=com",
    cidrs: ["10.50.0.10/32"],
    roles: { admins: ["mlops-admins"], editors: ["mlops-engineers"], viewers: ["mlops-viewers"] },
  },
  tls: { caSecret: "corp-ca" },
  platform: {
    highAvailability: false,
    domain: "mlops.test.example.com",
    // The manifests come from GitHub; the repo server reaches it through the organisation's proxy.
    pipelines: { remoteBasesProxy: "http://proxy.example.com:3128" },
  },
};
