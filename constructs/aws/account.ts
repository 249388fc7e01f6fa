import { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";

/** The account, partition and region a stack deploys into, for building ARNs. */
export class AwsAccount extends Construct {
  public readonly accountId: string;
  public readonly partition: string;
  /** DNS suffix of the partition, e.g. `amazonaws.com`. */
  public readonly dnsSuffix: string;

  constructor(
    scope: Construct,
    id: string,
    public readonly region: string,
  ) {
    super(scope, id);
    this.accountId = new DataAwsCallerIdentity(this, "Caller").accountId;
    const partition = new DataAwsPartition(this, "Partition");
    this.partition = partition.partition;
    this.dnsSuffix = partition.dnsSuffix;
  }
}
