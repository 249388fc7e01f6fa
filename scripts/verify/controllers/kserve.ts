/**
 * What the KServe v0.20.0 controller creates from an InferenceService in Standard
 * (RawDeployment) mode, modelled from its source at the tag so the quota, network, reference
 * and routing rules run on the objects that will exist:
 * - per predictor, the primary and each `spec.canary[]` one, a Deployment, a Service and an
 *   HorizontalPodAutoscaler named `<isvc>-<predictor.name>-predictor`
 *   (pkg/constants/constants.go PredictorServiceName; components/predictor.go Reconcile,
 *   buildObjectMeta, reconcileCanaryDeployments, canaryReplicaCount, buildCanaryPredictor);
 * - one Ingress named after the InferenceService whose rules all point at the primary's Service
 *   on port 80 (reconcilers/ingress/kube_ingress_reconciler.go createRawIngress, generateRule):
 *   no rule sends anything to a canary.
 */
import type { Decoded, KubernetesObject } from "../convert";
import type { Container, PodSpec } from "../workloads";
import { selectRuntime } from "../workloads";

/** An object a controller creates, with who creates it (the state's `source`). */
export interface ControllerObject {
  readonly object: KubernetesObject;
  readonly source: string;
}

/** MLServer's model class per model format, as KServe's MLServer defaults set the `modelClass` label. */
const MLSERVER_MODEL_CLASSES: Readonly<Record<string, string>> = {
  sklearn: "mlserver_sklearn.SKLearnModel",
  xgboost: "mlserver_xgboost.XGBoostModel",
  lightgbm: "mlserver_lightgbm.LightGBMModel",
  mlflow: "mlserver_mlflow.MLflowRuntime",
};

/** Port every predictor Service and Ingress backend uses (constants.CommonDefaultHttpPort). */
export const KSERVE_SERVICE_PORT = 80;
/** The agent's port (constants.InferenceServiceDefaultAgentPort). */
const KSERVE_AGENT_PORT = 9081;
/** Container port when the runtime names none (constants.InferenceServiceDefaultHttpPort). */
const KSERVE_DEFAULT_CONTAINER_PORT = 8080;

/** `<isvc>-<predictor>-predictor`, or `<isvc>-predictor` for an unnamed predictor (PredictorServiceName). */
export function predictorServiceName(isvc: string, predictor?: string): string {
  return predictor ? `${isvc}-${predictor}-predictor` : `${isvc}-predictor`;
}

/** The controller's `ingress` settings, from the `inferenceservice-config` ConfigMap in the state. */
export interface KserveIngressConfig {
  readonly ingressClassName?: string;
  readonly ingressDomain: string;
  readonly domainTemplate: string;
  readonly disableIngressCreation: boolean;
}

export function kserveIngressConfig(objects: readonly KubernetesObject[]): KserveIngressConfig | undefined {
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "inferenceservice-config");
  const text = (config as { data?: Record<string, string> } | undefined)?.data?.ingress;
  if (!text) return undefined;
  const ingress = JSON.parse(text) as Partial<KserveIngressConfig>;
  return {
    ingressClassName: ingress.ingressClassName,
    ingressDomain: ingress.ingressDomain ?? "example.com",
    domainTemplate: ingress.domainTemplate ?? "{{ .Name }}-{{ .Namespace }}.{{ .IngressDomain }}",
    disableIngressCreation: ingress.disableIngressCreation === true,
  };
}

/** The host GenerateDomainName (reconcilers/ingress/domain.go) builds from the domain template. */
export function generateDomainName(config: KserveIngressConfig, name: string, namespace: string): string {
  return config.domainTemplate
    .replace(/\{\{\s*\.Name\s*\}\}/g, name)
    .replace(/\{\{\s*\.Namespace\s*\}\}/g, namespace)
    .replace(/\{\{\s*\.IngressDomain\s*\}\}/g, config.ingressDomain);
}

type Predictor = Record<string, Decoded>;

/** Where KServe v0.20.0 mounts the logger entry's `caBundle` ConfigMap in the agent (constants.LoggerCaCertMountPath). */
export const KSERVE_LOGGER_CA_MOUNT_PATH = "/etc/tls/logger";
/** The pod volume of that ConfigMap (constants.LoggerCaBundleVolume). */
const KSERVE_LOGGER_CA_VOLUME = "agent-ca-bundle";
/** The service account a logger's storage credentials come from when it names none (LoggerDefaultServiceAccountName). */
const KSERVE_LOGGER_DEFAULT_ACCOUNT = "logger-sa";
/** A service account annotation that makes the credential builder read the account's s3-* annotations. */
const AWS_IRSA_ANNOTATION = "eks.amazonaws.com/role-arn";
const S3_CA_BUNDLE_ANNOTATION = "serving.kserve.io/s3-cabundle";

/** One entry (JSON text) of the `inferenceservice-config` ConfigMap in the state, as the live object holds it. */
function kserveConfigEntry(
  objects: readonly KubernetesObject[],
  key: string,
): Record<string, unknown> | undefined {
  const config = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "inferenceservice-config");
  const text = (config as { data?: Record<string, string> } | undefined)?.data?.[key];
  return text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
}

/**
 * The AWS_CA_BUNDLE KServe v0.20.0's credential builder gives a container from a service account
 * (credentials/service_account_credentials.go CreateSecretVolumeAndEnvFromServiceAccount): the
 * account's own `serving.kserve.io/s3-cabundle` where it carries a web identity role, then that
 * of each Secret it lists, falling back to `s3.s3CABundle` of the `credentials` entry
 * (s3/utils.go BuildS3EnvVars, getEnvValue). The Secrets' data is not in the state (copied from
 * hand-made Secrets): a listed Secret is taken to hold S3 keys, and its data no AWS_CA_BUNDLE key.
 */
function credentialCaBundle(
  objects: readonly KubernetesObject[],
  namespace: string,
  accountName: string,
): string | undefined {
  const find = (kind: string, name: string) =>
    objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace);
  const account = find("ServiceAccount", accountName);
  if (!account) return undefined;
  const s3 = (kserveConfigEntry(objects, "credentials")?.s3 ?? {}) as Record<string, string>;
  const fromAnnotations = (annotations: Record<string, string> | undefined) => {
    const value = annotations?.[S3_CA_BUNDLE_ANNOTATION] ?? s3.s3CABundle;
    return value ? value : undefined;
  };
  let bundle: string | undefined;
  if (account.metadata.annotations?.[AWS_IRSA_ANNOTATION] !== undefined)
    bundle = fromAnnotations(account.metadata.annotations);
  for (const ref of (account as { secrets?: { name: string }[] }).secrets ?? []) {
    const secret = find("Secret", ref.name);
    if (secret) bundle = fromAnnotations(secret.metadata.annotations) ?? bundle;
  }
  return bundle;
}

/**
 * The agent container KServe v0.20.0's pod webhook adds to a predictor pod whose predictor sets
 * a `logger` (pod/agent_injector.go InjectAgent): named `agent`, its image and resources from the
 * `agent` entry of the `inferenceservice-config` ConfigMap, the runtime container's security
 * context copied, port 9081; where the live `logger` entry has a `caBundle`, that ConfigMap
 * (optional) mounted at /etc/tls/logger; the credential builder's AWS_CA_BUNDLE from the pod's
 * service account and from the logger storage's. Undefined without a logger or without the
 * ConfigMap in the state.
 */
function loggerAgent(
  objects: readonly KubernetesObject[],
  namespace: string,
  predictor: Predictor,
  runtime?: Container,
): { container: Container; volumes: Record<string, Decoded>[] } | undefined {
  if (!predictor.logger) return undefined;
  const agent = kserveConfigEntry(objects, "agent") as Record<string, string> | undefined;
  if (!agent) return undefined;
  const logger = kserveConfigEntry(objects, "logger") ?? {};
  const caBundle =
    typeof logger.caBundle === "string" && logger.caBundle !== "" ? logger.caBundle : undefined;
  const accounts = [
    (predictor.serviceAccountName as string | undefined) ?? "default",
    ...(predictor.logger.storage
      ? [(predictor.logger.storage.serviceAccountName as string | undefined) || KSERVE_LOGGER_DEFAULT_ACCOUNT]
      : []),
  ];
  const bundle = accounts
    .map((account) => credentialCaBundle(objects, namespace, account))
    .filter((value): value is string => value !== undefined)
    .pop();
  return {
    container: {
      name: "agent",
      image: agent.image,
      ports: [{ name: "agent-port", containerPort: KSERVE_AGENT_PORT, protocol: "TCP" }],
      resources: {
        requests: { cpu: agent.cpuRequest, memory: agent.memoryRequest },
        limits: { cpu: agent.cpuLimit, memory: agent.memoryLimit },
      },
      ...(runtime?.securityContext ? { securityContext: structuredClone(runtime.securityContext) } : {}),
      ...(bundle ? { env: [{ name: "AWS_CA_BUNDLE", value: bundle }] } : {}),
      ...(caBundle
        ? {
            volumeMounts: [
              { name: KSERVE_LOGGER_CA_VOLUME, mountPath: KSERVE_LOGGER_CA_MOUNT_PATH, readOnly: true },
            ],
          }
        : {}),
    },
    volumes: caBundle
      ? [{ name: KSERVE_LOGGER_CA_VOLUME, configMap: { name: caBundle, optional: true } }]
      : [],
  };
}

/**
 * The pod spec the controller builds for a predictor: the selected runtime's `kserve-container`
 * with the model's container fields merged over it, then the predictor's own containers, and
 * the pod fields of the predictor.
 */
function predictorPodSpec(
  objects: readonly KubernetesObject[],
  namespace: string,
  predictor: Predictor,
): { spec: PodSpec; labels: Record<string, string> } {
  const {
    model,
    name: _name,
    minReplicas: _min,
    maxReplicas: _max,
    containers,
    labels: _labels,
    annotations: _annotations,
    ...podFields
  } = predictor;
  const labels: Record<string, string> = {};
  let modelContainer: Container | undefined;
  if (model) {
    const runtime = selectRuntime(objects, namespace, model);
    const base = runtime?.spec.containers?.find((c) => c.name === "kserve-container") ?? {
      name: "kserve-container",
    };
    const own = Object.fromEntries(
      Object.entries(model as Record<string, unknown>).filter(
        ([k]) => !["modelFormat", "storageUri", "storage", "runtime", "protocolVersion", "name"].includes(k),
      ),
    );
    modelContainer = {
      ...base,
      ...own,
      name: "kserve-container",
      env: [...(base.env ?? []), ...((own.env as Container["env"]) ?? [])],
    };
    // setDefaultPodSpec (reconcilers/deployment/deployment_reconciler.go): a container without a
    // readiness probe gets a TCP one on its first port, else 8080.
    if (!modelContainer.readinessProbe) {
      const port = modelContainer.ports?.[0]?.containerPort ?? KSERVE_DEFAULT_CONTAINER_PORT;
      modelContainer.readinessProbe = {
        tcpSocket: { port },
        timeoutSeconds: 1,
        periodSeconds: 10,
        successThreshold: 1,
        failureThreshold: 3,
      };
    }
    if (runtime?.name === "kserve-mlserver") {
      labels.modelClass =
        MLSERVER_MODEL_CLASSES[model.modelFormat?.name ?? ""] ?? MLSERVER_MODEL_CLASSES.sklearn;
    }
  }
  const { logger: _logger, ...podOnly } = podFields;
  const ownContainers = [...(modelContainer ? [modelContainer] : []), ...((containers as Container[]) ?? [])];
  const agent = loggerAgent(objects, namespace, predictor, ownContainers[0]);
  const pod = podOnly as PodSpec;
  return {
    spec: {
      ...pod,
      containers: [...ownContainers, ...(agent ? [agent.container] : [])],
      ...(agent && agent.volumes.length > 0 ? { volumes: [...(pod.volumes ?? []), ...agent.volumes] } : {}),
    },
    labels,
  };
}

/** Service ports as createDefaultSvc (reconcilers/service/service_reconciler.go) builds them. */
function servicePorts(spec: PodSpec, name: string, logs: boolean): Record<string, Decoded>[] {
  const container = spec.containers[0];
  if (!container) return [];
  const ports = container.ports ?? [];
  // With a logger the first port targets the agent, which forwards to the runtime.
  const first = (port: number) => (logs ? KSERVE_AGENT_PORT : port);
  if (ports.length === 0)
    return [
      { name, port: KSERVE_SERVICE_PORT, targetPort: first(KSERVE_DEFAULT_CONTAINER_PORT), protocol: "TCP" },
    ];
  return ports.map((p, i) => ({
    ...(p.name ? { name: p.name } : {}),
    port: i === 0 ? KSERVE_SERVICE_PORT : p.containerPort,
    targetPort: i === 0 ? first(p.containerPort) : p.containerPort,
    protocol: p.protocol ?? "TCP",
  }));
}

/** A predictor's Deployment, Service and HPA (raw_kube_reconciler.go, deployment, service, hpa reconcilers). */
function predictorObjects(
  objects: readonly KubernetesObject[],
  isvc: KubernetesObject,
  predictor: Predictor,
  replicas: { min: number; max: number },
): KubernetesObject[] {
  const isvcName = isvc.metadata.name ?? "";
  const namespace = isvc.metadata.namespace ?? "default";
  const name = predictorServiceName(isvcName, predictor.name as string | undefined);
  const pod = predictorPodSpec(objects, namespace, predictor);
  // buildObjectMeta: runtime labels < InferenceService labels < predictor labels < KServe's own.
  const labels: Record<string, string> = {
    ...(isvc.metadata.labels ?? {}),
    ...((predictor.labels as Record<string, string> | undefined) ?? {}),
    "serving.kserve.io/inferenceservice": isvcName,
    component: "predictor",
  };
  const app = `isvc.${name}`;
  const meta = { name, namespace, labels };
  return [
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta,
      spec: {
        replicas: replicas.min,
        selector: { matchLabels: { app } },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } },
        template: { metadata: { labels: { ...labels, ...pod.labels, app } }, spec: pod.spec },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: { selector: { app }, ports: servicePorts(pod.spec, name, predictor.logger !== undefined) },
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta,
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
        minReplicas: replicas.min,
        maxReplicas: Math.max(replicas.max, replicas.min),
      },
    },
  ];
}

/** Everything the KServe controller creates for one InferenceService in Standard mode. */
export function kserveObjects(
  isvc: KubernetesObject,
  objects: readonly KubernetesObject[],
): ControllerObject[] {
  const spec = (isvc.spec ?? {}) as {
    predictor?: Predictor;
    canary?: { predictor?: Predictor; trafficPercent?: number }[];
  };
  const mode = isvc.metadata.annotations?.["serving.kserve.io/deploymentMode"];
  if (!spec.predictor || (mode !== "Standard" && mode !== "RawDeployment")) return [];
  const isvcName = isvc.metadata.name ?? "";
  const namespace = isvc.metadata.namespace ?? "default";
  const source = `controller (KServe v0.20.0, from InferenceService ${namespace}/${isvcName})`;
  const primary = spec.predictor;
  // createHPA: minReplicas below 1 is 1; maxReplicas below minReplicas is minReplicas.
  const min = Math.max(typeof primary.minReplicas === "number" ? primary.minReplicas : 1, 1);
  const max = typeof primary.maxReplicas === "number" ? primary.maxReplicas : min;
  const out = predictorObjects(objects, isvc, primary, { min, max });
  for (const canary of spec.canary ?? []) {
    if (!canary.predictor) continue;
    // canaryReplicaCount: the canary's minReplicas, else ceil(stable minimum x trafficPercent / 100).
    const replicas =
      typeof canary.predictor.minReplicas === "number"
        ? canary.predictor.minReplicas
        : Math.ceil((min * (canary.trafficPercent ?? 0)) / 100);
    // buildCanaryPredictor: the canary's fields merged over the primary's, fixed replicas.
    const merged: Predictor = {
      ...primary,
      ...canary.predictor,
      model: { ...(primary.model ?? {}), ...(canary.predictor.model ?? {}) },
    };
    out.push(...predictorObjects(objects, isvc, merged, { min: replicas, max: replicas }));
  }
  const config = kserveIngressConfig(objects);
  const internal = isvc.metadata.labels?.["networking.kserve.io/visibility"] === "cluster-local";
  if (config && !config.disableIngressCreation && !internal && config.ingressDomain !== "svc.cluster.local") {
    const backend = predictorServiceName(isvcName, primary.name as string | undefined);
    const rule = (host: string) => ({
      host,
      http: {
        paths: [
          {
            path: "/",
            pathType: "Prefix",
            backend: { service: { name: backend, port: { number: KSERVE_SERVICE_PORT } } },
          },
        ],
      },
    });
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      // Only name, namespace and the InferenceService's annotations (createRawIngress).
      metadata: { name: isvcName, namespace, annotations: { ...(isvc.metadata.annotations ?? {}) } },
      spec: {
        ...(config.ingressClassName ? { ingressClassName: config.ingressClassName } : {}),
        rules: [
          rule(generateDomainName(config, isvcName, namespace)),
          rule(generateDomainName(config, backend, namespace)),
        ],
      },
    });
  }
  return out.map((object) => ({ object, source }));
}
