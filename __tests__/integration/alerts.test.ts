/**
 * The alerting of the platform stacks on the charts and manifests as rendered: kube-prometheus-stack
 * 88.5.3 from the synthesized values (no control-plane monitors EKS does not expose, every
 * receiver Secret mounted, PodMonitors and the platform's PrometheusRule valid against the
 * prometheus-operator CRDs), MLServer's and Argo Workflows' metrics as their charts and manifests
 * declare them, and promtool and amtool on the rules and configuration. The same properties on
 * the synthesized stacks are in constructs/alerts.test.ts. Skipped, with the reason printed, when
 * the pinned upstream sources or the tools are not on this machine.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import Ajv from "ajv";
import { parse, parseAllDocuments, stringify } from "yaml";
import { synthesizeEnvironments, synthesizeOnPremEnvironments } from "../support/synth";
import { findExecutable, UPSTREAM_DIR } from "../support/upstream";
import { ensureTools } from "../../scripts/verify/tools";
import { alertmanagerConfig, controlPlaneValues } from "../../constructs/platform/monitoring";
import { platformAlerts } from "../../constructs/platform/observability";
import {
  EVERY_RECEIVER_KIND,
  OBSERVED,
  externalSecretsOf,
  monitoringValues,
  release,
  valuesOf,
  type Values,
} from "../support/alerting";

const envs = synthesizeEnvironments();

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
    `SKIPPED __tests__/integration/alerts.test.ts (rendered): ${
      UPSTREAM === undefined
        ? "pinned upstream sources not found (.upstream/ from npm run fetch-sources, or MLOPS_UPSTREAM_DIR)"
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
      `SKIPPED __tests__/integration/alerts.test.ts: ${name} checks (${name} not found; Debian/Ubuntu package ${name === "promtool" ? "prometheus" : "prometheus-alertmanager"})\n`,
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
  // url_file of webhook_configs arrived in Alertmanager 0.26 (the chart runs 0.34.0).
  const amtoolVersion = AMTOOL
    ? /version (\d+)\.(\d+)\./.exec(spawnSync(AMTOOL, ["--version"], { encoding: "utf8" }).stdout ?? "")
    : null;
  const webhookFiles =
    amtoolVersion !== null && (Number(amtoolVersion[1]) > 0 || Number(amtoolVersion[2]) >= 26);
  if (AMTOOL && !webhookFiles) {
    process.stdout.write(
      `SKIPPED __tests__/integration/alerts.test.ts: amtool check-config of a webhook receiver (amtool ${amtoolVersion?.slice(1).join(".") ?? "of unknown version"} predates url_file, Alertmanager 0.26)\n`,
    );
  }
  (AMTOOL ? it : it.skip)("amtool check-config accepts them", () => {
    const work = mkdtempSync(join(tmpdir(), "receivers-"));
    try {
      const checked = webhookFiles
        ? EVERY_RECEIVER_KIND
        : EVERY_RECEIVER_KIND.filter((r) => r.kind !== "webhook");
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

describe("proxies, relays and the heartbeat (amtool)", () => {
  const amtoolVersion = AMTOOL
    ? /version (\d+)\.(\d+)\./.exec(spawnSync(AMTOOL, ["--version"], { encoding: "utf8" }).stdout ?? "")
    : null;
  const webhookFiles =
    amtoolVersion !== null && (Number(amtoolVersion[1]) > 0 || Number(amtoolVersion[2]) >= 26);
  /**
   * The configuration as amtool of this machine can load it: before 0.26 it knows no webhook
   * `url_file`, so the webhooks' bodies are replaced by a literal URL. Routing reads only the
   * route tree and the receivers' names, which stay as they are.
   */
  const loadable = (config: Record<string, any>) =>
    webhookFiles
      ? config
      : {
          ...config,
          receivers: config.receivers.map((r: any) =>
            r.webhook_configs
              ? {
                  ...r,
                  webhook_configs: r.webhook_configs.map(({ url_file: _file, ...rest }: any) => ({
                    ...rest,
                    url: "http://webhook.invalid/",
                  })),
                }
              : r,
          ),
        };
  if (AMTOOL && !webhookFiles) {
    process.stdout.write(
      `SKIPPED __tests__/integration/alerts.test.ts: amtool ${amtoolVersion?.slice(1).join(".") ?? "of unknown version"} predates webhook url_file (Alertmanager 0.26): the heartbeat's and webhooks' files are checked in process only, routing on the real route tree\n`,
    );
  }
  const onPrem = synthesizeOnPremEnvironments();
  const onPremConfig = (env: string) => monitoringValues(onPrem[env].platform.json).alertmanager.config;
  const withConfig = <T>(config: Record<string, any>, body: (dir: string) => T): T => {
    const work = mkdtempSync(join(tmpdir(), "routes-"));
    try {
      writeFileSync(join(work, "alertmanager.yaml"), stringify(loadable(config)));
      return body(work);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  };
  const routesTo = (config: Record<string, any>, labels: string[]): string =>
    withConfig(config, (work) => {
      const result = run(
        AMTOOL as string,
        ["config", "routes", "test", "--config.file=alertmanager.yaml", ...labels],
        work,
      );
      if (!result.ok) throw new Error(result.output);
      return result.stdout.trim();
    });
  const amtoolIt = AMTOOL ? it : it.skip;

  amtoolIt("amtool check-config accepts proxy_url on every kind and PagerDuty's relay url", () => {
    const config = alertmanagerConfig(
      EVERY_RECEIVER_KIND.map((receiver) => ({
        ...receiver,
        proxyUrl: "http://proxy.example.com:3128",
        ...(receiver.kind === "pagerduty" ? { url: "https://pagerduty-relay.example.com/v2/enqueue" } : {}),
      })),
      { proxyUrl: "http://proxy.example.com:3128" },
    );
    withConfig(config, (work) => {
      const result = run(AMTOOL as string, ["check-config", "alertmanager.yaml"], work);
      expect(result.output).toContain(` - ${EVERY_RECEIVER_KIND.length + 2} receivers`);
      expect(result.ok).toBe(true);
    });
  });

  amtoolIt("amtool check-config refuses a proxy URL Alertmanager cannot parse (the check can fail)", () => {
    const config = alertmanagerConfig([
      { ...EVERY_RECEIVER_KIND[0], proxyUrl: "http://proxy.example.com:3128" },
    ]);
    (config as any).receivers[1].slack_configs[0].http_config.proxy_url = "http://proxy example:3128";
    withConfig(config, (work) => {
      expect(run(AMTOOL as string, ["check-config", "alertmanager.yaml"], work).ok).toBe(false);
    });
  });

  amtoolIt.each(["onprem-test", "onprem-prod"])(
    "%s: amtool check-config accepts the configuration",
    (env) => {
      withConfig(onPremConfig(env), (work) => {
        const result = run(AMTOOL as string, ["check-config", "alertmanager.yaml"], work);
        expect(result.ok).toBe(true);
      });
    },
  );

  amtoolIt(
    "onprem-prod: Watchdog reaches only the heartbeat; alerts by severity reach their receivers",
    () => {
      const config = onPremConfig("onprem-prod");
      expect(routesTo(config, ["alertname=Watchdog", "severity=none"])).toBe("heartbeat");
      expect(routesTo(config, ["alertname=InfoInhibitor", "severity=none"])).toBe("null");
      expect(routesTo(config, ["alertname=CNPGClusterOffline", "severity=critical"])).toBe(
        "on-call,platform-team",
      );
      expect(routesTo(config, ["alertname=KubePodCrashLooping", "severity=warning"])).toBe("platform-team");
    },
  );

  amtoolIt("without a heartbeat, Watchdog goes to null (the route test can tell them apart)", () => {
    const config = alertmanagerConfig(EVERY_RECEIVER_KIND.filter((r) => r.kind !== "webhook"));
    expect(routesTo(config, ["alertname=Watchdog", "severity=none"])).toBe("null");
  });
});

rendered("kube-prometheus-stack 88.5.3 as rendered", () => {
  const objects: Record<string, Obj[]> = {};
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "alerting-"));
    for (const env of ["dev", "prod"]) {
      objects[env] = render("kube-prometheus-stack-88.5.3", "monitoring", [
        monitoringValues(envs[env].platform.json),
      ]);
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
      monitoringValues(envs.dev.platform.json),
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
      const source = externalSecretsOf(envs[env].platform.json).find(
        (r: any) => r.metadata.name === secretName,
      );
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
    // The six platform alerts and the four of model monitoring.
    expect(result.output).toContain("SUCCESS: 10 rules found");
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
