import { Construct } from "constructs";
import { EksNodeGroup } from "@cdktf/provider-aws/lib/eks-node-group";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { AutoscalingGroupTagA } from "@cdktf/provider-aws/lib/autoscaling-group-tag";
import type { ITerraformDependable } from "cdktf";
import type { KubernetesCluster } from "./kubernetes-cluster";
import type { Network } from "./network";

export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: "NoSchedule" | "NoExecute" | "PreferNoSchedule";
}

export interface NodeGroupProps {
  readonly cluster: KubernetesCluster;
  readonly network: Network;
  /** Group name inside the cluster, e.g. `gpu`; also the value of the `workload` label. */
  readonly name: string;
  readonly instanceTypes: readonly string[];
  readonly capacityType: "ON_DEMAND" | "SPOT";
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  /** Root volume size (gp3, encrypted). */
  readonly diskSizeGib: number;
  readonly amiType: string;
  /** Labels besides `workload=<name>`. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** @default [] - pods of any kind may land here */
  readonly taints?: readonly NodeTaint[];
  /** Extended resources one node offers, told to the autoscaler for scale-up from zero, e.g. `{ "nvidia.com/gpu": "1" }`. @default {} */
  readonly resources?: Readonly<Record<string, string>>;
  /** Resources that must exist before nodes join (the CNI). @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

const EKS_TAINT_EFFECT = {
  NoSchedule: "NO_SCHEDULE",
  NoExecute: "NO_EXECUTE",
  PreferNoSchedule: "PREFER_NO_SCHEDULE",
} as const;

/**
 * EKS managed node group in the private subnets, with a launch template that requires IMDSv2
 * and encrypts a gp3 root volume. Its labels, taints and extended resources are also written
 * as cluster-autoscaler node-template tags on the Auto Scaling group, so a group idling at
 * zero nodes can still be chosen for a pending pod.
 */
export class NodeGroup extends Construct {
  public readonly nodeGroup: EksNodeGroup;
  public readonly labels: Readonly<Record<string, string>>;
  public readonly taints: readonly NodeTaint[];

  constructor(scope: Construct, id: string, props: NodeGroupProps) {
    super(scope, id);
    const where = `NodeGroup ${props.name}`;
    if (!(props.minSize >= 0 && props.minSize <= props.maxSize && props.maxSize >= 1)) {
      throw new Error(
        `${where}: minSize (${props.minSize}) and maxSize (${props.maxSize}) must satisfy 0 <= minSize <= maxSize, maxSize >= 1`,
      );
    }
    if (props.desiredSize < props.minSize || props.desiredSize > props.maxSize) {
      throw new Error(
        `${where}: desiredSize (${props.desiredSize}) must be within [${props.minSize}, ${props.maxSize}]`,
      );
    }
    if (props.capacityType === "SPOT" && props.instanceTypes.length < 2) {
      throw new Error(
        `${where}: a SPOT group needs two or more instance types, got ${props.instanceTypes.join(", ")}; add an interchangeable type`,
      );
    }
    this.labels = { ...props.labels, workload: props.name };
    this.taints = props.taints ?? [];

    const launchTemplate = new LaunchTemplate(this, "LaunchTemplate", {
      namePrefix: `${props.cluster.name}-${props.name}-`,
      description: `Nodes of the ${props.name} group`,
      updateDefaultVersion: true,
      metadataOptions: {
        httpEndpoint: "enabled",
        httpTokens: "required",
        // Pods use IRSA, not the node's instance profile: one hop keeps them off IMDS.
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "disabled",
      },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: props.diskSizeGib,
            volumeType: "gp3",
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
        resourceType,
        tags: { Name: `${props.cluster.name}-${props.name}`, workload: props.name },
      })),
    });

    this.nodeGroup = new EksNodeGroup(this, "NodeGroup", {
      clusterName: props.cluster.name,
      nodeGroupNamePrefix: `${props.name}-`,
      nodeRoleArn: props.cluster.nodeRole.arn,
      subnetIds: props.network.privateSubnets.map((subnet) => subnet.id),
      amiType: props.amiType,
      capacityType: props.capacityType,
      instanceTypes: [...props.instanceTypes],
      scalingConfig: { minSize: props.minSize, desiredSize: props.desiredSize, maxSize: props.maxSize },
      updateConfig: { maxUnavailablePercentage: 33 },
      launchTemplate: { id: launchTemplate.id, version: `${launchTemplate.latestVersion}` },
      labels: this.labels,
      taint: this.taints.map((taint) => ({
        key: taint.key,
        value: taint.value,
        effect: EKS_TAINT_EFFECT[taint.effect],
      })),
      nodeRepairConfig: { enabled: true },
      tags: { Name: `${props.cluster.name}-${props.name}` },
      // The cluster autoscaler owns the desired size once the group exists.
      lifecycle: { ignoreChanges: ["scaling_config[0].desired_size"], createBeforeDestroy: true },
      dependsOn: props.dependsOn,
    });

    const templateTags: Record<string, string> = {};
    for (const [key, value] of Object.entries(this.labels)) {
      templateTags[`k8s.io/cluster-autoscaler/node-template/label/${key}`] = value;
    }
    for (const taint of this.taints) {
      templateTags[`k8s.io/cluster-autoscaler/node-template/taint/${taint.key}`] =
        `${taint.value ?? ""}:${taint.effect}`;
    }
    for (const [resource, quantity] of Object.entries(props.resources ?? {})) {
      templateTags[`k8s.io/cluster-autoscaler/node-template/resources/${resource}`] = quantity;
    }
    const autoScalingGroupName = this.nodeGroup.resources.get(0).autoscalingGroups.get(0).name;
    for (const [key, value] of Object.entries(templateTags)) {
      new AutoscalingGroupTagA(
        this,
        `AutoscalerTag-${key.replace(/^k8s\.io\/cluster-autoscaler\/node-template\//, "").replace(/[^A-Za-z0-9]+/g, "-")}`,
        {
          autoscalingGroupName: autoScalingGroupName,
          tag: { key, value, propagateAtLaunch: false },
        },
      );
    }
  }
}
