import { Construct } from "constructs";
import { DataAwsEcrImages } from "@cdktf/provider-aws/lib/data-aws-ecr-images";
import type { PinnedImage } from "../lib/workload-defaults";

/** An image a stack runs, which must already be in its ECR repository. */
export interface RequiredEcrImage {
  /** Construct id of the check, e.g. `Serving`. */
  readonly id: string;
  /** Repository name, e.g. `mlops-serving`. */
  readonly repositoryName: string;
  /** Repository URL (`<account>.dkr.ecr.<region>.amazonaws.com/<name>`), for the push command. */
  readonly repositoryUrl: string;
  /** Where the reference comes from, e.g. `serving.image of environments/releases/dev.json`. */
  readonly source: string;
  readonly image: PinnedImage;
}

export interface RequiredEcrImagesProps {
  readonly images: readonly RequiredEcrImage[];
}

/** The Terraform condition that holds when `image` is among `self.image_ids` of an `aws_ecr_images`. */
export function imagePresentCondition(image: PinnedImage): string {
  if (image.digest !== undefined) {
    return `\${anytrue([for id in self.image_ids : id.image_digest == ${JSON.stringify(image.digest)}])}`;
  }
  if (image.tag !== undefined) {
    return `\${anytrue([for id in self.image_ids : id.image_tag == ${JSON.stringify(image.tag)}])}`;
  }
  throw new Error("image names neither a tag nor a digest; pin one in the release file");
}

/**
 * Makes the plan fail, before anything is deployed, when an image of the release is not in its
 * ECR repository. Each repository's image list is read (`aws_ecr_images`, which succeeds whether
 * or not the image is there) and a postcondition names the missing image and how to push it.
 * Reading the single image instead (`aws_ecr_image`) would fail with the bare ECR API error.
 */
export class RequiredEcrImages extends Construct {
  public readonly listings: DataAwsEcrImages[] = [];

  constructor(scope: Construct, id: string, props: RequiredEcrImagesProps) {
    super(scope, id);
    for (const required of props.images) {
      const { image, repositoryName, repositoryUrl } = required;
      const reference =
        image.digest !== undefined ? `${repositoryName}@${image.digest}` : `${repositoryName}:${image.tag}`;
      const push =
        image.digest !== undefined
          ? `push the image with that digest to ${repositoryUrl}`
          : `docker push ${repositoryUrl}:${image.tag}`;
      this.listings.push(
        new DataAwsEcrImages(this, required.id, {
          repositoryName,
          lifecycle: {
            postcondition: [
              {
                condition: imagePresentCondition(image),
                errorMessage:
                  `image ${reference} (${required.source}) is not in ECR ${repositoryName}; ` +
                  `build and push it first (${push}), then plan again`,
              },
            ],
          },
        }),
      );
    }
  }
}
