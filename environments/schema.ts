/**
 * The schema every environment file is validated against before any stack is built.
 *
 * Each rule's message has the form `<rule>; fix: <what to change>`; `formatIssues` adds the
 * environment, the field path and the value received, so every problem reads
 * `prod: database.backupRetentionDays = 0: must be at least 7 ...; fix: ...`.
 */
import { z } from "zod";
import { addressCount, overlaps, parseCidr, rangeKind, type Ipv4Cidr } from "../constructs/lib/cidr";
import {
  CATALOGUE_DATE,
  databaseClassProblem,
  instanceTypeProblem,
  partitionOf,
  REGION_ZONES,
} from "./catalogues";
import { notificationUrlProblem } from "../constructs/platform/monitoring";

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

/** EC2 families with NVIDIA GPUs that the AL2023 NVIDIA AMI supports (x86_64). */
export const GPU_INSTANCE_FAMILIES = [
  "g4dn",
  "g5",
  "g6",
  "g6e",
  "gr6",
  "p3",
  "p3dn",
  "p4d",
  "p4de",
  "p5",
  "p5e",
  "p5en",
] as const;

const NAME = /^[a-z][a-z0-9-]{1,22}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const ACCOUNT_ID = /^\d{12}$/;
const IAM_PRINCIPAL_ARN = /^arn:(aws(-[a-z]+)*):iam::(\d{12}):(role|user)\/([\w+=,.@/-]+)$/;
const STS_SESSION_ARN = /^arn:aws(-[a-z]+)*:(sts::\d{12}:assumed-role|iam::\d{12}:assumed-role)\//;
const ACM_CERTIFICATE_ARN = /^arn:(aws(-[a-z]+)*):acm:([a-z0-9-]+):(\d{12}):certificate\/[0-9a-f-]{36}$/;
const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.([a-z0-9-]+)$/;
const DB_INSTANCE_CLASS = /^db\.[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const QUANTITY = /^\d+(\.\d+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;
/** Characters IAM (the strictest of the tagged services) allows in tag keys and values. */
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** Tags the platform sets on resources itself: the provider's default tags and per-resource ones. */
export const PLATFORM_TAG_KEYS = ["environment", "managed-by", "mlops-platform/stack", "Name", "workload"];
/** AWS allows 50 user tags per resource. */
const MAX_TAGS_PER_RESOURCE = 50;

/** RDS for PostgreSQL's largest gp3 volume. */
const MAX_RDS_STORAGE_GIB = 65536;

/** The service range EKS clusters of this platform get when `eks.serviceIpv4Cidr` is not set. */
export const DEFAULT_SERVICE_CIDR = "172.20.0.0/16";

/** Stands for a value that was not given, in issues raised after parsing. */
export const MISSING = Symbol("missing");

const fix = (rule: string, remedy: string): string => `${rule}; fix: ${remedy}`;

const wholeNumber = (field: string, min: number, max: number, remedy: string) =>
  z
    .number({ error: fix("must be a number", remedy) })
    .int({ error: fix(`${field} must be a whole number`, remedy) })
    .min(min, { error: fix(`must be between ${min} and ${max}`, remedy) })
    .max(max, { error: fix(`must be between ${min} and ${max}`, remedy) });

/** Why `text` is not an IPv4 range in plain notation, or undefined. */
export function cidrSyntaxProblem(text: string): string | undefined {
  if (parseCidr(text)) return undefined;
  const parts = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text)?.slice(1) ?? [];
  if (parts.some((part) => part.length > 1 && part.startsWith("0")))
    return "has a number with a leading zero, which some tools read as octal: write every number in plain decimal";
  return "must be an IPv4 CIDR block such as 10.20.0.0/16 with no host bits set";
}

const cidr = (remedy: string) =>
  z.string().superRefine((text, ctx) => {
    const problem = cidrSyntaxProblem(text);
    if (problem) ctx.addIssue({ code: "custom", message: fix(problem, remedy) });
  });

/** RFC 1918 space: what the VPC and the cluster's service range must come from. */
const PRIVATE_SPACE = "10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16";

/** What a range that is not where it should be is, in words. */
const RANGE_KINDS: Record<string, string> = {
  private: "private (RFC 1918) space",
  linkLocal: "link-local space (169.254.0.0/16, where instance metadata and the VPC DNS live)",
  carrierGradeNat: "carrier-grade NAT space (100.64.0.0/10)",
  loopback: "loopback space (127.0.0.0/8)",
  multicast: "multicast space (224.0.0.0/4)",
  reserved: "reserved space (IANA special-purpose or documentation ranges)",
  unspecified: "the unspecified block 0.0.0.0/8",
  broadcast: "the broadcast address",
  benchmarking: "benchmarking space (198.18.0.0/15)",
  unicast: "public address space",
  mixed: "a range that spans several kinds of address space",
};
const describeRange = (range: Ipv4Cidr): string => RANGE_KINDS[rangeKind(range)] ?? rangeKind(range);

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

const bucketName = z
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
const repositoryName = z
  .string()
  .min(2, { error: fix("must be 2 to 256 characters long", "use a short name like mlops-serving") })
  .max(256, { error: fix("must be 2 to 256 characters long", "use a short name like mlops-serving") })
  .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, {
    error: fix(
      "may hold only lower-case letters, digits and single . _ - / separators, starting and ending with a letter or digit",
      "use a name like mlops-serving or team/mlops-serving",
    ),
  });

/**
 * Why a node label or taint key is refused beyond the label syntax: EKS counts the whole key
 * (prefix included) against 63 characters, and the kubelet refuses to register a node with
 * labels in the kubernetes.io and k8s.io namespaces other than [*.]kubelet.kubernetes.io/ and
 * [*.]node.kubernetes.io/ (node-restriction.kubernetes.io/ is refused as well).
 */
/** Well-known labels in the reserved namespaces that nodes get without being asked. */
const KUBELET_SET_LABELS = [
  "beta.kubernetes.io/arch",
  "beta.kubernetes.io/instance-type",
  "beta.kubernetes.io/os",
  "failure-domain.beta.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "kubernetes.io/arch",
  "kubernetes.io/hostname",
  "kubernetes.io/os",
  "node.kubernetes.io/instance-type",
  "topology.kubernetes.io/region",
  "topology.kubernetes.io/zone",
];

export function nodeLabelKeyProblem(key: string): string | undefined {
  if (key.length > 63) return `is ${key.length} characters long; EKS allows at most 63 for the whole key`;
  const slash = key.indexOf("/");
  if (slash < 0) return undefined;
  const prefix = key.slice(0, slash);
  const reserved = (domain: string) => prefix === domain || prefix.endsWith(`.${domain}`);
  if (!reserved("kubernetes.io") && !reserved("k8s.io")) return undefined;
  if (KUBELET_SET_LABELS.includes(key))
    return "is a label the kubelet or the cloud provider sets on every node itself";
  const allowed =
    (reserved("kubelet.kubernetes.io") || reserved("node.kubernetes.io")) &&
    !reserved("node-restriction.kubernetes.io");
  return allowed
    ? undefined
    : `uses the reserved prefix ${prefix}/, which the kubelet refuses to set on its node`;
}

const nodeLabelKey = (remedy: string) =>
  z.string().superRefine((key, ctx) => {
    const problem = LABEL_KEY.test(key)
      ? nodeLabelKeyProblem(key)
      : "must be a Kubernetes label key: [prefix/]name, name up to 63 letters, digits, - _ . starting and ending alphanumeric";
    if (problem) ctx.addIssue({ code: "custom", message: fix(problem, remedy) });
  });

const taintSchema = z.strictObject({
  key: nodeLabelKey("use a key like example.com/dedicated"),
  value: z
    .string()
    .regex(LABEL_VALUE, {
      error: fix("must be a valid Kubernetes label value", "use letters, digits, - _ . (max 63)"),
    })
    .optional(),
  effect: z.enum(["NoSchedule", "NoExecute", "PreferNoSchedule"], {
    error: fix(
      "must be NoSchedule, NoExecute or PreferNoSchedule",
      "pick one of the three Kubernetes taint effects",
    ),
  }),
});

const labelsSchema = z
  .record(
    nodeLabelKey("use a key like example.com/team"),
    z
      .string()
      .min(1, {
        error: fix(
          "must not be empty: EKS refuses empty node label values",
          'give it a value such as "true"',
        ),
      })
      .regex(LABEL_VALUE, {
        error: fix("must be a valid Kubernetes label value", "use letters, digits, - _ . (max 63)"),
      }),
  )
  .superRefine((labels, ctx) => {
    if ("workload" in labels) {
      ctx.addIssue({
        code: "custom",
        path: ["workload"],
        input: labels.workload,
        message: fix(
          "is the label the platform sets to the group's name (it would replace yours)",
          "remove it, or use another key such as example.com/workload",
        ),
      });
    }
  })
  .default({});

/** Taint keys each group carries already (training: workload=training, gpu: nvidia.com/gpu=true). */
export const GROUP_TAINT_KEYS: Record<"general" | "training" | "gpu", readonly string[]> = {
  general: [],
  training: ["workload"],
  gpu: ["nvidia.com/gpu"],
};
/** EKS allows 50 taints per managed node group. */
const MAX_TAINTS = 50;

export const NODE_GROUP_KINDS = ["general", "training", "gpu"] as const;
export type NodeGroupKind = (typeof NODE_GROUP_KINDS)[number];

const AMI_TYPES = ["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NVIDIA"] as const;

interface NodeGroupDefaults {
  readonly instanceTypes: string[];
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  readonly diskSizeGib: number;
  readonly amiType: (typeof AMI_TYPES)[number];
}

/** The defaults of each node group: general on demand, training and GPU on SPOT and idle at zero nodes. */
export const NODE_GROUP_DEFAULTS: Record<NodeGroupKind, NodeGroupDefaults> = {
  general: {
    instanceTypes: ["t3.large"],
    capacityType: "ON_DEMAND",
    minSize: 2,
    desiredSize: 2,
    maxSize: 6,
    diskSizeGib: 50,
    amiType: "AL2023_x86_64_STANDARD",
  },
  training: {
    instanceTypes: ["c5.2xlarge", "c5a.2xlarge", "c6i.2xlarge"],
    capacityType: "SPOT",
    minSize: 0,
    desiredSize: 0,
    maxSize: 10,
    diskSizeGib: 100,
    amiType: "AL2023_x86_64_STANDARD",
  },
  gpu: {
    instanceTypes: ["g4dn.xlarge", "g5.xlarge"],
    capacityType: "SPOT",
    minSize: 0,
    desiredSize: 0,
    maxSize: 4,
    diskSizeGib: 200,
    amiType: "AL2023_x86_64_NVIDIA",
  },
};

/**
 * NVIDIA GPUs per instance of the GPU families, by size; the cluster autoscaler is told this
 * count for a group at zero nodes, so every type of a group must offer the same number.
 */
export function gpusPerInstance(instanceType: string): number | undefined {
  const match = INSTANCE_TYPE.exec(instanceType);
  if (!match) return undefined;
  const [, family, size] = match;
  if (["g4dn", "g5", "g6", "g6e", "gr6"].includes(family)) {
    if (["xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge"].includes(size)) return 1;
    if (["12xlarge", "24xlarge"].includes(size)) return 4;
    if (["48xlarge", "metal"].includes(size)) return 8;
    return undefined;
  }
  if (family === "p3") return ({ "2xlarge": 1, "8xlarge": 4, "16xlarge": 8 } as Record<string, number>)[size];
  if (["p3dn", "p4d", "p4de", "p5", "p5e", "p5en"].includes(family))
    return size.endsWith("24xlarge") || size === "48xlarge" ? 8 : undefined;
  return undefined;
}

function instanceFamily(instanceType: string): string {
  return INSTANCE_TYPE.exec(instanceType)?.[1] ?? "";
}

/** Graviton (arm64) families carry a `g` in the suffix after the generation (m7g, c6gn, t4g, g5g), plus a1. */
export function isArmFamily(family: string): boolean {
  const suffix = /^[a-z]+\d+([a-z]*)/.exec(family)?.[1] ?? "";
  return family === "a1" || suffix.includes("g");
}

function nodeGroupSchema(kind: NodeGroupKind) {
  const d = NODE_GROUP_DEFAULTS[kind];
  const sizeRemedy = "keep 0 <= minSize <= desiredSize <= maxSize, with maxSize >= 1";
  return z
    .strictObject({
      instanceTypes: z
        .array(
          z.string().regex(INSTANCE_TYPE, {
            error: fix("must be an EC2 instance type such as t3.large", "use the family.size form"),
          }),
        )
        .min(1, {
          error: fix(
            "must list at least one instance type",
            `list types such as ${d.instanceTypes.join(", ")}`,
          ),
        })
        .default(d.instanceTypes),
      capacityType: z
        .enum(["ON_DEMAND", "SPOT"], { error: fix("must be ON_DEMAND or SPOT", "pick one of the two") })
        .default(d.capacityType),
      minSize: wholeNumber("minSize", 0, 100, sizeRemedy).default(d.minSize),
      desiredSize: wholeNumber("desiredSize", 0, 100, sizeRemedy).default(d.desiredSize),
      maxSize: wholeNumber("maxSize", 1, 100, sizeRemedy).default(d.maxSize),
      diskSizeGib: wholeNumber("diskSizeGib", 20, 16384, "give the root volume 20 GiB or more").default(
        d.diskSizeGib,
      ),
      amiType: z
        .enum(AMI_TYPES, {
          error: fix(`must be one of ${AMI_TYPES.join(", ")}`, "use an AL2023 EKS-optimized AMI type"),
        })
        .default(d.amiType),
      /** Labels added to the `workload=<group>` label every node of the group carries. */
      labels: labelsSchema,
      /** Taints added to the group's own taint (training: workload=training, gpu: nvidia.com/gpu). */
      taints: z
        .array(taintSchema)
        .describe(
          "{ key, value?, effect: NoSchedule | NoExecute | PreferNoSchedule }, added to the group's own taint; one per key, never the group's own key",
        )
        .default([]),
    })
    .superRefine((group, ctx) => {
      const taintKeys = new Set<string>(GROUP_TAINT_KEYS[kind]);
      group.taints.forEach((taint, index) => {
        const own = GROUP_TAINT_KEYS[kind].includes(taint.key);
        if (taintKeys.has(taint.key)) {
          ctx.addIssue({
            code: "custom",
            path: ["taints", index, "key"],
            input: taint.key,
            message: own
              ? fix(
                  `is the key of the ${kind} group's own taint (${taint.key}, NoSchedule)`,
                  "remove this taint: the group carries it already",
                )
              : fix(
                  "is the key of an earlier taint of the group (the autoscaler keeps one taint per key)",
                  "merge the two taints into one",
                ),
          });
        }
        taintKeys.add(taint.key);
      });
      if (group.taints.length + GROUP_TAINT_KEYS[kind].length > MAX_TAINTS) {
        ctx.addIssue({
          code: "custom",
          path: ["taints"],
          input: group.taints,
          message: fix(
            `holds ${group.taints.length} taints; with the group's own that exceeds the ${MAX_TAINTS} EKS allows per node group`,
            "drop taints; one taint per purpose is enough",
          ),
        });
      }
      if (group.minSize > group.maxSize) {
        ctx.addIssue({
          code: "custom",
          path: ["minSize"],
          input: group.minSize,
          message: fix(`must be <= maxSize (${group.maxSize})`, sizeRemedy),
        });
      }
      if (
        group.minSize <= group.maxSize &&
        (group.desiredSize < group.minSize || group.desiredSize > group.maxSize)
      ) {
        ctx.addIssue({
          code: "custom",
          path: ["desiredSize"],
          input: group.desiredSize,
          message: fix(
            `must be within [minSize, maxSize] = [${group.minSize}, ${group.maxSize}]`,
            sizeRemedy,
          ),
        });
      }
      if (new Set(group.instanceTypes).size !== group.instanceTypes.length) {
        ctx.addIssue({
          code: "custom",
          path: ["instanceTypes"],
          input: group.instanceTypes,
          message: fix("must not list an instance type twice", "remove the duplicate"),
        });
      }
      if (group.capacityType === "SPOT" && group.instanceTypes.length < 2) {
        ctx.addIssue({
          code: "custom",
          path: ["instanceTypes"],
          input: group.instanceTypes,
          message: fix(
            "a SPOT group needs at least two interchangeable instance types, or one reclaimed pool empties it",
            `add a type with the same vCPU and memory, e.g. ${d.instanceTypes.join(", ")}`,
          ),
        });
      }
      const arm = group.amiType === "AL2023_ARM_64_STANDARD";
      group.instanceTypes.forEach((type, index) => {
        const family = instanceFamily(type);
        if (family === "") return;
        if (isArmFamily(family) !== arm) {
          ctx.addIssue({
            code: "custom",
            path: ["instanceTypes", index],
            input: type,
            message: fix(
              `is ${isArmFamily(family) ? "an arm64 (Graviton)" : "an x86_64"} type but amiType ${group.amiType} is for ${arm ? "arm64" : "x86_64"}`,
              "use instance types of the AMI's architecture",
            ),
          });
        }
      });
      if (kind === "gpu") {
        group.instanceTypes.forEach((type, index) => {
          if (!(GPU_INSTANCE_FAMILIES as readonly string[]).includes(instanceFamily(type))) {
            ctx.addIssue({
              code: "custom",
              path: ["instanceTypes", index],
              input: type,
              message: fix(
                `is not an NVIDIA GPU instance type (families: ${GPU_INSTANCE_FAMILIES.join(", ")})`,
                "use GPU types such as g4dn.xlarge and g5.xlarge",
              ),
            });
          }
        });
        const counts = new Set(group.instanceTypes.map(gpusPerInstance));
        if (counts.size > 1 && !counts.has(undefined)) {
          ctx.addIssue({
            code: "custom",
            path: ["instanceTypes"],
            input: group.instanceTypes,
            message: fix(
              "every GPU type of the group must carry the same number of GPUs, or the autoscaler misjudges an empty group",
              "pick sizes with equal GPU counts, e.g. g4dn.xlarge and g5.xlarge (1 each)",
            ),
          });
        }
        group.instanceTypes.forEach((type, index) => {
          if (
            GPU_INSTANCE_FAMILIES.includes(instanceFamily(type) as never) &&
            gpusPerInstance(type) === undefined
          ) {
            ctx.addIssue({
              code: "custom",
              path: ["instanceTypes", index],
              input: type,
              message: fix(
                "is a size whose GPU count this project does not know",
                "use a listed size such as g5.xlarge or g5.12xlarge",
              ),
            });
          }
        });
        if (group.amiType !== "AL2023_x86_64_NVIDIA") {
          ctx.addIssue({
            code: "custom",
            path: ["amiType"],
            input: group.amiType,
            message: fix(
              "the GPU group must run the AL2023_x86_64_NVIDIA AMI (it ships the NVIDIA driver)",
              'set amiType: "AL2023_x86_64_NVIDIA"',
            ),
          });
        }
      } else if (group.amiType === "AL2023_x86_64_NVIDIA") {
        ctx.addIssue({
          code: "custom",
          path: ["amiType"],
          input: group.amiType,
          message: fix(
            `the ${kind} group has no GPUs, so the NVIDIA AMI only adds boot time`,
            'use "AL2023_x86_64_STANDARD"',
          ),
        });
      }
    });
}

const retentionDays = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
const logRetention = z
  .number()
  .refine((n) => retentionDays.includes(n), {
    error: fix(`must be a CloudWatch Logs retention period (${retentionDays.join(", ")})`, "pick 90 or 365"),
  })
  .default(90);

/** Alert severities the platform's and the monitoring chart's rules use. */
export const ALERT_SEVERITIES = ["critical", "warning", "info"] as const;
const SECRETS_MANAGER_SECRET =
  /^(arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/;

/**
 * The URL of an HTTP proxy or relay Alertmanager calls: http or https, with a host, without user
 * or password (those would sit in Helm values and the state; a relay's credential goes in the
 * receiver's Secret).
 */
export const notificationUrl = (what: string, example: string) =>
  z.string().superRefine((text, ctx) => {
    const problem = notificationUrlProblem(text);
    if (problem)
      ctx.addIssue({
        code: "custom",
        input: text,
        message: fix(
          `must be the http:// or https:// URL of ${what} without user or password (this one ${problem})`,
          `use e.g. ${example}; a credential goes in the receiver's Secret, not in the URL`,
        ),
      });
  });

/** Minutes between heartbeat pings. */
export const heartbeatInterval = z
  .number({ error: fix("must be a whole number of minutes", "use e.g. 5") })
  .int({ error: fix("must be a whole number of minutes", "use e.g. 5") })
  .min(1, { error: fix("must be at least 1", "ping every 1 to 60 minutes") })
  .max(60, { error: fix("must be at most 60", "ping at least hourly") })
  .optional();

const receiverCommon = {
  /** Receiver name in Alertmanager and in its Secret's name (`alert-receiver-<name>`). */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/, {
    error: fix(
      "must be 2 to 40 lower-case letters, digits or hyphens, starting with a letter",
      "use a name like platform-team or on-call",
    ),
  }),
  /** Severities this receiver gets. */
  severities: z
    .array(
      z.enum(ALERT_SEVERITIES, {
        error: fix(
          `must be one of ${ALERT_SEVERITIES.join(", ")}`,
          "list the severities this receiver takes",
        ),
      }),
    )
    .min(1, {
      error: fix("must list at least one severity", 'list e.g. ["critical", "warning"]'),
    })
    .refine((list) => new Set(list).size === list.length, {
      error: fix("must not list a severity twice", "remove the duplicate"),
    }),
  /**
   * The Secrets Manager secret holding the credential (Slack webhook URL, PagerDuty routing
   * key, webhook URL), by name or ARN, never the credential itself. External Secrets copies it
   * into the monitoring namespace.
   */
  secret: z.strictObject({
    remoteKey: z.string().regex(SECRETS_MANAGER_SECRET, {
      error: fix(
        "must be a Secrets Manager secret name or ARN",
        "create the secret in Secrets Manager and give its name, e.g. mlops/prod/alerting/slack",
      ),
    }),
    /** Key inside a JSON secret; unset: the secret's whole string value. */
    property: z
      .string()
      .min(1, { error: fix("must not be empty", "remove it to use the whole secret value") })
      .optional(),
  }),
};

const alertReceiverSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("slack"),
      ...receiverCommon,
      /** Channel the messages go to (the webhook's own channel when the app allows overriding it). */
      channel: z.string().regex(/^#[a-z0-9][a-z0-9._-]{0,79}$/, {
        error: fix("must be a Slack channel such as #mlops-alerts", "start it with # and use lower case"),
      }),
    }),
    z.strictObject({ kind: z.literal("pagerduty"), ...receiverCommon }),
    z.strictObject({ kind: z.literal("webhook"), ...receiverCommon }),
  ],
  { error: fix("kind must be slack, pagerduty or webhook", "set kind to one of the three") },
);

/** Kubeflow Pipelines settings every target shares (on-prem adds how Argo CD reaches its mirror). */
export const pipelinesShape = {
  /** Git repository of the Kubeflow Pipelines manifests (a mirror on-prem). @default upstream on GitHub */
  manifestsRepository: z
    .string()
    .regex(/^https:\/\/\S+$/, {
      error: fix(
        "must be an https:// Git URL",
        "use https://github.com/kubeflow/pipelines.git or your mirror",
      ),
    })
    .default("https://github.com/kubeflow/pipelines.git"),
};

/** Platform settings every target shares (AWS adds its certificate and alert receivers). */
export const platformShape = {
  /** Replicas, PodDisruptionBudgets and anti-affinity for every component that supports them. */
  highAvailability: z.boolean({ error: fix("must be true or false", "use true for production") }),
  /** DNS zone of the UIs: mlflow.<domain>, pipelines.<domain>, argocd.<domain>, grafana.<domain>. */
  domain: z.string().regex(HOSTNAME, {
    error: fix("must be a DNS name such as mlops.dev.example.com", "use a zone you can publish records in"),
  }),
  /** Whether the UIs' load balancer is reachable from the internet. @default "internal" */
  exposure: z
    .enum(["internal", "public"], {
      error: fix("must be internal or public", "use internal unless users come from the internet"),
    })
    .default("internal"),
  /**
   * Quota of every platform namespace: CPU requests (the platform sets no CPU limits), memory
   * requests and limits, GPU requests. `npm run verify` checks each namespace's worst case.
   */
  namespaceQuota: z
    .strictObject({
      /** CPU requests. @default "16" */
      cpu: z
        .string()
        .regex(QUANTITY, { error: fix("must be a Kubernetes quantity", "use e.g. 16 or 4500m") })
        .default("16"),
      /** @default "64Gi" */
      memory: z
        .string()
        .regex(QUANTITY, { error: fix("must be a Kubernetes quantity", "use e.g. 64Gi") })
        .default("64Gi"),
      /** @default 4 */
      gpus: wholeNumber("gpus", 0, 64, "cap GPU requests per namespace (4 is the default)").default(4),
    })
    .prefault({}),
  monitoring: z
    .strictObject({
      /** Days Prometheus keeps samples. @default 15 */
      retentionDays: wholeNumber("retentionDays", 1, 365, "keep 1 to 365 days").default(15),
      /** Prometheus volume size. @default 50 */
      storageGib: wholeNumber("storageGib", 10, 16384, "give Prometheus 10 GiB or more").default(50),
    })
    .prefault({}),
  pipelines: z.strictObject(pipelinesShape).prefault({}),
};

const awsPlatformSchema = z.strictObject({
  ...platformShape,
  /**
   * ACM certificate for the UIs' host names (`*.<domain>`): HTTPS on 443, HTTP redirected.
   * @default none - plain HTTP on 80 (protected environments must set it)
   */
  tlsCertificateArn: z
    .string()
    .regex(ACM_CERTIFICATE_ARN, {
      error: fix("must be an ACM certificate ARN", "use arn:aws:acm:<region>:<account>:certificate/<id>"),
    })
    .optional(),
  /** Where Alertmanager sends alerts. @default no receivers (alerts are only visible in Alertmanager) */
  alerting: z
    .strictObject({
      receivers: z.array(alertReceiverSchema).default([]),
      /**
       * Dead man's switch: the always-firing `Watchdog` alert is posted every `intervalMinutes`
       * to a healthchecks-style URL (the service alerts when the pings stop). The URL is read
       * from this Secrets Manager secret, copied into `alert-receiver-heartbeat` (key `url`).
       * @default none (Watchdog goes nowhere)
       */
      heartbeat: z
        .strictObject({
          secret: receiverCommon.secret,
          /** Minutes between pings; the checking service's period must be longer. @default 5 */
          intervalMinutes: heartbeatInterval,
        })
        .optional(),
    })
    .prefault({}),
});

/** The serving Deployment of the serving stack. */
export const servingSchema = z
  .strictObject({
    /** Replicas (and the HPA's floor). @default 2 */
    replicas: wholeNumber(
      "replicas",
      2,
      50,
      "run 2 or more replicas so a node loss or rollout keeps serving up",
    ).default(2),
    /** HPA ceiling. @default 3 x replicas */
    maxReplicas: wholeNumber(
      "maxReplicas",
      2,
      200,
      "allow the HPA at least as many replicas as the floor",
    ).optional(),
    /** Whether the serving NLB is reachable from the internet. @default "internal" */
    exposure: z
      .enum(["internal", "public"], {
        error: fix("must be internal or public", "use internal unless clients come from the internet"),
      })
      .default("internal"),
  })
  .prefault({});

/** RFC 5737's documentation ranges: placeholders no client egresses from. */
export const DOCUMENTATION_RANGES = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"] as const;

/** The documentation range `text` lies in, if any (a wider block is judged by its other rules). */
export function documentationRangeOf(text: string): string | undefined {
  const parsed = parseCidr(text);
  if (parsed === undefined) return undefined;
  return DOCUMENTATION_RANGES.find((range) => {
    const documentation = parseCidr(range)!;
    return parsed.prefix >= documentation.prefix && overlaps(parsed, documentation);
  });
}

/** What GitHub Actions accepts as a runner label (`runs-on`). */
const RUNNER_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function runnerLabelsSchema(example: readonly string[]) {
  return z
    .array(
      z.string().regex(RUNNER_LABEL, {
        error: fix(
          "must be a runner label: letters, digits, . _ - (at most 100), starting with a letter or digit",
          'use labels like "self-hosted" and "mlops-prod"',
        ),
      }),
    )
    .min(1, {
      error: fix(
        "must list at least one label when given",
        `list the runner's labels, e.g. ${JSON.stringify(example)}`,
      ),
    })
    .optional();
}

/** Who deploys an AWS environment, and from which runner. */
export const awsDeliverySchema = z
  .strictObject({
    /**
     * `pipeline`: the GitHub workflows diff it on pull requests and deploy it on main (needs
     * `stateBackend` and `runnerLabels`); `manual`: deployed by hand, e.g. from a laptop with
     * local state; the workflows neither diff nor deploy it.
     */
    deployedBy: z
      .enum(["pipeline", "manual"], {
        error: fix(
          "must be pipeline or manual",
          'use "pipeline" for an environment CI deploys, "manual" for one deployed by hand',
        ),
      })
      .describe(
        "`pipeline` needs `stateBackend` and `runnerLabels`, and no documentation range (RFC 5737) in `eks.publicEndpoint.allowedCidrs`",
      ),
    /**
     * `runs-on` labels of the runner that deploys the stacks (main only, holding the deploy
     * role); a runner inside the VPC is self-hosted (`["self-hosted", "mlops-<env>"]`).
     * @default none (only for manual delivery)
     */
    runnerLabels: runnerLabelsSchema(["self-hosted", "mlops-prod"]).describe(
      "required when `deployedBy` is `pipeline`, refused otherwise; without `self-hosted`, `eks.publicEndpoint` must be enabled",
    ),
    /**
     * `runs-on` labels of the runner that plans pull requests (their code, with the read-only
     * diff role): never one that can take the deploy job. @default runnerLabels where those
     * name GitHub-hosted runners (a fresh machine per job)
     */
    diffRunnerLabels: runnerLabelsSchema(["self-hosted", "mlops-prod-diff"]).describe(
      "required with a self-hosted `runnerLabels`; neither label list may be contained in the other, so no runner takes both pull-request and deploy jobs",
    ),
  })
  .describe("who deploys the environment and from which runner");

/** Environment name; stacks are named `<name>-platform` etc. */
export const environmentNameSchema = z
  .string()
  .regex(NAME, {
    error: fix(
      "must be 3 to 24 lower-case letters, digits or hyphens, starting with a letter and ending with a letter or digit",
      "use a name like dev or staging",
    ),
  })
  .refine((name) => !name.includes("--"), {
    error: fix(
      "must not hold two hyphens in a row: RDS refuses them in the database identifier mlops-<name>-mlflow",
      "use single hyphens, e.g. ml-dev",
    ),
  });

/**
 * `protected`: nothing stateful can be destroyed by Terraform (prod).
 * `disposable`: everything can be torn down, data included (dev).
 */
export const protectionSchema = z.enum(["protected", "disposable"], {
  error: fix("must be protected or disposable", "use protected for environments holding data you keep"),
});

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
    network: z.strictObject({
      vpcCidr: cidr("use a private range between /16 and /20, e.g. 10.20.0.0/16")
        .describe(
          "private (RFC 1918) IPv4 /16 to /20 in plain decimal, no host bits; overlaps no other environment's VPC nor eks.serviceIpv4Cidr",
        )
        .superRefine((text, ctx) => {
          const parsed = parseCidr(text);
          if (parsed === undefined) return;
          if (parsed.prefix < 16 || parsed.prefix > 20) {
            ctx.addIssue({
              code: "custom",
              message: fix(
                "must be a /16 to /20 block",
                "use e.g. 10.20.0.0/16: pods take VPC addresses, so leave room",
              ),
            });
          } else if (rangeKind(parsed) !== "private") {
            ctx.addIssue({
              code: "custom",
              message: fix(
                `is ${describeRange(parsed)}; the VPC must come from private space (${PRIVATE_SPACE})`,
                "use a private range such as 10.20.0.0/16",
              ),
            });
          }
        }),
      /** Availability zones to spread subnets and nodes over. @default 3 */
      azCount: wholeNumber(
        "azCount",
        2,
        6,
        "spread over 2 to 6 availability zones (3 is the default)",
      ).default(3),
      /** `one-per-az` survives the loss of a zone; `single` is cheaper. @default "one-per-az" */
      natGateways: z
        .enum(["single", "one-per-az"], {
          error: fix("must be single or one-per-az", "use one-per-az where uptime matters"),
        })
        .default("one-per-az"),
      /** @default 90 */
      flowLogRetentionDays: logRetention,
    }),
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
      publicEndpoint: z
        .strictObject({
          enabled: z.boolean(),
          allowedCidrs: z
            .array(cidr("list the office or CI egress ranges"))
            .describe(
              "public IPv4 ranges only (never 0.0.0.0/0, at most a /8 in all); at least one when enabled",
            )
            .default([]),
        })
        .superRefine((endpoint, ctx) => {
          const ranges: Ipv4Cidr[] = [];
          const seen = new Set<string>();
          endpoint.allowedCidrs.forEach((block, index) => {
            const parsed = parseCidr(block);
            if (parsed === undefined) return;
            const issue = (message: string) =>
              ctx.addIssue({ code: "custom", path: ["allowedCidrs", index], input: block, message });
            if (parsed.prefix === 0) {
              issue(
                fix(
                  "must not open the API to the whole internet",
                  "list only the office or CI egress ranges",
                ),
              );
              return;
            }
            const kind = rangeKind(parsed);
            if (
              [
                "private",
                "carrierGradeNat",
                "linkLocal",
                "loopback",
                "multicast",
                "unspecified",
                "broadcast",
              ].includes(kind)
            ) {
              issue(
                fix(
                  `is ${describeRange(parsed)}, which never reaches a public endpoint (EKS refuses it)`,
                  "list the public egress addresses of the office or CI; private clients use the private endpoint",
                ),
              );
              return;
            }
            if (seen.has(block)) issue(fix("is listed twice", "remove the duplicate"));
            seen.add(block);
            ranges.push(parsed);
          });
          const opened = addressCount(ranges);
          if (!ranges.some((range) => range.prefix === 0) && opened > 2 ** 24) {
            ctx.addIssue({
              code: "custom",
              path: ["allowedCidrs"],
              input: endpoint.allowedCidrs,
              message: fix(
                `together open ${opened.toLocaleString("en-US")} addresses (${((opened / 2 ** 32) * 100).toFixed(1)}% of the internet), more than a /8`,
                "list only the office or CI egress ranges, each a few addresses wide",
              ),
            });
          }
          if (endpoint.enabled && endpoint.allowedCidrs.length === 0) {
            ctx.addIssue({
              code: "custom",
              path: ["allowedCidrs"],
              input: endpoint.allowedCidrs,
              message: fix(
                "must list at least one range when the public endpoint is enabled (empty means 0.0.0.0/0)",
                "list the CI and office egress ranges, or disable the public endpoint",
              ),
            });
          }
        })
        .default({ enabled: false, allowedCidrs: [] }),
      /** Service CIDR of the cluster; must not overlap the VPC. @default "172.20.0.0/16" */
      serviceIpv4Cidr: cidr("use a /12 to /24 block outside the VPC, e.g. 172.20.0.0/16")
        .describe("private (RFC 1918) /12 to /24 (EKS's rule), outside the VPC")
        .superRefine((text, ctx) => {
          const parsed = parseCidr(text);
          if (parsed === undefined) return;
          if (rangeKind(parsed) !== "private")
            ctx.addIssue({
              code: "custom",
              message: fix(
                `is ${describeRange(parsed)}; EKS takes service ranges only from ${PRIVATE_SPACE}`,
                "use a private block outside the VPC, e.g. 172.20.0.0/16",
              ),
            });
          else if (parsed.prefix < 12 || parsed.prefix > 24)
            ctx.addIssue({
              code: "custom",
              message: fix(
                "must be a /12 to /24 block (EKS's limits)",
                "use e.g. a /16 such as 172.20.0.0/16",
              ),
            });
        })
        .default(DEFAULT_SERVICE_CIDR),
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
    storage: z.strictObject({
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
    }),
    registry: z.strictObject({
      /** @default "mlops-serving" */
      servingRepository: repositoryName.default("mlops-serving"),
      /** @default "mlops-training" */
      trainingRepository: repositoryName.default("mlops-training"),
      /** Forbid overwriting a pushed tag. */
      immutableTags: z.boolean(),
      /** @default 10 */
      keepTaggedImages: wholeNumber("keepTaggedImages", 1, 1000, "keep at least the running image").default(
        10,
      ),
      /** @default 7 */
      untaggedImageExpiryDays: wholeNumber(
        "untaggedImageExpiryDays",
        1,
        365,
        "expire untagged images after 1 to 365 days",
      ).default(7),
    }),
    platform: awsPlatformSchema,
    /** The serving Deployment of the serving stack. */
    serving: servingSchema,
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
    const receiverNames = new Set<string>(env.platform.alerting.heartbeat ? ["heartbeat"] : []);
    env.platform.alerting.receivers.forEach((receiver, index) => {
      if (receiverNames.has(receiver.name) || receiver.name === "null") {
        ctx.addIssue({
          code: "custom",
          path: ["platform", "alerting", "receivers", index, "name"],
          input: receiver.name,
          message: fix(
            receiver.name === "null"
              ? "is the name of the receiver that drops alerts"
              : receiver.name === "heartbeat" && env.platform.alerting.heartbeat
                ? "is the name of the heartbeat's receiver (platform.alerting.heartbeat is set)"
                : "must be unique among the receivers",
            "give every receiver its own name",
          ),
        });
      }
      receiverNames.add(receiver.name);
    });
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

/** What pipeline delivery asks of an environment: remote state, a runner that reaches the cluster. */
function deliveryProblems(env: Environment, ctx: z.RefinementCtx<Environment>): void {
  const { deployedBy, runnerLabels, diffRunnerLabels } = env.delivery;
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: "custom", path, input, message });
  if (deployedBy === "manual") {
    for (const field of ["runnerLabels", "diffRunnerLabels"] as const)
      if (env.delivery[field] !== undefined)
        issue(
          ["delivery", field],
          env.delivery[field],
          fix(
            "only an environment the pipeline deploys has a runner",
            `remove delivery.${field}, or set delivery.deployedBy: "pipeline"`,
          ),
        );
    return;
  }
  if (env.stateBackend === undefined)
    issue(
      ["delivery", "deployedBy"],
      deployedBy,
      fix(
        "an environment the pipeline deploys needs remote state (stateBackend): a runner's local state is gone after its job, and the next deploy fails on resources that already exist",
        'set stateBackend to an S3 bucket, or set delivery.deployedBy: "manual" to deploy it by hand',
      ),
    );
  if (runnerLabels === undefined)
    issue(
      ["delivery", "runnerLabels"],
      MISSING,
      fix(
        "must name the runner when the pipeline deploys the environment",
        `set delivery.runnerLabels, e.g. ["self-hosted", "mlops-${env.name}"] for a runner inside the VPC`,
      ),
    );
  else if (!runnerLabels.includes("self-hosted") && !env.eks.publicEndpoint.enabled)
    issue(
      ["delivery", "runnerLabels"],
      runnerLabels,
      fix(
        "name a GitHub-hosted runner, which reaches the cluster only through the public endpoint, and eks.publicEndpoint is disabled",
        `run a self-hosted runner inside the VPC and list its labels (["self-hosted", "mlops-${env.name}"]), or enable eks.publicEndpoint with the runners' egress ranges`,
      ),
    );
  if (runnerLabels !== undefined) runnerSeparationProblems(env.name, runnerLabels, diffRunnerLabels, issue);
  env.eks.publicEndpoint.allowedCidrs.forEach((block, index) => {
    const documentation = documentationRangeOf(block);
    if (documentation !== undefined)
      issue(
        ["eks", "publicEndpoint", "allowedCidrs", index],
        block,
        fix(
          `is in the documentation range ${documentation} (RFC 5737), a placeholder no runner or office egresses from, and the pipeline deploys this environment`,
          "list the real egress ranges of the runners and the office, or disable the public endpoint and deploy from a self-hosted runner inside the VPC",
        ),
      );
  });
}

/**
 * Pull requests run their own code on the diff runner; the deploy runner holds the deploy role's
 * token and the state. GitHub gives a job any runner carrying all its labels: if one list
 * contains the other, a runner registered for one job can take the other. GitHub-hosted runners
 * are a fresh machine per job, so they may share labels.
 */
function runnerSeparationProblems(
  name: string,
  deploy: readonly string[],
  diff: readonly string[] | undefined,
  issue: (path: (string | number)[], input: unknown, message: string) => void,
): void {
  const selfHosted = deploy.includes("self-hosted") || (diff ?? []).includes("self-hosted");
  if (!selfHosted) return;
  if (diff === undefined) {
    issue(
      ["delivery", "diffRunnerLabels"],
      MISSING,
      fix(
        "must name the pull-request runner when the deploy runner is self-hosted: pull-request code must not run where deploys run",
        `set delivery.diffRunnerLabels, e.g. ["self-hosted", "mlops-${name}-diff"], a runner in its own runner group`,
      ),
    );
    return;
  }
  const within = (a: readonly string[], b: readonly string[]) => a.every((label) => b.includes(label));
  if (within(diff, deploy) || within(deploy, diff))
    issue(
      ["delivery", "diffRunnerLabels"],
      diff,
      fix(
        `coincides with delivery.runnerLabels ${JSON.stringify(deploy)}: a runner carrying ${within(diff, deploy) ? "the deploy labels takes pull-request jobs" : "the pull-request labels takes deploy jobs"}, so pull-request code would run where the deploy role and the state are`,
        `give each a label the other lacks, e.g. ["self-hosted", "mlops-${name}-diff"] for the pull-request runner, registered in its own runner group`,
      ),
    );
}

/** A service range that does not overlap the VPC. */
function serviceRangeSuggestion(vpc: Ipv4Cidr): string {
  const candidates = [DEFAULT_SERVICE_CIDR, "10.100.0.0/16", "192.168.0.0/16"];
  return candidates.find((text) => !overlaps(parseCidr(text)!, vpc)) ?? DEFAULT_SERVICE_CIDR;
}

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
