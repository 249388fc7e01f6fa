import type { EnvironmentInput } from "./schema";

/** Production: nothing stateful can be destroyed by Terraform; private API endpoint only. */
export const prod: EnvironmentInput = {
  name: "prod",
  protection: "protected",
  // The pipeline diffs and deploys it from a self-hosted runner inside the VPC (the API
  // endpoint is private): see "Runners" in docs/delivery.md.
  delivery: {
    deployedBy: "pipeline",
    runnerLabels: ["self-hosted", "mlops-prod"],
    diffRunnerLabels: ["self-hosted", "mlops-prod-diff"],
  },
  aws: {
    region: "eu-west-1",
    allowedAccountIds: ["333333333333"],
  },
  stateBackend: {
    bucket: "acme-mlops-terraform-state-prod",
    region: "eu-west-1",
  },
  tags: { owner: "ml-platform", "cost-center": "ml-platform-prod" },
  network: {
    vpcCidr: "10.30.0.0/16",
    azCount: 3,
    natGateways: "one-per-az",
    flowLogRetentionDays: 365,
  },
  eks: {
    version: "1.34",
    adminPrincipalArns: [
      "arn:aws:iam::333333333333:role/platform-admin",
      "arn:aws:iam::333333333333:role/ci-deploy",
    ],
    publicEndpoint: { enabled: false },
    controlPlaneLogRetentionDays: 365,
  },
  nodeGroups: {
    general: { instanceTypes: ["t3.large"], minSize: 3, desiredSize: 3, maxSize: 9 },
    training: { maxSize: 10 },
    gpu: { maxSize: 4 },
  },
  database: {
    engineVersion: "17",
    instanceClass: "db.m7g.large",
    allocatedStorageGib: 100,
    maxAllocatedStorageGib: 500,
    multiAz: true,
    backupRetentionDays: 30,
    deletionProtection: true,
    performanceInsights: true,
  },
  storage: {
    artifactsBucket: "acme-mlops-prod-artifacts",
    dataBucket: "acme-mlops-prod-data",
    noncurrentVersionExpirationDays: 365,
  },
  registry: { immutableTags: true },
  serving: { replicas: 3, maxReplicas: 12 },
  platform: {
    highAvailability: true,
    domain: "mlops.example.com",
    tlsCertificateArn: "arn:aws:acm:eu-west-1:333333333333:certificate/5f0c7a1e-2b4d-4c6e-8a9b-0d1e2f3a4b5c",
    namespaceQuota: { cpu: "32", memory: "128Gi" },
    monitoring: { retentionDays: 30, storageGib: 200 },
    alerting: {
      receivers: [
        {
          kind: "pagerduty",
          name: "on-call",
          severities: ["critical"],
          secret: { remoteKey: "mlops/prod/alerting/pagerduty", property: "routing_key" },
        },
        {
          kind: "slack",
          name: "platform-team",
          channel: "#mlops-prod-alerts",
          severities: ["critical", "warning", "info"],
          secret: { remoteKey: "mlops/prod/alerting/slack-webhook-url" },
        },
      ],
    },
  },
};
