/**
 * Where each stack keeps its state: the on-prem Kubernetes backend synthesizes as Terraform's
 * `kubernetes` backend, alone, with the environment's context and namespace.
 */
import { Testing, TerraformStack } from "cdktf";
import { configureStateBackend } from "../stacks/state-backend";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";
import { onPremTestInput } from "./support/onprem-fixture";
import { ENVIRONMENTS } from "../environments";
import { loadEnvironments } from "../environments/load";

function backendOf(configure: (stack: TerraformStack) => void): Record<string, unknown> {
  const app = Testing.app();
  const stack = new TerraformStack(app, "onprem-test-platform");
  configure(stack);
  return JSON.parse(Testing.synth(stack)).terraform.backend;
}

const onPrem = rancherEnvironmentSchema.parse(onPremTestInput);

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
      s3: {
        bucket: "acme-mlops-terraform-state-prod",
        encrypt: true,
        use_lockfile: true,
        // The bootstrap's state key, not S3-managed keys, which encrypt: true alone would pick.
        kms_key_id: "arn:aws:kms:eu-west-1:333333333333:alias/mlops-terraform-state",
      },
    });
  });
});
