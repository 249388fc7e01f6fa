/**
 * Where each stack keeps its state: the on-prem Kubernetes backend synthesizes as Terraform's
 * `kubernetes` backend, alone, with the environment's context and namespace.
 */
import { Testing, TerraformStack } from "cdktf";
import { configureStateBackend } from "../stacks/state-backend";
import { rancherEnvironmentSchema, type RancherEnvironmentInput } from "../environments/rancher-schema";
import { ENVIRONMENTS } from "../environments";
import { loadEnvironments } from "../environments/load";

function backendOf(configure: (stack: TerraformStack) => void): Record<string, unknown> {
  const app = Testing.app();
  const stack = new TerraformStack(app, "onprem-test-platform");
  configure(stack);
  return JSON.parse(Testing.synth(stack)).terraform.backend;
}

const onPrem = rancherEnvironmentSchema.parse({
  name: "onprem-test",
  target: "rancher",
  protection: "disposable",
  cluster: {
    kubeconfigContext: "rancher-mlops-test",
    apiServerCidrs: ["10.60.0.11/32"],
    ingressSourceCidrs: ["10.60.0.0/24"],
    storageClassName: "longhorn",
    maxNodes: 4,
    gpuNodes: { labelKey: "node.example.com/gpu", labelValue: "true", maxNodes: 1 },
  },
  registry: {
    host: "artifactory.example.com",
    remotes: {
      "docker.io": "docker-remote",
      "quay.io": "quay-remote",
      "ghcr.io": "ghcr-remote",
      "registry.k8s.io": "k8s-remote",
      "nvcr.io": "nvcr-remote",
      "public.ecr.aws": "ecr-public-remote",
      "ecr-public.aws.com": "ecr-public-legacy-remote",
      "gcr.io": "gcr-remote",
    },
    pullSecretName: "artifactory-pull",
    chartRepositories: {},
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
  directory: {
    url: "ldaps://ad.example.com",
    bindDn: "CN=svc-mlops,OU=Service Accounts,DC=example,DC=com",
    bindPasswordSecret: { name: "ad-bind", key: "password" },
    userBaseDn: "OU=People,DC=example,DC=com",
    groupBaseDn: "OU=Groups,DC=example,DC=com",
    roles: { admins: ["mlops-admins"] },
  },
  tls: { caSecret: "corp-ca" },
  platform: { highAvailability: false, domain: "mlops.test.example.com" },
} satisfies RancherEnvironmentInput);

describe("state backends", () => {
  it("keeps on-prem state in the cluster, through the environment's kubeconfig context", () => {
    expect(backendOf((stack) => configureStateBackend(stack, "onprem-test-platform", onPrem))).toEqual({
      kubernetes: {
        secret_suffix: "onprem-test-platform",
        namespace: "terraform-state",
        config_context: "rancher-mlops-test",
      },
    });
  });

  it("keeps AWS state in S3 with native locking, or in a local file without a state bucket", () => {
    const loaded = loadEnvironments(ENVIRONMENTS);
    if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
    const [dev, , prod] = loaded.environments;
    expect(backendOf((stack) => configureStateBackend(stack, "dev-platform", dev))).toEqual({
      local: { path: "../../../terraform.dev-platform.tfstate" },
    });
    expect(backendOf((stack) => configureStateBackend(stack, "prod-platform", prod))).toMatchObject({
      s3: { bucket: "acme-mlops-terraform-state-prod", encrypt: true, use_lockfile: true },
    });
  });
});
