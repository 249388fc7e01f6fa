import { Construct } from "constructs";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import type { EncryptionKey } from "./encryption-key";

export interface ContainerRegistryProps {
  /** Repository name, e.g. `mlops-serving`. */
  readonly name: string;
  /** Encrypts images at rest. */
  readonly key: EncryptionKey;
  /** Forbid overwriting a pushed tag. @default true */
  readonly immutableTags?: boolean;
  /** Tagged images kept; older ones expire. @default 10 */
  readonly keepTaggedImages?: number;
  /** Days before an untagged image expires. @default 7 */
  readonly untaggedImageExpiryDays?: number;
  /** Keep the repository and its images when the stack goes. @default true */
  readonly retainOnDelete?: boolean;
}

/** ECR repository: KMS encryption, scan on push, tag immutability and a bounded lifecycle. */
export class ContainerRegistry extends Construct {
  public readonly repository: EcrRepository;
  public readonly repositoryUrl: string;
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: ContainerRegistryProps) {
    super(scope, id);
    const keep = props.keepTaggedImages ?? 10;
    const untaggedDays = props.untaggedImageExpiryDays ?? 7;
    if (!Number.isInteger(keep) || keep < 1) {
      throw new Error(
        `ContainerRegistry ${props.name}: keepTaggedImages (${keep}) must be a whole number >= 1; keep at least the running image`,
      );
    }
    if (!Number.isInteger(untaggedDays) || untaggedDays < 1) {
      throw new Error(
        `ContainerRegistry ${props.name}: untaggedImageExpiryDays (${untaggedDays}) must be a whole number >= 1`,
      );
    }
    const retain = props.retainOnDelete ?? true;
    this.repository = new EcrRepository(this, "Repository", {
      name: props.name,
      imageTagMutability: (props.immutableTags ?? true) ? "IMMUTABLE" : "MUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: "KMS", kmsKey: props.key.arn }],
      forceDelete: !retain,
      lifecycle: { preventDestroy: retain },
    });
    new EcrLifecyclePolicy(this, "Lifecycle", {
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `Expire untagged images after ${untaggedDays} days`,
            selection: {
              tagStatus: "untagged",
              countType: "sinceImagePushed",
              countUnit: "days",
              countNumber: untaggedDays,
            },
            action: { type: "expire" },
          },
          {
            rulePriority: 2,
            description: `Keep the last ${keep} tagged images`,
            selection: {
              tagStatus: "tagged",
              tagPatternList: ["*"],
              countType: "imageCountMoreThan",
              countNumber: keep,
            },
            action: { type: "expire" },
          },
        ],
      }),
    });
    this.repositoryUrl = this.repository.repositoryUrl;
    this.arn = this.repository.arn;
  }
}
