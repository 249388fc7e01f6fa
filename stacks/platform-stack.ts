import { KSERVE_AGENT_PORT } from "../constructs/serving/inference-services";
import { Construct } from "constructs";
import { TerraformStack, type ITerraformDependable } from "cdktf";
import { StorageClassV1 } from "@cdktf/provider-kubernetes/lib/storage-class-v1";
import { NetworkPolicyV1 } from "@cdktf/provider-kubernetes/lib/network-policy-v1";
import type { AnyEnvironment } from "../environments/targets";
import type { ReleaseContent } from "../environments/release-schema";
import type { ClusterTarget } from "../constructs/platform/cluster-target";
import { ChartCatalog, type ChartValueFiles } from "../constructs/platform/chart-catalog";
import type { PlatformChart } from "../constructs/platform/charts";
import {
  DNS_EGRESS,
  PlatformNamespace,
  type TrafficPeer,
  type TrafficRule,
} from "../constructs/platform/platform-namespace";
import { ClusterAddons, gpuNodePlacement } from "../constructs/platform/cluster-addons";
import {
  Monitoring,
  alertReceiverSecretKey,
  alertReceiverSecretName,
  alertReceiverSecrets,
  withHeartbeat,
  type AlertReceiver,
} from "../constructs/platform/monitoring";
import { DEFAULT_ALERT_THRESHOLDS } from "../constructs/platform/observability";
import { Pushgateway, pushgatewayServiceMonitor } from "../constructs/platform/pushgateway";
import { MODEL_MONITORING_APP, PUSHGATEWAY } from "../constructs/serving/model-monitoring";
import { SecretCopies } from "../constructs/platform/secret-copies";
import { KSERVE_CA_BUNDLE, kserveObjectStoreAnnotations } from "../constructs/serving/object-store-access";
import { PlatformSecrets } from "../constructs/platform/platform-secrets";
import { Mlflow } from "../constructs/platform/mlflow";
import { GpuOperator } from "../constructs/platform/gpu-operator";
import { caClusterIssuer, wildcardCertificate } from "../constructs/platform/ca-issuer";
import { MlflowPostgres, PostgresOperator } from "../constructs/platform/postgres-cluster";
import { ArgoCd } from "../constructs/platform/argocd";
import { Kserve } from "../constructs/platform/kserve";
import { kubeflowPipelinesApplications } from "../constructs/platform/kubeflow-pipelines";
import {
  argoCdLoginValues,
  grafanaLoginValues,
  loginClientSecrets,
  loginFlows,
  mlflowIssuerCaMounts,
  mlflowLoginValues,
  pipelinesLogin,
  type DirectoryLoginProps,
  type LoginFlow,
} from "../constructs/platform/directory-login";
import { imageFrom } from "../constructs/platform/image-mirror";
import { PullRequestDiffAccess } from "../constructs/platform/pull-request-diff";
import { mergeValues } from "../constructs/lib/values";
import { configureStateBackend } from "./state-backend";
import { configureClusterProviders } from "./cluster-providers";
import { webhookIngressRules } from "./platform-webhooks";

export interface PlatformStackProps {
  readonly environment: AnyEnvironment;
  readonly target: ClusterTarget;
  readonly release: ReleaseContent;
  readonly chartValues: Readonly<Record<PlatformChart, ChartValueFiles>>;
}

/**
 * Secret (in cert-manager's namespace) of the certificate for `*.<domain>` where the target has a
 * ClusterIssuer: the ingress controller's default certificate, which serves the InferenceServices'
 * Ingresses (KServe writes them without a `tls` section).
 */
export const PLATFORM_WILDCARD_CERTIFICATE = "platform-wildcard-tls";

/** Namespaces of the platform, named once. */
export const PLATFORM_NAMESPACES = {
  mlflow: "mlflow",
  kubeflow: "kubeflow",
  kserve: "kserve",
  argocd: "argocd",
  monitoring: "monitoring",
  serving: "mlops",
  certManager: "cert-manager",
  externalSecrets: "external-secrets",
  gpu: "nvidia-gpu",
  postgresOperator: "cnpg-system",
} as const;

const NS = PLATFORM_NAMESPACES;

/** MLflow user of the platform's workloads; its Secret is copied into the serving namespace. */
export const MLFLOW_CLIENT = {
  namespace: PLATFORM_NAMESPACES.mlflow,
  secretName: "mlflow-client",
  userKey: "MLFLOW_TRACKING_USERNAME",
  passwordKey: "MLFLOW_TRACKING_PASSWORD",
  userName: "mlops-client",
  // Training registers models and creates experiments; the model registration Job creates models.
  creates: true,
};
/** MLflow's first admin (generated in the cluster). */
const MLFLOW_ADMIN = {
  namespace: PLATFORM_NAMESPACES.mlflow,
  secretName: "mlflow-admin",
  userKey: "username",
  passwordKey: "password",
  userName: "admin",
};
/**
 * MLflow's own database user. Its password is generated in the cluster from letters and digits
 * only: the chart substitutes it into an INI file with `sed` and into connection URIs.
 */
const MLFLOW_DATABASE_USER = {
  namespace: PLATFORM_NAMESPACES.mlflow,
  secretName: "mlflow-database",
  userKey: "username",
  passwordKey: "password",
  userName: "mlflow",
};
/** The MLflow user Prometheus scrapes `/metrics` as. */
const MLFLOW_METRICS_USER = {
  namespace: PLATFORM_NAMESPACES.mlflow,
  secretName: "mlflow-metrics",
  userKey: "username",
  passwordKey: "password",
  userName: "prometheus",
};
/** PostgreSQL 17 image with Barman Cloud (CloudNativePG's `system` flavour), where the platform runs the database. */
const POSTGRES_IMAGE = "ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie";
/** Copy of the database administrator's credentials (RDS master user) in the MLflow namespace. */
const DATABASE_ADMIN_SECRET = "database-admin";
const HTTPS = { port: 443 };
/** The directory login's users and permissions of MLflow (the mlflow-oidc-auth plugin's own database). */
export const MLFLOW_LOGIN_DATABASE = "mlflow_oidc_auth";
/**
 * The image mlflow chart 1.11.5 runs its server with (appVersion 3.15.1); it carries
 * mlflow-oidc-auth and python3 (the serving stack's model registration Job runs in it).
 */
export const MLFLOW_SERVER_IMAGE = "burakince/mlflow:3.15.1";
/** oauth2-proxy in front of the Kubeflow Pipelines UI: the version mlflow chart 1.11.5 pins. */
const OAUTH2_PROXY_IMAGE = "quay.io/oauth2-proxy/oauth2-proxy:v7.15.4";

/**
 * Installs the ML platform into a cluster described by a `ClusterTarget`: namespaces with
 * their guard rails, cluster add-ons, monitoring and alerts, credentials, MLflow, Argo CD with
 * Kubeflow Pipelines, and KServe. Nothing here branches on the environment's name or kind.
 */
export class PlatformStack extends TerraformStack {
  public readonly namespaces: Record<
    "mlflow" | "kubeflow" | "kserve" | "argocd" | "monitoring" | "serving",
    PlatformNamespace
  >;
  public readonly addons: ClusterAddons;
  public readonly monitoring: Monitoring;
  /** Where the models' monitoring jobs push their series. */
  public readonly pushgateway: Pushgateway;
  public readonly mlflow: Mlflow;
  public readonly argocd: ArgoCd;
  public readonly kserve: Kserve;
  public readonly target: ClusterTarget;
  /** What the pull-request diff principal's group may read beyond its view rights. */
  /** What pull-request diffs may read beyond a view policy; only where the target maps a diff principal. */
  public readonly pullRequestDiff?: PullRequestDiffAccess;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id);
    const { environment: env, target } = props;
    const platform = env.platform;
    const ha = platform.highAvailability;
    this.target = target;
    configureStateBackend(this, id, env);
    configureClusterProviders(this, target.access);
    // Pull-request diffs plan this stack and the serving stack with -refresh=false (docs/delivery.md,
    // "Pull-request diffs of deployed environments"); kubernetes_manifest lists the CRDs at plan.
    if (target.pullRequestDiffGroup !== undefined) {
      this.pullRequestDiff = new PullRequestDiffAccess(this, "PullRequestDiffAccess", {
        group: target.pullRequestDiffGroup,
      });
    }

    const charts = new ChartCatalog({
      versions: props.release.charts,
      values: props.chartValues,
      repositoryMirrors: target.chartRepositories,
      imageMirror: target.imageMirror,
    });
    const login = target.directoryLogin ? directoryLoginProps(target, platform.domain) : undefined;
    if (login && target.databaseProvisioning.kind === "managed") {
      throw new Error(
        `PlatformStack: ${target.description} has a directory login, whose MLflow users database (${MLFLOW_LOGIN_DATABASE}) only the platform's CloudNativePG cluster creates; fix: run the database with CloudNativePG, or leave the target's directoryLogin unset`,
      );
    }
    const loginSecrets = login ? loginClientSecrets(login) : undefined;
    this.namespaces = this.createNamespaces(target, env, login);
    const addonNamespaces = {
      certManager: this.addonNamespace("CertManagerNamespace", NS.certManager, "restricted"),
      externalSecrets: this.addonNamespace("ExternalSecretsNamespace", NS.externalSecrets, "restricted"),
      gpu: this.addonNamespace(
        "GpuNamespace",
        NS.gpu,
        "privileged",
        "the NVIDIA device plugin mounts the kubelet's device-plugin socket, DCGM needs SYS_ADMIN, and the GPU Operator's driver, toolkit and validator pods are privileged with host paths",
      ),
      postgresOperator:
        target.databaseProvisioning.kind === "cloudnative-pg"
          ? this.addonNamespace("PostgresOperatorNamespace", NS.postgresOperator, "restricted")
          : undefined,
    };

    // The receivers reading a credential from `alert-receiver-<name>`, the heartbeat's included.
    const credentialedReceivers = withHeartbeat(platform.alerting.receivers, platform.alerting.heartbeat);
    // Everything else waits for these: the hand-made Secrets in the namespaces that use them.
    const base: ITerraformDependable[] = [
      ...this.copyHandMadeSecrets(target, credentialedReceivers, [
        ...Object.values(this.namespaces),
        ...Object.values(addonNamespaces).filter((ns): ns is PlatformNamespace => ns !== undefined),
      ]),
    ];
    if (target.storageClass.create) {
      base.push(
        new StorageClassV1(this, "StorageClass", {
          metadata: {
            name: target.storageClass.name,
            annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
          },
          storageProvisioner: target.storageClass.create.provisioner,
          parameters: target.storageClass.create.parameters,
          reclaimPolicy: "Delete",
          volumeBindingMode: "WaitForFirstConsumer",
          allowVolumeExpansion: true,
        }),
      );
    }

    const operators = new ClusterAddons(this, "ClusterAddons", {
      target,
      charts,
      highAvailability: ha,
      namespaces: {
        certManager: addonNamespaces.certManager.name,
        externalSecrets: addonNamespaces.externalSecrets.name,
        gpu: addonNamespaces.gpu.name,
      },
      gpuNodes: target.gpuNodes,
      dependsOn: base,
    });
    this.addons = operators;
    if (target.certificateIssuer) {
      // The organisation's CA signs the UIs' certificates; its ClusterIssuer needs cert-manager's CRDs.
      charts.install(this, "CertificateIssuer", {
        chart: "platform-resources",
        name: "certificate-issuer",
        namespace: addonNamespaces.certManager.name,
        computedValues: {
          resources: [
            caClusterIssuer(target.certificateIssuer),
            // The ingress controller's default certificate, for the Ingresses KServe writes.
            wildcardCertificate({
              issuer: target.certificateIssuer.name,
              domain: platform.domain,
              namespace: NS.certManager,
              secretName: PLATFORM_WILDCARD_CERTIFICATE,
            }),
          ],
        },
        dependsOn: [operators.certManager.release],
      });
    }

    const credentials = [
      MLFLOW_ADMIN,
      MLFLOW_DATABASE_USER,
      MLFLOW_METRICS_USER,
      {
        namespace: NS.monitoring,
        secretName: "grafana-admin",
        userKey: "admin-user",
        passwordKey: "admin-password",
        userName: "admin",
      },
    ];
    const secrets = new PlatformSecrets(this, "PlatformSecrets", {
      charts,
      target,
      namespace: addonNamespaces.externalSecrets.name,
      // RDS's master credentials: only the Job that creates MLflow's own database user reads them.
      databaseSecret: { namespace: NS.mlflow, name: DATABASE_ADMIN_SECRET },
      generated: [...credentials, ...(loginSecrets?.generated ?? [])],
      shared: [{ credential: MLFLOW_CLIENT, consumerNamespace: NS.serving }, ...(loginSecrets?.shared ?? [])],
      fromSecretStore: alertReceiverSecrets(credentialedReceivers, NS.monitoring),
      dependsOn: [
        operators.externalSecrets.release,
        this.namespaces.mlflow.namespace,
        this.namespaces.monitoring.namespace,
        // The login's client secrets live in Argo CD's namespace, the proxy's cookie in Kubeflow's.
        ...(login ? [this.namespaces.argocd.namespace, this.namespaces.kubeflow.namespace] : []),
      ],
    });

    this.monitoring = new Monitoring(this, "Monitoring", {
      charts,
      namespace: this.namespaces.monitoring.name,
      highAvailability: ha,
      storageClassName: target.storageClass.name,
      retentionDays: platform.monitoring.retentionDays,
      storageGib: platform.monitoring.storageGib,
      grafanaAdminSecret: "grafana-admin",
      observed: { serving: NS.serving, mlflow: NS.mlflow, pipelines: NS.kubeflow },
      thresholds: {
        ...DEFAULT_ALERT_THRESHOLDS,
        predictionLogStallMinutes: env.monitoring.predictionLogStallMinutes,
      },
      scrapeable: target.scrapeableComponents,
      receivers: platform.alerting.receivers,
      heartbeat: platform.alerting.heartbeat,
      login: login ? grafanaLogin(target, login, platform.exposure) : undefined,
      // The Pushgateway's ServiceMonitor comes with the chart that brings its CRD, in the
      // namespace the Pushgateway runs in.
      serviceMonitors: [pushgatewayServiceMonitor()],
      dependsOn: [...base, secrets.release.release],
    });

    this.pushgateway = new Pushgateway(this, "Pushgateway", {
      namespace: this.namespaces.monitoring.name,
      imageMirror: target.imageMirror,
      dependsOn: [...base, secrets.release.release],
    });

    // DCGM's ServiceMonitor needs its CRD, which comes with the monitoring stack.
    if (target.gpu.kind === "device-plugin") {
      charts.install(this, "GpuMetrics", {
        chart: "dcgm-exporter",
        namespace: addonNamespaces.gpu.name,
        computedValues: { ...gpuNodePlacement(target.gpuNodes), serviceMonitor: { enabled: true } },
        dependsOn: [
          ...(operators.gpuDevicePlugin ? [operators.gpuDevicePlugin.release] : []),
          this.monitoring.release.release,
        ],
      });
    } else {
      new GpuOperator(this, "GpuOperator", {
        charts,
        // The name itself (validated); the namespace resource is in dependsOn.
        namespace: NS.gpu,
        gpuNodes: { ...singleGpuLabel(target), taintKey: target.gpuNodes.taintKey },
        driver: target.gpu.driver,
        nodeFeatureDiscovery: "chart",
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
        dependsOn: [addonNamespaces.gpu.namespace, this.monitoring.release.release],
      });
    }

    const database = this.provisionDatabase(
      target,
      charts,
      ha,
      addonNamespaces.postgresOperator,
      login ? [MLFLOW_LOGIN_DATABASE] : [],
      [this.namespaces.mlflow.namespace, secrets.release.release, this.monitoring.release.release],
    );

    this.mlflow = new Mlflow(this, "Mlflow", {
      charts,
      target,
      namespace: this.namespaces.mlflow.name,
      highAvailability: ha,
      host: `mlflow.${platform.domain}`,
      exposure: platform.exposure,
      databaseSecret: MLFLOW_DATABASE_USER.secretName,
      databaseAdminSecret:
        target.database.credentials.kind === "external-secret" ? DATABASE_ADMIN_SECRET : undefined,
      adminSecret: MLFLOW_ADMIN.secretName,
      postgresClientImage: "postgres:17.6-alpine",
      users: { image: "curlimages/curl:8.16.0", accounts: [MLFLOW_CLIENT, MLFLOW_METRICS_USER] },
      metricsUser: MLFLOW_METRICS_USER,
      podCidrs: target.podCidrs,
      tls: target.traffic.tls,
      healthCheckAnnotations: target.traffic.healthCheckAnnotations("/health"),
      login: login ? mlflowLogin(target, login) : undefined,
      dependsOn: [secrets.release.release, this.monitoring.release.release, ...operators.ready, ...database],
    });

    this.argocd = new ArgoCd(this, "ArgoCd", {
      charts,
      namespace: this.namespaces.argocd.name,
      highAvailability: ha,
      host: `argocd.${platform.domain}`,
      ingressClassName: target.traffic.ingressClassName,
      ingressAnnotations: {
        ...target.traffic.ingressAnnotations(platform.exposure),
        ...target.traffic.healthCheckAnnotations("/healthz"),
      },
      ingressTls: target.traffic.ingressTlsSecret !== undefined,
      login: login ? argoCdLoginValues(login) : undefined,
      repositories: target.gitRepositories,
      remoteBases: target.remoteBases,
      dependsOn: [this.monitoring.release.release, ...operators.ready],
    });
    if (login) {
      // The KFP UI has no login of its own: oauth2-proxy signs users in at Dex and forwards them.
      const pipelinesHost = login.hosts.pipelines;
      charts.install(this, "PipelinesLogin", {
        chart: "platform-resources",
        name: "pipelines-login",
        namespace: this.namespaces.kubeflow.name,
        computedValues: {
          resources: pipelinesLogin({
            ...login,
            image: imageFrom(target.imageMirror, OAUTH2_PROXY_IMAGE),
            imagePullSecrets: target.imageMirror ? [target.imageMirror.pullSecretName] : undefined,
            replicas: ha ? 2 : 1,
            ingressClassName: target.traffic.ingressClassName,
            ingressAnnotations: target.traffic.ingressAnnotations(platform.exposure),
            ingressTlsSecret: target.traffic.ingressTlsSecret?.(pipelinesHost),
          }).objects,
        },
        dependsOn: [secrets.release.release, ...operators.ready],
      });
    }
    this.argocd.addApplications(
      "PlatformApplications",
      kubeflowPipelinesApplications({
        target,
        version: props.release.kubeflowPipelines,
        repository: platform.pipelines.manifestsRepository,
        namespace: NS.kubeflow,
        project: "mlops-platform",
      }),
      {
        "mlops-platform": {
          description: "Components of the MLOps platform installed from upstream manifests",
          sourceRepos: [platform.pipelines.manifestsRepository],
          destinations: [{ server: "https://kubernetes.default.svc", namespace: NS.kubeflow }],
          clusterResourceWhitelist: [{ group: "*", kind: "*" }],
        },
      },
    );

    this.kserve = new Kserve(this, "Kserve", {
      charts,
      namespace: this.namespaces.kserve.name,
      highAvailability: ha,
      ingressClassName: target.traffic.ingressClassName,
      domain: platform.domain,
      urlScheme: target.traffic.tls ? "https" : "http",
      dependsOn: [operators.certManager.release, this.monitoring.release.release, ...operators.ready],
      // The serving stack copies the store's private CA into this ConfigMap of the predictors' namespace.
      loggerCaBundle: target.objectStore.caBundle ? KSERVE_CA_BUNDLE.configMap : undefined,
    });
  }

  /**
   * MLflow's database where the platform runs it: the CloudNativePG operator in its namespace and
   * a cluster beside MLflow whose owner is MLflow's generated database user, backed up to the
   * object store. Managed databases (RDS) need nothing here. Returns what MLflow waits for.
   */
  private provisionDatabase(
    target: ClusterTarget,
    charts: ChartCatalog,
    ha: boolean,
    operatorNamespace: PlatformNamespace | undefined,
    extraDatabases: readonly string[],
    dependsOn: ITerraformDependable[],
  ): ITerraformDependable[] {
    const provisioning = target.databaseProvisioning;
    if (provisioning.kind === "managed") return [];
    const store = target.objectStore;
    if (store.credentials.kind !== "secret" || !store.endpoint) {
      throw new Error(
        `PlatformStack: ${target.description} runs CloudNativePG, whose backups need an S3-compatible endpoint and a credentials Secret; fix: give the target's objectStore an endpoint and secret credentials`,
      );
    }
    if (!operatorNamespace)
      throw new Error("PlatformStack: the CloudNativePG operator's namespace was not created");
    const operator = new PostgresOperator(this, "PostgresOperator", {
      charts,
      namespace: NS.postgresOperator,
      highAvailability: ha,
      resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
      monitoring: true,
      dependsOn: [operatorNamespace.namespace, ...dependsOn],
    });
    const cluster = new MlflowPostgres(this, "MlflowPostgres", {
      charts,
      operator,
      namespace: NS.mlflow,
      instances: provisioning.instances,
      image: POSTGRES_IMAGE,
      storage: { storageClass: target.storageClass.name, size: `${provisioning.storageGib}Gi` },
      resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } },
      credentials: MLFLOW_DATABASE_USER,
      backup: {
        endpointURL: store.endpoint,
        region: store.region,
        bucket: store.artifactsBucket,
        path: "/postgres/",
        credentialsSecret: { namespace: NS.mlflow, name: store.credentials.secretName },
        // Barman Cloud verifies the store's certificate; an internal CA must be handed to it.
        caSecret: store.caBundle,
        retentionPolicy: `${provisioning.backupRetentionDays}d`,
        schedule: "0 0 2 * * *",
        serverSideEncryption: false,
      },
      monitoring: true,
      extraDatabases,
      dependsOn: [operator.release.release, ...dependsOn],
    });
    if (
      cluster.host !== target.database.host ||
      cluster.credentialsSecret !== MLFLOW_DATABASE_USER.secretName
    ) {
      throw new Error(
        `PlatformStack: ${target.description} points MLflow at ${target.database.host}, but the database the platform runs is ${cluster.host}; fix: make the target's database the CloudNativePG cluster's read-write Service`,
      );
    }
    return [cluster.release.release];
  }

  /**
   * Copies the Secrets the platform team made by hand (in the target's hand-made Secrets
   * namespace) into the namespaces that use them; returns the copies to wait for.
   */
  private copyHandMadeSecrets(
    target: ClusterTarget,
    receivers: readonly AlertReceiver[],
    namespaces: readonly PlatformNamespace[],
  ): ITerraformDependable[] {
    const source = target.handMadeSecretsNamespace;
    if (source === undefined) return [];
    const wanted = new Map<
      string,
      {
        namespaces: Set<string>;
        labels: Record<string, string>;
        purposes: string[];
        annotationsIn: Record<string, Record<string, string>>;
        requiredKeys: Set<string>;
        dataIn: Record<string, Record<string, string>>;
      }
    >();
    const want = (
      name: string | undefined,
      where: readonly string[],
      purpose: string,
      extra: {
        labels?: Record<string, string>;
        annotationsIn?: Record<string, Record<string, string>>;
        requiredKeys?: readonly string[];
        dataIn?: Record<string, Record<string, string>>;
      } = {},
    ) => {
      if (name === undefined) return;
      const entry = wanted.get(name) ?? {
        namespaces: new Set(),
        labels: {},
        purposes: [],
        annotationsIn: {},
        requiredKeys: new Set(),
        dataIn: {},
      };
      where.forEach((namespace) => entry.namespaces.add(namespace));
      Object.assign(entry.labels, extra.labels);
      Object.assign(entry.annotationsIn, extra.annotationsIn);
      extra.requiredKeys?.forEach((key) => entry.requiredKeys.add(key));
      Object.assign(entry.dataIn, extra.dataIn);
      if (!entry.purposes.includes(purpose)) entry.purposes.push(purpose);
      wanted.set(name, entry);
    };
    const store = target.objectStore;
    const artifactReaders = [NS.mlflow, NS.kubeflow, NS.serving];
    want(
      target.imageMirror?.pullSecretName,
      namespaces.map((ns) => ns.literalName),
      "pulls images through the registry mirror",
    );
    if (store.credentials.kind === "secret")
      want(store.credentials.secretName, artifactReaders, "object store keys", {
        // KServe's storage initializer reads the store's settings from the keys Secret's annotations.
        annotationsIn: { [NS.serving]: kserveObjectStoreAnnotations(store) },
      });
    want(store.caBundle?.name, artifactReaders, "CA bundle of the object store");
    want(target.certificateIssuer?.caSecretName, [NS.certManager], "the organisation CA's ClusterIssuer");
    const login = target.directoryLogin;
    if (login) {
      want(login.directory.bindPasswordSecret.name, [NS.argocd], "Dex's directory bind password", {
        // Argo CD resolves `$<secret>:<key>` only from Secrets labelled part of it.
        labels: { "app.kubernetes.io/part-of": "argocd" },
      });
      want(login.directory.caSecret?.name, [NS.argocd], "CA of the directory's LDAPS certificate");
      want(
        login.issuerCaSecret?.name,
        [NS.monitoring, NS.mlflow, NS.kubeflow],
        "CA of the UIs' certificates (their servers call Dex)",
      );
    }
    for (const repository of target.gitRepositories ?? [])
      want(repository.credentialsSecret, [NS.argocd], `Argo CD's credentials for ${repository.url}`, {
        // Argo CD v3.4.4 finds a repository's credentials in Secrets of its namespace labelled
        // secret-type repository whose `url` is the repository's (util/db/repository_secrets.go).
        labels: { "argocd.argoproj.io/secret-type": "repository" },
        dataIn: { [NS.argocd]: { url: repository.url, type: "git" } },
      });
    for (const receiver of receivers)
      if (receiver.secret === undefined)
        want(
          alertReceiverSecretName(receiver.name),
          [NS.monitoring],
          `credential of alert receiver ${receiver.name}`,
          // Alertmanager reads the file of this key: with another key every notification fails when sent.
          { requiredKeys: [alertReceiverSecretKey(receiver.kind)] },
        );
    const copies = new SecretCopies(this, "HandMadeSecrets", {
      sourceNamespace: source,
      copies: [...wanted].map(([name, entry]) => ({
        name,
        namespaces: [...entry.namespaces],
        labels: entry.labels,
        annotationsIn: entry.annotationsIn,
        requiredKeys: [...entry.requiredKeys],
        dataIn: entry.dataIn,
        purpose: entry.purposes.join("; "),
      })),
      dependsOn: namespaces.map((ns) => ns.namespace),
    });
    return copies.copies;
  }

  private addonNamespace(id: string, name: string, level: "restricted" | "privileged", exception?: string) {
    return new PlatformNamespace(this, id, { name, podSecurity: level, podSecurityException: exception });
  }

  private createNamespaces(
    target: ClusterTarget,
    env: AnyEnvironment,
    login: DirectoryLoginProps | undefined,
  ): PlatformStack["namespaces"] {
    const quota = env.platform.namespaceQuota;
    const containerDefaults = {
      request: { cpu: "50m", memory: "64Mi" },
      // At least the largest request of a container without limits (KFP 2.17 MySQL asks 800Mi).
      limit: { memory: "1Gi" },
    };
    const apiServer = kubernetesApiRules(target);
    const inClusterDatabase = target.databaseProvisioning.kind === "cloudnative-pg";
    const objectStore: TrafficRule = {
      name: "object-store",
      peers: target.objectStoreCidrs.map((cidr) => ({ cidr })),
      ports: [HTTPS],
    };
    const scraping: TrafficRule = { name: "monitoring", peers: [{ namespace: NS.monitoring }] };
    const sameNamespace: TrafficRule = { name: "same-namespace", peers: [{ sameNamespace: true }] };
    const fromEntry = (ports: number[]): TrafficRule => ({
      name: "load-balancer",
      peers: entryPeers(target),
      ports: ports.map((port) => ({ port })),
    });
    const toMlflow: TrafficRule = {
      name: "mlflow",
      peers: [{ namespace: NS.mlflow }],
      ports: [{ port: 5000 }],
    };
    const common = { quota, containerDefaults };
    // Namespaces whose pods are load balancer targets (Ingress backends, LoadBalancer Services):
    // the serving Deployment and the predictors, MLflow, Argo CD, and with the directory login
    // the pipelines' login proxy and Grafana.
    const entryTarget = { labels: { ...target.traffic.targetNamespaceLabels } };
    const flows = login ? loginFlows(login) : [];
    const loginRules = (namespace: string, direction: LoginFlow["direction"]) =>
      loginTrafficRules(target, flows, namespace, direction);

    const namespaces = {
      serving: new PlatformNamespace(this, "ServingNamespace", {
        ...entryTarget,
        name: NS.serving,
        podSecurity: "restricted",
        ...common,
        isolation: {
          // 8080: the predictors' runtime; 9081: KServe's logger agent, which fronts a predictor that logs.
          ingress: [fromEntry([8000, 8080, KSERVE_AGENT_PORT]), scraping, sameNamespace],
          egress: [
            toMlflow,
            objectStore,
            sameNamespace,
            // The models' monitoring jobs push their series to the Pushgateway.
            {
              name: "pushgateway",
              podLabels: { "app.kubernetes.io/name": MODEL_MONITORING_APP },
              peers: [{ namespace: NS.monitoring, podLabels: { ...PUSHGATEWAY.podLabels } }],
              ports: [{ port: PUSHGATEWAY.port }],
            },
          ],
        },
      }),
      mlflow: new PlatformNamespace(this, "MlflowNamespace", {
        ...entryTarget,
        name: NS.mlflow,
        podSecurity: "restricted",
        ...common,
        isolation: {
          ingress: [
            {
              name: "ml-clients",
              peers: [{ namespace: NS.serving }, { namespace: NS.kubeflow }, { namespace: NS.kserve }],
              ports: [{ port: 5000 }],
            },
            fromEntry([5000]),
            scraping,
            sameNamespace,
            // The CloudNativePG operator manages the instances (status 8000, PostgreSQL 5432).
            ...(inClusterDatabase
              ? [
                  {
                    name: "postgres-operator",
                    peers: [{ namespace: NS.postgresOperator }],
                    ports: [{ port: 8000 }, { port: 5432 }],
                  },
                ]
              : []),
          ],
          egress: [
            sameNamespace,
            {
              name: "database",
              peers: target.databaseCidrs.map((cidr) => ({ cidr })),
              ports: [{ port: target.database.port }],
            },
            objectStore,
            // PostgreSQL instances read their Cluster and report status through the API.
            ...(inClusterDatabase ? apiServer : []),
            ...loginRules(NS.mlflow, "egress"),
          ],
        },
      }),
      kubeflow: new PlatformNamespace(this, "KubeflowNamespace", {
        ...(login ? entryTarget : {}),
        name: NS.kubeflow,
        podSecurity: "baseline",
        podSecurityException:
          "pipeline steps run user images whose security context the platform does not control, and Argo Workflows' executor needs baseline",
        ...common,
        isolation: {
          // With the directory login the UI (3000) is reached only through its login proxy.
          ingress: [
            fromEntry(login ? [8888] : [3000, 8888]),
            scraping,
            sameNamespace,
            ...loginRules(NS.kubeflow, "ingress"),
            ...webhookIngressRules(target, NS.kubeflow),
          ],
          egress: [
            toMlflow,
            { name: "kserve", peers: [{ namespace: NS.kserve }, { namespace: NS.serving }] },
            ...apiServer,
            objectStore,
            sameNamespace,
            ...loginRules(NS.kubeflow, "egress"),
          ],
        },
      }),
      kserve: new PlatformNamespace(this, "KserveNamespace", {
        name: NS.kserve,
        podSecurity: "restricted",
        ...common,
        isolation: {
          ingress: [...webhookIngressRules(target, NS.kserve), scraping],
          egress: [...apiServer],
        },
      }),
      argocd: new PlatformNamespace(this, "ArgoCdNamespace", {
        ...entryTarget,
        name: NS.argocd,
        podSecurity: "restricted",
        ...common,
      }),
      monitoring: new PlatformNamespace(this, "MonitoringNamespace", {
        ...(login ? entryTarget : {}),
        name: NS.monitoring,
        podSecurity: "privileged",
        podSecurityException:
          "node-exporter reads host metrics through hostNetwork, hostPID and hostPath mounts",
        ...common,
      }),
    };
    if (login) this.isolateDex(target, namespaces.argocd, flows);
    return namespaces;
  }

  /**
   * Dex holds the directory's bind password: its pods may reach DNS, the directory's LDAPS
   * endpoints and the API server (Argo CD's Dex reads its configuration there), nothing else.
   * The rest of the Argo CD namespace is not isolated.
   */
  private isolateDex(target: ClusterTarget, argocd: PlatformNamespace, flows: readonly LoginFlow[]): void {
    const dex = flows.find((flow) => flow.peer.kind === "directory");
    const directory = target.directoryLogin;
    if (!dex || !directory) return;
    const rule = (rules: readonly TrafficRule[]) =>
      rules.map((r) => ({
        to: r.peers.flatMap((peer) => ("cidr" in peer ? [{ ipBlock: { cidr: peer.cidr } }] : [])),
        ports: r.ports?.map((p) => ({ port: String(p.port), protocol: p.protocol ?? "TCP" })),
      }));
    new NetworkPolicyV1(this, "DexEgress", {
      metadata: { name: "dex-egress", namespace: argocd.name },
      spec: {
        podSelector: { matchLabels: { ...dex.podLabels } },
        policyTypes: ["Egress"],
        egress: [
          DNS_EGRESS,
          {
            to: directory.directoryCidrs.map((cidr) => ({ ipBlock: { cidr } })),
            ports: [{ port: String(dex.port), protocol: "TCP" }],
          },
          ...rule(kubernetesApiRules(target)),
        ],
      },
    });
  }
}

/** What the directory login needs from the target and the environment, for `directory-login.ts`. */
function directoryLoginProps(target: ClusterTarget, domain: string): DirectoryLoginProps {
  const login = target.directoryLogin!;
  return {
    directory: login.directory,
    roles: login.roles,
    hosts: {
      argocd: `argocd.${domain}`,
      grafana: `grafana.${domain}`,
      mlflow: `mlflow.${domain}`,
      pipelines: `pipelines.${domain}`,
    },
    namespaces: { argocd: NS.argocd, monitoring: NS.monitoring, mlflow: NS.mlflow, pipelines: NS.kubeflow },
    disableLocalAdmins: login.disableLocalAdmins,
    issuerCaSecret: login.issuerCaSecret,
  };
}

/** Grafana's login against Dex, and the Ingress its redirect URI needs (`grafana.<domain>`). */
function grafanaLogin(
  target: ClusterTarget,
  login: DirectoryLoginProps,
  exposure: "internal" | "public",
): Record<string, unknown> {
  const host = login.hosts.grafana;
  const tlsSecret = target.traffic.ingressTlsSecret?.(host);
  return mergeValues(grafanaLoginValues(login), {
    grafana: {
      ingress: {
        enabled: true,
        ingressClassName: target.traffic.ingressClassName,
        annotations: target.traffic.ingressAnnotations(exposure),
        hosts: [host],
        path: "/",
        pathType: "Prefix",
        ...(tlsSecret ? { tls: [{ secretName: tlsSecret, hosts: [host] }] } : {}),
      },
    },
  });
}

/** MLflow's OIDC mode, with the plugin's users in their own database of the platform's PostgreSQL. */
function mlflowLogin(target: ClusterTarget, login: DirectoryLoginProps) {
  const usersDatabase = {
    host: target.database.host,
    port: target.database.port,
    database: MLFLOW_LOGIN_DATABASE,
    secret: MLFLOW_DATABASE_USER.secretName,
  };
  return {
    values: mlflowLoginValues({ ...login, mlflowUsersDatabase: usersDatabase }),
    caMounts: mlflowIssuerCaMounts(login),
    usersDatabase,
    serverImage: MLFLOW_SERVER_IMAGE,
    editorGroups: login.roles.editors,
  };
}

/**
 * NetworkPolicy rules of the login's flows (`loginFlows`) in one isolated namespace: the issuer
 * is the Argo CD host as pods resolve it, the ingress controller's nodes; the directory is its
 * address ranges.
 */
function loginTrafficRules(
  target: ClusterTarget,
  flows: readonly LoginFlow[],
  namespace: string,
  direction: LoginFlow["direction"],
): TrafficRule[] {
  return flows
    .filter((flow) => flow.namespace === namespace && flow.direction === direction)
    .map((flow) => {
      const peer = flow.peer;
      const peers =
        peer.kind === "pods"
          ? [{ namespace: peer.namespace, podLabels: peer.podLabels }]
          : peer.kind === "directory"
            ? (target.directoryLogin?.directoryCidrs ?? []).map((cidr) => ({ cidr }))
            : entryPeers(target);
      return {
        name: `login-${peer.kind}-${flow.port}`,
        podLabels: flow.podLabels,
        peers,
        ports: [{ port: flow.port }],
      };
    });
}

/**
 * Where entry traffic comes from as the policy engine sees it: the load balancer's or ingress
 * nodes' ranges, and the ingress controller's pods where they proxy from the pod network (which
 * is also where pods reach an ingress host after DNAT).
 */
function entryPeers(target: ClusterTarget): TrafficPeer[] {
  return [
    ...target.traffic.sourceCidrs.map((cidr) => ({ cidr })),
    ...(target.traffic.sourcePods ?? []).map((pods) => ({
      namespace: pods.namespace,
      podLabels: pods.podLabels,
    })),
  ];
}

/**
 * The one label the GPU Operator confines its operands (through Node Feature Discovery's worker)
 * to, and keeps its own pods off.
 */
function singleGpuLabel(target: ClusterTarget): { labelKey: string; labelValue: string } {
  const labels = Object.entries(target.gpuNodes.labels);
  if (labels.length !== 1) {
    throw new Error(
      `PlatformStack: ${target.description} selects its GPU nodes by ${labels.length} labels (${JSON.stringify(target.gpuNodes.labels)}); the GPU Operator takes exactly one; fix: label the GPU nodes with one key the target names`,
    );
  }
  const [[labelKey, labelValue]] = labels;
  return { labelKey, labelValue };
}

/**
 * Egress to the Kubernetes API as the target's policy engine sees it. Pods dial the `kubernetes`
 * Service; an engine that matches `ipBlock` before DNAT (the VPC CNI agent) sees that Service
 * IP and port, one that matches after DNAT (Calico) sees the API server's own addresses. Both
 * rules are kept where the first applies, for clients that dial the endpoints directly.
 */
export function kubernetesApiRules(target: ClusterTarget): TrafficRule[] {
  const endpoints: TrafficRule = {
    name: "kubernetes-api",
    peers: target.apiServer.cidrs.map((cidr) => ({ cidr })),
    ports: [{ port: target.apiServer.port }],
  };
  if (target.networkPolicyEngine === "post-dnat") return [endpoints];
  return [
    {
      name: "kubernetes-api-service",
      peers: [{ cidr: `${target.apiServer.serviceIp}/32` }],
      ports: [{ port: target.apiServer.servicePort }],
    },
    endpoints,
  ];
}
