/**
 * The AWS prices `npm run cost` multiplies by the synthesized stacks' sizes: on-demand, Linux,
 * in US dollars, for the one region every AWS environment of the registry uses.
 *
 * Written on 2026-12-07 from AWS's published on-demand prices as known then, without reading the
 * pages that day: refresh every figure from the sources below before relying on the totals, and
 * at least whenever an environment changes region, instance type or class. The entries listed in
 * `unconfirmed` are the least certain; confirm them first.
 */
export const AWS_PRICES = {
  region: "eu-west-1",
  currency: "USD",
  taken: "2026-12-07",
  sources: [
    "https://aws.amazon.com/eks/pricing/",
    "https://aws.amazon.com/ec2/pricing/on-demand/",
    "https://aws.amazon.com/ebs/pricing/",
    "https://aws.amazon.com/rds/postgresql/pricing/",
    "https://aws.amazon.com/vpc/pricing/",
    "https://aws.amazon.com/elasticloadbalancing/pricing/",
    "https://aws.amazon.com/kms/pricing/",
  ],
  /** AWS bills a month as 730 hours. */
  hoursPerMonth: 730,
  /** An EKS cluster on standard support, per hour. */
  eksClusterHour: 0.1,
  /** EC2 Linux on-demand, per instance-hour. SPOT groups are priced at this as a ceiling. */
  ec2InstanceHour: {
    "t3.large": 0.0912,
    "c5.2xlarge": 0.384,
    "c5a.2xlarge": 0.348,
    "c6i.2xlarge": 0.38,
    "g4dn.xlarge": 0.587,
    "g5.xlarge": 1.123,
  } as Readonly<Record<string, number>>,
  /** EBS gp3, per GiB-month (baseline IOPS and throughput, which the stacks do not raise). */
  ebsGp3GibMonth: 0.088,
  /** RDS for PostgreSQL, Single-AZ, per instance-hour; Multi-AZ is twice this. */
  rdsPostgresInstanceHour: {
    "db.t4g.medium": 0.072,
    "db.t4g.large": 0.144,
    "db.m7g.large": 0.187,
  } as Readonly<Record<string, number>>,
  /** RDS gp3 storage, Single-AZ, per GiB-month; Multi-AZ is twice this. */
  rdsGp3GibMonth: 0.127,
  /** A NAT gateway, per hour (data processed is billed on top, by usage). */
  natGatewayHour: 0.048,
  /** A public IPv4 address (the NAT gateways' Elastic IPs), per hour. */
  publicIpv4Hour: 0.005,
  /** A load balancer, per hour (capacity units are billed on top, by usage). */
  loadBalancerHour: { application: 0.0252, network: 0.0252 },
  /** A customer managed KMS key, per month. */
  kmsKeyMonth: 1,
  /** Figures least certain when written: confirm these first. */
  unconfirmed: [
    "ec2InstanceHour c5a.2xlarge",
    "ec2InstanceHour c6i.2xlarge",
    "rdsPostgresInstanceHour db.t4g.medium",
    "rdsPostgresInstanceHour db.t4g.large",
    "rdsPostgresInstanceHour db.m7g.large",
    "rdsGp3GibMonth",
    "loadBalancerHour network",
  ],
} as const;

export type AwsPrices = typeof AWS_PRICES;
