/**
 * The schema every AWS environment file is validated against before any stack is built; its
 * sections live by concern in `environments/fields/` (network, node groups, platform, alerting,
 * delivery, registries), which the on-prem schema (`rancher-schema.ts`) shares.
 *
 * Each rule's message has the form `<rule>; fix: <what to change>`; `formatIssues` adds the
 * environment, the field path and the value received, so every problem reads
 * `prod: database.backupRetentionDays = 0: must be at least 7 ...; fix: ...`.
 */
import { z } from "zod";
import { overlaps, parseCidr } from "../constructs/lib/cidr";
import {
  CATALOGUE_DATE,
  databaseClassProblem,
  instanceTypeProblem,
  partitionOf,
  REGION_ZONES,
} from "./catalogues";
import {
  environmentNameSchema,
  fix,
  logRetention,
  MISSING,
  protectionSchema,
  wholeNumber,
} from "./fields/common";
import { environmentMonitoringSchema } from "./fields/monitoring";
import {
  awsNetworkSchema,
  publicEndpointSchema,
  serviceRangeSchema,
  serviceRangeSuggestion,
} from "./fields/network";
import {
  INSTANCE_TYPE,
  NODE_GROUP_DEFAULTS,
  NODE_GROUP_KINDS,
  nodeGroupSchema,
  type NodeGroupKind,
} from "./fields/node-groups";
import { ACM_CERTIFICATE_ARN, awsPlatformSchema, servingSchema } from "./fields/platform";
import { awsDeliverySchema, deliveryProblems } from "./fields/delivery";
import { receiverNameProblems, sharedReceiverSecretProblems } from "./fields/alerting";
import { awsRegistrySchema, awsStorageSchema, bucketName } from "./fields/registries";

export { environmentNameSchema, MISSING, protectionSchema } from "./fields/common";
export {
  cidrSyntaxProblem,
  DEFAULT_SERVICE_CIDR,
  documentationRangeOf,
  DOCUMENTATION_RANGES,
} from "./fields/network";
export {
  GPU_INSTANCE_FAMILIES,
  GROUP_TAINT_KEYS,
  gpusPerInstance,
  isArmFamily,
  NODE_GROUP_DEFAULTS,
  NODE_GROUP_KINDS,
  nodeLabelKeyProblem,
  type NodeGroupKind,
} from "./fields/node-groups";
export { ALERT_SEVERITIES, heartbeatInterval, notificationUrl } from "./fields/alerting";
export { pipelinesShape, platformShape, servingSchema } from "./fields/platform";
export { awsDeliverySchema } from "./fields/delivery";
export { bucketNameProblem } from "./fields/registries";

/**
 * Kubernetes versions in EKS standard support when this release was cut, with the managed
 * add-on versions and the cluster-autoscaler image (its minor must match the cluster's) of each.
 */
export const EKS_VERSIONS = {
  "1.34": {
    vpcCni: "v1.20.4-eksbuild.2",
    coredns: "v1.12.3-eksbuild.1",
    kubeProxy: "v1.34.0-eksbuild.4",
    ebsCsiDriver: "v1.59.0-eksbuild.1",
    clusterAutoscaler: "v1.34.5",
  },
  "1.35": {
    vpcCni: "v1.21.1-eksbuild.8",
    coredns: "v1.13.1-eksbuild.1",
    kubeProxy: "v1.35.0-eksbuild.2",
    ebsCsiDriver: "v1.59.0-eksbuild.1",
    clusterAutoscaler: "v1.35.2",
  },
} as const;
export type EksVersion = keyof typeof EKS_VERSIONS;
const SUPPORTED_EKS_VERSIONS = Object.keys(EKS_VERSIONS) as EksVersion[];

/** RDS PostgreSQL major versions in RDS standard support for the lifetime of this release line. */
export const POSTGRES_MAJOR_VERSIONS = ["16", "17"] as const;

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
const IAM_PRINCIPAL_ARN = /^arn:(aws(-[a-z]+)*):iam::(\d{12}):(role|user)\/([\w+=,.@/-]+)$/;
const STS_SESSION_ARN = /^arn:aws(-[a-z]+)*:(sts::\d{12}:assumed-role|iam::\d{12}:assumed-role)\//;
const DB_INSTANCE_CLASS = /^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** Characters IAM (the strictest of the tagged services) allows in tag keys and values. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Tags the platform sets on resources itself: the provider's default tags and per-resource ones. */
export const PLATFORM_TAG_KEYS = ["environment", "managed-by", "mlops-platform/stack", "Name", "workload"];
/** AWS allows 50 user tags per resource. */
const MAX_TAGS_PER_RESOURCE = 50;

/** RDS for PostgreSQL's largest gp3 volume. */
const MAX_RDS_STORAGE_GIB = 65536;

export const environmentSchema = z
  .strictObject({
    /** Environment name; stacks are named `<name>-foundation` etc. */
    name: environmentNameSchema,
    protection: protectionSchema,
    aws: z.strictObject({
      region: z
        .string()
        .regex(REGION, { error: fix("must be an AWS region code", "use a region such as eu-west-1") }),
      /** The AWS provider refuses to run against any other account. @default any account */
      allowedAccountIds: z
        .array(
          z.string().regex(ACCOUNT_ID, {
            error: fix("must be a 12-digit AWS account id", "quote it as a string of 12 digits"),
          }),
        )
        .min(1, { error: fix("must not be empty when given", "remove the field or list the account id") })
        .optional(),
    }),
    /** Terraform state in S3 (encrypted, with S3 native locking); local state when unset. */
    stateBackend: z
      .strictObject({
        bucket: bucketName,
        region: z
          .string()
          .regex(REGION, { error: fix("must be an AWS region code", "use the state bucket's region") }),
        /** Key prefix; each stack's state lives at `<keyPrefix>/<stack>.tfstate`. @default "mlops-platform" */
        keyPrefix: z
          .string()
          .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, {
            error: fix(
              "must be an S3 key prefix without leading or trailing slash",
              "use a prefix like mlops-platform",
            ),
          })
          .default("mlops-platform"),
      })
      .optional(),
    /** Who deploys the environment: the pipeline (remote state required) or a person by hand. */
    delivery: awsDeliverySchema,
    /** Cost allocation tags applied to every resource, next to `environment=<name>`. */
    tags: z
      .record(
        z
          .string()
          .regex(TAG_KEY, {
            error: fix(
              "must be an AWS tag key: 1 to 128 letters, digits, spaces and _ . : / = + - @",
              "remove the other characters",
            ),
          })
          .refine((key) => !key.toLowerCase().startsWith("aws:"), {
            error: fix("uses the aws: prefix, which AWS reserves for its own tags", "drop the aws: prefix"),
          }),
        z
          .string()
          .max(256, { error: fix("must be at most 256 characters", "shorten the tag value") })
          .regex(TAG_VALUE, {
            error: fix(
              "may hold only letters, digits, spaces and _ . : / = + - @ (IAM refuses other characters)",
              "remove the other characters",
            ),
          }),
      )
      .superRefine((tags, ctx) => {
        const keys = Object.keys(tags);
        const seen = new Map<string, string>();
        for (const key of keys) {
          const platformKey = PLATFORM_TAG_KEYS.find((own) => own.toLowerCase() === key.toLowerCase());
          if (platformKey !== undefined && key !== "environment") {
            ctx.addIssue({
              code: "custom",
              path: [key],
              input: tags[key],
              message: fix(
                platformKey === key
                  ? "is a tag the platform sets itself"
                  : `differs only in case from the tag ${platformKey} the platform sets (IAM treats tag keys case-insensitively)`,
                `remove tags[${JSON.stringify(key)}]`,
              ),
            });
          }
          const earlier = seen.get(key.toLowerCase());
          if (earlier !== undefined) {
            ctx.addIssue({
              code: "custom",
              path: [key],
              input: tags[key],
              message: fix(
                `differs only in case from the tag ${earlier} (IAM treats tag keys case-insensitively)`,
                "keep one of the two",
              ),
            });
          }
          seen.set(key.toLowerCase(), key);
        }
        if (keys.length + PLATFORM_TAG_KEYS.length > MAX_TAGS_PER_RESOURCE) {
          ctx.addIssue({
            code: "custom",
            input: tags,
            message: fix(
              `holds ${keys.length} tags; with the ${PLATFORM_TAG_KEYS.length} the platform adds (${PLATFORM_TAG_KEYS.join(", ")}) that exceeds the ${MAX_TAGS_PER_RESOURCE} AWS allows per resource`,
              `keep at most ${MAX_TAGS_PER_RESOURCE - PLATFORM_TAG_KEYS.length} tags`,
            ),
          });
        }
        for (const required of ["owner", "cost-center"]) {
          if (!tags[required] || tags[required].trim() === "") {
            ctx.addIssue({
              code: "custom",
              path: [required],
              input: tags[required] ?? MISSING,
              message: fix(
                "is a required tag",
                `add tags["${required}"] so costs and incidents reach the right team`,
              ),
            });
          }
        }
        if ("environment" in tags) {
          ctx.addIssue({
            code: "custom",
            path: ["environment"],
            message: fix("is set from the environment's name", 'remove tags["environment"]'),
          });
        }
      }),
    network: awsNetworkSchema,
    eks: z.strictObject({
      version: z.enum(SUPPORTED_EKS_VERSIONS, {
        error: fix(
          `must be a Kubernetes version in EKS standard support: ${SUPPORTED_EKS_VERSIONS.join(", ")}`,
          `set eks.version to ${SUPPORTED_EKS_VERSIONS[SUPPORTED_EKS_VERSIONS.length - 1]}`,
        ),
      }),
      /** IAM roles/users given cluster-admin through EKS access entries (include the deploying CI role). */
      adminPrincipalArns: z
        .array(
          z.string().superRefine((arn, ctx) => {
            if (IAM_PRINCIPAL_ARN.test(arn)) return;
            ctx.addIssue({
              code: "custom",
              message: STS_SESSION_ARN.test(arn)
                ? fix(
                    "is an STS session (assumed-role) ARN; EKS access entries take the IAM role itself",
                    "use arn:aws:iam::<account>:role/<role name> of the role behind the session",
                  )
                : fix("must be an IAM role or user ARN", "use arn:aws:iam::<account>:role/<name>"),
            });
          }),
        )
        .min(1, {
          error: fix(
            "must name at least one principal, or nobody can reach the cluster",
            "add the platform team's admin role ARN",
          ),
        }),
      /** Public API endpoint; the private endpoint is always on. @default disabled */
      publicEndpoint: publicEndpointSchema,
      /** Service CIDR of the cluster; must not overlap the VPC. @default "172.20.0.0/16" */
      serviceIpv4Cidr: serviceRangeSchema,
      /** @default 90 */
      controlPlaneLogRetentionDays: logRetention,
    }),
    nodeGroups: z.strictObject({
      general: nodeGroupSchema("general").prefault({}),
      training: nodeGroupSchema("training").prefault({}),
      gpu: nodeGroupSchema("gpu").prefault({}),
    }),
    database: z.strictObject({
      /** PostgreSQL major version (RDS picks the newest minor and upgrades minors automatically). */
      engineVersion: z.enum(POSTGRES_MAJOR_VERSIONS, {
        error: fix(
          `must be a PostgreSQL major version in RDS standard support: ${POSTGRES_MAJOR_VERSIONS.join(", ")}`,
          'set database.engineVersion to "17"',
        ),
      }),
      instanceClass: z.string().regex(DB_INSTANCE_CLASS, {
        error: fix("must be an RDS instance class", "use a class such as db.t4g.medium"),
      }),
      /** gp3 storage; RDS for PostgreSQL takes 20 to 65536 GiB. */
      allocatedStorageGib: wholeNumber(
        "allocatedStorageGib",
        20,
        MAX_RDS_STORAGE_GIB,
        `allocate 20 to ${MAX_RDS_STORAGE_GIB} GiB (gp3 limits of RDS for PostgreSQL)`,
      ),
      /** Upper bound for storage autoscaling. @default 5 x allocatedStorageGib */
      maxAllocatedStorageGib: wholeNumber(
        "maxAllocatedStorageGib",
        20,
        65536,
        "set it >= allocatedStorageGib",
      ).optional(),
      multiAz: z.boolean(),
      backupRetentionDays: wholeNumber(
        "backupRetentionDays",
        0,
        35,
        "keep 1 to 35 days of backups (7 or more where data matters)",
      ),
      deletionProtection: z.boolean(),
      /** @default true when protected */
      performanceInsights: z.boolean().optional(),
      /** Days the exported PostgreSQL and upgrade logs are kept. @default 90 */
      logRetentionDays: logRetention,
      /**
       * Set on an environment whose database was deployed before the foundation created its log
       * groups (RDS made `/aws/rds/instance/<id>/postgresql` and `/upgrade` itself): the next
       * deploy imports them. Leave unset on a first deploy: importing a missing group fails the
       * plan. @default false
       */
      importExistingLogGroups: z.boolean().optional(),
    }),
    storage: awsStorageSchema,
    registry: awsRegistrySchema,
    platform: awsPlatformSchema,
    /** The serving Deployment of the serving stack. */
    serving: servingSchema,
    /** Defaults of the models' drift and performance jobs; the release overrides them per model. */
    monitoring: environmentMonitoringSchema,
    /**
     * Values the pinned catalogues (`environments/catalogues.ts`) do not list yet: a region
     * newer than the catalogue, instance types of a new family, new database classes.
     */
    catalogueOverrides: z
      .strictObject({
        /** Zones the environment's region offers, for a region the catalogue does not list. */
        availabilityZones: wholeNumber(
          "availabilityZones",
          2,
          12,
          "give the number of zones `aws ec2 describe-availability-zones` lists for the region",
        ).optional(),
        /** Instance types to accept although their family is not in the catalogue. @default [] */
        instanceTypes: z
          .array(
            z.string().regex(INSTANCE_TYPE, {
              error: fix("must be an EC2 instance type such as t3.large", "use the family.size form"),
            }),
          )
          .default([]),
        /** DB instance classes to accept although the catalogue does not list them. @default [] */
        databaseInstanceClasses: z
          .array(
            z.string().regex(DB_INSTANCE_CLASS, {
              error: fix("must be an RDS instance class", "use a class such as db.t4g.medium"),
            }),
          )
          .default([]),
      })
      .prefault({}),
  })
  .superRefine((env, ctx) => {
    const vpc = parseCidr(env.network.vpcCidr);
    const services = parseCidr(env.eks.serviceIpv4Cidr);
    if (vpc && services && overlaps(vpc, services)) {
      ctx.addIssue({
        code: "custom",
        path: ["eks", "serviceIpv4Cidr"],
        input: env.eks.serviceIpv4Cidr,
        message: fix(
          `overlaps the VPC ${env.network.vpcCidr}`,
          `pick a private range outside the VPC, e.g. ${serviceRangeSuggestion(vpc)}`,
        ),
        // The file may not set the service range at all: then the VPC range is what to change.
        params: {
          whenDefaulted: {
            path: ["network", "vpcCidr"],
            input: env.network.vpcCidr,
            message: fix(
              `overlaps the cluster's service range ${env.eks.serviceIpv4Cidr} (the default, as eks.serviceIpv4Cidr is not set)`,
              "pick a VPC range outside it, or set eks.serviceIpv4Cidr to a private block outside the VPC",
            ),
          },
        },
      });
    }
    catalogueProblems(env, ctx);
    deliveryProblems(env, ctx);
    const { allocatedStorageGib, maxAllocatedStorageGib } = env.database;
    const lowestMaximum = Math.ceil((allocatedStorageGib * 11) / 10);
    const allocationValid = allocatedStorageGib <= MAX_RDS_STORAGE_GIB;
    if (allocationValid && maxAllocatedStorageGib !== undefined && maxAllocatedStorageGib < lowestMaximum) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "maxAllocatedStorageGib"],
        input: maxAllocatedStorageGib,
        message: fix(
          `must be at least 10% above allocatedStorageGib (${allocatedStorageGib}), i.e. >= ${lowestMaximum}, or RDS refuses it`,
          "raise it or remove it (the default is 5 x allocatedStorageGib)",
        ),
      });
    }
    if (
      allocationValid &&
      maxAllocatedStorageGib === undefined &&
      allocatedStorageGib * 5 > MAX_RDS_STORAGE_GIB
    ) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "maxAllocatedStorageGib"],
        input: MISSING,
        message: fix(
          `defaults to 5 x allocatedStorageGib = ${allocatedStorageGib * 5} GiB, beyond the ${MAX_RDS_STORAGE_GIB} GiB RDS allows`,
          `set database.maxAllocatedStorageGib between ${lowestMaximum} and ${MAX_RDS_STORAGE_GIB}`,
        ),
      });
    }
    const partition = partitionOf(env.aws.region);
    const admins = new Set<string>();
    env.eks.adminPrincipalArns.forEach((arn, index) => {
      const issue = (message: string) =>
        ctx.addIssue({ code: "custom", path: ["eks", "adminPrincipalArns", index], input: arn, message });
      const match = IAM_PRINCIPAL_ARN.exec(arn);
      if (!match) return;
      if (admins.has(arn))
        issue(fix("is listed twice (EKS refuses a second access entry)", "remove the duplicate"));
      else if (match[1] !== partition && REGION.test(env.aws.region))
        issue(
          fix(
            `is in the ${match[1]} partition but ${env.aws.region} is in ${partition}`,
            `use arn:${partition}:iam::<account>:role/<name>`,
          ),
        );
      admins.add(arn);
    });
    const certificate = REGION.test(env.aws.region)
      ? ACM_CERTIFICATE_ARN.exec(env.platform.tlsCertificateArn ?? "")
      : null;
    if (certificate) {
      const [, certificatePartition, , region, account] = certificate;
      const accounts = env.aws.allowedAccountIds;
      const problem =
        region !== env.aws.region
          ? `is in ${region}, but the load balancer in ${env.aws.region} can use only certificates of its own region`
          : certificatePartition !== partition
            ? `is in the ${certificatePartition} partition but ${env.aws.region} is in ${partition}`
            : accounts !== undefined &&
                accounts.every((id) => ACCOUNT_ID.test(id)) &&
                !accounts.includes(account)
              ? `belongs to account ${account}, not to the environment's (${accounts.join(", ")})`
              : undefined;
      if (problem)
        ctx.addIssue({
          code: "custom",
          path: ["platform", "tlsCertificateArn"],
          input: env.platform.tlsCertificateArn,
          message: fix(
            problem,
            `request or import the certificate in ACM in ${env.aws.region} of the environment's account`,
          ),
        });
    }
    if (env.serving.maxReplicas !== undefined && env.serving.maxReplicas < env.serving.replicas) {
      ctx.addIssue({
        code: "custom",
        path: ["serving", "maxReplicas"],
        input: env.serving.maxReplicas,
        message: fix(
          `must be >= serving.replicas (${env.serving.replicas})`,
          "raise maxReplicas or remove it",
        ),
      });
    }
    receiverNameProblems(env.platform.alerting, ctx, "");
    sharedReceiverSecretProblems(env.platform.alerting, ctx);
    if (env.storage.artifactsBucket === env.storage.dataBucket) {
      ctx.addIssue({
        code: "custom",
        path: ["storage", "dataBucket"],
        input: env.storage.dataBucket,
        message: fix("must differ from storage.artifactsBucket", "give datasets their own bucket"),
      });
    }
    if (env.registry.servingRepository === env.registry.trainingRepository) {
      ctx.addIssue({
        code: "custom",
        path: ["registry", "trainingRepository"],
        input: env.registry.trainingRepository,
        message: fix("must differ from registry.servingRepository", "use mlops-training"),
      });
    }
    if (env.protection === "protected") {
      const protectedRule = (path: (string | number)[], rule: string, remedy: string) =>
        ctx.addIssue({
          code: "custom",
          path,
          input: path.reduce<unknown>((value, key) => (value as Record<string | number, unknown>)[key], env),
          message: fix(`a protected environment ${rule}`, remedy),
        });
      if (!env.database.deletionProtection)
        protectedRule(
          ["database", "deletionProtection"],
          "must keep RDS deletion protection on",
          "set database.deletionProtection: true",
        );
      if (env.database.backupRetentionDays < 7)
        protectedRule(
          ["database", "backupRetentionDays"],
          "needs at least 7 days of backups",
          "set database.backupRetentionDays to 7..35",
        );
      if (!env.database.multiAz)
        protectedRule(["database", "multiAz"], "needs a Multi-AZ database", "set database.multiAz: true");
      if (!env.registry.immutableTags)
        protectedRule(
          ["registry", "immutableTags"],
          "needs immutable image tags so a release cannot change under it",
          "set registry.immutableTags: true",
        );
      if (!env.platform.highAvailability)
        protectedRule(
          ["platform", "highAvailability"],
          "runs the platform highly available (replicas, disruption budgets)",
          "set platform.highAvailability: true",
        );
      if (env.platform.tlsCertificateArn === undefined)
        protectedRule(
          ["platform", "tlsCertificateArn"],
          "serves its UIs over HTTPS only",
          "issue an ACM certificate for *.<platform.domain> and set platform.tlsCertificateArn",
        );
      if (!env.platform.alerting.receivers.some((receiver) => receiver.severities.includes("critical")))
        protectedRule(
          ["platform", "alerting", "receivers"],
          "must send critical alerts to at least one receiver",
          'add a receiver with severities ["critical"] (e.g. kind: "pagerduty") under platform.alerting.receivers',
        );
      if (env.network.natGateways !== "one-per-az")
        protectedRule(
          ["network", "natGateways"],
          "needs one NAT gateway per AZ to survive a zone outage",
          'set network.natGateways: "one-per-az"',
        );
    }
  });

/** What an environment file states (defaults may be omitted). */
export type EnvironmentInput = z.input<typeof environmentSchema>;
/** A validated environment with every default filled in. */
export type Environment = z.output<typeof environmentSchema>;
export type NodeGroupConfig = Environment["nodeGroups"][NodeGroupKind];

/** Regions, zones, instance types and database classes checked against the pinned catalogues. */
function catalogueProblems(env: Environment, ctx: z.RefinementCtx<Environment>): void {
  const overrides = env.catalogueOverrides;
  // Values that broke a field's own rule were reported already.
  if (!REGION.test(env.aws.region)) return;
  const knownZones = REGION_ZONES[env.aws.region];
  const zones = overrides.availabilityZones ?? knownZones;
  if (zones === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["aws", "region"],
      input: env.aws.region,
      message: fix(
        `is not a region of the catalogue pinned on ${CATALOGUE_DATE} (e.g. ${Object.keys(REGION_ZONES).slice(0, 4).join(", ")})`,
        "correct the region code; for a region newer than the catalogue set catalogueOverrides.availabilityZones to its zone count",
      ),
    });
  } else if (env.network.azCount > zones && env.network.azCount <= 6) {
    ctx.addIssue({
      code: "custom",
      path: ["network", "azCount"],
      input: env.network.azCount,
      message: fix(
        overrides.availabilityZones !== undefined
          ? `is more than the ${zones} zones catalogueOverrides.availabilityZones gives ${env.aws.region}`
          : `is more than the ${zones} zones ${env.aws.region} offers new accounts (catalogue pinned on ${CATALOGUE_DATE}); subnets would share zones`,
        `set network.azCount to ${Math.min(zones, 3)}${overrides.availabilityZones === undefined ? ", or set catalogueOverrides.availabilityZones if the region has gained zones" : ""}`,
      ),
    });
  }
  for (const kind of NODE_GROUP_KINDS) {
    env.nodeGroups[kind].instanceTypes.forEach((type, index) => {
      if (!INSTANCE_TYPE.test(type) || overrides.instanceTypes.includes(type)) return;
      const problem = instanceTypeProblem(type);
      if (problem)
        ctx.addIssue({
          code: "custom",
          path: ["nodeGroups", kind, "instanceTypes", index],
          input: type,
          message: fix(
            problem,
            `correct the type (e.g. ${NODE_GROUP_DEFAULTS[kind].instanceTypes[0]}); if it is newer than the catalogue, add it to catalogueOverrides.instanceTypes`,
          ),
        });
    });
  }
  const instanceClass = env.database.instanceClass;
  if (DB_INSTANCE_CLASS.test(instanceClass) && !overrides.databaseInstanceClasses.includes(instanceClass)) {
    const problem = databaseClassProblem(instanceClass);
    if (problem)
      ctx.addIssue({
        code: "custom",
        path: ["database", "instanceClass"],
        input: instanceClass,
        message: fix(
          problem,
          "correct the class (e.g. db.t4g.medium, db.m7g.large); if it is newer than the catalogue, add it to catalogueOverrides.databaseInstanceClasses",
        ),
      });
  }
}
