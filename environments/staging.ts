import type { EnvironmentInput } from "./schema";

/** Staging: production-shaped (zonal NAT, immutable images) at a smaller size. */
export const staging: EnvironmentInput = {
  name: "staging",
  protection: "disposable",
  // The pipeline diffs and deploys it from a self-hosted runner inside the VPC (the API
  // endpoint is private): see "Runners" in docs/delivery.md.
  delivery: {
    deployedBy: "pipeline",
    runnerLabels: ["self-hosted", "mlops-staging"],
    diffRunnerLabels: ["self-hosted", "mlops-staging-diff"],
  },
  aws: {
    region: "eu-west-1",
    allowedAccountIds: ["222222222222"],
  },
  stateBackend: {
    bucket: "acme-mlops-terraform-state-staging",
    region: "eu-west-1",
  },
  tags: { owner: "ml-platform", "cost-center": "ml-platform-staging" },
  network: {
    vpcCidr: "10.20.0.0/16",
    azCount: 3,
    natGateways: "one-per-az",
    flowLogRetentionDays: 90,
  },
  eks: {
    version: "1.34",
    adminPrincipalArns: [
      "arn:aws:iam::222222222222:role/platform-admin",
      "arn:aws:iam::222222222222:role/ci-deploy",
    ],
    publicEndpoint: { enabled: false },
  },
  nodeGroups: {
    general: { minSize: 2, desiredSize: 3, maxSize: 6 },
    training: { maxSize: 6 },
    gpu: { maxSize: 2 },
  },
  database: {
    engineVersion: "17",
    instanceClass: "db.t4g.large",
    allocatedStorageGib: 50,
    maxAllocatedStorageGib: 200,
    multiAz: false,
    backupRetentionDays: 7,
    deletionProtection: false,
    performanceInsights: true,
  },
  storage: {
    artifactsBucket: "acme-mlops-staging-artifacts",
    dataBucket: "acme-mlops-staging-data",
  },
  registry: { immutableTags: true },
  platform: {
    highAvailability: false,
    domain: "mlops.staging.example.com",
    namespaceQuota: { cpu: "16", memory: "64Gi" },
    monitoring: { retentionDays: 15, storageGib: 50 },
    alerting: {
      receivers: [
        {
          kind: "slack",
          name: "platform-team",
          channel: "#mlops-staging-alerts",
          severities: ["critical", "warning", "info"],
          secret: { remoteKey: "mlops/staging/alerting/slack-webhook-url" },
        },
      ],
    },
  },
};
