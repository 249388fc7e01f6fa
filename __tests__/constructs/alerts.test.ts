/**
 * Monitoring that tells the truth: scrape targets that exist, alert rules over the metric names
 * each workload really exports, alerts that reach a receiver, and no monitors of components
 * the cluster does not expose. Asserted in process on the synthesized platform stacks; the same
 * properties on the charts and manifests as rendered, and the promtool and amtool checks, are in
 * integration/alerts.test.ts.
 */
import { policyStatements, resourcesOf, synthesizeEnvironments } from "../support/synth";
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
import { EVERY_RECEIVER_KIND, OBSERVED, externalSecretsOf, monitoringValues } from "../support/alerting";

const envs = synthesizeEnvironments();
/** Every AWS environment of the registry. */
const NAMES = Object.keys(envs);

const monitoring = (env: string) => monitoringValues(envs[env].platform.json);
const podMonitor = (env: string, name: string) => {
  const found = monitoring(env).prometheus.additionalPodMonitors.find((m: any) => m.name === name);
  if (!found) throw new Error(`${env}: no PodMonitor ${name}`);
  return found;
};
const externalSecrets = (env: string) => externalSecretsOf(envs[env].platform.json);

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

  it.each(NAMES)(
    "%s: MLServer predictors are scraped on 8082, named by their InferenceService, version and track",
    (env) => {
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
        // The predictor's version and track (primary or canary), from the pod labels KServe copies
        // from each predictor's `labels`.
        {
          action: "replace",
          sourceLabels: ["__meta_kubernetes_pod_label_mlops_platform_model_version"],
          targetLabel: "version",
        },
        {
          action: "replace",
          sourceLabels: ["__meta_kubernetes_pod_label_mlops_platform_track"],
          targetLabel: "track",
        },
      ]);
    },
  );

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
    // EKS runs the control plane and kube-proxy where nothing in the cluster can scrape them.
    const values = monitoring(env);
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
      problemsOf((e) => (e.platform.alerting.receivers[1].secret.remoteKey = "https://hooks.slack.com/***")),
    ).toEqual([
      'prod: platform.alerting.receivers[1].secret.remoteKey = "https://hooks.slack.com/***": looks like a Slack incoming-webhook URL, a credential written into the environment file where the name of the Secrets Manager secret holding it belongs; fix: store the credential in Secrets Manager (e.g. as mlops/<env>/alerting/<receiver>), give that name here, and rotate the credential: the file is in Git',
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
      'prod: platform.alerting.receivers[0].routingKey = "R0123456789": is a credential written into the environment file, which is in Git and reaches the Helm values; fix: remove routingKey, store the value in Secrets Manager and name that secret in platform.alerting.receivers[0].secret.remoteKey, and rotate it',
    ]);
  });
});

describe("every receiver kind", () => {
  const config = alertmanagerConfig(EVERY_RECEIVER_KIND);

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
});
