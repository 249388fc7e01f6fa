/**
 * `npm run verify`: builds the cluster state each environment's stacks would create and checks
 * it as the API server and the controllers would. See docs/verification.md.
 *
 *   npm run verify -- --charts DIR --crds DIR --kubeflow-pipelines DIR [--env NAME] [--json] [--pull]
 */
import { ENVIRONMENTS } from "../../environments";
import { CrdCatalog } from "./crds";
import { RULES } from "./rules";
import { collect } from "./state";
import { join } from "node:path";
import { ensureTools } from "./tools";
import { upstreamDirectory } from "./upstream";
import { formatFinding, verifyState, type EnvironmentReport } from "./verify";

export interface Options {
  readonly charts?: string;
  readonly crds?: string;
  readonly kubeflowPipelines?: string;
  readonly environments: readonly string[];
  readonly json: boolean;
  readonly pull: boolean;
  readonly listRules: boolean;
}

const USAGE = `usage: npm run verify -- [--charts DIR] [--crds DIR] [--kubeflow-pipelines DIR] [--env NAME]... [--json] [--pull] [--list-rules]
  --charts DIR               unpacked charts named <chart>-<version> (env MLOPS_CHARTS_DIR; default <upstream>/charts)
  --crds DIR                 CRDs at the pinned versions (env MLOPS_CRDS_DIR; default <upstream>/crds)
  --kubeflow-pipelines DIR   Kubeflow Pipelines manifests at the pinned tag (env MLOPS_KUBEFLOW_PIPELINES_DIR; default <upstream>)
  <upstream>                 MLOPS_UPSTREAM_DIR, or the upstream sources kept beside the project
  --env NAME                 check only this environment (repeatable)
  --json                     print the report as JSON
  --pull                     fetch charts missing from --charts with helm pull (needs network)`;

export function parseOptions(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  locateUpstream: () => string | undefined = () => upstreamDirectory(env),
): Options {
  const upstream = locateUpstream();
  const environments: string[] = [];
  const inUpstream = (path: string) => (upstream === undefined ? undefined : join(upstream, path));
  let charts = env.MLOPS_CHARTS_DIR || inUpstream("charts");
  let crds = env.MLOPS_CRDS_DIR || inUpstream("crds");
  let kubeflowPipelines = env.MLOPS_KUBEFLOW_PIPELINES_DIR || upstream;
  let json = false;
  let pull = false;
  let listRules = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    if (arg === "--charts") charts = value();
    else if (arg === "--crds") crds = value();
    else if (arg === "--kubeflow-pipelines") kubeflowPipelines = value();
    else if (arg === "--env") environments.push(value());
    else if (arg === "--json") json = true;
    else if (arg === "--pull") pull = true;
    else if (arg === "--list-rules") listRules = true;
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return { charts, crds, kubeflowPipelines, environments, json, pull, listRules };
}

export async function run(options: Options): Promise<{ reports: EnvironmentReport[]; milliseconds: number }> {
  const started = Date.now();
  const names = ENVIRONMENTS.map((e) => (e as { name: string }).name);
  for (const name of options.environments) {
    if (!names.includes(name))
      throw new Error(`--env ${name}: no such environment (known: ${names.join(", ")})`);
  }
  const selected =
    options.environments.length > 0
      ? ENVIRONMENTS.filter((e) => options.environments.includes((e as { name: string }).name))
      : ENVIRONMENTS;
  const states = await collect({
    environments: selected,
    tools: ensureTools(),
    charts: { chartsDir: options.charts, pull: options.pull },
    kubeflowPipelinesDir: options.kubeflowPipelines,
  });
  const crds = options.crds ? new CrdCatalog(options.crds) : undefined;
  const reports = states.map((state) => verifyState(state, RULES, crds));
  return { reports, milliseconds: Date.now() - started };
}

/**
 * The one line verify prints instead of a finding per release when no chart folder is known at
 * all (nothing fetched, nothing named) and nothing may be pulled.
 */
export function missingSources(options: Options): string | undefined {
  if (options.listRules || options.pull || options.charts !== undefined) return undefined;
  return "verify: the pinned sources are not on this machine (MLOPS_UPSTREAM_DIR unset, no .upstream/ folder, no copy beside the checkout); fix: npm run fetch-sources (network to GitHub and the chart repositories), or set MLOPS_UPSTREAM_DIR to a folder of charts/, crds/ and kubeflow-pipelines-<version>/";
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  if (options.listRules) {
    for (const rule of RULES) process.stdout.write(`${rule.name}: ${rule.summary}\n`);
    return;
  }
  const missing = missingSources(options);
  if (missing !== undefined) {
    process.stderr.write(`${missing}\n`);
    process.exitCode = 1;
    return;
  }
  const { reports, milliseconds } = await run(options);
  const errors = reports.reduce((n, r) => n + r.findings.filter((f) => f.severity === "error").length, 0);
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ errors, seconds: milliseconds / 1000, environments: reports }, null, 2)}\n`,
    );
  } else {
    for (const report of reports)
      for (const f of report.findings) process.stdout.write(`${formatFinding(f)}\n`);
    for (const report of reports) {
      const e = report.findings.filter((f) => f.severity === "error").length;
      const w = report.findings.length - e;
      process.stdout.write(
        report.rules.length === 0
          ? `${report.environment}: ${report.objects} objects, rules not run (state incomplete), ${e} error(s)\n`
          : `${report.environment}: ${report.objects} objects, ${report.rules.length} rules (${report.rules.join(", ")}), ${e} error(s), ${w} warning(s), rules ran in ${(report.milliseconds / 1000).toFixed(1)} s\n`,
      );
    }
    process.stdout.write(
      `verify: ${errors === 0 ? "passed" : `${errors} error(s)`} in ${(milliseconds / 1000).toFixed(1)} s\n`,
    );
  }
  process.exitCode = errors > 0 ? 1 : 0;
}

if (require.main === module) {
  main().catch((error: Error) => {
    process.stderr.write(`verify: ${error.message}\n`);
    process.exitCode = 2;
  });
}
