/**
 * Monitoring that tells the truth: scrape targets that exist, alert rules over the metric names
 * each workload really exports, alerts that reach a receiver, and no monitors of components
 * the cluster does not expose. Asserted on the synthesized platform stacks, and, when the
 * pinned upstream sources and tools are on this machine, on the charts and manifests as
 * rendered (skipped otherwise, with the reason printed).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import Ajv from "ajv";
import { parse, parseAllDocuments, stringify } from "yaml";
import { policyStatements, resourcesOf, synthesizeEnvironments, type TerraformJson } from "../support/synth";
import { findExecutable, UPSTREAM_DIR } from "../support/upstream";
import { ensureTools } from "../../scripts/verify/tools";
import { ENVIRONMENTS } from "../../environments";
import { loadEnvironments } from "../../environments/load";
import type { EnvironmentInput } from "../../environments/schema";
import { prod } from "../../environments/prod";
import {
  alertmanagerConfig,
  alertReceiverSecretName,
  controlPlaneValues,
  platformRuleGroups,
} from "../../constructs/platform/monitoring";
import { PLATFORM_ALERT_LABELS, platformAlerts } from "../../constructs/platform/observability";
import { PLATFORM_NAMESPACES } from "../../stacks/platform-stack";

const envs = synthesizeEnvironments();
/** Every AWS environment of the registry. */
const NAMES = Object.keys(envs);
const OBSERVED = {
  serving: PLATFORM_NAMESPACES.serving,
  mlflow: PLATFORM_NAMESPACES.mlflow,
  pipelines: PLATFORM_NAMESPACES.kubeflow,
};

type Values = Record<string, any>;

function release(json: TerraformJson, chart: string, name?: string): any {
  const found = Object.values<any>(json.resource.helm_release ?? {}).filter(
    (r) => r.chart.endsWith(chart) && (name === undefined || r.name === name),
  );
  if (found.length !== 1) throw new Error(`expected one release of ${chart}, found ${found.length}`);
  return found[0];
}

/** The values of a release, as Helm merges its values files (maps merge, the rest is replaced). */
function valuesOf(r: any): Values {
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

const monitoring = (env: string) => valuesOf(release(envs[env].platform.json, "kube-prometheus-stack"));
const podMonitor = (env: string, name: string) => {
  const found = monitoring(env).prometheus.additionalPodMonitors.find((m: any) => m.name === name);
  if (!found) throw new Error(`${env}: no PodMonitor ${name}`);
  return found;
};
const externalSecrets = (env: string) =>
  valuesOf(release(envs[env].platform.json, "raw", "platform-secrets")).resources.filter(
    (r: any) => r.kind === "ExternalSecret",
  );

describe("scrape targets (synthesized)", () => {
  it.each(NAMES)("%s: the serving Deployment is scraped on the port its pods name http", (env) => {
    expect(podMonitor(env, "mlops-serving")).toEqual({
      name: "mlops-serving",
      namespaceSelector: { matchNames: ["mlops"] },
      selector: { matchLabels: { "app.kubernetes.io/name": "mlops-serving" } },
      podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
    });
    const deployments = Object.values<any>(envs[env].serving.json.resource.kubernetes_deployment_v1 ?? {});
    const serving = deployments.find((d) => d.metadata.name === "mlops-serving");
    expect(serving.spec.template.metadata.labels).toMatchObject({
      "app.kubernetes.io/name": "mlops-serving",
    });
    expect(serving.spec.template.spec.container[0].port).toContainEqual(
      expect.objectContaining({ name: "http", container_port: 8000 }),
    );
  });

  it.each(NAMES)("%s: MLServer predictors are scraped on 8082, named by their InferenceService", (env) => {
    const monitor = podMonitor(env, "kserve-mlserver-predictors");
    expect(monitor.selector).toEqual({
      matchExpressions: [
        { key: "serving.kserve.io/inferenceservice", operator: "Exists" },
        { key: "modelClass", operator: "Exists" },
      ],
    });
    expect(monitor.podMetricsEndpoints).toHaveLength(1);
    const endpoint = monitor.podMetricsEndpoints[0];
    // No port filter: the predictor container declares no port.
    expect(endpoint).not.toHaveProperty("port");
    expect(endpoint).not.toHaveProperty("portNumber");
    expect(endpoint.path).toBe("/metrics");
    expect(endpoint.relabelings).toEqual([
      { action: "keep", sourceLabels: ["__meta_kubernetes_pod_container_name"], regex: "kserve-container" },
      {
        action: "replace",
        sourceLabels: ["__meta_kubernetes_pod_ip"],
        regex: "(.+)",
        targetLabel: "__address__",
        replacement: "$1:8082",
      },
      {
        action: "replace",
        sourceLabels: ["__meta_kubernetes_pod_label_serving_kserve_io_inferenceservice"],
        targetLabel: "inferenceservice",
      },
    ]);
  });

  it.each(NAMES)("%s: the Argo Workflows controller is scraped over TLS on its metrics port", (env) => {
    expect(podMonitor(env, "argo-workflows-controller")).toEqual({
      name: "argo-workflows-controller",
      namespaceSelector: { matchNames: ["kubeflow"] },
      selector: { matchLabels: { app: "workflow-controller" } },
      podMetricsEndpoints: [
        {
          port: "metrics",
          path: "/metrics",
          interval: "30s",
          scheme: "https",
          tlsConfig: { insecureSkipVerify: true },
        },
      ],
    });
  });
});

describe("alert rules (synthesized)", () => {
  it.each(NAMES)(
    "%s: the PrometheusRule holds the six platform alerts, each labelled as the platform's",
    (env) => {
      const groups = monitoring(env).additionalPrometheusRulesMap["mlops-platform"].groups;
      expect(groups).toEqual(platformRuleGroups(platformAlerts(OBSERVED)));
      for (const rule of groups[0].rules) {
        expect(rule.labels).toEqual({ severity: expect.any(String), platform: "mlops" });
      }
    },
  );

  it.each(NAMES)("%s: inference alerts read the metric names MLServer exports", (env) => {
    const rules = monitoring(env).additionalPrometheusRulesMap["mlops-platform"].groups[0].rules;
    const expr = (alert: string) => rules.find((r: any) => r.alert === alert).expr as string;
    expect(expr("HighInferenceLatency")).toContain("rest_server_request_duration_seconds_bucket{");
    expect(expr("HighInferenceErrorRate")).toContain("rest_server_requests_total{");
    expect(expr("HighInferenceErrorRate")).toContain('status_code=~"5.."');
    expect(expr("InferenceServiceRestarts")).not.toContain("increase(");
    expect(expr("HighPipelineFailureRate")).toContain("unless argo_workflows_total_count{");
  });
});

describe("alert routing (synthesized)", () => {
  it("dev sends every severity to the platform team's Slack channel, with the URL read from a mounted file", () => {
    const values = monitoring("dev").alertmanager;
    expect(values.alertmanagerSpec.secrets).toEqual(["alert-receiver-platform-team"]);
    expect(values.config.receivers).toEqual([
      { name: "null" },
      {
        name: "platform-team",
        slack_configs: [
          {
            api_url_file: "/etc/alertmanager/secrets/alert-receiver-platform-team/api-url",
            channel: "#mlops-dev-alerts",
            send_resolved: true,
          },
        ],
      },
    ]);
    expect(values.config.route.routes).toContainEqual({
      receiver: "platform-team",
      matchers: ['severity =~ "critical|warning|info"'],
      continue: true,
    });
  });

  it("prod pages on-call for critical alerts and posts every severity to Slack", () => {
    const config = monitoring("prod").alertmanager.config;
    expect(config.receivers).toContainEqual({
      name: "on-call",
      pagerduty_configs: [
        {
          routing_key_file: "/etc/alertmanager/secrets/alert-receiver-on-call/routing-key",
          send_resolved: true,
        },
      ],
    });
    expect(config.route.routes.slice(2)).toEqual([
      { receiver: "on-call", matchers: ['severity = "critical"'], continue: true },
      { receiver: "platform-team", matchers: ['severity =~ "critical|warning|info"'], continue: true },
    ]);
    expect(monitoring("prod").alertmanager.alertmanagerSpec.secrets).toEqual([
      "alert-receiver-on-call",
      "alert-receiver-platform-team",
    ]);
  });

  it.each(NAMES)("%s: Watchdog and InfoInhibitor go nowhere, anything unrouted falls to null", (env) => {
    const route = monitoring(env).alertmanager.config.route;
    expect(route.receiver).toBe("null");
    expect(route.routes.slice(0, 2)).toEqual([
      { receiver: "null", matchers: ['alertname = "Watchdog"'] },
      { receiver: "null", matchers: ['alertname = "InfoInhibitor"'] },
    ]);
  });

  it.each(NAMES)("%s: InfoInhibitor no longer silences the platform's info alerts", (env) => {
    const rules = monitoring(env).alertmanager.config.inhibit_rules;
    const byInfoInhibitor = rules.filter((r: any) =>
      r.source_matchers?.includes('alertname = "InfoInhibitor"'),
    );
    expect(byInfoInhibitor).toEqual([
      {
        source_matchers: ['alertname = "InfoInhibitor"'],
        target_matchers: ['severity = "info"', 'platform != "mlops"'],
        equal: ["namespace"],
      },
    ]);
    const lowGpu = platformAlerts(OBSERVED).find((a) => a.alert === "LowGPUUtilization");
    expect(lowGpu?.severity).toBe("info");
    expect(PLATFORM_ALERT_LABELS).toEqual({ platform: "mlops" });
  });

  it.each(NAMES)(
    "%s: each receiver's credential comes from Secrets Manager through an ExternalSecret",
    (env) => {
      const environment = envs[env].environment;
      const receivers = environment.platform.alerting.receivers;
      expect(receivers.length).toBeGreaterThan(0);
      for (const receiver of receivers) {
        const name = alertReceiverSecretName(receiver.name);
        const secret = externalSecrets(env).find((r: any) => r.metadata.name === name);
        expect(secret).toEqual({
          apiVersion: "external-secrets.io/v1",
          kind: "ExternalSecret",
          metadata: { name, namespace: "monitoring" },
          spec: {
            refreshInterval: "1h",
            secretStoreRef: { kind: "ClusterSecretStore", name: "platform-secrets" },
            target: { name, creationPolicy: "Owner" },
            data: [
              {
                secretKey: { slack: "api-url", pagerduty: "routing-key", webhook: "url" }[receiver.kind],
                remoteRef: {
                  key: receiver.secret.remoteKey,
                  ...(receiver.secret.property ? { property: receiver.secret.property } : {}),
                },
              },
            ],
          },
        });
      }
    },
  );

  it.each(NAMES)(
    "%s: External Secrets may read the receivers' Secrets Manager secrets, and only those",
    (env) => {
      const json = envs[env].foundation.json;
      const [roleId] = Object.entries<any>(resourcesOf(json, "aws_iam_role")).find(
        ([, role]) => role.name === `mlops-${env}-external-secrets`,
      ) ?? [undefined];
      const policy = Object.values<any>(resourcesOf(json, "aws_iam_role_policy")).find(
        (p) => p.role === `\${aws_iam_role.${roleId}.name}`,
      );
      const statement = policyStatements(json, policy.policy).find(
        (s: any) => s.sid === "ReadAlertReceiverSecrets",
      );
      const names = [
        ...new Set(envs[env].environment.platform.alerting.receivers.map((r) => r.secret.remoteKey)),
      ];
      expect(statement.actions).toContain("secretsmanager:GetSecretValue");
      const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      expect(statement.resources).toHaveLength(names.length);
      statement.resources.forEach((resource: string, index: number) => {
        expect(resource).toMatch(
          new RegExp(
            `^arn:\\$\\{data\\.aws_partition\\.[^}]+\\.partition\\}:secretsmanager:eu-west-1:\\$\\{data\\.aws_caller_identity\\.[^}]+\\.account_id\\}:secret:${escape(names[index])}-\\?{6}$`,
          ),
        );
      });
    },
  );

  it.each(NAMES)("%s: no credential is written into Alertmanager's configuration", (env) => {
    const text = JSON.stringify(monitoring(env).alertmanager.config);
    for (const inline of ['"api_url"', '"routing_key"', '"service_key"', '"url"', "hooks.slack.com"]) {
      expect(text).not.toContain(inline);
    }
  });
});

describe("control-plane monitors (synthesized)", () => {
  it.each(NAMES)("%s: EKS gets no monitors or rules for components it does not expose", (env) => {
    const values = monitoring(env);
    expect(envs[env].stacks.platform.target.scrapeableComponents).toEqual({
      controllerManager: false,
      scheduler: false,
      etcd: false,
      kubeProxy: false,
    });
    expect(values.kubeControllerManager).toEqual({ enabled: false });
    expect(values.kubeScheduler).toEqual({ enabled: false });
    expect(values.kubeEtcd).toEqual({ enabled: false });
    expect(values.kubeProxy).toEqual({ enabled: false });
    expect(values.defaultRules.rules).toMatchObject({
      kubeControllerManager: false,
      kubeSchedulerAlerting: false,
      kubeSchedulerRecording: false,
      etcd: false,
      kubeProxy: false,
    });
  });

  it("keeps them for a target that exposes them", () => {
    const values = controlPlaneValues({
      controllerManager: true,
      scheduler: true,
      etcd: true,
      kubeProxy: true,
    });
    expect(values).toMatchObject({
      kubeControllerManager: { enabled: true },
      kubeScheduler: { enabled: true },
      kubeEtcd: { enabled: true },
      kubeProxy: { enabled: true },
      defaultRules: { rules: { kubeControllerManager: true, etcd: true, kubeProxy: true } },
    });
  });
});

describe("alert receiver configuration", () => {
  const problemsOf = (change: (env: any) => void): readonly string[] => {
    const input = structuredClone(prod) as any;
    change(input);
    const result = loadEnvironments([input as EnvironmentInput]);
    return result.ok ? [] : result.problems;
  };

  it("the registered environments validate", () => {
    expect(loadEnvironments(ENVIRONMENTS).ok).toBe(true);
  });

  it("a protected environment must send critical alerts somewhere", () => {
    expect(problemsOf((e) => (e.platform.alerting.receivers = []))).toEqual([
      'prod: platform.alerting.receivers = []: a protected environment must send critical alerts to at least one receiver; fix: add a receiver with severities ["critical"] (e.g. kind: "pagerduty") under platform.alerting.receivers',
    ]);
    expect(
      problemsOf((e) => {
        e.platform.alerting.receivers = e.platform.alerting.receivers.filter((r: any) => r.kind === "slack");
        e.platform.alerting.receivers[0].severities = ["warning", "info"];
      }),
    ).toHaveLength(1);
  });

  it("names the field, the value, the rule and the fix for a bad receiver", () => {
    expect(
      problemsOf((e) => (e.platform.alerting.receivers[1].secret.remoteKey = "https://hooks.slack.com/x")),
    ).toEqual([
      'prod: platform.alerting.receivers[1].secret.remoteKey = "https://hooks.slack.com/x": must be a Secrets Manager secret name or ARN; fix: create the secret in Secrets Manager and give its name, e.g. mlops/prod/alerting/slack',
    ]);
    expect(problemsOf((e) => (e.platform.alerting.receivers[1].channel = "mlops"))).toEqual([
      'prod: platform.alerting.receivers[1].channel = "mlops": must be a Slack channel such as #mlops-alerts; fix: start it with # and use lower case',
    ]);
    expect(
      problemsOf((e) => (e.platform.alerting.receivers[0].severities = ["critical", "critical"])),
    ).toEqual([
      'prod: platform.alerting.receivers[0].severities = ["critical","critical"]: must not list a severity twice; fix: remove the duplicate',
    ]);
    expect(problemsOf((e) => (e.platform.alerting.receivers[1].name = "on-call"))).toEqual([
      'prod: platform.alerting.receivers[1].name = "on-call": must be unique among the receivers; fix: give every receiver its own name',
    ]);
    expect(problemsOf((e) => (e.platform.alerting.receivers[0].kind = "email"))).toEqual([
      'prod: platform.alerting.receivers[0].kind = "email": kind must be slack, pagerduty or webhook; fix: set kind to one of the three',
    ]);
  });

  it("refuses a credential written into the environment", () => {
    const problems = problemsOf((e) => (e.platform.alerting.receivers[0].routingKey = "R0123456789"));
    expect(problems).toEqual([
      "prod: platform.alerting.receivers[0].routingKey: unknown field; fix: remove it or correct its spelling",
    ]);
  });
});

// ----- The same properties on the charts and manifests as rendered -----

const UPSTREAM = UPSTREAM_DIR;
function tool(name: string, envVar: string, fallback: string): string | undefined {
  return [
    process.env[envVar],
    fallback,
    ...(process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, name)),
  ].find((p): p is string => p !== undefined && p !== "" && existsSync(p));
}
/** helm and kubectl as the verify tool runs them (unpacked from an npm package), unless set. */
function projectTools(): { helm?: string; kubectl?: string } {
  try {
    const tools = ensureTools();
    return { helm: process.env.HELM || tools.helm, kubectl: process.env.KUBECTL || tools.kubectl };
  } catch {
    return { helm: findExecutable("helm", "HELM"), kubectl: findExecutable("kubectl", "KUBECTL") };
  }
}
const { helm: HELM, kubectl: KUBECTL } = projectTools();
const PROMTOOL = tool("promtool", "PROMTOOL", "/usr/bin/promtool");
const AMTOOL = tool("amtool", "AMTOOL", "/usr/bin/amtool");

const renderable = UPSTREAM !== undefined && HELM !== undefined && KUBECTL !== undefined;
if (!renderable) {
  process.stdout.write(
    `SKIPPED __tests__/constructs/alerts.test.ts (rendered): ${
      UPSTREAM === undefined
        ? "pinned upstream sources not found (../shared/upstream or MLOPS_UPSTREAM_DIR)"
        : ""
    }${HELM === undefined ? " helm not found (HELM)" : ""}${KUBECTL === undefined ? " kubectl not found (KUBECTL)" : ""}\n`,
  );
}
for (const [name, path] of [
  ["promtool", PROMTOOL],
  ["amtool", AMTOOL],
] as const) {
  if (path === undefined) {
    process.stdout.write(
      `SKIPPED __tests__/constructs/alerts.test.ts: ${name} checks (${name} not found; Debian/Ubuntu package ${name === "promtool" ? "prometheus" : "prometheus-alertmanager"})\n`,
    );
  }
}
const rendered = renderable ? describe : describe.skip;

type Obj = Record<string, any>;

function render(chartDir: string, namespace: string, values: Values[]): Obj[] {
  const work = mkdtempSync(join(tmpdir(), "rendered-"));
  try {
    const files = values.map((v, i) => {
      const file = join(work, `values-${i}.yaml`);
      writeFileSync(file, stringify(v));
      return file;
    });
    const output = execFileSync(
      HELM as string,
      [
        "template",
        "release",
        join(UPSTREAM as string, "charts", chartDir),
        "-n",
        namespace,
        "--kube-version",
        "1.34.0",
        ...files.flatMap((f) => ["-f", f]),
      ],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    return parseAllDocuments(output)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null)
      .flatMap((o) => (o.kind === "List" ? o.items : [o]));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The served schema of a prometheus-operator CRD, refusing unknown fields. */
function operatorSchema(kind: string): object {
  const dir = join(UPSTREAM as string, "crds", "prometheus-operator-v0.93.1");
  const strict = (s: any): any => {
    if (Array.isArray(s)) return s.map(strict);
    if (s === null || typeof s !== "object") return s;
    // Go's inline flags, e.g. (?i), are no JavaScript syntax: those patterns are left to the API server.
    const copy: any = Object.fromEntries(
      Object.entries(s)
        .filter(([k, v]) => !(k === "pattern" && typeof v === "string" && v.includes("(?")))
        .map(([k, v]) => [k, strict(v)]),
    );
    if (
      copy.properties &&
      copy.additionalProperties === undefined &&
      !copy["x-kubernetes-preserve-unknown-fields"]
    )
      copy.additionalProperties = false;
    return copy;
  };
  for (const file of readdirSync(dir)) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8"))) {
      const crd = doc.toJS({ maxAliasCount: -1 });
      if (crd?.spec?.names?.kind === kind) {
        return strict(crd.spec.versions.find((v: any) => v.name === "v1" && v.served).schema.openAPIV3Schema);
      }
    }
  }
  throw new Error(`no CRD for ${kind}`);
}

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  return { ok: result.status === 0, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

describe("every receiver kind", () => {
  const receivers = [
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
  const config = alertmanagerConfig(receivers);

  it("reads each credential from the file of its own Secret", () => {
    expect(config.receivers).toEqual([
      { name: "null" },
      {
        name: "team",
        slack_configs: [
          {
            api_url_file: "/etc/alertmanager/secrets/alert-receiver-team/api-url",
            channel: "#alerts",
            send_resolved: true,
          },
        ],
      },
      {
        name: "pager",
        pagerduty_configs: [
          {
            routing_key_file: "/etc/alertmanager/secrets/alert-receiver-pager/routing-key",
            send_resolved: true,
          },
        ],
      },
      {
        name: "hook",
        webhook_configs: [
          { url_file: "/etc/alertmanager/secrets/alert-receiver-hook/url", send_resolved: true },
        ],
      },
    ]);
  });

  // url_file of webhook_configs arrived in Alertmanager 0.26 (the chart runs 0.34.0).
  const amtoolVersion = AMTOOL
    ? /version (\d+)\.(\d+)\./.exec(spawnSync(AMTOOL, ["--version"], { encoding: "utf8" }).stdout ?? "")
    : null;
  const webhookFiles =
    amtoolVersion !== null && (Number(amtoolVersion[1]) > 0 || Number(amtoolVersion[2]) >= 26);
  if (AMTOOL && !webhookFiles) {
    process.stdout.write(
      `SKIPPED __tests__/constructs/alerts.test.ts: amtool check-config of a webhook receiver (amtool ${amtoolVersion?.slice(1).join(".") ?? "of unknown version"} predates url_file, Alertmanager 0.26)\n`,
    );
  }
  (AMTOOL ? it : it.skip)("amtool check-config accepts them", () => {
    const work = mkdtempSync(join(tmpdir(), "receivers-"));
    try {
      const checked = webhookFiles ? receivers : receivers.filter((r) => r.kind !== "webhook");
      writeFileSync(join(work, "alertmanager.yaml"), stringify(alertmanagerConfig(checked)));
      const result = run(AMTOOL as string, ["check-config", "alertmanager.yaml"], work);
      expect(result.output).toContain(
        `Found:\n - global config\n - route\n - 3 inhibit rules\n - ${checked.length + 1} receivers`,
      );
      expect(result.ok).toBe(true);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

rendered("kube-prometheus-stack 88.5.3 as rendered", () => {
  const objects: Record<string, Obj[]> = {};
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "alerting-"));
    for (const env of ["dev", "prod"]) {
      objects[env] = render("kube-prometheus-stack-88.5.3", "monitoring", [monitoring(env)]);
    }
  }, 120_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  const alertNames = (objs: Obj[]) =>
    objs
      .filter((o) => o.kind === "PrometheusRule")
      .flatMap((o) => o.spec.groups.flatMap((g: any) => g.rules.map((r: any) => r.alert)))
      .filter(Boolean);
  const CONTROL_PLANE_ALERTS = [
    "KubeControllerManagerDown",
    "KubeSchedulerDown",
    "KubeProxyDown",
    "etcdMembersDown",
    "etcdInsufficientMembers",
  ];
  const controlPlaneMonitors = (objs: Obj[]) =>
    objs
      .filter(
        (o) =>
          o.kind === "ServiceMonitor" || (o.kind === "Service" && o.metadata.namespace === "kube-system"),
      )
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .filter((name) => /controller-manager|scheduler|etcd|kube-proxy/.test(name));

  it("renders no monitor, Service or alert of the control plane and kube-proxy", () => {
    expect(controlPlaneMonitors(objects.dev)).toEqual([]);
    expect(alertNames(objects.dev).filter((a) => CONTROL_PLANE_ALERTS.includes(a))).toEqual([]);
    // The monitors that EKS does expose stay.
    expect(alertNames(objects.dev)).toEqual(expect.arrayContaining(["KubeletDown", "KubeAPIDown"]));
  });

  it("would render them with the chart's defaults (the check above can fail)", () => {
    const defaults = render("kube-prometheus-stack-88.5.3", "monitoring", [
      monitoring("dev"),
      controlPlaneValues({ controllerManager: true, scheduler: true, etcd: true, kubeProxy: true }),
    ]);
    expect(controlPlaneMonitors(defaults).length).toBeGreaterThanOrEqual(4);
    expect(alertNames(defaults)).toEqual(expect.arrayContaining(CONTROL_PLANE_ALERTS));
  }, 60_000);

  it.each(["dev", "prod"])("%s: Alertmanager mounts every receiver Secret its configuration reads", (env) => {
    const alertmanager = objects[env].find((o) => o.kind === "Alertmanager");
    const secret = objects[env].find(
      (o) => o.kind === "Secret" && o.metadata.name.startsWith("alertmanager-"),
    );
    const config = parse(Buffer.from(secret?.data["alertmanager.yaml"], "base64").toString("utf8"));
    expect(config).toEqual(alertmanagerConfig(envs[env].environment.platform.alerting.receivers));
    const files = JSON.stringify(config).match(/\/etc\/alertmanager\/secrets\/[^"]+/g) ?? [];
    expect(files.length).toBe(envs[env].environment.platform.alerting.receivers.length);
    for (const file of files) {
      const [, secretName, key] = /^\/etc\/alertmanager\/secrets\/([^/]+)\/([^/]+)$/.exec(file) ?? [];
      expect(alertmanager?.spec.secrets).toContain(secretName);
      const source = externalSecrets(env).find((r: any) => r.metadata.name === secretName);
      expect(source?.spec.data.map((d: any) => d.secretKey)).toEqual([key]);
    }
  });

  it.each(["dev", "prod"])(
    "%s: the PodMonitors and the platform's PrometheusRule validate against the CRDs",
    (env) => {
      const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
      const validators = {
        PodMonitor: ajv.compile(operatorSchema("PodMonitor")),
        PrometheusRule: ajv.compile(operatorSchema("PrometheusRule")),
      };
      const checked = objects[env].filter(
        (o) =>
          o.kind === "PodMonitor" ||
          (o.kind === "PrometheusRule" && o.metadata.name.endsWith("mlops-platform")),
      );
      expect(checked.map((o) => o.kind).sort()).toEqual([
        "PodMonitor",
        "PodMonitor",
        "PodMonitor",
        "PodMonitor",
        "PrometheusRule",
      ]);
      for (const object of checked) {
        const validate = validators[object.kind as keyof typeof validators];
        expect({
          name: object.metadata.name,
          valid: validate(object),
          errors: validate.errors ?? null,
        }).toEqual({
          name: object.metadata.name,
          valid: true,
          errors: null,
        });
      }
    },
  );

  it("keeps the chart's InfoInhibitor, which groups info alerts by namespace", () => {
    const inhibitor = objects.dev
      .filter((o) => o.kind === "PrometheusRule")
      .flatMap((o) => o.spec.groups.flatMap((g: any) => g.rules))
      .find((r: any) => r.alert === "InfoInhibitor");
    expect(inhibitor.expr).toContain('group by (namespace) (ALERTS{severity = "info"} == 1)');
    // LowGPUUtilization carries no namespace, so the chart's rule would silence it.
    const lowGpu = platformAlerts(OBSERVED).find((a) => a.alert === "LowGPUUtilization");
    expect(lowGpu?.expr).toMatch(/^avg by \(Hostname, gpu\) /);
  });

  (PROMTOOL ? it : it.skip)("promtool accepts the rendered platform rules", () => {
    const rule = objects.dev.find(
      (o) => o.kind === "PrometheusRule" && o.metadata.name.endsWith("mlops-platform"),
    );
    writeFileSync(join(work, "rendered-rules.yaml"), stringify({ groups: rule?.spec.groups }));
    const result = run(PROMTOOL as string, ["check", "rules", "rendered-rules.yaml"], work);
    expect(result.output).toContain("SUCCESS: 6 rules found");
  });

  describe("amtool", () => {
    const amtool = AMTOOL ? it : it.skip;
    const configFile = (env: string) => {
      const secret = objects[env].find(
        (o) => o.kind === "Secret" && o.metadata.name.startsWith("alertmanager-"),
      );
      const file = join(work, `alertmanager-${env}.yaml`);
      writeFileSync(file, Buffer.from(secret?.data["alertmanager.yaml"], "base64").toString("utf8"));
      return file;
    };

    amtool.each(["dev", "prod"])("%s: check-config accepts the rendered configuration", (env) => {
      const result = run(AMTOOL as string, ["check-config", configFile(env)], work);
      expect(result.output).toContain("SUCCESS");
      expect(result.ok).toBe(true);
    });

    amtool.each([
      ["dev", "LowGPUUtilization", "info", "platform-team"],
      ["prod", "LowGPUUtilization", "info", "platform-team"],
      ["prod", "HighInferenceErrorRate", "critical", "on-call,platform-team"],
      ["prod", "HighPipelineFailureRate", "warning", "platform-team"],
      ["prod", "Watchdog", "none", "null"],
    ])("%s: %s (%s) reaches %s", (env, alertname, severity, receivers) => {
      const result = run(
        AMTOOL as string,
        [
          "config",
          "routes",
          "test",
          `--config.file=${configFile(env)}`,
          `--verify.receivers=${receivers}`,
          `alertname=${alertname}`,
          `severity=${severity}`,
          "platform=mlops",
        ],
        work,
      );
      expect(result.stdout.trim()).toBe(receivers);
      expect(result.ok).toBe(true);
    });
  });
});

rendered("the workloads as rendered", () => {
  it("kserve-mlserver runs MLServer 1.5.0 with no container port and no metrics port override", () => {
    const runtimes = render("kserve-runtime-configs-v0.20.0", "kserve", [
      valuesOf(release(envs.dev.platform.json, "kserve-runtime-configs")),
    ]);
    const mlserver = runtimes.find(
      (o) => o.kind === "ClusterServingRuntime" && o.metadata.name === "kserve-mlserver",
    );
    expect(mlserver?.metadata.annotations["serving.kserve.io/server-type"]).toBe("mlserver");
    const container = mlserver?.spec.containers[0];
    expect(container.name).toBe("kserve-container");
    expect(container.image).toBe("docker.io/seldonio/mlserver:1.5.0");
    expect(container.ports).toBeUndefined();
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(env.MLSERVER_HTTP_PORT).toBe("8080");
    // MLServer 1.5.0 serves /metrics on metrics_port (default 8082), not on the HTTP port the
    // runtime's prometheus.kserve.io/port annotation names.
    expect(env).not.toHaveProperty("MLSERVER_METRICS_PORT");
    expect(env).not.toHaveProperty("MLSERVER_METRICS_ENDPOINT");
    expect(mlserver?.spec.annotations["prometheus.kserve.io/port"]).toBe("8080");
    expect(mlserver?.spec.supportedModelFormats).toContainEqual(
      expect.objectContaining({ name: "mlflow", autoSelect: true }),
    );
  });

  it("Kubeflow Pipelines' Argo Workflows controller serves metrics on port metrics with the default (TLS) settings", () => {
    const output = execFileSync(
      KUBECTL as string,
      [
        "kustomize",
        join(
          UPSTREAM as string,
          "kubeflow-pipelines-2.17.0",
          "manifests",
          "kustomize",
          "env",
          "platform-agnostic",
        ),
      ],
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
    );
    const objs = parseAllDocuments(output).map((d) => d.toJS() as Obj);
    const controller = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "workflow-controller");
    expect(controller?.spec.template.metadata.labels.app).toBe("workflow-controller");
    const container = controller?.spec.template.spec.containers[0];
    expect(container.image).toBe("quay.io/argoproj/workflow-controller:v4.0.5");
    expect(container.ports).toContainEqual({ containerPort: 9090, name: "metrics" });
    const config = objs.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "workflow-controller-configmap",
    );
    // No metricsConfig: Argo Workflows v4.0.5 then serves metrics over TLS (secure defaults to true).
    expect(Object.keys(config?.data ?? {})).not.toContain("metricsConfig");
    const api = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "ml-pipeline");
    expect(api?.spec.template.metadata.labels.app).toBe("ml-pipeline");
    expect(api?.spec.template.spec.containers[0].ports).toContainEqual({ containerPort: 8888, name: "http" });
  });
});
