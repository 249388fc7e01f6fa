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
  /** Days the models' logged predictions (`predictions/` in the data bucket) are kept. @default 90 */
  predictionLogRetentionDays: wholeNumber(
    "predictionLogRetentionDays",
    1,
    3650,
    "keep logged predictions 1 to 3650 days",
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

/**
 * Why a Helm chart repository URL cannot be what Helm is given. Helm's repository client joins
 * `index.yaml` to the repository URL itself (`repo.ChartRepository.DownloadIndexFile`), so a URL
 * that names the index or a chart package fetches `.../index.yaml/index.yaml`; OCI references
 * name a registry path, never a tag or digest; a user or password would be written into the
 * Helm release's repository settings and the Terraform state.
 */
export function chartRepositoryUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined; // the field's own pattern reports it
  }
  if (url.username !== "" || url.password !== "")
    return "carries a user or password, which would land in the Helm release settings and the Terraform state";
  if (url.search !== "" || url.hash !== "") return "carries a query or fragment, which Helm drops";
  const path = url.pathname.replace(/\/+$/, "");
  if (/\/index\.ya?ml$/.test(path))
    return "names the index file; Helm appends index.yaml to the repository URL itself";
  if (/\.(tgz|tar\.gz)$/.test(path)) return "names a chart package, not the repository that lists it";
  if (url.protocol === "oci:" && /[:@][^/]*$/.test(path))
    return "carries a tag or digest; an OCI chart repository is the registry path the chart names are appended to";
  return undefined;
}

/** The working form of a chart repository URL the rule above refuses. */
export function chartRepositoryUrlShape(text: string): string {
  try {
    const url = new URL(text);
    const path = url.pathname
      .replace(/\/+$/, "")
      .replace(/\/index\.ya?ml$/, "")
      .replace(/\/[^/]+\.(tgz|tar\.gz)$/, "")
      .replace(/[:@][^/]*$/, "");
    return `${url.protocol}//${url.host}${path}`;
  } catch {
    return text;
  }
}

/**
 * Why an S3-compatible endpoint cannot be handed to the S3 clients (boto3 in MLflow, the AWS
 * SDK in KServe's storage initializer, minio-go in Kubeflow Pipelines), with the shape that
 * works. Each client adds the bucket itself, in the path (path-style) or as the host's first
 * label (virtual-hosted style), so an endpoint carrying a bucket addresses `<bucket>/<bucket>`;
 * the access key comes from the credentials Secret, never the URL.
 */
export function objectStoreEndpointProblem(
  text: string,
  buckets: readonly string[],
): { readonly rule: string; readonly shape: string } | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  const origin = `https://${url.host}`;
  if (url.protocol === "s3:")
    return {
      rule: "is a bucket URI (s3://<bucket>), not the store's endpoint",
      shape:
        "give the store's https:// address alone, e.g. https://s3.example.com; buckets go in objectStore.artifactsBucket and objectStore.dataBucket",
    };
  if (url.username !== "" || url.password !== "")
    return {
      rule: "carries an access key in the URL; the clients read it from objectStore.credentialsSecret",
      shape: `use ${origin} and keep the keys in the credentials Secret`,
    };
  if (url.protocol !== "https:") return undefined;
  const bucketInHost = buckets.find((bucket) => url.hostname.startsWith(`${bucket}.`));
  if (bucketInHost !== undefined)
    return {
      rule: `carries the bucket ${bucketInHost} in its host (virtual-hosted style); the S3 clients put the bucket there themselves`,
      shape: `use https://${url.host.slice(bucketInHost.length + 1)}`,
    };
  const path = url.pathname.replace(/\/+$/, "");
  if (path !== "" || url.search !== "")
    return {
      rule: `carries a path or query (${path}${url.search}); a bucket there would appear twice, as the S3 clients append /<bucket>/<key> to the endpoint themselves`,
      shape: `use ${origin}`,
    };
  return undefined;
}
