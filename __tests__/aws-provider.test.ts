import { Testing, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { ENVIRONMENTS } from "../environments";
import { loadEnvironments } from "../environments/load";
import { isAws } from "../environments/targets";
import { configureAwsProvider } from "../stacks/aws-provider";

const loaded = loadEnvironments(ENVIRONMENTS);
if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
const [dev] = loaded.environments.filter(isAws);

describe("configureAwsProvider", () => {
  it("configures the environment's region, accounts and tags, naming the stack", () => {
    const stack = new TerraformStack(Testing.app(), "dev-example");
    configureAwsProvider(stack, dev);
    const [provider] = JSON.parse(Testing.synth(stack)).provider.aws;
    expect(provider).toEqual({
      region: dev.aws.region,
      allowed_account_ids: dev.aws.allowedAccountIds,
      default_tags: [
        {
          tags: {
            ...dev.tags,
            environment: "dev",
            "managed-by": "cdktf",
            "mlops-platform/stack": "dev-example",
          },
        },
      ],
    });
  });

  it("gives every caller in a stack the same provider, from any scope inside it", () => {
    const stack = new TerraformStack(Testing.app(), "dev-example");
    const first = configureAwsProvider(stack, dev);
    expect(configureAwsProvider(new Construct(stack, "Nested"), dev)).toBe(first);
    expect(JSON.parse(Testing.synth(stack)).provider.aws).toHaveLength(1);
  });

  it("fails when another construct holds the provider's id", () => {
    const stack = new TerraformStack(Testing.app(), "dev-example");
    new Construct(stack, "aws");
    expect(() => configureAwsProvider(stack, dev)).toThrow(
      'dev-example: the construct id "aws" is taken by a Construct, and the AWS provider needs it; give that construct another id',
    );
  });
});
