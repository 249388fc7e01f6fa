import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { policyDocument, type PolicyStatement } from "./policy";
import type { AwsAccount } from "./account";

export interface EncryptionKeyProps {
  /** Alias without the `alias/` prefix, e.g. `mlops-dev`. */
  readonly alias: string;
  readonly account: AwsAccount;
  readonly description: string;
  /** Days KMS waits before deleting the key once scheduled. @default 30 */
  readonly deletionWindowDays?: number;
  /** Refuse `terraform destroy` of the key. @default false */
  readonly preventDestroy?: boolean;
  /**
   * Further key policy statements, for principals of other accounts (IAM policies of this
   * account cannot grant them the key). Each names its principal and its actions.
   */
  readonly additionalStatements?: readonly PolicyStatement[];
}

/**
 * Customer-managed KMS key with yearly rotation. IAM policies in the account decide who uses
 * it (the key policy delegates to the account), except CloudWatch Logs, which the key policy
 * admits for this account's log groups only.
 */
export class EncryptionKey extends Construct {
  public readonly key: KmsKey;
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const deletionWindowDays = props.deletionWindowDays ?? 30;
    if (!Number.isInteger(deletionWindowDays) || deletionWindowDays < 7 || deletionWindowDays > 30) {
      throw new Error(
        `EncryptionKey ${props.alias}: deletionWindowDays (${deletionWindowDays}) must be a whole number from 7 to 30; KMS allows no other window`,
      );
    }
    const { partition, accountId, region } = props.account;
    const keyPolicy = policyDocument(this, "KeyPolicy", [
      {
        sid: "AccountAdministersAndDelegatesThroughIam",
        actions: ["kms:*"],
        resources: ["*"],
        principals: [{ type: "AWS", identifiers: [`arn:${partition}:iam::${accountId}:root`] }],
      },
      {
        sid: "CloudWatchLogsEncryptsThisAccountsLogGroups",
        actions: [
          "kms:Encrypt",
          "kms:Decrypt",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
          "kms:GenerateDataKey",
          "kms:GenerateDataKeyWithoutPlaintext",
          "kms:DescribeKey",
        ],
        resources: ["*"],
        principals: [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }],
        conditions: [
          {
            test: "ArnLike",
            variable: "kms:EncryptionContext:aws:logs:arn",
            values: [`arn:${partition}:logs:${region}:${accountId}:log-group:*`],
          },
        ],
      },
      ...(props.additionalStatements ?? []),
    ]);
    this.key = new KmsKey(this, "Resource", {
      description: props.description,
      enableKeyRotation: true,
      rotationPeriodInDays: 365,
      deletionWindowInDays: deletionWindowDays,
      policy: keyPolicy.json,
      lifecycle: { preventDestroy: props.preventDestroy ?? false },
    });
    new KmsAlias(this, "Alias", { name: `alias/${props.alias}`, targetKeyId: this.key.keyId });
    this.arn = this.key.arn;
  }
}
