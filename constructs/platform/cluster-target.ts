/**
 * The cluster target contract: everything the platform needs to know about where it runs.
 * The platform stack is written once against it; EKS and Rancher each implement it. Components
 * read the target, never the environment's name or kind.
 */
import type { RemoteBaseAccess } from "./kustomize-remote-bases";
import type { Construct } from "constructs";
import type { PinnedImage } from "../lib/workload-defaults";
import type { PlatformServiceAccount } from "./service-accounts";
import type { ImageMirror } from "./image-mirror";
import type { DirectoryRoles, LdapDirectory, SecretKeyRef } from "./directory-login";

/** How Terraform reaches the Kubernetes API. */
export type ClusterAccess =
  | {
      readonly kind: "exec";
      readonly host: string;
      /** PEM CA bundle (already decoded). */
      readonly clusterCaCertificate: string;
      /** Short-lived token command, e.g. `aws eks get-token`. */
      readonly exec: { readonly apiVersion: string; readonly command: string; readonly args: string[] };
    }
  | {
      readonly kind: "kubeconfig";
      /**
       * Path of the kubeconfig on the machine running Terraform. @default unset: the providers
       * read `KUBE_CONFIG_PATH` at plan and apply time, so no machine's path is in the stacks
       */
      readonly configPath?: string;
      readonly context: string;
    };

/** A PostgreSQL database outside the platform charts, with credentials in a Kubernetes Secret. */
export interface PlatformDatabase {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  /**
   * Where the credentials come from:
   * - `external-secret`: an ExternalSecret copies them from the cloud secret store (`remoteKey`);
   * - `existing-secret`: a Secret created in the namespace out of band (or by an operator).
   */
  readonly credentials:
    | { readonly kind: "external-secret"; readonly remoteKey: string }
    | { readonly kind: "existing-secret"; readonly secretName: string };
}

/** S3 or an S3-compatible store. */
export interface ObjectStore {
  readonly artifactsBucket: string;
  readonly dataBucket: string;
  readonly region: string;
  /** S3-compatible endpoint URL; unset for AWS S3. */
  readonly endpoint?: string;
  /**
   * `workload-identity`: pods get credentials from their service account (IRSA), no keys;
   * `secret`: a Secret holding `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, created out of band.
   */
  readonly credentials:
    { readonly kind: "workload-identity" } | { readonly kind: "secret"; readonly secretName: string };
  /**
   * Existing Secret (name and key of a PEM bundle) with the CA that signed the store's
   * certificate, in every namespace that reads artifacts; unset: the certificate is publicly trusted.
   */
  readonly caBundle?: { readonly name: string; readonly key: string };
}

/** Where a kind of pod runs: the nodes' labels and the taints it tolerates. */
export interface NodePlacement {
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly {
    readonly key: string;
    readonly operator: "Equal" | "Exists";
    readonly value?: string;
    readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  }[];
}

/** Node placement of the platform's workloads, by kind of work. */
export interface WorkloadPlacement {
  /** Services and light jobs (the serving Deployment, batch inference). */
  readonly general: NodePlacement;
  /** Long CPU-heavy jobs (retraining). */
  readonly training: NodePlacement;
  /** Pods that ask for a GPU (GPU predictors): the GPU nodes and their taint. */
  readonly gpu: NodePlacement;
}

export interface ImageRegistry {
  /** Repository of the serving image, without tag. */
  readonly servingRepository: string;
  /** Repository of the training image, without tag. */
  readonly trainingRepository: string;
  /**
   * Makes the plan of the stack `scope` is in fail when an image of `images` is not in its
   * repository, with a message that names the image and how to push it: a workload never waits
   * for an image that was not built.
   */
  requireImages(scope: Construct, images: RequiredImages): void;
}

/** Images a stack runs, by the repository they belong in. */
export interface RequiredImages {
  readonly serving?: RequiredImage;
  readonly training?: RequiredImage;
  /** The models' monitoring image: in the training repository, by digest. */
  readonly monitoring?: RequiredImage;
}

export interface RequiredImage {
  readonly image: PinnedImage;
  /** Where the reference is set, for the message, e.g. `serving.image of environments/releases/dev.json`. */
  readonly source: string;
}

/** What one Ingress's requests need beyond an entry's defaults. */
export interface RequestLimits {
  /** Largest request body, in MiB. */
  readonly maxBodyMiB: number;
  /** Seconds the entry waits between two reads or two writes to the backend. */
  readonly timeoutSeconds: number;
}

/** How traffic from outside the cluster reaches Services and Ingresses. */
export interface TrafficEntry {
  /** Ingress class of the platform's UIs and APIs. */
  readonly ingressClassName: string;
  /** Annotations of an Ingress of that class (scheme, target type, ...). */
  ingressAnnotations(exposure: "internal" | "public"): Record<string, string>;
  /** Annotations of a `LoadBalancer` Service. */
  loadBalancerServiceAnnotations(exposure: "internal" | "public"): Record<string, string>;
  /**
   * Annotations that make the load balancer in front of an Ingress probe `path` ({} where it cannot
   * be set), on the pods' `port` where given, rather than on the port the traffic goes to.
   */
  healthCheckAnnotations(path: string, port?: number): Record<string, string>;
  /**
   * Annotations that let an Ingress of that class pass request bodies up to `maxBodyMiB` and
   * wait `timeoutSeconds` between reads and writes to the backend ({} where the entry has no
   * such limit).
   */
  largeRequestAnnotations(limits: RequestLimits): Record<string, string>;
  /** True when browsers reach the UIs over HTTPS (TLS ends at the load balancer or the ingress). */
  readonly tls: boolean;
  /**
   * Where TLS ends at the ingress controller: the Secret an Ingress for `host` keeps its
   * certificate in (cert-manager writes it, from the target's issuer named in
   * `ingressAnnotations`). Unset where TLS ends at the load balancer (EKS: ACM on the ALB).
   */
  ingressTlsSecret?(host: string): string;
  /** Source ranges of load balancer and ingress traffic as pods see it (for NetworkPolicies). */
  readonly sourceCidrs: string[];
  /**
   * In-cluster proxies that forward entry traffic from their own pod addresses and that pods
   * reach when they call an ingress host (an ingress controller running as pods with host
   * ports): namespaces, narrowed by pod labels where given. None where traffic enters from
   * outside the pod network only (EKS: the ALB's addresses in the VPC).
   */
  readonly sourcePods?: readonly {
    readonly namespace: string;
    readonly podLabels?: Readonly<Record<string, string>>;
  }[];
  /**
   * How the serving Deployment is reached from outside: a `LoadBalancer` Service where the
   * cloud provisions one (`loadBalancerServiceAnnotations`), or an Ingress of `ingressClassName`
   * in front of a ClusterIP Service where nothing implements `LoadBalancer` (bare RKE2).
   */
  readonly servingExposure: "load-balancer" | "ingress";
  /**
   * How one host's requests are split by weight across two Services (a primary and a canary
   * predictor), on an Ingress of `ingressClassName`:
   * - `forward-action`: one Ingress whose backend is a weighted forward action, the AWS Load
   *   Balancer Controller's `alb.ingress.kubernetes.io/actions.<name>` annotation;
   * - `canary-ingress`: ingress-nginx's canary, a second Ingress for the same host and path with
   *   `nginx.ingress.kubernetes.io/canary` and `canary-weight`.
   */
  readonly weightedRouting: "forward-action" | "canary-ingress";
  /**
   * Labels of every namespace whose pods are load balancer targets by pod IP (Ingress backends
   * and `LoadBalancer` Services): on EKS the load balancer controller injects pod readiness gates
   * there, so a rolling update waits until the new pods are healthy targets. {} where none apply.
   */
  readonly targetNamespaceLabels: Readonly<Record<string, string>>;
}

export interface ClusterTarget {
  /** Short description for docs and errors, e.g. `EKS mlops-dev`. */
  readonly description: string;
  readonly clusterName: string;
  readonly access: ClusterAccess;
  /**
   * Where the Kubernetes API server is, as pods and the network policy engine see it:
   * - `serviceIp`/`servicePort`: the `kubernetes` Service in `default` (first address of the
   *   service range), which in-cluster clients dial;
   * - `cidrs`/`port`: the API server's own addresses after DNAT (egress of controllers);
   * - `webhookSourceCidrs`: where the API server's calls into the cluster (admission and
   *   conversion webhooks) come from as the policy engine of a webhook's pod sees them, which is
   *   not always where it listens (on Canal a control-plane node reaches a pod on another node
   *   from its tunnel address in the pod range). Every webhook behind a default-deny policy
   *   admits these on its pod's port.
   */
  readonly apiServer: {
    readonly serviceIp: string;
    readonly servicePort: number;
    readonly cidrs: string[];
    readonly port: number;
    readonly webhookSourceCidrs: string[];
  };
  /**
   * How NetworkPolicies are enforced. `pre-dnat`: `ipBlock` peers are matched against the
   * address a pod dialled, a Service IP included (the VPC CNI network policy agent);
   * `post-dnat`: against the backend's address (Calico and Canal).
   */
  readonly networkPolicyEngine: "pre-dnat" | "post-dnat";
  /** Ranges pod IPs are allocated from (hosts that answer to scrapes by pod IP). */
  readonly podCidrs: string[];
  readonly database: PlatformDatabase;
  /** Ranges the database listens on (egress from MLflow). */
  readonly databaseCidrs: string[];
  readonly objectStore: ObjectStore;
  readonly registry: ImageRegistry;
  readonly traffic: TrafficEntry;
  /** Ranges of the object store's endpoints (egress of everything that reads or writes artifacts). */
  readonly objectStoreCidrs: string[];
  /** Storage class of persistent volumes (Prometheus, Alertmanager). */
  readonly storageClass: StorageClassSpec;
  /** Annotations that give a service account its cloud identity ({} where there is none). */
  serviceAccountAnnotations(account: PlatformServiceAccount): Record<string, string>;
  /** Cluster add-ons only this target needs (load balancer controller, node autoscaler), installed first. */
  readonly cloudAddons?: CloudAddons;
  /**
   * The cloud secret store External Secrets reads with its workload identity (database
   * credentials, alert receivers' secrets); unset where there is none (on-prem: Secrets are
   * created in the cluster, out of band or by operators). Generated passwords need no store.
   */
  readonly secretStore?: CloudSecretStore;
  /**
   * How the platform's PostgreSQL comes to be: `managed` outside the cluster (RDS: `database`
   * holds its admin credentials in the secret store), or a CloudNativePG cluster the platform
   * runs beside MLflow (`database` then points at its read-write Service).
   */
  readonly databaseProvisioning:
    | { readonly kind: "managed" }
    | {
        readonly kind: "cloudnative-pg";
        readonly instances: number;
        readonly storageGib: number;
        readonly backupRetentionDays: number;
      };
  /**
   * GPU software of the GPU nodes: the device plugin where the node image carries the driver
   * (EKS's NVIDIA AMI), or the NVIDIA GPU Operator (driver or preinstalled driver, container
   * toolkit, device plugin, DCGM exporter) on plain hosts.
   */
  readonly gpu:
    | { readonly kind: "device-plugin" }
    | { readonly kind: "gpu-operator"; readonly driver: "container" | "preinstalled" };
  /** The GPU nodes: the labels that select them and the taint that keeps other pods off, if any. */
  readonly gpuNodes: { readonly labels: Readonly<Record<string, string>>; readonly taintKey?: string };
  /** Where the workloads run, by kind of work (node groups on EKS, general and GPU nodes on-prem). */
  readonly placement: WorkloadPlacement;
  /**
   * The registry mirror every image is pulled through (on-prem: Artifactory remotes per upstream
   * registry, with a pull Secret); unset: images come from their upstream registries.
   */
  readonly imageMirror?: ImageMirror;
  /** Chart repositories by upstream repository URL (on-prem: Artifactory remotes); unset: upstream. */
  readonly chartRepositories?: Readonly<Record<string, string>>;
  /**
   * A cert-manager ClusterIssuer of the organisation's CA, from an existing Secret (`tls.crt`,
   * `tls.key`) in cert-manager's namespace; it signs the UIs' certificates. Unset: none.
   */
  readonly certificateIssuer?: { readonly name: string; readonly caSecretName: string };
  /**
   * Sign-in to every UI (Argo CD, Grafana, MLflow, the Kubeflow Pipelines UI) against a
   * directory through Dex; unset: each UI keeps its own local login (EKS today).
   */
  readonly directoryLogin?: DirectoryLoginTarget;
  /**
   * Namespace, existing before the platform, where the platform team creates the Secrets the
   * environment names (registry pull Secret, object store keys and CA, directory bind password
   * and CA, the organisation's CA, alert receivers' credentials). The platform copies each into
   * the namespaces that use it, before anything runs there. Unset: the target needs none (EKS:
   * workload identity and the cloud secret store).
   */
  readonly handMadeSecretsNamespace?: string;
  /**
   * Git repositories Argo CD syncs from that need more than the public trust store and anonymous
   * read access (on-prem: the organisation's mirror of the Kubeflow Pipelines manifests).
   * Unset: none.
   */
  readonly gitRepositories?: readonly GitRepositoryAccess[];
  /**
   * How Argo CD's repo server fetches the kustomize remote bases of the Applications' manifests
   * (mirrors rewritten by its gitconfig, or its proxy). Unset: it reaches them directly.
   */
  readonly remoteBases?: RemoteBaseAccess;
  /** Components the Kubernetes distribution runs itself (RKE2 ships metrics-server). */
  readonly bundled: { readonly metricsServer: boolean };
  /** Cluster components Prometheus can scrape; managed control planes keep theirs out of reach. */
  readonly scrapeableComponents: ScrapeableComponents;
  /**
   * Kubernetes group the target maps its pull-request diff principal into (EKS: the `ci-diff`
   * role's access entry); the platform grants it what a plan without refresh reads beyond a view
   * policy. Unset: pull requests do not plan against this cluster.
   */
  readonly pullRequestDiffGroup?: string;
}

/** How Argo CD reaches one Git repository. */
export interface GitRepositoryAccess {
  /** The repository's https:// URL, as Applications name it. */
  readonly url: string;
  /**
   * PEM of the CA certificate(s) that issued the repository server's certificate; Argo CD
   * trusts them for that host only. Unset: the certificate is publicly trusted.
   */
  readonly caCertificate?: string;
  /**
   * Hand-made Secret (in `handMadeSecretsNamespace`) with `username` and `password`, copied into
   * Argo CD's namespace as its repository Secret. Unset: anonymous read access.
   */
  readonly credentialsSecret?: string;
}
/** Which components of the cluster expose metrics to an in-cluster Prometheus. */
export interface ScrapeableComponents {
  readonly controllerManager: boolean;
  readonly scheduler: boolean;
  readonly etcd: boolean;
  /** kube-proxy binds its metrics to 127.0.0.1:10249 unless configured otherwise. */
  readonly kubeProxy: boolean;
}

/** Add-ons that integrate the cluster with its cloud. */
export interface CloudAddons {
  readonly region: string;
  readonly vpcId: string;
  /** Cluster autoscaler image tag matching the cluster's Kubernetes minor; unset: no autoscaler. */
  readonly clusterAutoscalerImageTag?: string;
  readonly loadBalancerController: boolean;
}

/** A cloud secret store as External Secrets' provider sees it. */
export interface CloudSecretStore {
  readonly provider: "aws-secrets-manager";
  readonly region: string;
}

/** The storage class the platform's volumes use; created by the platform stack when `create` is set. */
export interface StorageClassSpec {
  readonly name: string;
  /** Create it (EKS: gp3 through the EBS CSI driver); unset: it exists already. */
  readonly create?: {
    readonly provisioner: string;
    readonly parameters: Record<string, string>;
  };
}

/** The directory every UI signs users in against, and who holds which role. */
export interface DirectoryLoginTarget {
  readonly directory: LdapDirectory;
  readonly roles: DirectoryRoles;
  /** Address ranges of the directory's LDAPS endpoints (egress of Dex). */
  readonly directoryCidrs: readonly string[];
  /** Turn off Argo CD's `admin` user and Grafana's login form (protected environments). */
  readonly disableLocalAdmins: boolean;
  /**
   * Existing Secret, in the monitoring, MLflow and pipelines namespaces, with the PEM CA bundle
   * that signed the UIs' certificates (their servers call Dex at the Argo CD host). Unset: the
   * certificates are publicly trusted.
   */
  readonly issuerCaSecret?: SecretKeyRef;
}
