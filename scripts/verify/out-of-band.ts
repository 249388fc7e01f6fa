import type { KubernetesObject, Decoded } from "./convert";

/**
 * Objects pods use that no stack, chart or manifest in the state creates: created at run time by
 * a controller or a Job, or by hand. Each entry says who creates it; the references rule
 * accepts these and nothing else.
 */
export interface OutOfBandObject {
  readonly kind: "Secret" | "ConfigMap" | "ServiceAccount";
  readonly namespace: string;
  /** Exact name, or a pattern for names a controller derives. */
  readonly name: string | RegExp;
  readonly createdBy: string;
}

export const OUT_OF_BAND: readonly OutOfBandObject[] = [
  {
    kind: "ConfigMap",
    namespace: "*",
    name: "kube-root-ca.crt",
    createdBy: "the kube-controller-manager's root CA publisher, in every namespace",
  },
  {
    kind: "ServiceAccount",
    namespace: "*",
    name: "default",
    createdBy: "the service account controller, in every namespace",
  },
  {
    kind: "Secret",
    namespace: "argocd",
    name: "argocd-redis",
    createdBy: "the argo-cd chart's redis-secret-init hook Job (generates the Redis password)",
  },
  {
    kind: "Secret",
    namespace: "monitoring",
    name: /-admission$/,
    createdBy:
      "kube-prometheus-stack's admission-create hook Job (kube-webhook-certgen) writes the webhook certificate",
  },
  {
    kind: "Secret",
    namespace: "kubeflow",
    name: "webhook-server-tls",
    createdBy: "Kubeflow Pipelines' cache-deployer, which generates the cache webhook's certificate",
  },
];

/**
 * Objects every EKS cluster has before the stacks run (the API server's Service, CoreDNS as the
 * EKS add-on): added to the state so selectors, scrape targets and flows that point at them resolve.
 */
export const CLUSTER_PROVIDED: readonly KubernetesObject[] = [
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kubernetes",
      namespace: "default",
      labels: { component: "apiserver", provider: "kubernetes" },
    },
    spec: { ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 443 }] },
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kube-dns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
    spec: {
      selector: { "k8s-app": "kube-dns" },
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
      ],
    },
  },
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "coredns", namespace: "kube-system", labels: { "k8s-app": "kube-dns" } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { "k8s-app": "kube-dns" } },
      template: {
        metadata: { labels: { "k8s-app": "kube-dns" } },
        spec: {
          containers: [
            {
              name: "coredns",
              ports: [
                { name: "dns", containerPort: 53, protocol: "UDP" },
                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                { name: "metrics", containerPort: 9153, protocol: "TCP" },
              ],
            },
          ],
        },
      },
    },
  },
];

/**
 * The kubelet Service prometheus-operator maintains when started with `--kubelet-service`
 * (no selector: the operator writes its endpoints from the node list).
 */
export function operatorManagedObjects(objects: readonly KubernetesObject[]): KubernetesObject[] {
  const out: KubernetesObject[] = [];
  for (const o of objects) {
    if (o.kind !== "Deployment") continue;
    const containers = ((o.spec as Decoded)?.template?.spec?.containers ?? []) as { args?: string[] }[];
    for (const arg of containers.flatMap((c) => c.args ?? [])) {
      const match = /^--kubelet-service=([^/]+)\/(.+)$/.exec(arg);
      if (!match) continue;
      out.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: {
          name: match[2],
          namespace: match[1],
          labels: { "app.kubernetes.io/name": "kubelet", "k8s-app": "kubelet" },
        },
        spec: {
          clusterIP: "None",
          ports: [
            { name: "https-metrics", port: 10250, targetPort: 10250 },
            { name: "http-metrics", port: 10255, targetPort: 10255 },
            { name: "cadvisor", port: 4194, targetPort: 4194 },
          ],
        },
      });
    }
  }
  return out;
}

export function declaredOutOfBand(
  list: readonly OutOfBandObject[],
  kind: OutOfBandObject["kind"],
  namespace: string,
  name: string,
): OutOfBandObject | undefined {
  return list.find(
    (entry) =>
      entry.kind === kind &&
      (entry.namespace === "*" || entry.namespace === namespace) &&
      (typeof entry.name === "string" ? entry.name === name : entry.name.test(name)),
  );
}
