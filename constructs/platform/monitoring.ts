import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import {
  DEFAULT_ALERT_THRESHOLDS,
  inferenceDashboard,
  platformAlerts,
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
  readonly dependsOn?: ITerraformDependable[];
}

/** Label the Grafana sidecar looks for on dashboard ConfigMaps. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" };

/**
 * kube-prometheus-stack: Prometheus with retention and a persistent volume, Alertmanager,
 * Grafana with its admin from an existing Secret; monitors and rules are picked up from every
 * namespace. The platform's alerts ship as a PrometheusRule through the chart, the inference
 * dashboard as a ConfigMap the Grafana sidecar loads.
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
      computedValues: {
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
          alertmanagerSpec: { replicas: props.highAvailability ? 3 : 1, storage: volume(10) },
        },
        grafana: {
          admin: {
            existingSecret: props.grafanaAdminSecret,
            userKey: "admin-user",
            passwordKey: "admin-password",
          },
        },
        additionalPrometheusRulesMap: {
          "mlops-platform": {
            groups: [
              {
                name: "mlops-platform",
                rules: alerts.map((rule) => ({
                  alert: rule.alert,
                  expr: rule.expr,
                  for: rule.for,
                  labels: { severity: rule.severity },
                  annotations: { summary: rule.summary, description: rule.description },
                })),
              },
            ],
          },
        },
      },
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

/**
 * Scrape targets of the workloads the alerts and dashboard read: the serving Deployment and
 * KServe predictors (serving namespace), and Kubeflow Pipelines' API server and Argo Workflows
 * controller. (MLflow brings its own ServiceMonitor.) Rendered by the chart as PodMonitors.
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
      name: "kserve-predictors",
      namespaceSelector: inNamespace(ns.serving),
      selector: { matchExpressions: [{ key: "serving.kserve.io/inferenceservice", operator: "Exists" }] },
      podMetricsEndpoints: [{ portNumber: 8080, path: "/metrics", interval: "30s" }],
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
      podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
    },
  ];
}
