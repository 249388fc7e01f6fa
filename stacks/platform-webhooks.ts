import type { ClusterTarget } from "../constructs/platform/cluster-target";
import type { TrafficRule } from "../constructs/platform/platform-namespace";

/**
 * A webhook the platform installs: the API server calls its Service (443) and, after DNAT, the
 * pods behind it on `port`. Found in the charts and manifests as rendered at the pinned versions
 * (the rendered-platform test holds this list to them).
 */
export interface PlatformWebhook {
  /** Component and pinned version, e.g. `KServe v0.20.0`. */
  readonly component: string;
  readonly namespace: string;
  readonly service: string;
  /** The pods' port the Service's target port resolves to. */
  readonly port: number;
  /** Labels of the pods serving it. */
  readonly podLabels: Readonly<Record<string, string>>;
  /** `Fail` when any of its webhooks refuses requests while unreachable. */
  readonly failurePolicy: "Fail" | "Ignore";
  /** Where the platform installs it. */
  readonly distributions: readonly ("eks" | "rke2")[];
  /**
   * Name of the ingress rule (`allow-ingress-<rule>`) that admits the API server where the
   * namespace is isolated; unset where the namespace has no default-deny policy.
   */
  readonly rule?: string;
}

/**
 * Every admission webhook and aggregated API the platform installs. Only `kserve` and
 * `kubeflow` deny ingress by default; the others are listed so that isolating their namespace
 * starts from the port to admit.
 */
export const PLATFORM_WEBHOOKS: readonly PlatformWebhook[] = [
  {
    // kserve-resources: Service kserve-webhook-server-service targetPort webhook-server (9443).
    component: "KServe v0.20.0",
    namespace: "kserve",
    service: "kserve-webhook-server-service",
    port: 9443,
    podLabels: { "control-plane": "kserve-controller-manager" },
    failurePolicy: "Fail",
    distributions: ["eks", "rke2"],
    rule: "webhooks",
  },
  {
    // The cache-deployer creates MutatingWebhookConfiguration cache-webhook-<namespace> at run
    // time (backend/src/cache/deployer/cache-webhook-config.v1.yaml.template: failurePolicy
    // Ignore, timeoutSeconds 5, pods labelled pipelines.kubeflow.org/cache_enabled, which the
    // API server puts on every step); Service cache-server targetPort webhook-api (8443).
    component: "Kubeflow Pipelines 2.17.0",
    namespace: "kubeflow",
    service: "cache-server",
    port: 8443,
    podLabels: { app: "cache-server" },
    failurePolicy: "Ignore",
    distributions: ["eks", "rke2"],
    rule: "cache-webhook",
  },
  {
    component: "cert-manager v1.21.1",
    namespace: "cert-manager",
    service: "cert-manager-webhook",
    port: 10250,
    podLabels: { "app.kubernetes.io/component": "webhook" },
    failurePolicy: "Fail",
    distributions: ["eks", "rke2"],
  },
  {
    component: "External Secrets 2.9.0",
    namespace: "external-secrets",
    service: "external-secrets-webhook",
    port: 10250,
    podLabels: { "app.kubernetes.io/name": "external-secrets-webhook" },
    failurePolicy: "Fail",
    distributions: ["eks", "rke2"],
  },
  {
    // failurePolicy IgnoreOnInstallOnly: Ignore on the first install, Fail on every upgrade.
    component: "prometheus-operator (kube-prometheus-stack 88.5.3)",
    namespace: "monitoring",
    service: "kube-prometheus-stack-operator",
    port: 10250,
    podLabels: { app: "kube-prometheus-stack-operator" },
    failurePolicy: "Fail",
    distributions: ["eks", "rke2"],
  },
  {
    component: "CloudNativePG 1.30.0 (chart 0.29.0)",
    namespace: "cnpg-system",
    service: "cnpg-webhook-service",
    port: 9443,
    podLabels: { "app.kubernetes.io/name": "cloudnative-pg" },
    failurePolicy: "Fail",
    distributions: ["rke2"],
  },
  {
    component: "AWS Load Balancer Controller (chart 3.5.0)",
    namespace: "kube-system",
    service: "aws-load-balancer-webhook-service",
    port: 9443,
    podLabels: { "app.kubernetes.io/name": "aws-load-balancer-controller" },
    failurePolicy: "Fail",
    distributions: ["eks"],
  },
  {
    // The aggregated metrics API (APIService v1beta1.metrics.k8s.io); RKE2 ships its own.
    component: "metrics-server (chart 3.13.1)",
    namespace: "kube-system",
    service: "metrics-server",
    port: 10250,
    podLabels: { "app.kubernetes.io/name": "metrics-server" },
    failurePolicy: "Fail",
    distributions: ["eks"],
  },
];

/**
 * The ingress rules that let the API server reach the webhooks of one isolated namespace: from
 * every address its calls come from on this target (`apiServer.webhookSourceCidrs`), to the
 * webhook's pods on their port.
 */
export function webhookIngressRules(target: ClusterTarget, namespace: string): TrafficRule[] {
  return PLATFORM_WEBHOOKS.filter((w) => w.namespace === namespace && w.rule !== undefined).map((w) => ({
    name: w.rule!,
    podLabels: w.podLabels,
    peers: target.apiServer.webhookSourceCidrs.map((cidr) => ({ cidr })),
    ports: [{ port: w.port }],
  }));
}
