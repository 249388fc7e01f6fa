import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import type { ScrapeableComponents } from "./cluster-target";
import { mergeValues, type HelmValues } from "../lib/values";
import { PREDICTOR_TRACK_LABEL, PREDICTOR_VERSION_LABEL } from "../serving/inference-services";
import type { SecretFromStore } from "./platform-secrets";
import {
  DEFAULT_ALERT_THRESHOLDS,
  INFERENCE_SERVICE_POD_LABEL,
  MLSERVER,
  PLATFORM_ALERT_LABELS,
  PREDICTOR_MODEL_LABEL,
  PREDICTOR_TRACK_TARGET_LABEL,
  PREDICTOR_VERSION_TARGET_LABEL,
  inferenceDashboard,
  platformAlerts,
  type AlertRule,
  type AlertSeverity,
  type AlertThresholds,
  type ObservedNamespaces,
} from "./observability";

export interface MonitoringProps {
  readonly charts: ChartCatalog;
  readonly namespace: string;
  readonly highAvailability: boolean;
  readonly storageClassName: string;
  readonly retentionDays: number;
  readonly storageGib: number;
  /** Secret in the monitoring namespace with keys `admin-user` and `admin-password`, created out of band. */
  readonly grafanaAdminSecret: string;
  readonly observed: ObservedNamespaces;
  /** @default DEFAULT_ALERT_THRESHOLDS */
  readonly thresholds?: AlertThresholds;
  /** Cluster components Prometheus can scrape (the target's); the others get no monitor and no rules. */
  readonly scrapeable: ScrapeableComponents;
  /**
   * Where alerts go, by severity. Each receiver's credential is mounted from the Secret
   * `alertReceiverSecretName(name)` in the monitoring namespace (see `alertReceiverSecrets`).
   */
  readonly receivers: readonly AlertReceiver[];
  /**
   * Grafana's directory login (`grafanaLoginValues`, under `grafana:`) and its Ingress, merged
   * over the rest. Unset: Grafana's local login only, no Ingress.
   */
  readonly login?: HelmValues;
  readonly dependsOn?: ITerraformDependable[];
}

/** Label the Grafana sidecar looks for on dashboard ConfigMaps. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" };

/**
 * kube-prometheus-stack: Prometheus with retention and a persistent volume, Alertmanager
 * routing alerts by severity to the environment's receivers, Grafana with its admin from an
 * existing Secret; monitors and rules are picked up from every namespace, and the cluster
 * components the target does not expose get neither. The platform's alerts ship as a
 * PrometheusRule through the chart, the inference dashboard as a ConfigMap the Grafana sidecar
 * loads.
 */
export class Monitoring extends Construct {
  public readonly release: PlatformRelease;
  public readonly dashboard: ConfigMapV1;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    if (!Number.isInteger(props.retentionDays) || props.retentionDays < 1) {
      throw new Error(`Monitoring: retentionDays (${props.retentionDays}) must be a whole number >= 1`);
    }
    if (!Number.isInteger(props.storageGib) || props.storageGib < 10) {
      throw new Error(`Monitoring: storageGib (${props.storageGib}) must be a whole number >= 10`);
    }
    const replicas = props.highAvailability ? 2 : 1;
    const alerts = platformAlerts(props.observed, props.thresholds ?? DEFAULT_ALERT_THRESHOLDS);
    const volume = (gib: number) => ({
      volumeClaimTemplate: {
        spec: {
          storageClassName: props.storageClassName,
          accessModes: ["ReadWriteOnce"],
          resources: { requests: { storage: `${gib}Gi` } },
        },
      },
    });
    this.release = props.charts.install(this, "Stack", {
      chart: "kube-prometheus-stack",
      namespace: props.namespace,
      timeoutSeconds: 900,
      computedValues: mergeValues(
        {
          prometheus: {
            prometheusSpec: {
              replicas,
              retention: `${props.retentionDays}d`,
              // Leave 10% of the volume free so compaction never fills it.
              retentionSize: `${Math.floor(props.storageGib * 0.9)}GB`,
              storageSpec: volume(props.storageGib),
            },
            additionalPodMonitors: workloadPodMonitors(props.observed),
          },
          alertmanager: {
            alertmanagerSpec: {
              replicas: props.highAvailability ? 3 : 1,
              storage: volume(10),
              secrets: props.receivers.map((receiver) => alertReceiverSecretName(receiver.name)),
            },
            config: alertmanagerConfig(props.receivers),
          },
          ...controlPlaneValues(props.scrapeable),
          grafana: {
            admin: {
              existingSecret: props.grafanaAdminSecret,
              userKey: "admin-user",
              passwordKey: "admin-password",
            },
          },
          additionalPrometheusRulesMap: { "mlops-platform": { groups: platformRuleGroups(alerts) } },
        },
        props.login,
      ),
      dependsOn: props.dependsOn,
    });

    this.dashboard = new ConfigMapV1(this, "InferenceDashboard", {
      metadata: {
        name: "mlops-inference-dashboard",
        namespace: props.namespace,
        labels: GRAFANA_DASHBOARD_LABEL,
      },
      data: { "mlops-inference.json": JSON.stringify(inferenceDashboard(props.observed), null, 2) },
      dependsOn: [this.release.release],
    });
  }
}

/** Rule groups of the platform's alerts, as Prometheus (and the PrometheusRule CRD) take them. */
export function platformRuleGroups(alerts: readonly AlertRule[]): Record<string, unknown>[] {
  return [
    {
      name: "mlops-platform",
      rules: alerts.map((rule) => ({
        alert: rule.alert,
        expr: rule.expr,
        for: rule.for,
        labels: { severity: rule.severity, ...PLATFORM_ALERT_LABELS },
        annotations: { summary: rule.summary, description: rule.description },
      })),
    },
  ];
}

/**
 * Scrape targets of the workloads the alerts and dashboard read, rendered by the chart as
 * PodMonitors (MLflow brings its own ServiceMonitor):
 * - the serving Deployment on its `http` port;
 * - MLServer predictors of InferenceServices on MLServer's metrics port. Their container
 *   declares no port, so the address is set by relabeling; the InferenceService's name
 *   becomes the `inferenceservice` label, the predictor's model version and track (primary or
 *   canary) the `version` and `track` labels;
 * - Kubeflow Pipelines' API server;
 * - the Argo Workflows controller, which serves its metrics over TLS with a certificate it
 *   generates at each start (`metricsConfig.secure` defaults to true since v3.6): there is no
 *   CA to verify it against.
 */
export function workloadPodMonitors(ns: ObservedNamespaces): Record<string, unknown>[] {
  const inNamespace = (namespace: string) => ({ matchNames: [namespace] });
  return [
    {
      name: "mlops-serving",
      namespaceSelector: inNamespace(ns.serving),
      selector: { matchLabels: { "app.kubernetes.io/name": "mlops-serving" } },
      podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
    },
    {
      name: "kserve-mlserver-predictors",
      namespaceSelector: inNamespace(ns.serving),
      selector: {
        matchExpressions: [
          { key: INFERENCE_SERVICE_POD_LABEL, operator: "Exists" },
          { key: MLSERVER.podLabel, operator: "Exists" },
        ],
      },
      podMetricsEndpoints: [
        {
          path: MLSERVER.metricsPath,
          interval: "30s",
          relabelings: [
            {
              action: "keep",
              sourceLabels: ["__meta_kubernetes_pod_container_name"],
              regex: MLSERVER.container,
            },
            {
              action: "replace",
              sourceLabels: ["__meta_kubernetes_pod_ip"],
              regex: "(.+)",
              targetLabel: "__address__",
              replacement: `$1:${MLSERVER.metricsPort}`,
            },
            {
              action: "replace",
              sourceLabels: [`__meta_kubernetes_pod_label_${labelNameOf(INFERENCE_SERVICE_POD_LABEL)}`],
              targetLabel: PREDICTOR_MODEL_LABEL,
            },
            // The predictor's model version and track (primary or canary), from its pod labels.
            ...[
              [PREDICTOR_VERSION_LABEL, PREDICTOR_VERSION_TARGET_LABEL],
              [PREDICTOR_TRACK_LABEL, PREDICTOR_TRACK_TARGET_LABEL],
            ].map(([podLabel, targetLabel]) => ({
              action: "replace",
              sourceLabels: [`__meta_kubernetes_pod_label_${labelNameOf(podLabel)}`],
              targetLabel,
            })),
          ],
        },
      ],
    },
    {
      name: "kubeflow-pipelines-api",
      namespaceSelector: inNamespace(ns.pipelines),
      selector: { matchLabels: { app: "ml-pipeline" } },
      podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
    },
    {
      name: "argo-workflows-controller",
      namespaceSelector: inNamespace(ns.pipelines),
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
    },
  ];
}

/** A Kubernetes label name as Prometheus service discovery spells it in meta labels. */
function labelNameOf(label: string): string {
  return label.replace(/[^a-zA-Z0-9_]/g, "_");
}

/**
 * Values for the cluster components whose monitors the chart enables by default: a component
 * that cannot be scraped gets neither a monitor nor its rules (whose `...Down` alerts would
 * fire forever).
 */
export function controlPlaneValues(scrapeable: ScrapeableComponents): Record<string, unknown> {
  return {
    kubeControllerManager: { enabled: scrapeable.controllerManager },
    kubeScheduler: { enabled: scrapeable.scheduler },
    kubeEtcd: { enabled: scrapeable.etcd },
    kubeProxy: { enabled: scrapeable.kubeProxy },
    defaultRules: {
      rules: {
        kubeControllerManager: scrapeable.controllerManager,
        kubeSchedulerAlerting: scrapeable.scheduler,
        kubeSchedulerRecording: scrapeable.scheduler,
        etcd: scrapeable.etcd,
        kubeProxy: scrapeable.kubeProxy,
      },
    },
  };
}

/** An alert receiver; its credential is read from a file Alertmanager mounts from a Secret. */
export type AlertReceiver = {
  /** Receiver name in Alertmanager (lower-case letters, digits, hyphens). */
  readonly name: string;
  readonly severities: readonly AlertSeverity[];
  /**
   * Where the credential is in the cloud secret store (secret name or ARN, and JSON property),
   * copied into `alert-receiver-<name>`; unset where that Secret is created in the cluster.
   */
  readonly secret?: { readonly remoteKey: string; readonly property?: string };
} & (
  | { readonly kind: "slack"; readonly channel: string }
  | { readonly kind: "pagerduty" }
  | { readonly kind: "webhook" }
);

/** The Secret key holding each kind's credential. */
const RECEIVER_SECRET_KEY: Record<AlertReceiver["kind"], string> = {
  slack: "api-url",
  pagerduty: "routing-key",
  webhook: "url",
};

/** Where the chart's Alertmanager mounts the Secrets listed in `alertmanagerSpec.secrets`. */
const ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets";

export function alertReceiverSecretName(receiver: string): string {
  return `alert-receiver-${receiver}`;
}

/** The key of `alert-receiver-<name>` a receiver of `kind` reads its credential from. */
export function alertReceiverSecretKey(kind: AlertReceiver["kind"]): string {
  return RECEIVER_SECRET_KEY[kind];
}

/** The Secrets the receivers read, as copies from the cloud secret store into `namespace`. */
export function alertReceiverSecrets(
  receivers: readonly AlertReceiver[],
  namespace: string,
): SecretFromStore[] {
  return receivers.flatMap((receiver) =>
    receiver.secret
      ? [
          {
            namespace,
            secretName: alertReceiverSecretName(receiver.name),
            keys: { [RECEIVER_SECRET_KEY[receiver.kind]]: { ...receiver.secret } },
          },
        ]
      : [],
  );
}

/** Receiver that drops what it gets (the chart's, kept for Watchdog and InfoInhibitor). */
const NULL_RECEIVER = "null";

function receiverConfig(receiver: AlertReceiver): Record<string, unknown> {
  const file = `${ALERTMANAGER_SECRETS_DIR}/${alertReceiverSecretName(receiver.name)}/${RECEIVER_SECRET_KEY[receiver.kind]}`;
  switch (receiver.kind) {
    case "slack":
      return {
        name: receiver.name,
        slack_configs: [{ api_url_file: file, channel: receiver.channel, send_resolved: true }],
      };
    case "pagerduty":
      return { name: receiver.name, pagerduty_configs: [{ routing_key_file: file, send_resolved: true }] };
    case "webhook":
      return { name: receiver.name, webhook_configs: [{ url_file: file, send_resolved: true }] };
  }
}

function severityMatcher(severities: readonly AlertSeverity[]): string {
  return severities.length === 1 ? `severity = "${severities[0]}"` : `severity =~ "${severities.join("|")}"`;
}

/**
 * Alertmanager's configuration (replacing the chart's, whose only receiver is `null`): every
 * receiver gets the severities it asked for (`continue`, so several may get the same alert),
 * Watchdog and InfoInhibitor go nowhere, and what no receiver takes falls to `null`.
 *
 * Inhibition keeps the chart's rules, except that InfoInhibitor no longer silences the
 * platform's own info alerts: it fires whenever info alerts fire in a namespace without a
 * warning, so LowGPUUtilization (which has no namespace) would never be delivered.
 */
export function alertmanagerConfig(receivers: readonly AlertReceiver[]): Record<string, unknown> {
  const [platformLabel, platformValue] = Object.entries(PLATFORM_ALERT_LABELS)[0];
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: NULL_RECEIVER,
      group_by: ["namespace", "alertname"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "12h",
      routes: [
        { receiver: NULL_RECEIVER, matchers: ['alertname = "Watchdog"'] },
        { receiver: NULL_RECEIVER, matchers: ['alertname = "InfoInhibitor"'] },
        ...receivers.map((receiver) => ({
          receiver: receiver.name,
          matchers: [severityMatcher(receiver.severities)],
          continue: true,
        })),
      ],
    },
    receivers: [{ name: NULL_RECEIVER }, ...receivers.map(receiverConfig)],
    inhibit_rules: [
      {
        source_matchers: ['severity = "critical"'],
        target_matchers: ['severity =~ "warning|info"'],
        equal: ["namespace", "alertname"],
      },
      {
        source_matchers: ['severity = "warning"'],
        target_matchers: ['severity = "info"'],
        equal: ["namespace", "alertname"],
      },
      {
        source_matchers: ['alertname = "InfoInhibitor"'],
        target_matchers: ['severity = "info"', `${platformLabel} != "${platformValue}"`],
        equal: ["namespace"],
      },
    ],
    templates: ["/etc/alertmanager/config/*.tmpl"],
  };
}
