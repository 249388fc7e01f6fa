/**
 * The Prometheus Pushgateway in the monitoring namespace, as the platform's own Deployment and
 * Service: the models' monitoring jobs push their drift and performance series there, and
 * Prometheus scrapes it through a ServiceMonitor that kube-prometheus-stack renders from its
 * `prometheus.additionalServiceMonitors` value (`pushgatewayServiceMonitor`), with `honorLabels`,
 * keeping the pushed `job`, `model` and `version` labels.
 *
 * One replica: the Pushgateway is not clusterable (each replica holds only what was pushed to
 * it, so two behind one Service would each hold part of the groups and Prometheus would scrape
 * both). No persistence: pushed groups live in memory and a restart loses them until each
 * model's next monitoring run pushes again.
 */
import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { imageFrom, pullSecrets, type ImageMirror } from "./image-mirror";
import { RESTRICTED_CONTAINER_SECURITY, restrictedPodSecurity } from "../lib/workload-defaults";
import { PUSHGATEWAY } from "../serving/model-monitoring";

/**
 * The upstream image, at the version prometheus-pushgateway chart 3.8.0 ran (its appVersion).
 * It runs as `nobody` (65534, the image's USER) and listens on :9091.
 */
export const PUSHGATEWAY_IMAGE = "quay.io/prometheus/pushgateway:v1.11.3";
/** The image's user (`USER 65534` in the Pushgateway's Dockerfile). */
const PUSHGATEWAY_UID = 65534;
/** Name of the Service's port, the one the ServiceMonitor scrapes. */
export const PUSHGATEWAY_PORT_NAME = "http";

export interface PushgatewayProps {
  /** The monitoring namespace. */
  readonly namespace: string;
  /** The target's registry mirror, if it pulls through one. */
  readonly imageMirror?: ImageMirror;
  /** What must exist first: the namespace, the mirror's pull Secret. */
  readonly dependsOn?: ITerraformDependable[];
}

export class Pushgateway extends Construct {
  public readonly deployment: DeploymentV1;
  public readonly service: ServiceV1;
  /** In-cluster URL the jobs push to. */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: PushgatewayProps) {
    super(scope, id);
    const labels = { ...PUSHGATEWAY.podLabels, "app.kubernetes.io/part-of": "mlops-platform" };
    const probe = (path: string) => ({
      httpGet: { path, port: PUSHGATEWAY_PORT_NAME },
      initialDelaySeconds: 10,
      periodSeconds: 10,
      timeoutSeconds: 10,
      failureThreshold: 3,
    });
    this.deployment = new DeploymentV1(this, "Deployment", {
      metadata: { name: PUSHGATEWAY.service, namespace: props.namespace, labels },
      spec: {
        // Not clusterable: one replica, replaced (not rolled) so two never hold different groups.
        replicas: "1",
        revisionHistoryLimit: 5,
        selector: { matchLabels: { ...PUSHGATEWAY.podLabels } },
        strategy: { type: "Recreate" },
        template: {
          metadata: { labels },
          spec: {
            // The Pushgateway calls no Kubernetes API.
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurity(PUSHGATEWAY_UID),
            imagePullSecrets: pullSecrets(props.imageMirror?.pullSecretName),
            container: [
              {
                name: "pushgateway",
                image: imageFrom(props.imageMirror, PUSHGATEWAY_IMAGE),
                // No arguments, as the chart ran it: in memory only (no --persistence.file),
                // listening on :9091, routes at the root.
                port: [{ name: PUSHGATEWAY_PORT_NAME, containerPort: PUSHGATEWAY.port, protocol: "TCP" }],
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                livenessProbe: probe("/-/healthy"),
                readinessProbe: probe("/-/ready"),
                securityContext: RESTRICTED_CONTAINER_SECURITY,
              },
            ],
          },
        },
      },
      waitForRollout: true,
      dependsOn: props.dependsOn,
    });
    this.service = new ServiceV1(this, "Service", {
      metadata: { name: PUSHGATEWAY.service, namespace: props.namespace, labels },
      spec: {
        type: "ClusterIP",
        selector: { ...PUSHGATEWAY.podLabels },
        port: [
          {
            name: PUSHGATEWAY_PORT_NAME,
            port: PUSHGATEWAY.port,
            targetPort: PUSHGATEWAY_PORT_NAME,
            protocol: "TCP",
          },
        ],
      },
      dependsOn: props.dependsOn,
    });
    this.url = `http://${PUSHGATEWAY.service}.${props.namespace}.svc:${PUSHGATEWAY.port}`;
  }
}

/**
 * The Pushgateway's ServiceMonitor as an entry of kube-prometheus-stack's
 * `prometheus.additionalServiceMonitors` (88.5.3: `templates/prometheus/servicemonitors.yaml`
 * renders `name`, `selector` and `endpoints` as given, in the chart's namespace, with the chart's
 * labels Prometheus selects on). Without a `namespaceSelector` it selects Services in its own
 * namespace, the monitoring namespace the Pushgateway runs in. `honorLabels` keeps the pushed
 * `job`, `model` and `version` over the scrape's own.
 */
export function pushgatewayServiceMonitor(): Record<string, unknown> {
  return {
    name: PUSHGATEWAY.service,
    selector: { matchLabels: { ...PUSHGATEWAY.podLabels } },
    endpoints: [{ port: PUSHGATEWAY_PORT_NAME, path: "/metrics", interval: "30s", honorLabels: true }],
  };
}
