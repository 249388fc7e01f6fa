import type { EnvironmentInput } from "./schema";

/** Development: small, cheap, and torn down freely (data included). */
export const dev: EnvironmentInput = {
  name: "dev",
  protection: "disposable",
  // Deployed by hand (npm run doctor, then cdktf deploy) with its state in local files: the
  // pipeline neither diffs nor deploys it. To have CI deploy it, give it a stateBackend and
  // delivery: { deployedBy: "pipeline", runnerLabels: [...] }.
  delivery: { deployedBy: "manual" },
  aws: {
    region: "eu-west-1",
    allowedAccountIds: ["111111111111"],
  },
  tags: { owner: "ml-platform", "cost-center": "ml-platform-dev" },
  network: {
    vpcCidr: "10.10.0.0/16",
    azCount: 3,
    natGateways: "single",
    flowLogRetentionDays: 30,
  },
  eks: {
    version: "1.34",
    adminPrincipalArns: [
      "arn:aws:iam::111111111111:role/platform-admin",
      "arn:aws:iam::111111111111:role/ci-deploy",
    ],
    // EXAMPLE: 203.0.113.0/24 is a documentation range (RFC 5737) standing for your office or
    // VPN egress range; replace it before deploying. The schema refuses documentation ranges in
    // any environment the pipeline deploys.
    publicEndpoint: { enabled: true, allowedCidrs: ["203.0.113.0/24"] },
    controlPlaneLogRetentionDays: 30,
  },
  nodeGroups: {
    general: { minSize: 2, desiredSize: 2, maxSize: 4 },
    training: { maxSize: 4 },
    gpu: { maxSize: 2 },
  },
  database: {
    engineVersion: "17",
    instanceClass: "db.t4g.medium",
    allocatedStorageGib: 20,
    maxAllocatedStorageGib: 50,
    multiAz: false,
    backupRetentionDays: 1,
    deletionProtection: false,
    performanceInsights: false,
  },
  storage: {
    artifactsBucket: "acme-mlops-dev-artifacts",
    dataBucket: "acme-mlops-dev-data",
    noncurrentVersionExpirationDays: 30,
  },
  registry: { immutableTags: false },
  platform: {
    highAvailability: false,
    domain: "mlops.dev.example.com",
    // The serving namespace at full scale: serving HPA at its ceiling, every predictor at its
    // maximum with KServe's logger agent (100m, 1Gi limit each), the monthly retraining, the
    // nightly batch run and both models' monitoring jobs at once (14.15 CPU, 56.5Gi of memory limits).
    namespaceQuota: { cpu: "15", memory: "64Gi" },
    monitoring: { retentionDays: 7, storageGib: 20 },
    alerting: {
      receivers: [
        {
          kind: "slack",
          name: "platform-team",
          channel: "#mlops-dev-alerts",
          severities: ["critical", "warning", "info"],
          secret: { remoteKey: "mlops/dev/alerting/slack-webhook-url" },
        },
      ],
    },
  },
};
