/**
 * What each AWS environment costs per month at its configured sizes, computed from the
 * synthesized stacks and the price table in scripts/cost-prices.ts, offline.
 *
 *   npm run cost [-- --env dev] [--out cdktf.out]   the breakdown per environment
 *   npm run docs:cost                               rewrite the tables in README.md and docs/cost.md
 *   npm run docs:cost -- --check                    exit 1 when they are out of date
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { AWS_PRICES, type AwsPrices } from "./cost-prices";
import { PROMOTION_PATHS } from "../environments/promotion";
import {
  DEFAULT_OUT,
  awsProviderOf,
  hasStack,
  readStack,
  resourcesOfType,
  synthesizedEnvironments,
  type StackJson,
} from "./lib/synthesized";

export interface CostLine {
  readonly item: string;
  /** USD per month at the configured minimum sizes. */
  readonly minimum: number;
  /** USD per month at the configured maximum sizes. */
  readonly maximum: number;
}

export interface EnvironmentCost {
  readonly environment: string;
  readonly region: string;
  readonly lines: readonly CostLine[];
  readonly minimum: number;
  readonly maximum: number;
}

class CostError extends Error {}

function priceOf(
  table: Readonly<Record<string, number>>,
  key: string,
  what: string,
  prices: AwsPrices,
): number {
  const price = table[key];
  if (price === undefined)
    throw new CostError(
      `${what} ${key} has no price in scripts/cost-prices.ts (${Object.keys(table).join(", ")}); fix: add its ${prices.region} on-demand price from ${prices.sources.join(" or ")}`,
    );
  return price;
}

const gib = (size: string): number => {
  const match = /^(\d+)Gi$/.exec(size);
  if (!match) throw new CostError(`volume size ${size} is not in Gi; fix: size volumes in Gi`);
  return Number(match[1]);
};

/** Every Prometheus and Alertmanager volume the kube-prometheus-stack release claims. */
function monitoringVolumes(platform: StackJson): { what: string; replicas: number; gib: number }[] {
  const release = Object.values(resourcesOfType(platform, "helm_release")).find(
    (r) => r.name === "kube-prometheus-stack",
  );
  const volumes: { what: string; replicas: number; gib: number }[] = [];
  /** The value at `path` of a parsed YAML document, or undefined. */
  const at = (value: unknown, path: string): unknown =>
    path
      .split(".")
      .reduce<unknown>(
        (node, key) =>
          node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined,
        value,
      );
  const claim = "volumeClaimTemplate.spec.resources.requests.storage";
  for (const doc of (release?.values as string[] | undefined) ?? []) {
    const values: unknown = parseYaml(doc);
    for (const [what, spec, storage] of [
      ["Prometheus", "prometheus.prometheusSpec", "storageSpec"],
      ["Alertmanager", "alertmanager.alertmanagerSpec", "storage"],
    ] as const) {
      const size = at(values, `${spec}.${storage}.${claim}`);
      const replicas = at(values, `${spec}.replicas`);
      if (typeof size === "string")
        volumes.push({ what, replicas: typeof replicas === "number" ? replicas : 1, gib: gib(size) });
    }
  }
  return volumes;
}

/** The load balancers the platform and serving stacks ask the controller for. */
function loadBalancers(platform: StackJson, serving: StackJson): { application: number; network: number } {
  const text = JSON.stringify(platform) + JSON.stringify(serving);
  const groups = new Set([...text.matchAll(/group\.name\\*"?:\s*\\*"?([a-z0-9-]+)/g)].map((m) => m[1]));
  const network = [platform, serving]
    .flatMap((stack) => Object.values(resourcesOfType(stack, "kubernetes_service_v1")))
    .filter((service) => (service.spec as { type?: string } | undefined)?.type === "LoadBalancer").length;
  return { application: groups.size, network };
}

export function environmentCost(
  environment: string,
  stacks: { foundation: StackJson; platform: StackJson; serving: StackJson },
  prices: AwsPrices = AWS_PRICES,
): EnvironmentCost {
  const provider = awsProviderOf(stacks.foundation);
  if (provider?.region !== prices.region)
    throw new CostError(
      `${environment} runs in ${provider?.region ?? "no region"}, the price table is for ${prices.region}; fix: add a price table for ${provider?.region} to scripts/cost-prices.ts`,
    );
  const month = prices.hoursPerMonth;
  const lines: CostLine[] = [];
  const add = (item: string, minimum: number, maximum = minimum) => lines.push({ item, minimum, maximum });
  const { foundation } = stacks;

  for (const cluster of Object.values(resourcesOfType(foundation, "aws_eks_cluster")))
    add(`EKS control plane ${cluster.name}`, prices.eksClusterHour * month);

  const templates = resourcesOfType(foundation, "aws_launch_template");
  for (const group of Object.values(resourcesOfType(foundation, "aws_eks_node_group"))) {
    const types = group.instance_types as string[];
    const scaling = group.scaling_config as { min_size: number; max_size: number };
    const hourly = Math.max(...types.map((t) => priceOf(prices.ec2InstanceHour, t, "instance type", prices)));
    const label = String((group.labels as Record<string, string>).workload ?? group.node_group_name);
    const spot = group.capacity_type === "SPOT";
    add(
      `nodes: ${label}, ${scaling.min_size} to ${scaling.max_size} x ${types.join(" / ")}${spot ? " (SPOT, priced on demand as a ceiling)" : ""}`,
      scaling.min_size * hourly * month,
      scaling.max_size * hourly * month,
    );
    const templateId = /aws_launch_template\.([^.]+)\./.exec(JSON.stringify(group.launch_template))?.[1];
    const template = templateId ? templates[templateId] : undefined;
    const size = (template?.block_device_mappings as { ebs: { volume_size: number } }[] | undefined)?.[0]?.ebs
      .volume_size;
    if (size)
      add(
        `node root volumes: ${label}, ${size} GiB gp3 each`,
        scaling.min_size * size * prices.ebsGp3GibMonth,
        scaling.max_size * size * prices.ebsGp3GibMonth,
      );
  }

  const nats = Object.keys(resourcesOfType(foundation, "aws_nat_gateway")).length;
  const addresses = Object.keys(resourcesOfType(foundation, "aws_eip")).length;
  if (nats > 0)
    add(
      `NAT gateways: ${nats}, with ${addresses} public IPv4 address${addresses === 1 ? "" : "es"}`,
      nats * prices.natGatewayHour * month + addresses * prices.publicIpv4Hour * month,
    );

  for (const db of Object.values(resourcesOfType(foundation, "aws_db_instance"))) {
    const copies = db.multi_az === true ? 2 : 1;
    const hourly = priceOf(prices.rdsPostgresInstanceHour, String(db.instance_class), "RDS class", prices);
    add(`RDS PostgreSQL ${db.instance_class}${copies === 2 ? " Multi-AZ" : ""}`, copies * hourly * month);
    const max = Number(db.max_allocated_storage ?? db.allocated_storage);
    add(
      `RDS storage: ${db.allocated_storage} GiB gp3, growing to ${max} GiB`,
      copies * Number(db.allocated_storage) * prices.rdsGp3GibMonth,
      copies * max * prices.rdsGp3GibMonth,
    );
  }

  for (const volume of monitoringVolumes(stacks.platform))
    add(
      `${volume.what} volumes: ${volume.replicas} x ${volume.gib} GiB gp3`,
      volume.replicas * volume.gib * prices.ebsGp3GibMonth,
    );

  const balancers = loadBalancers(stacks.platform, stacks.serving);
  if (balancers.application + balancers.network > 0)
    add(
      `load balancers: ${balancers.application} application (UIs and model routes), ${balancers.network} network (serving)`,
      (balancers.application * prices.loadBalancerHour.application +
        balancers.network * prices.loadBalancerHour.network) *
        month,
    );

  const keys = Object.keys(resourcesOfType(foundation, "aws_kms_key")).length;
  if (keys > 0) add(`KMS keys: ${keys}`, keys * prices.kmsKeyMonth);

  const sum = (pick: (l: CostLine) => number) =>
    Math.round(lines.reduce((t, l) => t + pick(l), 0) * 100) / 100;
  return {
    environment,
    region: provider.region,
    lines,
    minimum: sum((l) => l.minimum),
    maximum: sum((l) => l.maximum),
  };
}

const dollars = (value: number) =>
  `$${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;

export function summaryTable(costs: readonly EnvironmentCost[], prices: AwsPrices = AWS_PRICES): string {
  return [
    `| environment | per month at minimum sizes | per month at maximum sizes |`,
    `| --- | --- | --- |`,
    ...costs.map((c) => `| \`${c.environment}\` | ${dollars(c.minimum)} | ${dollars(c.maximum)} |`),
    "",
    `${prices.currency}, on-demand prices of ${prices.region} taken ${prices.taken} (\`scripts/cost-prices.ts\`, to be refreshed); usage (data transfer, NAT and load balancer traffic, S3, logs) not included.`,
  ].join("\n");
}

export function breakdown(cost: EnvironmentCost): string {
  return [
    `### \`${cost.environment}\` (${cost.region})`,
    "",
    "| item | at minimum | at maximum |",
    "| --- | --- | --- |",
    ...cost.lines.map((l) => `| ${l.item} | ${dollars(l.minimum)} | ${dollars(l.maximum)} |`),
    `| **total** | **${dollars(cost.minimum)}** | **${dollars(cost.maximum)}** |`,
  ].join("\n");
}

export const COST_START = "<!-- cost-table:start (generated by `npm run docs:cost`) -->";
export const COST_END = "<!-- cost-table:end -->";

export function replaceCost(page: string, table: string, path: string): string {
  const start = page.indexOf(COST_START);
  const end = page.indexOf(COST_END);
  if (start < 0 || end < start)
    throw new CostError(`${path} has no ${COST_START} ... ${COST_END} section; fix: add the two markers`);
  return `${page.slice(0, start + COST_START.length)}\n${table}\n${page.slice(end)}`;
}

/**
 * The two generated sections: the README's summary, docs/cost.md's breakdown. They cover the
 * environments on a promotion path (dev, staging, prod), so adding an environment, which joins no
 * path until someone adds it to one, leaves the pages true.
 */
export function costPages(all: readonly EnvironmentCost[]): Record<string, string> {
  const onPaths = new Set(PROMOTION_PATHS.flat());
  const costs = all.filter((cost) => onPaths.has(cost.environment));
  return {
    "README.md": summaryTable(costs),
    "docs/cost.md": [summaryTable(costs), ...costs.map(breakdown)].join("\n\n"),
  };
}

/** Every AWS environment synthesized into `out`, costed. */
export function costsOf(cwd: string, out: string, only?: string): EnvironmentCost[] {
  const order = (name: string) => {
    const at = PROMOTION_PATHS.flat().indexOf(name);
    return at < 0 ? Number.MAX_SAFE_INTEGER : at;
  };
  const names =
    only !== undefined
      ? [only]
      : synthesizedEnvironments(cwd, out).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  return names
    .filter((name) => only !== undefined || hasStack(cwd, out, `${name}-foundation`))
    .map((name) => {
      if (!hasStack(cwd, out, `${name}-foundation`) && hasStack(cwd, out, `${name}-platform`))
        throw new CostError(
          `${name} is on-prem: it runs on the organisation's hardware and has no AWS cost to compute`,
        );
      return environmentCost(name, {
        foundation: readStack(cwd, out, `${name}-foundation`),
        platform: readStack(cwd, out, `${name}-platform`),
        serving: readStack(cwd, out, `${name}-serving`),
      });
    });
}

export function runCost(
  args: readonly string[],
  cwd: string,
): { exitCode: 0 | 1; stdout: string; stderr: string } {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        env: { type: "string" },
        out: { type: "string" },
        "write-docs": { type: "boolean" },
        check: { type: "boolean" },
      },
      strict: true,
    });
    const costs = costsOf(cwd, values.out ?? DEFAULT_OUT, values.env);
    if (!values["write-docs"]) {
      return {
        exitCode: 0,
        stdout: `${[summaryTable(costs), ...costs.map(breakdown)].join("\n\n")}\n`,
        stderr: "",
      };
    }
    const stale: string[] = [];
    for (const [path, table] of Object.entries(costPages(costs))) {
      const page = readFileSync(join(cwd, path), "utf8");
      const updated = replaceCost(page, table, path);
      if (updated === page) continue;
      stale.push(path);
      if (!values.check) {
        writeFileSync(join(cwd, `${path}.tmp`), updated);
        renameSync(join(cwd, `${path}.tmp`), join(cwd, path));
      }
    }
    if (values.check && stale.length > 0)
      return {
        exitCode: 1,
        stdout: "",
        stderr: `cost: ${stale.join(", ")} out of date; fix: npm run synth, then npm run docs:cost\n`,
      };
    return { exitCode: 0, stdout: "", stderr: "" };
  } catch (error) {
    const message = (error as Error).message;
    return {
      exitCode: 1,
      stdout: "",
      stderr: `cost: ${message}${message.includes("fix:") ? "" : "; fix: npm run cost -- [--env <environment>] [--out <cdktf.out>]"}\n`,
    };
  }
}

if (require.main === module) {
  const result = runCost(process.argv.slice(2), process.cwd());
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}
