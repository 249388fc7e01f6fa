/**
 * The monitoring values the platform stacks hand to kube-prometheus-stack and the secrets
 * release, read back as Helm merges them, and the receivers of every kind: shared by the
 * in-process tests of the alerting and the ones that render the charts or run promtool/amtool.
 */
import { spawnSync } from "node:child_process";
import { parse } from "yaml";
import { PLATFORM_NAMESPACES } from "../../stacks/platform-stack";
import type { TerraformJson } from "./synth";

/** The namespaces the platform's alerts observe. */
export const OBSERVED = {
  serving: PLATFORM_NAMESPACES.serving,
  mlflow: PLATFORM_NAMESPACES.mlflow,
  pipelines: PLATFORM_NAMESPACES.kubeflow,
};

export type Values = Record<string, any>;

/** The one helm_release of `chart` (and named `name`, if given) in a stack. */
export function release(json: TerraformJson, chart: string, name?: string): any {
  const found = Object.values<any>(json.resource.helm_release ?? {}).filter(
    (r) => r.chart.endsWith(chart) && (name === undefined || r.name === name),
  );
  if (found.length !== 1) throw new Error(`expected one release of ${chart}, found ${found.length}`);
  return found[0];
}

/** The values of a release, as Helm merges its values files (maps merge, the rest is replaced). */
export function valuesOf(r: any): Values {
  const merge = (a: any, b: any): any =>
    a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)
      ? Object.fromEntries(
          [...new Set([...Object.keys(a), ...Object.keys(b)])].map((k) => [
            k,
            k in b ? merge(a[k], b[k]) : a[k],
          ]),
        )
      : b;
  return (r.values as string[]).map((text) => parse(text) as Values).reduce(merge, {});
}

/** The values of a platform stack's kube-prometheus-stack release. */
export const monitoringValues = (platform: TerraformJson): Values =>
  valuesOf(release(platform, "kube-prometheus-stack"));

/** The ExternalSecrets of a platform stack's platform-secrets release. */
export const externalSecretsOf = (platform: TerraformJson): any[] =>
  valuesOf(release(platform, "raw", "platform-secrets")).resources.filter(
    (r: any) => r.kind === "ExternalSecret",
  );

/** One receiver of each kind Alertmanager is configured with. */
export const EVERY_RECEIVER_KIND = [
  {
    kind: "slack" as const,
    name: "team",
    channel: "#alerts",
    severities: ["warning" as const],
    secret: { remoteKey: "a/slack" },
  },
  {
    kind: "pagerduty" as const,
    name: "pager",
    severities: ["critical" as const],
    secret: { remoteKey: "a/pd" },
  },
  {
    kind: "webhook" as const,
    name: "hook",
    severities: ["critical" as const, "info" as const],
    secret: { remoteKey: "arn:aws:secretsmanager:eu-west-1:111111111111:secret:a/hook", property: "url" },
  },
];

/**
 * promtool (`PROMTOOL` or on the PATH), or undefined after one SKIPPED line naming the test file
 * when it is not installed (Debian/Ubuntu: `apt-get install prometheus`).
 */
export function promtoolFor(testFile: string): string | undefined {
  const promtool = process.env.PROMTOOL ?? "promtool";
  if (spawnSync(promtool, ["--version"], { encoding: "utf8" }).status === 0) return promtool;
  process.stdout.write(
    `SKIPPED ${testFile}: promtool not found (${promtool}); install the prometheus package or set PROMTOOL\n`,
  );
  return undefined;
}

/**
 * Fills `{{ $labels.x }}` and `{{ with $labels.x }} {{ . }}{{ end }}` as Prometheus's Go templates
 * do for alert annotations; anything else is a test error.
 */
export function expand(template: string, labels: Record<string, string>): string {
  const text = template
    .replace(
      /\{\{ with \$labels\.(\w+) \}\}(.*?)\{\{ \. \}\}\{\{ end \}\}/g,
      (_, name: string, before: string) => (labels[name] ? `${before}${labels[name]}` : ""),
    )
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, name: string) => labels[name] ?? "");
  if (text.includes("{{")) throw new Error(`template not handled by this test: ${template}`);
  return text;
}

/** A series selector's labels as promtool's input series take them: `key="value",...`. */
export const labelText = (labels: Record<string, string>): string =>
  Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(",");

/**
 * A gauge a monitoring run pushed for `model` and `version`, as Prometheus scrapes it from the
 * Pushgateway with honorLabels: the grouping key's labels, and the target's own labels (the
 * Pushgateway gives the group an empty `instance`, so the target's address fills it).
 */
export const scrapedFromPushgateway = (
  metric: string,
  model: string,
  version: string,
  extra: Record<string, string> = {},
): string =>
  `${metric}{${labelText({
    job: "model-monitoring",
    model,
    version,
    ...extra,
    instance: "10.0.4.12:9091",
    namespace: PLATFORM_NAMESPACES.monitoring,
    pod: "prometheus-pushgateway-6b9c7d5f4-x2k4p",
    service: "prometheus-pushgateway",
    endpoint: "http",
    container: "pushgateway",
  })}}`;
