import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { policyDocument, type PolicyStatement } from "./policy";
import type { EncryptionKey } from "./encryption-key";

export interface SecureBucketProps {
  readonly bucketName: string;
  readonly key: EncryptionKey;
  /** Days a replaced object version is kept. @default 90 */
  readonly noncurrentVersionExpirationDays?: number;
  /** Days before an unfinished multipart upload is aborted. @default 7 */
  readonly abortIncompleteUploadDays?: number;
  /**
   * Keep the bucket and its objects when the stack goes (`prevent_destroy`, no force-destroy);
   * false lets `cdktf destroy` empty and delete it.
   * @default true
   */
  readonly retainOnDelete?: boolean;
  /** Objects under these prefixes expire this many days after they were written. */
  readonly expiringPrefixes?: readonly { readonly prefix: string; readonly days: number }[];
  /** Bucket policy statements after the TLS-only denial, e.g. for another account's role. */
  readonly additionalPolicyStatements?: readonly PolicyStatement[];
}

/**
 * S3 bucket with versioning, SSE-KMS with bucket keys, every public access path blocked,
 * ACLs disabled, TLS-only access and a lifecycle that bounds what old versions cost.
 */
export class SecureBucket extends Construct {
  public readonly bucket: S3Bucket;
  public readonly bucketName: string;
  public readonly arn: string;
  public readonly key: EncryptionKey;
  /** Versioning must be on before replication or a state backend uses the bucket. */
  public readonly versioning: S3BucketVersioningA;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    const noncurrentDays = props.noncurrentVersionExpirationDays ?? 90;
    const abortDays = props.abortIncompleteUploadDays ?? 7;
    for (const [field, value] of [
      ["noncurrentVersionExpirationDays", noncurrentDays],
      ["abortIncompleteUploadDays", abortDays],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`SecureBucket ${props.bucketName}: ${field} (${value}) must be a whole number >= 1`);
      }
    }
    for (const { prefix, days } of props.expiringPrefixes ?? []) {
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\/$/.test(prefix) || !Number.isInteger(days) || days < 1) {
        throw new Error(
          `SecureBucket ${props.bucketName}: expiring prefix "${prefix}" after ${days} days: the prefix must be one path segment ending in / and the days a whole number >= 1`,
        );
      }
    }
    const retain = props.retainOnDelete ?? true;
    this.key = props.key;

    this.bucket = new S3Bucket(this, "Bucket", {
      bucket: props.bucketName,
      forceDestroy: !retain,
      lifecycle: { preventDestroy: retain },
    });
    this.bucketName = this.bucket.bucket;
    this.arn = this.bucket.arn;

    new S3BucketPublicAccessBlock(this, "PublicAccessBlock", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "Ownership", {
      bucket: this.bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    this.versioning = new S3BucketVersioningA(this, "Versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "Encryption", {
      bucket: this.bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.key.arn },
          bucketKeyEnabled: true,
        },
      ],
    });
    new S3BucketPolicy(this, "Policy", {
      bucket: this.bucket.id,
      policy: policyDocument(this, "PolicyDocument", [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          actions: ["s3:*"],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          principals: [{ type: "*", identifiers: ["*"] }],
          conditions: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
        ...(props.additionalPolicyStatements ?? []),
      ]).json,
    });
    new S3BucketLifecycleConfiguration(this, "Lifecycle", {
      bucket: this.bucket.id,
      rule: [
        {
          id: "expire-noncurrent-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays }],
        },
        {
          id: "abort-incomplete-uploads",
          status: "Enabled",
          filter: [{ prefix: "" }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: abortDays }],
        },
        ...(props.expiringPrefixes ?? []).map(({ prefix, days }) => ({
          id: `expire-${prefix.slice(0, -1)}`,
          status: "Enabled",
          filter: [{ prefix }],
          expiration: [{ days }],
        })),
      ],
    });
  }
}
