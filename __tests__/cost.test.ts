import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AWS_PRICES } from "../scripts/cost-prices";
import { costPages, environmentCost, replaceCost } from "../scripts/cost";
import { PROMOTION_PATHS } from "../environments/promotion";
import { synthesizeEnvironments } from "./support/synth";

const month = AWS_PRICES.hoursPerMonth;

/** A foundation, platform and serving stack the test owns, sized to check the arithmetic. */
function fixture(overrides: { instanceType?: string; region?: string } = {}) {
  const foundation = {
    provider: { aws: [{ region: overrides.region ?? "eu-west-1", allowed_account_ids: ["111111111111"] }] },
    resource: {
      aws_eks_cluster: { C: { name: "mlops-unit" } },
      aws_launch_template: { T: { block_device_mappings: [{ ebs: { volume_size: 50 } }] } },
      aws_eks_node_group: {
        G: {
          instance_types: [overrides.instanceType ?? "t3.large"],
          capacity_type: "ON_DEMAND",
          labels: { workload: "general" },
          scaling_config: { min_size: 1, desired_size: 1, max_size: 3 },
          launch_template: {
            id: "${aws_launch_template.T.id}",
            version: "${aws_launch_template.T.latest_version}",
          },
        },
      },
      aws_nat_gateway: { N: {} },
      aws_eip: { E: {} },
      aws_db_instance: {
        D: {
          instance_class: "db.t4g.medium",
          allocated_storage: 20,
          max_allocated_storage: 40,
          multi_az: true,
        },
      },
      aws_kms_key: { K: {} },
    },
  };
  const platform = {
    resource: {
      helm_release: {
        P: {
          name: "kube-prometheus-stack",
          values: [
            "prometheus:\n  prometheusSpec:\n    replicas: 2\n    storageSpec:\n      volumeClaimTemplate:\n        spec:\n          resources:\n            requests:\n              storage: 20Gi\n",
          ],
        },
      },
    },
  };
  const serving = {
    resource: {
      kubernetes_service_v1: { S: { spec: { type: "LoadBalancer" } } },
      kubernetes_ingress_v1: {
        I: { metadata: { annotations: { "alb.ingress.kubernetes.io/group.name": "mlops-unit" } } },
      },
    },
  };
  return { foundation, platform, serving } as any;
}

describe("npm run cost", () => {
  it("multiplies the stacks' sizes by the price table, item by item", () => {
    const cost = environmentCost("unit", fixture());
    const p = AWS_PRICES;
    expect(cost.lines.map((l) => [l.item, l.minimum, l.maximum])).toEqual([
      ["EKS control plane mlops-unit", p.eksClusterHour * month, p.eksClusterHour * month],
      [
        "nodes: general, 1 to 3 x t3.large",
        p.ec2InstanceHour["t3.large"] * month,
        3 * p.ec2InstanceHour["t3.large"] * month,
      ],
      ["node root volumes: general, 50 GiB gp3 each", 50 * p.ebsGp3GibMonth, 150 * p.ebsGp3GibMonth],
      [
        "NAT gateways: 1, with 1 public IPv4 address",
        (p.natGatewayHour + p.publicIpv4Hour) * month,
        (p.natGatewayHour + p.publicIpv4Hour) * month,
      ],
      [
        "RDS PostgreSQL db.t4g.medium Multi-AZ",
        2 * p.rdsPostgresInstanceHour["db.t4g.medium"] * month,
        2 * p.rdsPostgresInstanceHour["db.t4g.medium"] * month,
      ],
      ["RDS storage: 20 GiB gp3, growing to 40 GiB", 40 * p.rdsGp3GibMonth, 80 * p.rdsGp3GibMonth],
      ["Prometheus volumes: 2 x 20 GiB gp3", 40 * p.ebsGp3GibMonth, 40 * p.ebsGp3GibMonth],
      [
        "load balancers: 1 application (UIs and model routes), 1 network (serving)",
        (p.loadBalancerHour.application + p.loadBalancerHour.network) * month,
        (p.loadBalancerHour.application + p.loadBalancerHour.network) * month,
      ],
      ["KMS keys: 1", p.kmsKeyMonth, p.kmsKeyMonth],
    ]);
    expect(cost.minimum).toBeCloseTo(
      cost.lines.reduce((t, l) => t + l.minimum, 0),
      2,
    );
    expect(cost.maximum).toBeGreaterThan(cost.minimum);
  });

  it("refuses an instance type without a price, and a region the table is not for, naming the fix", () => {
    expect(() => environmentCost("unit", fixture({ instanceType: "m8g.large" }))).toThrow(
      /^instance type m8g\.large has no price in scripts\/cost-prices\.ts \(.*\); fix: add its eu-west-1 on-demand price from https:/,
    );
    expect(() => environmentCost("unit", fixture({ region: "us-east-1" }))).toThrow(
      "unit runs in us-east-1, the price table is for eu-west-1; fix: add a price table for us-east-1 to scripts/cost-prices.ts",
    );
  });

  it("names a source, region and date, and lists as unconfirmed only prices it has", () => {
    expect(AWS_PRICES.sources.every((s) => s.startsWith("https://aws.amazon.com/"))).toBe(true);
    expect(AWS_PRICES.taken).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const entry of AWS_PRICES.unconfirmed) {
      const [table, key] = entry.split(" ");
      const value = (AWS_PRICES as any)[table];
      expect(key === undefined ? typeof value : typeof value?.[key]).toBe("number");
    }
  });
});

describe("the generated cost tables", () => {
  const aws = synthesizeEnvironments();
  const order = PROMOTION_PATHS.flat();
  const costs = Object.keys(aws)
    .sort((a, b) => order.indexOf(a) - order.indexOf(b))
    .map((name) =>
      environmentCost(name, {
        foundation: aws[name].foundation.json as any,
        platform: aws[name].platform.json as any,
        serving: aws[name].serving.json as any,
      }),
    );

  it.each(["README.md", "docs/cost.md"])(
    "%s carries the tables the stacks give (npm run docs:cost)",
    (path) => {
      const page = readFileSync(join(__dirname, "..", path), "utf8");
      expect(replaceCost(page, costPages(costs)[path], path)).toBe(page);
    },
  );

  it("shows the AWS environments of the promotion paths, and only those", () => {
    const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
    for (const cost of costs)
      expect(readme.includes(`| \`${cost.environment}\` |`)).toBe(order.includes(cost.environment));
    expect(costs.map((c) => c.environment)).toEqual(expect.arrayContaining(["dev", "staging", "prod"]));
    const extra = { ...costs[0], environment: "uat" };
    expect(costPages([...costs, extra])).toEqual(costPages(costs));
  });
});
