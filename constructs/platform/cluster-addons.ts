import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { ClusterTarget, NodePlacement } from "./cluster-target";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import { PLATFORM_SERVICE_ACCOUNTS } from "./service-accounts";

export interface ClusterAddonsProps {
  readonly target: ClusterTarget;
  readonly charts: ChartCatalog;
  readonly highAvailability: boolean;
  /** Namespaces of the add-ons, created by the caller. */
  readonly namespaces: {
    readonly certManager: string;
    readonly externalSecrets: string;
    readonly gpu: string;
  };
  /** Node labels and taint of the GPU nodes. */
  readonly gpuNodes: GpuNodes;
  /** What must exist first (the storage class). */
  readonly dependsOn?: ITerraformDependable[];
}

/**
 * Namespace label the AWS Load Balancer Controller's pod mutating webhook selects (chart 3.5.0,
 * `mpod.elbv2.k8s.aws`, `namespaceSelector` when `webhookNamespaceSelectors` is unset): pods
 * created there that a TargetGroupBinding selects get the target health readiness gate. The
 * webhook's `failurePolicy` is the chart's `Ignore`: a pod created while it does not answer starts
 * without the gate.
 */
export const POD_READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject";

/** The GPU nodes: labels that select them, and the taint that keeps other pods off (if any). */
export interface GpuNodes {
  readonly labels: Readonly<Record<string, string>>;
  readonly taintKey?: string;
}

/**
 * The cluster add-ons the platform stands on: cert-manager (webhook certificates for KServe),
 * the cloud's load balancer controller and node autoscaler, metrics-server (HPA) unless the
 * distribution ships one, the NVIDIA device plugin on GPU nodes only where the target's GPU
 * stack is the plugin (the GPU Operator comes later, with the monitoring CRDs), and External
 * Secrets. None of them needs the monitoring CRDs, so monitoring can come after them (it needs
 * External Secrets for Grafana's admin).
 */
export class ClusterAddons extends Construct {
  public readonly certManager: PlatformRelease;
  public readonly metricsServer?: PlatformRelease;
  public readonly loadBalancerController?: PlatformRelease;
  public readonly clusterAutoscaler?: PlatformRelease;
  public readonly externalSecrets: PlatformRelease;
  public readonly gpuDevicePlugin?: PlatformRelease;
  /** Everything later releases may wait for. */
  public readonly ready: ITerraformDependable[] = [];

  constructor(scope: Construct, id: string, props: ClusterAddonsProps) {
    super(scope, id);
    const { target, charts } = props;
    const ha = props.highAvailability;
    const replicas = ha ? 2 : 1;
    const serviceAccount = (name: keyof typeof PLATFORM_SERVICE_ACCOUNTS) => {
      const ref = PLATFORM_SERVICE_ACCOUNTS[name];
      return { create: true, name: ref.name, annotations: target.serviceAccountAnnotations(name) };
    };

    this.certManager = charts.install(this, "CertManager", {
      chart: "cert-manager",
      namespace: props.namespaces.certManager,
      computedValues: {
        replicaCount: replicas,
        webhook: { replicaCount: replicas },
        cainjector: { replicaCount: replicas },
        podDisruptionBudget: { enabled: ha },
      },
      dependsOn: props.dependsOn,
    });
    this.ready.push(this.certManager.release);

    if (!target.bundled.metricsServer) {
      this.metricsServer = charts.install(this, "MetricsServer", {
        chart: "metrics-server",
        namespace: "kube-system",
        computedValues: { replicas, podDisruptionBudget: { enabled: ha, minAvailable: 1 } },
        dependsOn: props.dependsOn,
      });
      this.ready.push(this.metricsServer.release);
    }

    const cloud = target.cloudAddons;
    if (cloud?.loadBalancerController) {
      this.loadBalancerController = charts.install(this, "LoadBalancerController", {
        chart: "aws-load-balancer-controller",
        namespace: PLATFORM_SERVICE_ACCOUNTS.loadBalancerController.namespace,
        computedValues: {
          clusterName: target.clusterName,
          region: cloud.region,
          vpcId: cloud.vpcId,
          replicaCount: replicas,
          serviceAccount: serviceAccount("loadBalancerController"),
        },
        dependsOn: [this.certManager.release, ...(props.dependsOn ?? [])],
      });
      this.ready.push(this.loadBalancerController.release);
    }
    if (cloud?.clusterAutoscalerImageTag) {
      this.clusterAutoscaler = charts.install(this, "ClusterAutoscaler", {
        chart: "cluster-autoscaler",
        namespace: PLATFORM_SERVICE_ACCOUNTS.clusterAutoscaler.namespace,
        computedValues: {
          cloudProvider: "aws",
          image: { tag: cloud.clusterAutoscalerImageTag },
          awsRegion: cloud.region,
          autoDiscovery: { clusterName: target.clusterName },
          replicaCount: replicas,
          rbac: { serviceAccount: serviceAccount("clusterAutoscaler") },
        },
        dependsOn: props.dependsOn,
      });
      this.ready.push(this.clusterAutoscaler.release);
    }
    // Every target: the platform's passwords are generated in the cluster by External Secrets.
    this.externalSecrets = charts.install(this, "ExternalSecrets", {
      chart: "external-secrets",
      namespace: props.namespaces.externalSecrets,
      computedValues: {
        replicaCount: replicas,
        // Without leader election every controller replica reconciles (duplicate writes) and
        // every cert-controller replica rotates the webhook certificate.
        leaderElect: replicas > 1,
        webhook: { replicaCount: replicas },
        certController: { replicaCount: replicas },
        serviceAccount: serviceAccount("externalSecrets"),
      },
      dependsOn: props.dependsOn,
    });
    this.ready.push(this.externalSecrets.release);

    if (target.gpu.kind !== "device-plugin") return;
    const gpuPlacement = gpuNodePlacement(props.gpuNodes);
    this.gpuDevicePlugin = charts.install(this, "GpuDevicePlugin", {
      chart: "nvidia-device-plugin",
      namespace: props.namespaces.gpu,
      computedValues: {
        ...gpuPlacement,
        // The chart's default affinity wants node-feature-discovery labels, absent here.
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                {
                  matchExpressions: Object.entries(props.gpuNodes.labels).map(([key, value]) => ({
                    key,
                    operator: "In",
                    values: [value],
                  })),
                },
              ],
            },
          },
        },
      },
      dependsOn: props.dependsOn,
    });
    this.ready.push(this.gpuDevicePlugin.release);
  }
}

/** Node selector and toleration that put a pod on the GPU nodes and nowhere else. */
export function gpuNodePlacement(gpuNodes: GpuNodes): NodePlacement {
  return {
    nodeSelector: { ...gpuNodes.labels },
    tolerations: gpuNodes.taintKey
      ? [{ key: gpuNodes.taintKey, operator: "Exists", effect: "NoSchedule" }]
      : [],
  };
}
