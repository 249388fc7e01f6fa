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

/** The API server's Service, the same on every distribution. */
const KUBERNETES_SERVICE = CLUSTER_PROVIDED[0];

/**
 * What an RKE2 cluster runs before the stacks do, from RKE2's bundled charts (rancher/rke2-charts,
 * installed by RKE2's helm-controller into kube-system): CoreDNS as release `rke2-coredns`, whose
 * objects are named `rke2-coredns-rke2-coredns` and whose pods keep the `k8s-app: kube-dns` label
 * kube-dns had (the kubelet's cluster DNS is that Service's address, the service CIDR's tenth);
 * ingress-nginx as release `rke2-ingress-nginx`, a DaemonSet on the nodes with host ports 80/443
 * and the IngressClass `nginx`; metrics-server as release `rke2-metrics-server` with the
 * APIService `v1beta1.metrics.k8s.io`.
 */
export const RKE2_PROVIDED: readonly KubernetesObject[] = [
  KUBERNETES_SERVICE,
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "rke2-coredns-rke2-coredns",
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns", "app.kubernetes.io/name": "rke2-coredns" },
    },
    spec: {
      selector: {
        "k8s-app": "kube-dns",
        "app.kubernetes.io/name": "rke2-coredns",
        "app.kubernetes.io/instance": "rke2-coredns",
      },
      ports: [
        { name: "udp-53", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "tcp-53", port: 53, protocol: "TCP", targetPort: 53 },
      ],
    },
  },
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: "rke2-coredns-rke2-coredns",
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns" },
    },
    spec: {
      selector: {
        matchLabels: {
          "k8s-app": "kube-dns",
          "app.kubernetes.io/name": "rke2-coredns",
          "app.kubernetes.io/instance": "rke2-coredns",
        },
      },
      template: {
        metadata: {
          labels: {
            "k8s-app": "kube-dns",
            "app.kubernetes.io/name": "rke2-coredns",
            "app.kubernetes.io/instance": "rke2-coredns",
          },
        },
        spec: {
          containers: [
            {
              name: "coredns",
              ports: [
                { name: "udp-53", containerPort: 53, protocol: "UDP" },
                { name: "tcp-53", containerPort: 53, protocol: "TCP" },
                { name: "metrics", containerPort: 9153, protocol: "TCP" },
              ],
            },
          ],
        },
      },
    },
  },
  {
    apiVersion: "networking.k8s.io/v1",
    kind: "IngressClass",
    metadata: { name: "nginx", labels: { "app.kubernetes.io/name": "rke2-ingress-nginx" } },
    spec: { controller: "k8s.io/ingress-nginx" },
  },
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "rke2-metrics-server",
      namespace: "kube-system",
      labels: { "app.kubernetes.io/name": "rke2-metrics-server" },
    },
    spec: {
      selector: { "app.kubernetes.io/name": "rke2-metrics-server" },
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 10250 }],
    },
  },
  {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "rke2-metrics-server", namespace: "kube-system" },
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/name": "rke2-metrics-server" } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "rke2-metrics-server" } },
        spec: {
          containers: [
            { name: "metrics-server", ports: [{ name: "https", containerPort: 10250, protocol: "TCP" }] },
          ],
        },
      },
    },
  },
  {
    apiVersion: "apiregistration.k8s.io/v1",
    kind: "APIService",
    metadata: { name: "v1beta1.metrics.k8s.io" },
    spec: {
      group: "metrics.k8s.io",
      version: "v1beta1",
      groupPriorityMinimum: 100,
      versionPriority: 100,
      service: { namespace: "kube-system", name: "rke2-metrics-server", port: 443 },
    },
  },
];

/** The Secrets an on-prem environment file says the platform team creates by hand. */
export interface OnPremSecrets {
  /** Artifactory pull Secret, in every namespace whose pods pull. */
  readonly pullSecretName: string;
  /** Object store keys, in every namespace that reads artifacts. */
  readonly objectStoreCredentials: string;
  /** The object store's CA bundle, where the environment has one. */
  readonly objectStoreCaBundle?: string;
  /** AD bind password, in argocd (Dex runs there). */
  readonly directoryBindPassword: string;
  /** AD's CA, in argocd. */
  readonly directoryCa?: string;
  /** The organisation CA's certificate and key, in cert-manager. */
  readonly issuerCa: string;
  /** The organisation CA's certificate alone, in the namespaces whose UIs call Dex. */
  readonly issuerCaBundle?: string;
  /** Alertmanager receivers' credentials (`alert-receiver-<name>`), in monitoring. */
  readonly alertReceivers: readonly string[];
}

/**
 * The hand-made Secrets of an on-prem environment, in the namespaces the environment file's
 * contract names: those it names one by one (argocd, cert-manager, monitoring), and for the
 * pull Secret, the object store's keys and the CA bundles every namespace the platform creates
 * (the platform team creates them there after the platform stack made the namespace). A
 * namespace the platform does not create (kube-system, default) has none of them.
 */
export function onPremOutOfBand(
  secrets: OnPremSecrets,
  platformNamespaces: readonly string[],
): OutOfBandObject[] {
  const out: OutOfBandObject[] = [];
  const everywhere = (name: string | undefined, createdBy: string) => {
    if (!name) return;
    for (const namespace of platformNamespaces) out.push({ kind: "Secret", namespace, name, createdBy });
  };
  everywhere(
    secrets.pullSecretName,
    "the platform team (kubectl create secret docker-registry), per the environment's registry.pullSecretName",
  );
  everywhere(
    secrets.objectStoreCredentials,
    "the platform team, with the object store's access key, per objectStore.credentialsSecret",
  );
  everywhere(secrets.objectStoreCaBundle, "the platform team, per objectStore.caBundleSecret");
  everywhere(secrets.issuerCaBundle, "the platform team, per tls.caBundleSecret");
  out.push({
    kind: "Secret",
    namespace: "argocd",
    name: secrets.directoryBindPassword,
    createdBy: "the platform team, with the AD service account's password, per directory.bindPasswordSecret",
  });
  if (secrets.directoryCa)
    out.push({
      kind: "Secret",
      namespace: "argocd",
      name: secrets.directoryCa,
      createdBy: "the platform team, per directory.caSecret",
    });
  out.push({
    kind: "Secret",
    namespace: "cert-manager",
    name: secrets.issuerCa,
    createdBy: "the platform team, with the organisation CA's certificate and key, per tls.caSecret",
  });
  for (const receiver of secrets.alertReceivers)
    out.push({
      kind: "Secret",
      namespace: "monitoring",
      name: `alert-receiver-${receiver}`,
      createdBy: "the platform team, per platform.alerting.receivers",
    });
  return out;
}

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
