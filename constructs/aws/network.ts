import { Construct } from "constructs";
import { Fn } from "cdktf";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { formatCidr, parseCidr, subnet } from "../lib/cidr";
import { policyDocument } from "./policy";
import type { AwsAccount } from "./account";
import type { EncryptionKey } from "./encryption-key";

export type NatGatewayStrategy = "single" | "one-per-az";

export interface NetworkProps {
  /** Prefix of resource names, e.g. `mlops-dev`. */
  readonly name: string;
  readonly account: AwsAccount;
  /** /16 to /20. */
  readonly cidr: string;
  /** @default 3 - one subnet pair per AZ */
  readonly azCount?: number;
  /** @default "one-per-az" */
  readonly natGateways?: NatGatewayStrategy;
  /** Name of the EKS cluster that will own the subnets' load balancers. */
  readonly clusterName: string;
  /** Encrypts the flow log group. */
  readonly key: EncryptionKey;
  /** @default 90 */
  readonly flowLogRetentionDays?: number;
}

export interface SubnetLayout {
  readonly privateCidrs: string[];
  readonly publicCidrs: string[];
}

/**
 * Private subnets get an eighth of the VPC each (pods take VPC addresses with the VPC CNI);
 * public subnets, which hold only load balancers and NAT gateways, share the last eighth.
 */
export function subnetLayout(vpcCidr: string, azCount: number): SubnetLayout {
  const vpc = parseCidr(vpcCidr);
  if (!vpc || vpc.prefix < 16 || vpc.prefix > 20) {
    throw new Error(`Network: cidr "${vpcCidr}" must be an IPv4 /16 to /20 block such as 10.20.0.0/16`);
  }
  if (!Number.isInteger(azCount) || azCount < 2 || azCount > 6) {
    throw new Error(`Network: azCount (${azCount}) must be a whole number from 2 to 6`);
  }
  const publicRange = subnet(vpc, 3, 7);
  return {
    privateCidrs: Array.from({ length: azCount }, (_, i) => formatCidr(subnet(vpc, 3, i))),
    publicCidrs: Array.from({ length: azCount }, (_, i) => formatCidr(subnet(publicRange, 3, i))),
  };
}

/**
 * VPC with public and private subnets over `azCount` zones, NAT egress, flow logs to an
 * encrypted log group, a rule-less default security group and an S3 gateway endpoint.
 */
export class Network extends Construct {
  public readonly vpc: Vpc;
  public readonly privateSubnets: Subnet[] = [];
  public readonly publicSubnets: Subnet[] = [];
  public readonly privateRouteTables: RouteTable[] = [];
  public readonly layout: SubnetLayout;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const azCount = props.azCount ?? 3;
    const natStrategy = props.natGateways ?? "one-per-az";
    this.layout = subnetLayout(props.cidr, azCount);

    const zones = new DataAwsAvailabilityZones(this, "Zones", {
      state: "available",
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });

    this.vpc = new Vpc(this, "Vpc", {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: props.name },
    });

    new DefaultSecurityGroup(this, "DefaultSecurityGroup", {
      vpcId: this.vpc.id,
      ingress: [],
      egress: [],
      tags: { Name: `${props.name}-default-deny` },
    });

    const internetGateway = new InternetGateway(this, "InternetGateway", {
      vpcId: this.vpc.id,
      tags: { Name: props.name },
    });
    const publicRoutes = new RouteTable(this, "PublicRoutes", {
      vpcId: this.vpc.id,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: internetGateway.id }],
      tags: { Name: `${props.name}-public` },
    });

    const clusterTag = `kubernetes.io/cluster/${props.clusterName}`;
    const natGateways: NatGateway[] = [];
    for (let i = 0; i < azCount; i++) {
      const zone = Fn.element(zones.names, i);
      const publicSubnet = new Subnet(this, `PublicSubnet${i}`, {
        vpcId: this.vpc.id,
        availabilityZone: zone,
        cidrBlock: this.layout.publicCidrs[i],
        mapPublicIpOnLaunch: false,
        tags: { Name: `${props.name}-public-${i}`, "kubernetes.io/role/elb": "1", [clusterTag]: "shared" },
      });
      new RouteTableAssociation(this, `PublicSubnet${i}Routes`, {
        subnetId: publicSubnet.id,
        routeTableId: publicRoutes.id,
      });
      this.publicSubnets.push(publicSubnet);

      if (natStrategy === "one-per-az" || i === 0) {
        const address = new Eip(this, `NatAddress${i}`, {
          domain: "vpc",
          tags: { Name: `${props.name}-nat-${i}` },
        });
        natGateways.push(
          new NatGateway(this, `NatGateway${i}`, {
            allocationId: address.allocationId,
            subnetId: publicSubnet.id,
            tags: { Name: `${props.name}-${i}` },
            dependsOn: [internetGateway],
          }),
        );
      }
    }

    for (let i = 0; i < azCount; i++) {
      const privateSubnet = new Subnet(this, `PrivateSubnet${i}`, {
        vpcId: this.vpc.id,
        availabilityZone: Fn.element(zones.names, i),
        cidrBlock: this.layout.privateCidrs[i],
        tags: {
          Name: `${props.name}-private-${i}`,
          "kubernetes.io/role/internal-elb": "1",
          [clusterTag]: "shared",
        },
      });
      const routes = new RouteTable(this, `PrivateRoutes${i}`, {
        vpcId: this.vpc.id,
        route: [
          { cidrBlock: "0.0.0.0/0", natGatewayId: natGateways[Math.min(i, natGateways.length - 1)].id },
        ],
        tags: { Name: `${props.name}-private-${i}` },
      });
      new RouteTableAssociation(this, `PrivateSubnet${i}Routes`, {
        subnetId: privateSubnet.id,
        routeTableId: routes.id,
      });
      this.privateSubnets.push(privateSubnet);
      this.privateRouteTables.push(routes);
    }

    new VpcEndpoint(this, "S3Endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.account.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: this.privateRouteTables.map((table) => table.id),
      tags: { Name: `${props.name}-s3` },
    });

    this.addFlowLogs(props);
  }

  private addFlowLogs(props: NetworkProps): void {
    const logGroup = new CloudwatchLogGroup(this, "FlowLogGroup", {
      name: `/aws/vpc/${props.name}/flow-logs`,
      retentionInDays: props.flowLogRetentionDays ?? 90,
      kmsKeyId: props.key.arn,
    });
    const role = new IamRole(this, "FlowLogRole", {
      name: `${props.name}-vpc-flow-logs`,
      assumeRolePolicy: policyDocument(this, "FlowLogTrust", [
        {
          sid: "VpcFlowLogsDelivers",
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
          conditions: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [props.account.accountId] },
          ],
        },
      ]).json,
    });
    new IamRolePolicy(this, "FlowLogPermissions", {
      name: "deliver-flow-logs",
      role: role.name,
      policy: policyDocument(this, "FlowLogPermissionsDocument", [
        {
          sid: "WriteFlowLogGroup",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [`${logGroup.arn}:*`],
        },
      ]).json,
    });
    new FlowLog(this, "FlowLog", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
      tags: { Name: props.name },
    });
  }
}
