/**
 * Node groups: instance types and their GPUs and architecture, node labels and taints as EKS
 * and the kubelet take them, and the three groups' defaults.
 */
import { z } from "zod";
import { fix, LABEL_KEY, LABEL_VALUE, wholeNumber } from "./common";

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

export const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.([a-z0-9-]+)$/;

/**
 * Why a node label or taint key is refused beyond the label syntax: EKS counts the whole key
 * (prefix included) against 63 characters, and the kubelet refuses to register a node with
 * labels in the kubernetes.io and k8s.io namespaces other than [*.]kubelet.kubernetes.io/ and
 * [*.]node.kubernetes.io/ (node-restriction.kubernetes.io/ is refused as well).
 */
/** Well-known labels in the reserved namespaces that nodes get without being asked. */
export const KUBELET_SET_LABELS = [
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

export const nodeLabelKey = (remedy: string) =>
  z.string().superRefine((key, ctx) => {
    const problem = LABEL_KEY.test(key)
      ? nodeLabelKeyProblem(key)
      : "must be a Kubernetes label key: [prefix/]name, name up to 63 letters, digits, - _ . starting and ending alphanumeric";
    if (problem) ctx.addIssue({ code: "custom", message: fix(problem, remedy) });
  });

export const taintSchema = z.strictObject({
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

export const labelsSchema = z
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
export const MAX_TAINTS = 50;

export const NODE_GROUP_KINDS = ["general", "training", "gpu"] as const;
export type NodeGroupKind = (typeof NODE_GROUP_KINDS)[number];

export const AMI_TYPES = [
  "AL2023_x86_64_STANDARD",
  "AL2023_ARM_64_STANDARD",
  "AL2023_x86_64_NVIDIA",
] as const;

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

export function instanceFamily(instanceType: string): string {
  return INSTANCE_TYPE.exec(instanceType)?.[1] ?? "";
}

/** Graviton (arm64) families carry a `g` in the suffix after the generation (m7g, c6gn, t4g, g5g), plus a1. */
export function isArmFamily(family: string): boolean {
  const suffix = /^[a-z]+\d+([a-z]*)/.exec(family)?.[1] ?? "";
  return family === "a1" || suffix.includes("g");
}

export function nodeGroupSchema(kind: NodeGroupKind) {
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
