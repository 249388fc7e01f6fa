import { Construct } from "constructs";
import { EcrRepository } from "@cdktf/provider-aws/lib/ecr-repository";
import { EcrLifecyclePolicy } from "@cdktf/provider-aws/lib/ecr-lifecycle-policy";
import type { EncryptionKey } from "./encryption-key";
import { RELEASE_TAG_PATTERNS } from "../lib/release-tags";

/** Days a release-tagged image is kept: longer than any release is served or rolled back to. */
export const RELEASE_IMAGE_RETENTION_DAYS = 3650;

export interface ContainerRegistryProps {
  /** Repository name, e.g. `mlops-serving`. */
  readonly name: string;
  /** Encrypts images at rest. */
  readonly key: EncryptionKey;
  /** Forbid overwriting a pushed tag. @default true */
  readonly immutableTags?: boolean;
  /** Tagged images kept besides the release-tagged ones; older ones expire. @default 10 */
  readonly keepTaggedImages?: number;
  /** Days before an untagged image expires. @default 7 */
  readonly untaggedImageExpiryDays?: number;
  /** Keep the repository and its images when the stack goes. @default true */
  readonly retainOnDelete?: boolean;
}

/**
 * ECR repository: KMS encryption, scan on push, tag immutability and a bounded lifecycle that
 * never expires a release. ECR replication copies every push of the producing environment into
 * the consumers' repositories (its filters name repositories, not tags), so a consumer holds
 * every dev build too: its count rule must not reach the images its releases run. ECR applies
 * rules by priority, and an image matching a rule's tag selection cannot be expired by a rule
 * of lower priority: the release rule (priority 2) claims release-tagged images and expires
 * them only after ten years, so the count rule (priority 3) sees dev builds only.
 */
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
            description: `Keep release-tagged images (${RELEASE_TAG_PATTERNS.join(", ")}): no rule below expires them`,
            selection: {
              tagStatus: "tagged",
              tagPatternList: [...RELEASE_TAG_PATTERNS],
              countType: "sinceImagePushed",
              countUnit: "days",
              countNumber: RELEASE_IMAGE_RETENTION_DAYS,
            },
            action: { type: "expire" },
          },
          {
            rulePriority: 3,
            description: `Keep the last ${keep} other tagged images`,
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
