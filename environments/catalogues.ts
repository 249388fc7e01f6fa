/**
 * Catalogues of what AWS offers, pinned in code so a typo fails validation instead of an apply.
 * They go stale as AWS adds regions, instance families and database classes; each has an
 * override in the environment's `catalogueOverrides` section, and every message that rejects a
 * value for not being listed names the catalogue's date and that override.
 */

/** When the catalogues below were last compared with AWS's documentation. */
export const CATALOGUE_DATE = "2026-11-23";

export type Partition = "aws" | "aws-cn" | "aws-us-gov";

/**
 * Commercial, China and GovCloud regions with the number of Availability Zones a new account
 * can use (us-west-1 has a third zone closed to new accounts; ap-northeast-1's fourth zone is
 * restricted likewise). Source: AWS documentation, "Regions and Availability Zones" (AWS Global
 * Infrastructure, docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html).
 */
export const REGION_ZONES: Readonly<Record<string, number>> = {
  "us-east-1": 6,
  "us-east-2": 3,
  "us-west-1": 2,
  "us-west-2": 4,
  "af-south-1": 3,
  "ap-east-1": 3,
  "ap-east-2": 3,
  "ap-south-1": 3,
  "ap-south-2": 3,
  "ap-southeast-1": 3,
  "ap-southeast-2": 3,
  "ap-southeast-3": 3,
  "ap-southeast-4": 3,
  "ap-southeast-5": 3,
  "ap-southeast-6": 3,
  "ap-southeast-7": 3,
  "ap-northeast-1": 3,
  "ap-northeast-2": 4,
  "ap-northeast-3": 3,
  "ca-central-1": 3,
  "ca-west-1": 3,
  "eu-central-1": 3,
  "eu-central-2": 3,
  "eu-west-1": 3,
  "eu-west-2": 3,
  "eu-west-3": 3,
  "eu-south-1": 3,
  "eu-south-2": 3,
  "eu-north-1": 3,
  "il-central-1": 3,
  "me-south-1": 3,
  "me-central-1": 3,
  "mx-central-1": 3,
  "sa-east-1": 3,
  "cn-north-1": 3,
  "cn-northwest-1": 3,
  "us-gov-east-1": 3,
  "us-gov-west-1": 3,
};

/** The ARN partition of a region. */
export function partitionOf(region: string): Partition {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/**
 * Current-generation EC2 instance families an EKS managed node group can run (x86_64 and
 * Graviton; Mac, previous-generation and high-memory `u-` families left out). Source: Amazon EC2
 * documentation, "Amazon EC2 instance types" (docs.aws.amazon.com/ec2/latest/instancetypes/).
 */
// prettier-ignore
export const EC2_INSTANCE_FAMILIES: readonly string[] = [
  // general purpose
  "a1", "m5", "m5a", "m5ad", "m5d", "m5dn", "m5n", "m5zn", "m6a", "m6g", "m6gd", "m6i", "m6id",
  "m6idn", "m6in", "m7a", "m7g", "m7gd", "m7i", "m7i-flex", "m8a", "m8g", "m8gd", "m8i",
  "m8i-flex", "t2", "t3", "t3a", "t4g",
  // compute optimized
  "c5", "c5a", "c5ad", "c5d", "c5n", "c6a", "c6g", "c6gd", "c6gn", "c6i", "c6id", "c6in", "c7a",
  "c7g", "c7gd", "c7gn", "c7i", "c7i-flex", "c8g", "c8gd", "c8gn", "c8i", "c8i-flex",
  // memory optimized
  "r5", "r5a", "r5ad", "r5b", "r5d", "r5dn", "r5n", "r6a", "r6g", "r6gd", "r6i", "r6id", "r6idn",
  "r6in", "r7a", "r7g", "r7gd", "r7i", "r7iz", "r8g", "r8gd", "r8i", "r8i-flex", "x1", "x1e",
  "x2gd", "x2idn", "x2iedn", "x2iezn", "x8g", "z1d",
  // accelerated computing
  "dl1", "dl2q", "g4ad", "g4dn", "g5", "g5g", "g6", "g6e", "g6f", "gr6", "gr6f", "inf1", "inf2",
  "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "trn1", "trn1n", "trn2",
  // storage optimized
  "d3", "d3en", "i3", "i3en", "i4g", "i4i", "i7i", "i7ie", "i8g", "im4gn", "is4gen",
  // high performance computing
  "hpc6a", "hpc6id", "hpc7a", "hpc7g",
];

/** Size names EC2 uses: nano ... xlarge, <n>xlarge, metal and metal-<n>xl. */
export const EC2_INSTANCE_SIZE =
  /^(nano|micro|small|medium|large|xlarge|[1-9]\d*xlarge|metal(-[1-9]\d*xl)?)$/;

/**
 * DB instance classes RDS for PostgreSQL offers (Single-AZ and Multi-AZ instance deployments).
 * Source: Amazon RDS User Guide, "Supported DB engines for DB instance classes"
 * (docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html).
 */
// prettier-ignore
export const RDS_POSTGRES_CLASS_FAMILIES: readonly string[] = [
  "db.t3", "db.t4g",
  "db.m5", "db.m5d", "db.m6g", "db.m6gd", "db.m6i", "db.m6id", "db.m6idn", "db.m6in", "db.m7g",
  "db.m7i", "db.m8g", "db.m8gd",
  "db.r5", "db.r5b", "db.r5d", "db.r6g", "db.r6gd", "db.r6i", "db.r6id", "db.r6idn", "db.r6in",
  "db.r7g", "db.r7i", "db.r8g", "db.r8gd",
  "db.x2g", "db.x2idn", "db.x2iedn", "db.x2iezn",
];

/** Sizes of the burstable classes (db.t3, db.t4g); the others start at large. */
const BURSTABLE_DB_SIZES = ["micro", "small", "medium", "large", "xlarge", "2xlarge"];
const STANDARD_DB_SIZE = /^(large|xlarge|[1-9]\d*xlarge)$/;

/** Why an instance type is not in the catalogue, or undefined when it is. */
export function instanceTypeProblem(type: string): string | undefined {
  const dot = type.indexOf(".");
  const family = type.slice(0, dot);
  const size = type.slice(dot + 1);
  if (!EC2_INSTANCE_FAMILIES.includes(family))
    return `has an instance family (${family}) that is not in the EC2 catalogue pinned on ${CATALOGUE_DATE}`;
  if (!EC2_INSTANCE_SIZE.test(size)) return `has a size (${size}) that EC2 does not use`;
  return undefined;
}

/** Why a DB instance class is not in the catalogue, or undefined when it is. */
export function databaseClassProblem(instanceClass: string): string | undefined {
  const lastDot = instanceClass.lastIndexOf(".");
  const family = instanceClass.slice(0, lastDot);
  const size = instanceClass.slice(lastDot + 1);
  if (!RDS_POSTGRES_CLASS_FAMILIES.includes(family))
    return `has a class family (${family}) that RDS for PostgreSQL does not offer in the catalogue pinned on ${CATALOGUE_DATE}`;
  const burstable = family === "db.t3" || family === "db.t4g";
  if (burstable ? !BURSTABLE_DB_SIZES.includes(size) : !STANDARD_DB_SIZE.test(size))
    return `has a size (${size}) that ${family} does not come in`;
  return undefined;
}
