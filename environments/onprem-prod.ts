import type { RancherEnvironmentInput } from "./rancher-schema";
import { ORGANISATION_PROXY, onPremTest } from "./onprem-test";
import { ORGANISATION_ROOT_CA } from "./organisation-ca";

/**
 * On-prem production: the Rancher prod cluster on RHEL, with the GPU prod nodes. Protected:
 * three PostgreSQL instances, highly available components, no local admin logins. It shares
 * Artifactory, the object store appliance and Active Directory with onprem-test.
 */
export const onPremProd: RancherEnvironmentInput = {
  name: "onprem-prod",
  target: "rancher",
  protection: "protected",
  delivery: { deployedBy: "pipeline" },
  cluster: {
    kubeconfigContext: "rancher-mlops-prod",
    kubernetesVersion: "1.34",
    apiServerCidrs: ["10.61.0.11/32", "10.61.0.12/32", "10.61.0.13/32"],
    ingressSourceCidrs: ["10.61.0.0/24"],
    storageClassName: "longhorn",
    maxNodes: 16,
    gpuNodes: {
      labelKey: "node.example.com/gpu",
      labelValue: "gpu-prod",
      maxNodes: 4,
      taintKey: "nvidia.com/gpu",
    },
  },
  registry: {
    ...onPremTest.registry,
    servingRepository: "ml-docker-prod-local/mlops-serving",
    trainingRepository: "ml-docker-prod-local/mlops-training",
  },
  objectStore: {
    ...onPremTest.objectStore,
    artifactsBucket: "mlops-prod-artifacts",
    dataBucket: "mlops-prod-data",
  },
  database: { instances: 3, storageGib: 100, backupRetentionDays: 30 },
  directory: {
    ...onPremTest.directory,
    bindDn: "CN=svc-mlops-prod,OU=Service Accounts,DC=example,DC=com",
    roles: {
      admins: ["mlops-admins"],
      editors: ["mlops-engineers"],
      viewers: ["mlops-viewers", "data-scientists"],
    },
  },
  tls: { ...onPremTest.tls },
  serving: { replicas: 3, maxReplicas: 12 },
  platform: {
    highAvailability: true,
    domain: "mlops.prod.example.com",
    namespaceQuota: { cpu: "32", memory: "128Gi" },
    monitoring: { retentionDays: 30, storageGib: 200 },
    pipelines: {
      manifestsRepository: "https://git.example.com/mirrors/kubeflow-pipelines.git",
      // The mirror's certificate comes from the organisation's CA.
      manifestsRepositoryCaCertificate: ORGANISATION_ROOT_CA,
      // Production's mirror serves only authenticated clients.
      manifestsRepositoryCredentialsSecret: "kfp-mirror-read",
      // Its kustomizations pull Argo Workflows from GitHub as remote bases: the repo server's git
      // is pointed at the organisation's mirror of it, on the same host and CA.
      remoteBaseMirrors: {
        "https://github.com/argoproj/argo-workflows": "https://git.example.com/mirrors/argo-workflows.git",
      },
    },
    alerting: {
      receivers: [
        { kind: "pagerduty", name: "on-call", severities: ["critical"], proxyUrl: ORGANISATION_PROXY },
        {
          kind: "slack",
          name: "platform-team",
          channel: "#mlops-prod-alerts",
          severities: ["critical", "warning", "info"],
          proxyUrl: ORGANISATION_PROXY,
        },
      ],
      // A page when the alert path itself breaks: the checking service alerts when pings stop.
      heartbeat: { proxyUrl: ORGANISATION_PROXY, intervalMinutes: 5 },
    },
  },
};
