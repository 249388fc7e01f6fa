/**
 * The Prometheus Pushgateway (prometheus-community's chart) in the monitoring namespace: the
 * models' monitoring jobs push their drift and performance series there, and Prometheus scrapes
 * it through the chart's ServiceMonitor with `honorLabels`, keeping the pushed `job`, `model` and
 * `version` labels.
 */
import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import { PUSHGATEWAY } from "../serving/model-monitoring";

export interface PushgatewayProps {
  readonly charts: ChartCatalog;
  /** The monitoring namespace, where Prometheus selects ServiceMonitors. */
  readonly namespace: string;
  /** The release that installs the ServiceMonitor CRD (kube-prometheus-stack). */
  readonly dependsOn: ITerraformDependable[];
}

export class Pushgateway extends Construct {
  public readonly release: PlatformRelease;
  /** In-cluster URL the jobs push to. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: PushgatewayProps) {
    super(scope, id);
    this.release = props.charts.install(this, "Release", {
      chart: "prometheus-pushgateway",
      // The release name is the chart's: its fullname, Service and selector labels are
      // `prometheus-pushgateway` (the chart's `prometheus-pushgateway.fullname`).
      name: PUSHGATEWAY.release,
      namespace: props.namespace,
      computedValues: {
        // The chart's default ServiceMonitor namespace is the literal `monitoring`.
        serviceMonitor: { namespace: props.namespace },
        service: { port: PUSHGATEWAY.port, targetPort: PUSHGATEWAY.port },
      },
      dependsOn: props.dependsOn,
    });
    this.url = `http://${PUSHGATEWAY.service}.${props.namespace}.svc:${PUSHGATEWAY.port}`;
  }
}
