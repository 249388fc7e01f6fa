import type { Construct } from "constructs";
import {
  LocalBackend,
  S3Backend,
  TerraformBackend,
  TerraformRemoteState,
  type DataTerraformRemoteStateConfig,
  type TerraformStack,
} from "cdktf";
import { isOnPrem, type AnyEnvironment } from "../environments/targets";
import { accountOf } from "./promotion-topology";

/** Alias of the key each account's bootstrap creates for its Terraform state. */
export const STATE_KEY_ALIAS = "mlops-terraform-state";

/** The AWS partition of a region: state backends cannot read it from a data source. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * The state key as the S3 backend names it (`kms_key_id`): without it, `encrypt: true` writes
 * the state with S3-managed keys (SSE-S3), overriding the bucket's default SSE-KMS, and anyone
 * who may read the bucket reads every state with the credentials in it.
 */
export function stateKeyArn(region: string, accountId: string): string {
  return `arn:${partitionOf(region)}:kms:${region}:${accountId}:alias/${STATE_KEY_ALIAS}`;
}

/**
 * Terraform's `kubernetes` backend (state in a Secret `tfstate-<workspace>-<suffix>`, locked
 * with a Lease), which cdktf 0.21 has no class for. The kubeconfig file comes from
 * `KUBE_CONFIG_PATH` at run time, as for the providers.
 */
export interface KubernetesStateBackendConfig {
  readonly secretSuffix: string;
  readonly namespace: string;
  readonly configContext: string;
}

export class KubernetesStateBackend extends TerraformBackend {
  constructor(
    scope: Construct,
    private readonly config: KubernetesStateBackendConfig,
  ) {
    super(scope, "backend", "kubernetes");
  }

  protected override synthesizeAttributes(): Record<string, unknown> {
    return {
      secret_suffix: this.config.secretSuffix,
      namespace: this.config.namespace,
      config_context: this.config.configContext,
    };
  }

  public getRemoteStateDataSource(scope: Construct, name: string): TerraformRemoteState {
    return new KubernetesRemoteState(scope, name, {
      secret_suffix: this.config.secretSuffix,
      namespace: this.config.namespace,
      config_context: this.config.configContext,
    });
  }
}

class KubernetesRemoteState extends TerraformRemoteState {
  constructor(
    scope: Construct,
    id: string,
    config: DataTerraformRemoteStateConfig & Record<string, unknown>,
  ) {
    super(scope, id, "kubernetes", config);
  }
}

/**
 * Every stack keeps its own state: on AWS in the environment's S3 bucket (encrypted, locked with
 * S3 native lock files, so no DynamoDB table) or, when the environment names none, in a local
 * file at the project root, outside `cdktf.out` which synthesis rewrites; on-prem in a Secret of
 * the cluster itself (Terraform's Kubernetes backend, locked with a Lease), reached through the
 * same kubeconfig context as the providers.
 */
export function configureStateBackend(
  stack: TerraformStack,
  stackName: string,
  environment: AnyEnvironment,
): void {
  if (isOnPrem(environment)) {
    new KubernetesStateBackend(stack, {
      secretSuffix: stackName,
      namespace: environment.stateBackend.namespace,
      configContext: environment.cluster.kubeconfigContext,
    });
    return;
  }
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
    kmsKeyId: stateKeyArn(state.region, accountOf(environment, "the Terraform state key")),
  });
  // cdktf 0.21's S3Backend predates `use_lockfile` (Terraform >= 1.10).
  stack.addOverride("terraform.backend.s3.use_lockfile", true);
}
