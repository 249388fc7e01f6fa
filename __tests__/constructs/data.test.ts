import { PostgresDatabase, type PostgresDatabaseProps } from "../../constructs/aws/postgres-database";
import { SecureBucket } from "../../constructs/aws/secure-bucket";
import { ContainerRegistry } from "../../constructs/aws/container-registry";
import { awsFixture, synthJson } from "../support/aws-fixture";
import { resourceFor } from "../support/synth";

function database(overrides: Partial<PostgresDatabaseProps> = {}) {
  const fixture = awsFixture();
  const construct = new PostgresDatabase(fixture.stack, "Db", {
    identifier: "unit-db",
    network: fixture.network,
    clientSecurityGroupId: "sg-0123456789abcdef0",
    key: fixture.key,
    majorVersion: "17",
    instanceClass: "db.t4g.medium",
    allocatedStorageGib: 20,
    multiAz: false,
    backupRetentionDays: 7,
    deletionProtection: true,
    logRetentionDays: 90,
    ...overrides,
  });
  return { ...fixture, database: construct };
}

describe("PostgresDatabase", () => {
  it("retains by default: final snapshot and prevent_destroy, storage autoscaling to 5x", () => {
    const { stack, database: construct } = database();
    const db = resourceFor(synthJson(stack), construct.instance);
    expect(db).toMatchObject({
      skip_final_snapshot: false,
      final_snapshot_identifier: "unit-db-final",
      lifecycle: { prevent_destroy: true },
      max_allocated_storage: 100,
      performance_insights_enabled: false,
    });
  });

  it("creates the log groups it exports into before the instance: KMS-encrypted, expiring", () => {
    const { stack, database: construct } = database();
    const json = synthJson(stack);
    const db = resourceFor(json, construct.instance);
    const groups = Object.entries<any>(json.resource.aws_cloudwatch_log_group ?? {}).filter(([, g]) =>
      g.name.startsWith("/aws/rds/"),
    );
    // RDS writes each exported type to /aws/rds/instance/<identifier>/<type>, creating the group
    // (unencrypted, kept forever) when it does not exist yet.
    expect(groups.map(([, g]) => g.name).sort()).toEqual(
      db.enabled_cloudwatch_logs_exports.map((type: string) => `/aws/rds/instance/unit-db/${type}`).sort(),
    );
    for (const [id, group] of groups) {
      expect(group.retention_in_days).toBe(90);
      expect(group.kms_key_id).toMatch(/^\$\{aws_kms_key\./);
      expect(db.depends_on).toContain(`aws_cloudwatch_log_group.${id}`);
    }
  });

  it("fails on a version that is not a major version", () => {
    expect(() => database({ majorVersion: "17.2" })).toThrow(
      'PostgresDatabase unit-db: majorVersion "17.2" must be a PostgreSQL major version',
    );
  });

  it("fails when the storage ceiling is below the allocation", () => {
    expect(() => database({ allocatedStorageGib: 100, maxAllocatedStorageGib: 50 })).toThrow(
      "maxAllocatedStorageGib (50) must be >= allocatedStorageGib (100)",
    );
  });

  it("fails on more backup days than RDS keeps", () => {
    expect(() => database({ backupRetentionDays: 36 })).toThrow(
      "backupRetentionDays (36) must be a whole number from 0 to 35",
    );
  });
});

describe("SecureBucket", () => {
  it("retains by default", () => {
    const { stack, key } = awsFixture();
    const bucket = new SecureBucket(stack, "Bucket", { bucketName: "unit-bucket", key });
    expect(resourceFor(synthJson(stack), bucket.bucket)).toMatchObject({
      force_destroy: false,
      lifecycle: { prevent_destroy: true },
    });
  });

  it.each([
    ["noncurrentVersionExpirationDays", { noncurrentVersionExpirationDays: 0 }],
    ["abortIncompleteUploadDays", { abortIncompleteUploadDays: 1.5 }],
  ])("fails on a bad %s", (field, extra) => {
    const { stack, key } = awsFixture();
    expect(() => new SecureBucket(stack, "Bucket", { bucketName: "unit-bucket", key, ...extra })).toThrow(
      `SecureBucket unit-bucket: ${field}`,
    );
  });
});

describe("ContainerRegistry", () => {
  it("makes tags immutable by default", () => {
    const { stack, key } = awsFixture();
    const registry = new ContainerRegistry(stack, "Registry", { name: "unit-serving", key });
    expect(resourceFor(synthJson(stack), registry.repository)).toMatchObject({
      image_tag_mutability: "IMMUTABLE",
      force_delete: false,
    });
  });

  it("fails when it would keep no tagged image", () => {
    const { stack, key } = awsFixture();
    expect(
      () => new ContainerRegistry(stack, "Registry", { name: "unit-serving", key, keepTaggedImages: 0 }),
    ).toThrow("ContainerRegistry unit-serving: keepTaggedImages (0) must be a whole number >= 1");
  });

  it("fails on a zero-day untagged expiry", () => {
    const { stack, key } = awsFixture();
    expect(
      () =>
        new ContainerRegistry(stack, "Registry", { name: "unit-serving", key, untaggedImageExpiryDays: 0 }),
    ).toThrow("untaggedImageExpiryDays (0) must be a whole number >= 1");
  });
});
