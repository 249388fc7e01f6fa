/**
 * Where images and artifacts are kept: S3 bucket and ECR repository names, the AWS storage and
 * registry sections.
 */
import { z } from "zod";
import { fix, wholeNumber } from "./common";

/** S3 bucket naming rules (general purpose buckets). */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return "must be 3 to 63 characters long";
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name))
    return "may hold only lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit";
  if (name.includes("..")) return "must not contain two adjacent dots";
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return "must not be formatted as an IP address";
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(name))
    return "must not start with a reserved prefix (xn--, sthree-, amzn-s3-demo-)";
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)) return "must not end with a reserved suffix";
  if (name.includes(".")) return "must not contain dots (virtual-hosted TLS access breaks on dotted names)";
  return undefined;
}

export const bucketName = z
  .string()
  .superRefine((name, ctx) => {
    const problem = bucketNameProblem(name);
    if (problem)
      ctx.addIssue({
        code: "custom",
        message: fix(problem, "choose a globally unique name like acme-mlops-dev-artifacts"),
      });
  })
  .describe(
    "S3 bucket name: 3 to 63 lower-case letters, digits and hyphens, no dots, not an IP address, no reserved prefix or suffix; globally unique",
  );

/** ECR repository naming rules. */
export const repositoryName = z
  .string()
  .min(2, { error: fix("must be 2 to 256 characters long", "use a short name like mlops-serving") })
  .max(256, { error: fix("must be 2 to 256 characters long", "use a short name like mlops-serving") })
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
    error: fix(
      "may hold only lower-case letters, digits and single . _ - / separators, starting and ending with a letter or digit",
      "use a name like mlops-serving or team/mlops-serving",
    ),
  });

export const awsStorageSchema = z.strictObject({
  /** MLflow and pipeline artifacts. */
  artifactsBucket: bucketName,
  /** Datasets and the DVC remote. */
  dataBucket: bucketName,
  /** Days a replaced object version is kept. @default 90 */
  noncurrentVersionExpirationDays: wholeNumber(
    "noncurrentVersionExpirationDays",
    1,
    3650,
    "keep old versions 1 to 3650 days",
  ).default(90),
});

export const awsRegistrySchema = z.strictObject({
  /** @default "mlops-serving" */
  servingRepository: repositoryName.default("mlops-serving"),
  /** @default "mlops-training" */
  trainingRepository: repositoryName.default("mlops-training"),
  /** Forbid overwriting a pushed tag. */
  immutableTags: z.boolean(),
  /** @default 10 */
  keepTaggedImages: wholeNumber("keepTaggedImages", 1, 1000, "keep at least the running image").default(10),
  /** @default 7 */
  untaggedImageExpiryDays: wholeNumber(
    "untaggedImageExpiryDays",
    1,
    365,
    "expire untagged images after 1 to 365 days",
  ).default(7),
});
