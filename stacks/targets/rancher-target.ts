import type { ClusterTarget } from "../../constructs/platform/cluster-target";
import { firstHostAddress } from "../../constructs/lib/cidr";
import type { RancherEnvironment } from "../../environments/rancher-schema";
import { CLUSTER_ISSUER_ANNOTATION } from "../../constructs/platform/ca-issuer";
import { gpuNodePlacement } from "../../constructs/platform/cluster-addons";
import { parseCaBundle } from "../../constructs/lib/certificates";
import type { RemoteBaseAccess } from "../../constructs/platform/kustomize-remote-bases";

/** The ClusterIssuer of the organisation's CA. */
const CERTIFICATE_ISSUER = "organisation-ca";

/** Namespace and name of the CloudNativePG cluster the platform runs for MLflow on-prem. */
const MLFLOW_DATABASE = { namespace: "mlflow", cluster: "mlflow-postgres", database: "mlflow" };

/**
 * The Rancher (RKE2) implementation of the cluster target: everything comes from the
 * environment file, nothing from AWS. Terraform reaches the cluster through the kubeconfig
 * context Rancher generated (the file from `KUBE_CONFIG_PATH`); Canal enforces NetworkPolicies
 * after Service DNAT, so the API server is reached at the control-plane nodes' addresses; MLflow's
 * database is a CloudNativePG cluster the platform runs; artifacts live in the S3-compatible
 * store with keys from an existing Secret; images come from Artifactory.
 */
export function rancherClusterTarget(env: RancherEnvironment): ClusterTarget {
  const cluster = env.cluster;
  const store = env.objectStore;
  const registry = env.registry;
  const gpuNodes = {
    labels: { [cluster.gpuNodes.labelKey]: cluster.gpuNodes.labelValue },
    taintKey: cluster.gpuNodes.taintKey,
  };
  return {
    description: `Rancher cluster ${cluster.kubeconfigContext} (${env.name})`,
    clusterName: env.name,
    access: { kind: "kubeconfig", context: cluster.kubeconfigContext },
    apiServer: {
      serviceIp: firstHostAddress(cluster.serviceCidr),
      servicePort: 443,
      cidrs: [...cluster.apiServerCidrs],
      port: cluster.apiServerPort,
      webhookSourceCidrs: rke2WebhookSourceCidrs(cluster),
    },
    networkPolicyEngine: "post-dnat",
    podCidrs: [cluster.podCidr],
    database: {
      host: `${MLFLOW_DATABASE.cluster}-rw.${MLFLOW_DATABASE.namespace}.svc`,
      port: 5432,
      name: MLFLOW_DATABASE.database,
      credentials: { kind: "existing-secret", secretName: "mlflow-database" },
    },
    // The instances are pods: Canal sees their addresses after the Service is translated.
    databaseCidrs: [cluster.podCidr],
    databaseProvisioning: {
      kind: "cloudnative-pg",
      instances: env.database.instances,
      storageGib: env.database.storageGib,
      backupRetentionDays: env.database.backupRetentionDays,
    },
    objectStore: {
      artifactsBucket: store.artifactsBucket,
      dataBucket: store.dataBucket,
      region: store.region,
      endpoint: store.endpoint,
      credentials: { kind: "secret", secretName: store.credentialsSecret },
      caBundle: store.caBundleSecret ? { ...store.caBundleSecret } : undefined,
    },
    objectStoreCidrs: [...store.cidrs],
    registry: {
      servingRepository: `${registry.host}/${registry.servingRepository}`,
      trainingRepository: `${registry.host}/${registry.trainingRepository}`,
      // Artifactory is not reachable from Terraform's providers here: the pipeline that pushes
      // the image promotes it, and the rollout's wait shows a missing image.
      requireImages: () => undefined,
    },
    traffic: {
      ingressClassName: cluster.ingressClassName,
      // cert-manager issues every UI's certificate from the organisation's CA.
      ingressAnnotations: () => ({ [CLUSTER_ISSUER_ANNOTATION]: CERTIFICATE_ISSUER }),
      ingressTlsSecret: (host) => `${host.replace(/\./g, "-")}-tls`,
      loadBalancerServiceAnnotations: () => ({}),
      healthCheckAnnotations: () => ({}),
      // ingress-nginx refuses bodies over 1 MiB (413) and waits 60 s by default.
      largeRequestAnnotations: ({ maxBodyMiB, timeoutSeconds }) => ({
        "nginx.ingress.kubernetes.io/proxy-body-size": `${maxBodyMiB}m`,
        "nginx.ingress.kubernetes.io/proxy-read-timeout": String(timeoutSeconds),
        "nginx.ingress.kubernetes.io/proxy-send-timeout": String(timeoutSeconds),
      }),
      tls: true,
      sourceCidrs: [...cluster.ingressSourceCidrs],
      sourcePods: [{ namespace: cluster.ingressControllerNamespace }],
      // Nothing implements LoadBalancer Services on a bare RKE2 cluster: the ingress controller
      // (rke2-ingress-nginx) publishes the serving Deployment.
      servingExposure: "ingress",
      // RKE2's ingress-nginx merges a canary Ingress into the main one's host and path.
      weightedRouting: "canary-ingress",
      // ingress-nginx proxies to endpoints it watches: no readiness gates to inject.
      targetNamespaceLabels: {},
    },
    storageClass: { name: cluster.storageClassName },
    serviceAccountAnnotations: () => ({}),
    scrapeableComponents: cluster.scrapeableComponents,
    gpu: { kind: "gpu-operator", driver: cluster.gpuNodes.driver },
    gpuNodes,
    // General nodes carry no workload label (any untainted node serves and trains); GPU pods go
    // to the labelled GPU nodes, tolerating their taint where they have one.
    placement: {
      general: { nodeSelector: {}, tolerations: [] },
      training: { nodeSelector: {}, tolerations: [] },
      gpu: gpuNodePlacement(gpuNodes),
    },
    certificateIssuer: { name: CERTIFICATE_ISSUER, caSecretName: env.tls.caSecret },
    // The state backend's namespace exists before the platform: the team creates the Secrets there.
    handMadeSecretsNamespace: env.stateBackend.namespace,
    imageMirror: {
      host: registry.host,
      remotes: { ...registry.remotes },
      pullSecretName: registry.pullSecretName,
    },
    chartRepositories: { ...registry.chartRepositories },
    gitRepositories: gitMirror(env),
    remoteBases: remoteBaseAccess(env),
    // RKE2 ships metrics-server (rke2-metrics-server) and its APIService.
    bundled: { metricsServer: true },
    directoryLogin: {
      directory: {
        url: env.directory.url,
        bindDn: env.directory.bindDn,
        bindPasswordSecret: { ...env.directory.bindPasswordSecret },
        caSecret: env.directory.caSecret ? { ...env.directory.caSecret } : undefined,
        userSearch: { baseDn: env.directory.userBaseDn, filter: env.directory.userFilter },
        groupSearch: { baseDn: env.directory.groupBaseDn, filter: env.directory.groupFilter },
      },
      roles: {
        admins: [...env.directory.roles.admins],
        editors: [...env.directory.roles.editors],
        viewers: [...env.directory.roles.viewers],
      },
      directoryCidrs: [...env.directory.cidrs],
      // Protected environments (prod) keep no local admin login beside the directory.
      disableLocalAdmins: env.protection === "protected",
      issuerCaSecret: env.tls.caBundleSecret ? { ...env.tls.caBundleSecret } : undefined,
    },
  };
}

/**
 * Where the API server's webhook calls reach a pod from on RKE2 with Canal (Calico policy over
 * flannel VXLAN): from the control-plane node's own address when the pod runs on that node or
 * the traffic leaves by the node's interface, and from the node's tunnel address otherwise.
 * flannel gives `flannel.1` the first address of the node's podCIDR, and the kernel picks it as
 * the source of host traffic routed into the tunnel; RKE2's own policy for host networking
 * (`pkg/controllers/cisnetworkpolicy`, `rke2-flannel-host-networking`) admits exactly those
 * addresses, one per node, rewritten on every node change.
 *
 * The platform admits the whole pod range rather than each node's tunnel address: the
 * controller manager assigns a node's podCIDR when the node joins, so a list written at plan
 * time breaks (webhooks time out, rancher/rke2#5315) as soon as a control-plane node is
 * replaced or joins in another order. The cost is that every pod of the cluster may open a
 * connection to a webhook's port (and only that port); the webhook servers answer admission
 * reviews over TLS and change nothing themselves.
 */
export function rke2WebhookSourceCidrs(cluster: RancherEnvironment["cluster"]): string[] {
  return [...cluster.apiServerCidrs, cluster.podCidr];
}

/** The Kubeflow Pipelines mirror, where Argo CD needs its CA or credentials to fetch it. */
function gitMirror(env: RancherEnvironment): ClusterTarget["gitRepositories"] {
  const pipelines = env.platform.pipelines;
  const ca = pipelines.manifestsRepositoryCaCertificate;
  const credentialsSecret = pipelines.manifestsRepositoryCredentialsSecret;
  if (ca === undefined && credentialsSecret === undefined) return undefined;
  const parsed = ca === undefined ? undefined : parseCaBundle(ca);
  if (parsed && "problem" in parsed) {
    // The schema refused it already; an environment built around the loader is a programming error.
    throw new Error(
      `${env.name}: platform.pipelines.manifestsRepositoryCaCertificate ${parsed.problem}; fix: load the environment through environments/load.ts`,
    );
  }
  return [{ url: pipelines.manifestsRepository, caCertificate: parsed?.bundle.pem, credentialsSecret }];
}

/**
 * How Argo CD's repo server reaches the manifests' kustomize remote bases from a cluster without
 * internet access: the organisation's mirrors (trusted with their CA), and/or its proxy, which
 * the repo server must bypass for everything inside the cluster and for the Git mirrors.
 */
function remoteBaseAccess(env: RancherEnvironment): RemoteBaseAccess {
  const pipelines = env.platform.pipelines;
  const ca = pipelines.remoteBaseMirrorsCaCertificate;
  const parsed = ca === undefined ? undefined : parseCaBundle(ca);
  if (parsed && "problem" in parsed) {
    throw new Error(
      `${env.name}: platform.pipelines.remoteBaseMirrorsCaCertificate ${parsed.problem}; fix: load the environment through environments/load.ts`,
    );
  }
  const mirrors = Object.entries(pipelines.remoteBaseMirrors).map(([upstream, mirror]) => ({
    upstream,
    mirror,
    caCertificate: parsed?.bundle.pem,
  }));
  const proxy = pipelines.remoteBasesProxy;
  if (proxy === undefined) return { mirrors };
  const gitHosts = [pipelines.manifestsRepository, ...mirrors.map((m) => m.mirror)].map(
    (url) => new URL(url).hostname,
  );
  const noProxy = [
    "localhost",
    "127.0.0.1",
    ".svc",
    ".cluster.local",
    env.cluster.podCidr,
    env.cluster.serviceCidr,
    ...env.cluster.apiServerCidrs,
    ...gitHosts,
  ];
  return { mirrors, proxy: { url: proxy, noProxy: [...new Set(noProxy)] } };
}
