import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { HorizontalPodAutoscalerV2 } from "@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2";
import { PodDisruptionBudgetV1 } from "@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1";
import { IngressV1 } from "@cdktf/provider-kubernetes/lib/ingress-v1";
import type { NodePlacement } from "../platform/cluster-target";
import type { ObjectStoreAccess } from "./object-store-access";
import { pullSecrets } from "../platform/image-mirror";
import {
  RESTRICTED_CONTAINER_SECURITY,
  RESTRICTED_POD_SECURITY,
  type ContainerResources,
} from "../lib/workload-defaults";

export interface ModelServingProps {
  readonly namespace: string;
  /** @default "mlops-serving" */
  readonly name?: string;
  /** Full image reference, by immutable tag or digest. */
  readonly image: string;
  readonly serviceAccount: { readonly name: string; readonly annotations: Record<string, string> };
  readonly trackingUri: string;
  /** Secret with MLFLOW_TRACKING_USERNAME/PASSWORD for MLflow's auth (the platform keeps it in sync). */
  readonly mlflowCredentialsSecret?: string;
  readonly model: { readonly name: string; readonly alias: string };
  /** @default 2 - never fewer */
  readonly replicas?: number;
  /** HPA ceiling. @default 3 x replicas */
  readonly maxReplicas?: number;
  /** @default requests 250m/256Mi, limits 500m/512Mi */
  readonly resources?: ContainerResources;
  /** How clients outside the cluster reach the Service (the target's choice). */
  readonly exposure: ServingExposure;
  /** Nodes the pods run on. @default any node */
  readonly placement?: NodePlacement;
  /** Existing image pull Secret of the registry the image is in; unset: none needed. */
  readonly imagePullSecret?: string;
  /** Object store endpoint, keys and CA bundle for the MLflow client. @default none (workload identity) */
  readonly objectStore?: ObjectStoreAccess;
  /**
   * Where the server logs its predictions (`PREDICTION_LOG_URI`), e.g.
   * `s3://<data bucket>/predictions/<model>`: it appends `/v<version>/<namespace>/<model>/serving/records/`
   * as KServe's logger does. Unset: the server logs nothing.
   */
  readonly predictionLogUri?: string;
  /**
   * Which records the server may write there (`PREDICTION_LOG_MODE`), the model's logging mode as
   * KServe's logger gets it: `all`, `request` or `response`. A model whose inputs are personal data
   * logs `response` only, so the server must not write its requests either.
   */
  readonly predictionLogMode?: "all" | "request" | "response";
  /** What must be done before the Deployment is created or rolled (e.g. the model's registration). */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * A `LoadBalancer` Service with the annotations that make the cloud provision the right kind;
 * or a ClusterIP Service behind an Ingress of `className` at `host` (TLS from `tlsSecret`, which
 * the issuer in `annotations` fills, where TLS ends at the ingress controller).
 */
export type ServingExposure =
  | { readonly kind: "load-balancer"; readonly annotations: Record<string, string> }
  | {
      readonly kind: "ingress";
      readonly host: string;
      readonly className: string;
      readonly annotations: Record<string, string>;
      readonly tlsSecret?: string;
    };

const PORT = 8000;
const DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "250m", memory: "256Mi" },
  limits: { cpu: "500m", memory: "512Mi" },
};

/**
 * The model-serving Deployment: its own service account and identity, a restricted security
 * context with a writable /tmp only, probes on /health, zero-downtime rolling updates spread
 * across zones, a Service (80 -> 8000) that is a load balancer or sits behind an Ingress, an HPA
 * on CPU and memory and a PDB.
 */
export class ModelServing extends Construct {
  public readonly deployment: DeploymentV1;
  public readonly service: ServiceV1;
  public readonly ingress?: IngressV1;
  public readonly labels: Record<string, string>;

  constructor(scope: Construct, id: string, props: ModelServingProps) {
    super(scope, id);
    const name = props.name ?? "mlops-serving";
    const replicas = props.replicas ?? 2;
    const maxReplicas = props.maxReplicas ?? replicas * 3;
    if (!Number.isInteger(replicas) || replicas < 2) {
      throw new Error(
        `ModelServing ${name}: replicas (${replicas}) must be a whole number >= 2 so a node loss or rollout keeps it up`,
      );
    }
    if (!Number.isInteger(maxReplicas) || maxReplicas < replicas) {
      throw new Error(
        `ModelServing ${name}: maxReplicas (${maxReplicas}) must be a whole number >= replicas (${replicas})`,
      );
    }
    const resources = props.resources ?? DEFAULT_RESOURCES;
    this.labels = { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "mlops-platform" };
    const labels = this.labels;

    const account = new ServiceAccountV1(this, "ServiceAccount", {
      metadata: {
        name: props.serviceAccount.name,
        namespace: props.namespace,
        annotations: props.serviceAccount.annotations,
      },
      automountServiceAccountToken: false,
      imagePullSecret: pullSecrets(props.imagePullSecret),
    });
    const placement = props.placement ?? { nodeSelector: {}, tolerations: [] };
    const store = props.objectStore ?? { env: [], mounts: [] };

    const probe = (initialDelaySeconds: number, periodSeconds: number, failureThreshold: number) => ({
      httpGet: { path: "/health", port: String(PORT) },
      initialDelaySeconds,
      periodSeconds,
      timeoutSeconds: 3,
      failureThreshold,
    });

    this.deployment = new DeploymentV1(this, "Deployment", {
      metadata: { name, namespace: props.namespace, labels },
      spec: {
        replicas: String(replicas),
        revisionHistoryLimit: 5,
        selector: { matchLabels: labels },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "1", maxUnavailable: "0" } },
        template: {
          metadata: {
            labels,
            annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(PORT) },
          },
          spec: {
            serviceAccountName: account.metadata.name,
            // IRSA mounts its own projected token; the API token is not needed.
            automountServiceAccountToken: false,
            securityContext: RESTRICTED_POD_SECURITY,
            topologySpreadConstraint: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: [{ matchLabels: labels }],
              },
            ],
            imagePullSecrets: pullSecrets(props.imagePullSecret),
            nodeSelector: { ...placement.nodeSelector },
            ...(placement.tolerations.length > 0
              ? { toleration: placement.tolerations.map((toleration) => ({ ...toleration })) }
              : {}),
            container: [
              {
                name: "server",
                image: props.image,
                port: [{ name: "http", containerPort: PORT, protocol: "TCP" }],
                env: [
                  { name: "MLFLOW_TRACKING_URI", value: props.trackingUri },
                  { name: "MODEL_NAME", value: props.model.name },
                  { name: "MODEL_ALIAS", value: props.model.alias },
                  { name: "PORT", value: String(PORT) },
                  ...(props.predictionLogUri
                    ? [
                        { name: "PREDICTION_LOG_URI", value: props.predictionLogUri },
                        { name: "PREDICTION_LOG_MODE", value: props.predictionLogMode ?? "all" },
                      ]
                    : []),
                  ...store.env.map((variable) => ({ ...variable })),
                ],
                envFrom: props.mlflowCredentialsSecret
                  ? [{ secretRef: { name: props.mlflowCredentialsSecret } }]
                  : undefined,
                resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
                livenessProbe: probe(10, 15, 3),
                readinessProbe: probe(5, 10, 3),
                startupProbe: probe(5, 5, 36),
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMount: [
                  { name: "tmp", mountPath: "/tmp" },
                  ...store.mounts.map(({ mount }) => ({ ...mount })),
                ],
              },
            ],
            volume: [
              { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
              ...store.mounts.map(({ volume }) => structuredClone(volume)),
            ],
          },
        },
      },
      waitForRollout: true,
      lifecycle: { ignoreChanges: ["spec[0].replicas"] },
      dependsOn: props.dependsOn,
    });

    const exposure = props.exposure;
    const port = [{ name: "http", port: 80, targetPort: String(PORT), protocol: "TCP" }];
    this.service =
      exposure.kind === "load-balancer"
        ? new ServiceV1(this, "Service", {
            metadata: { name, namespace: props.namespace, labels, annotations: exposure.annotations },
            spec: { type: "LoadBalancer", selector: labels, port },
            waitForLoadBalancer: true,
          })
        : new ServiceV1(this, "Service", {
            metadata: { name, namespace: props.namespace, labels },
            spec: { type: "ClusterIP", selector: labels, port },
          });
    if (exposure.kind === "ingress") {
      this.ingress = new IngressV1(this, "Ingress", {
        metadata: { name, namespace: props.namespace, labels, annotations: exposure.annotations },
        spec: {
          ingressClassName: exposure.className,
          rule: [
            {
              host: exposure.host,
              http: {
                path: [
                  {
                    path: "/",
                    pathType: "Prefix",
                    backend: { service: { name: this.service.metadata.name, port: { name: "http" } } },
                  },
                ],
              },
            },
          ],
          ...(exposure.tlsSecret
            ? { tls: [{ hosts: [exposure.host], secretName: exposure.tlsSecret }] }
            : {}),
        },
      });
    }

    new HorizontalPodAutoscalerV2(this, "Autoscaler", {
      metadata: { name, namespace: props.namespace, labels },
      spec: {
        minReplicas: replicas,
        maxReplicas,
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: this.deployment.metadata.name },
        metric: (["cpu", "memory"] as const).map((resource) => ({
          type: "Resource",
          resource: {
            name: resource,
            target: { type: "Utilization", averageUtilization: resource === "cpu" ? 70 : 80 },
          },
        })),
      },
    });

    new PodDisruptionBudgetV1(this, "DisruptionBudget", {
      metadata: { name, namespace: props.namespace, labels },
      spec: { minAvailable: "1", selector: { matchLabels: labels } },
    });
  }
}
