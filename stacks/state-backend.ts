import { LocalBackend, S3Backend, type TerraformStack } from "cdktf";
import type { Environment } from "../environments/schema";

/**
 * Every stack keeps its own state: in the environment's S3 bucket (encrypted, locked with S3
 * native lock files, so no DynamoDB table) or, when the environment names none, in a local
 * file at the project root, outside `cdktf.out` which synthesis rewrites.
 */
export function configureStateBackend(
  stack: TerraformStack,
  stackName: string,
  environment: Environment,
): void {
  const state = environment.stateBackend;
  if (!state) {
    // A relative path keeps the synthesized JSON free of this machine's directories.
    new LocalBackend(stack, { path: `../../../terraform.${stackName}.tfstate` });
    return;
  }
  new S3Backend(stack, {
    bucket: state.bucket,
    key: `${state.keyPrefix}/${stackName}.tfstate`,
    region: state.region,
    encrypt: true,
  });
  // cdktf 0.21's S3Backend predates `use_lockfile` (Terraform >= 1.10).
  stack.addOverride("terraform.backend.s3.use_lockfile", true);
}
