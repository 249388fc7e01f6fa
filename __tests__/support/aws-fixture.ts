/** A minimal AWS stack for unit tests of single constructs. */
import { Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AwsAccount } from "../../constructs/aws/account";
import { EncryptionKey } from "../../constructs/aws/encryption-key";
import { Network } from "../../constructs/aws/network";
import type { TerraformJson } from "./synth";

export interface AwsFixture {
  readonly stack: TerraformStack;
  readonly account: AwsAccount;
  readonly key: EncryptionKey;
  readonly network: Network;
}

export function awsFixture(): AwsFixture {
  const stack = new TerraformStack(Testing.app(), "unit");
  new AwsProvider(stack, "aws", { region: "eu-west-1" });
  const account = new AwsAccount(stack, "Account", "eu-west-1");
  const key = new EncryptionKey(stack, "Key", { alias: "unit", account, description: "unit test key" });
  const network = new Network(stack, "Network", {
    name: "unit",
    account,
    cidr: "10.0.0.0/16",
    clusterName: "unit",
    key,
  });
  return { stack, account, key, network };
}

export function synthJson(stack: TerraformStack): TerraformJson {
  return JSON.parse(Testing.synth(stack)) as TerraformJson;
}
