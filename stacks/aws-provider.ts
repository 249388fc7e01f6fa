import { TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Environment } from "../environments/schema";

/** The provider's id in every stack that talks to AWS. */
export const AWS_PROVIDER_ID = "aws";

/**
 * The AWS provider of an environment's stack: its region, only its allowed accounts (a plan
 * with credentials of another account fails before it reads anything), and the default tags
 * every resource carries (cost tags, environment, the stack that owns it). One per stack: a
 * second call in the same stack returns the first provider.
 */
export function configureAwsProvider(scope: Construct, environment: Environment): AwsProvider {
  const stack = TerraformStack.of(scope);
  const existing = stack.node.tryFindChild(AWS_PROVIDER_ID);
  if (existing instanceof AwsProvider) return existing;
  if (existing) {
    throw new Error(
      `${stack.node.id}: the construct id "${AWS_PROVIDER_ID}" is taken by a ${existing.constructor.name}, and the AWS provider needs it; give that construct another id`,
    );
  }
  return new AwsProvider(stack, AWS_PROVIDER_ID, {
    region: environment.aws.region,
    allowedAccountIds: environment.aws.allowedAccountIds,
    defaultTags: [
      {
        tags: {
          ...environment.tags,
          environment: environment.name,
          "managed-by": "cdktf",
          "mlops-platform/stack": stack.node.id,
        },
      },
    ],
  });
}
