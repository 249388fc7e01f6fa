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
   * A dead man's switch: Prometheus's always-firing `Watchdog` alert is posted to a
   * healthchecks-style URL every `intervalMinutes`, so an outside service notices when the alert
   * path (Prometheus, Alertmanager, their network) breaks. Unset: Watchdog goes nowhere.
   */
  readonly heartbeat?: AlertHeartbeat;
  /**
   * Grafana's directory login (`grafanaLoginValues`, under `grafana:`) and its Ingress, merged
   * over the rest. Unset: Grafana's local login only, no Ingress.
   */
  readonly login?: HelmValues;
  /**
   * ServiceMonitors of the platform's own workloads, as entries of the chart's
   * `prometheus.additionalServiceMonitors` (the Pushgateway's: `pushgatewayServiceMonitor`).
   */
  readonly serviceMonitors?: readonly Record<string, unknown>[];
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
    validateReceivers(props.receivers, props.heartbeat);
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
            ...(props.serviceMonitors && props.serviceMonitors.length > 0
              ? { additionalServiceMonitors: [...props.serviceMonitors] }
              : {}),
          },
          alertmanager: {
            alertmanagerSpec: {
              replicas: props.highAvailability ? 3 : 1,
              storage: volume(10),
              secrets: withHeartbeat(props.receivers, props.heartbeat).map((receiver) =>
                alertReceiverSecretName(receiver.name),
              ),
            },
            config: alertmanagerConfig(props.receivers, props.heartbeat),
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
        annotations: {
          summary: rule.summary,
          description: rule.description,
          ...(rule.runbook ? { runbook: rule.runbook } : {}),
        },
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
  /**
   * HTTP proxy Alertmanager sends this receiver's notifications through
   * (`http_config.proxy_url`), for clusters that reach the internet only through one.
   */
  readonly proxyUrl?: string;
} & (
  | { readonly kind: "slack"; readonly channel: string }
  | {
      readonly kind: "pagerduty";
      /**
       * Events API v2 endpoint, e.g. an internal relay that forwards to PagerDuty
       * (`pagerduty_configs[].url`). @default Alertmanager's, https://events.pagerduty.com/v2/enqueue
       */
      readonly url?: string;
    }
  | { readonly kind: "webhook" }
);

/** The dead man's switch: `Watchdog` posted to the URL in `alert-receiver-heartbeat` (key `url`). */
export interface AlertHeartbeat {
  /** Where the URL is in the cloud secret store; unset where `alert-receiver-heartbeat` is made in the cluster. */
  readonly secret?: { readonly remoteKey: string; readonly property?: string };
  /** HTTP proxy the pings go through (`http_config.proxy_url`). */
  readonly proxyUrl?: string;
  /** Minutes between pings (Alertmanager's `repeat_interval` for Watchdog); the checking service's period must be longer. @default 5 */
  readonly intervalMinutes?: number;
}

/** The receiver (and `alert-receiver-<name>` Secret) of the heartbeat. */
export const HEARTBEAT_RECEIVER = "heartbeat";
/** Minutes between heartbeat pings unless the environment says otherwise. */
export const DEFAULT_HEARTBEAT_MINUTES = 5;

/**
 * The receivers that read a credential from `alert-receiver-<name>`: the environment's and, when
 * set, the heartbeat (a webhook whose Secret holds the ping URL under `url`).
 */
export function withHeartbeat(
  receivers: readonly AlertReceiver[],
  heartbeat: AlertHeartbeat | undefined,
): AlertReceiver[] {
  return heartbeat
    ? [
        ...receivers,
        {
          kind: "webhook",
          name: HEARTBEAT_RECEIVER,
          severities: [],
          secret: heartbeat.secret,
          proxyUrl: heartbeat.proxyUrl,
        },
      ]
    : [...receivers];
}

/**
 * Why `value` cannot be the URL of a proxy or relay Alertmanager calls, or undefined: it must
 * parse, use http or https, name a host, and carry no user or password (a credential there would
 * sit in Helm values and Terraform state; a relay's own credential belongs in the receiver's
 * Secret).
 */
export function notificationUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `uses ${url.protocol.replace(":", "")}, not http or https`;
  if (url.hostname === "") return "names no host";
  if (url.username !== "" || url.password !== "") return "carries a user or password";
  if (/\s/.test(value)) return "contains white space";
  return undefined;
}

function validateReceivers(receivers: readonly AlertReceiver[], heartbeat: AlertHeartbeat | undefined): void {
  const check = (field: string, value: string | undefined) => {
    if (value === undefined) return;
    const problem = notificationUrlProblem(value);
    if (problem)
      throw new Error(
        `Monitoring: ${field} is ${JSON.stringify(value)}, which ${problem}; allowed: an http:// or https:// URL without user or password; fix: give the proxy's or relay's URL and keep credentials in the receiver's Secret`,
      );
  };
  receivers.forEach((receiver, index) => {
    if (receiver.name === HEARTBEAT_RECEIVER && heartbeat)
      throw new Error(
        `Monitoring: receivers[${index}].name is "${HEARTBEAT_RECEIVER}"; allowed: any other name while the heartbeat is set (its Secret is alert-receiver-${HEARTBEAT_RECEIVER}); fix: rename the receiver`,
      );
    check(`receivers[${index}].proxyUrl`, receiver.proxyUrl);
    if (receiver.kind === "pagerduty") check(`receivers[${index}].url`, receiver.url);
  });
  if (heartbeat) {
    check("heartbeat.proxyUrl", heartbeat.proxyUrl);
    const minutes = heartbeat.intervalMinutes ?? DEFAULT_HEARTBEAT_MINUTES;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60)
      throw new Error(
        `Monitoring: heartbeat.intervalMinutes is ${minutes}; allowed: a whole number from 1 to 60; fix: ping at least hourly, and give the checking service a longer period`,
      );
  }
}

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

function receiverConfig(receiver: AlertReceiver, sendResolved = true): Record<string, unknown> {
  const file = `${ALERTMANAGER_SECRETS_DIR}/${alertReceiverSecretName(receiver.name)}/${RECEIVER_SECRET_KEY[receiver.kind]}`;
  const http = receiver.proxyUrl ? { http_config: { proxy_url: receiver.proxyUrl } } : {};
  switch (receiver.kind) {
    case "slack":
      return {
        name: receiver.name,
        slack_configs: [
          { api_url_file: file, channel: receiver.channel, send_resolved: sendResolved, ...http },
        ],
      };
    case "pagerduty":
      return {
        name: receiver.name,
        pagerduty_configs: [
          {
            routing_key_file: file,
            ...(receiver.url ? { url: receiver.url } : {}),
            send_resolved: sendResolved,
            ...http,
          },
        ],
      };
    case "webhook":
      return {
        name: receiver.name,
        webhook_configs: [{ url_file: file, send_resolved: sendResolved, ...http }],
      };
  }
}

function severityMatcher(severities: readonly AlertSeverity[]): string {
  return severities.length === 1 ? `severity = "${severities[0]}"` : `severity =~ "${severities.join("|")}"`;
}

/**
 * Alertmanager's configuration (replacing the chart's, whose only receiver is `null`): every
 * receiver gets the severities it asked for (`continue`, so several may get the same alert),
 * InfoInhibitor goes nowhere, Watchdog goes to the heartbeat when there is one (nowhere
 * otherwise), and what no receiver takes falls to `null`.
 *
 * The heartbeat's route re-sends Watchdog every `intervalMinutes` (checked each minute) and
 * never sends its resolution: when Prometheus stops, Watchdog resolves, and a resolved message
 * would count as one more ping.
 *
 * Inhibition keeps the chart's rules, except that InfoInhibitor no longer silences the
 * platform's own info alerts: it fires whenever info alerts fire in a namespace without a
 * warning, so LowGPUUtilization (which has no namespace) would never be delivered.
 */
export function alertmanagerConfig(
  receivers: readonly AlertReceiver[],
  heartbeat?: AlertHeartbeat,
): Record<string, unknown> {
  const [platformLabel, platformValue] = Object.entries(PLATFORM_ALERT_LABELS)[0];
  const watchdog = 'alertname = "Watchdog"';
  const heartbeatReceiver = heartbeat ? withHeartbeat([], heartbeat)[0] : undefined;
  return {
    global: { resolve_timeout: "5m" },
    route: {
      receiver: NULL_RECEIVER,
      group_by: ["namespace", "alertname"],
      group_wait: "30s",
      group_interval: "5m",
      repeat_interval: "12h",
      routes: [
        heartbeat
          ? {
              receiver: HEARTBEAT_RECEIVER,
              matchers: [watchdog],
              group_wait: "0s",
              group_interval: "1m",
              repeat_interval: `${heartbeat.intervalMinutes ?? DEFAULT_HEARTBEAT_MINUTES}m`,
            }
          : { receiver: NULL_RECEIVER, matchers: [watchdog] },
        { receiver: NULL_RECEIVER, matchers: ['alertname = "InfoInhibitor"'] },
        ...receivers.map((receiver) => ({
          receiver: receiver.name,
          matchers: [severityMatcher(receiver.severities)],
          continue: true,
        })),
      ],
    },
    receivers: [
      { name: NULL_RECEIVER },
      ...receivers.map((receiver) => receiverConfig(receiver)),
      ...(heartbeatReceiver ? [receiverConfig(heartbeatReceiver, false)] : []),
    ],
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
