import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { DataKubernetesSecretV1 } from "@cdktf/provider-kubernetes/lib/data-kubernetes-secret-v1";
import type { AnyEnvironment } from "../environments/targets";
import type { ReleaseContent } from "../environments/release-schema";
import type { ClusterTarget } from "../constructs/platform/cluster-target";
import { PLATFORM_SERVICE_ACCOUNTS } from "../constructs/platform/service-accounts";
import { ModelServing, type ServingExposure } from "../constructs/serving/model-serving";
import {
  KSERVE_CA_BUNDLE,
  kserveObjectStoreAnnotations,
  objectStoreAccess,
} from "../constructs/serving/object-store-access";
import {
  InferenceServices,
  PREDICTION_LOG_PREFIX,
  PREDICTOR_HEALTH_PATH,
  PREDICTOR_HTTP_PORT,
} from "../constructs/serving/inference-services";
import { InferenceRoutes, inferenceServiceHost } from "../constructs/serving/inference-routes";
import { ScheduledJobs } from "../constructs/serving/scheduled-jobs";
import { ModelMonitoringJobs } from "../constructs/serving/model-monitoring";
import { ModelRegistration } from "../constructs/serving/model-registration";
import {
  ModelMonitoringThresholds,
  type MonitoredModel,
} from "../constructs/serving/model-monitoring-thresholds";
import { PERFORMANCE_DIRECTIONS } from "../constructs/lib/monitoring-contract";
import { upstreamOf } from "../environments/promotion";
import { imageFrom, pullSecrets } from "../constructs/platform/image-mirror";
import { MLFLOW_ARTIFACT_PATH } from "../constructs/platform/mlflow";
import { imageName } from "../constructs/lib/workload-defaults";
import { configureStateBackend } from "./state-backend";
import { configureClusterProviders } from "./cluster-providers";
import { MLFLOW_CLIENT, MLFLOW_SERVER_IMAGE, PLATFORM_NAMESPACES } from "./platform-stack";

export interface ServingStackProps {
  readonly environment: AnyEnvironment;
  readonly target: ClusterTarget;
  readonly release: ReleaseContent;
  /** In-cluster MLflow tracking URI. */
  readonly trackingUri: string;
}

/** Secret with the workloads' MLflow credentials, kept in sync by the platform (see MLFLOW_CLIENT). */
export const MLFLOW_CLIENT_SECRET = MLFLOW_CLIENT.secretName;

/**
 * The workload of one environment, from its release file: the serving Deployment, one KServe
 * InferenceService per model (custom resources live here, planned after the platform installed
 * their CRDs), and the monthly retraining and nightly batch-inference CronJobs.
 */
export class ServingStack extends TerraformStack {
  public readonly serving: ModelServing;
  /** Set where releases arrive by promotion (the producing environment's registry is its own source of truth). */
  public readonly registration?: ModelRegistration;
  public readonly inferenceServices: InferenceServices;
  public readonly inferenceRoutes: InferenceRoutes;
  public readonly jobs: ScheduledJobs;
  public readonly monitoringThresholds: ModelMonitoringThresholds;
  /** The models' monitoring CronJobs, where a model logs. */
  public readonly monitoringJobs?: ModelMonitoringJobs;

  constructor(scope: Construct, id: string, props: ServingStackProps) {
    super(scope, id);
    const { environment: env, target, release } = props;
    const namespace = PLATFORM_NAMESPACES.serving;
    configureStateBackend(this, id, env);
    configureClusterProviders(this, target.access, false);

    // The plan fails, naming the image and how to push it, unless the release's images are in
    // the target's registry: nothing is deployed that would wait for an image never built.
    const releaseFile = `environments/releases/${env.name}.json`;
    target.registry.requireImages(this, {
      serving: { image: release.serving.image, source: `serving.image of ${releaseFile}` },
      training: { image: release.training.image, source: `training.image of ${releaseFile}` },
      ...(release.monitoring
        ? { monitoring: { image: release.monitoring.image, source: `monitoring.image of ${releaseFile}` } }
        : {}),
    });

    const pullSecret = target.imageMirror?.pullSecretName;
    const serviceAccount = (
      name: keyof typeof PLATFORM_SERVICE_ACCOUNTS,
      extra: Record<string, string> = {},
      secrets: string[] = [],
    ) => {
      const ref = PLATFORM_SERVICE_ACCOUNTS[name];
      if (ref.namespace !== namespace) {
        throw new Error(
          `ServingStack: identity ${name} is bound to namespace ${ref.namespace}, not ${namespace}`,
        );
      }
      return new ServiceAccountV1(this, `${name[0].toUpperCase()}${name.slice(1)}Account`, {
        metadata: {
          name: ref.name,
          namespace,
          annotations: { ...target.serviceAccountAnnotations(name), ...extra },
        },
        automountServiceAccountToken: false,
        imagePullSecret: pullSecrets(pullSecret),
        ...(secrets.length > 0 ? { secret: secrets.map((secret) => ({ name: secret })) } : {}),
      });
    };

    const store = target.objectStore;
    // Endpoint, keys and CA bundle of the S3-compatible store; nothing on S3 with workload identity.
    const storeAccess = objectStoreAccess(store);
    const servingHost = `serving.${env.platform.domain}`;
    const exposure: ServingExposure =
      target.traffic.servingExposure === "load-balancer"
        ? {
            kind: "load-balancer",
            annotations: target.traffic.loadBalancerServiceAnnotations(env.serving.exposure),
          }
        : {
            kind: "ingress",
            host: servingHost,
            className: target.traffic.ingressClassName,
            annotations: target.traffic.ingressAnnotations(env.serving.exposure),
            tlsSecret: target.traffic.ingressTlsSecret?.(servingHost),
          };

    // The served version must exist, with the release's alias, in this environment's MLflow:
    // promotion copies the release and replication the files, never the registry's entries.
    const served = release.models.find((entry) => entry.registeredModel === release.serving.model.name);
    if (!served) {
      throw new Error(
        `${releaseFile}: current.serving.model.name = "${release.serving.model.name}": is the registeredModel of no models[] entry; fix: add the served version to current.models[] (registeredModel, version, artifactPath) or name one of theirs`,
      );
    }
    // Only where releases arrive by promotion: in the environment that trains and registers models,
    // its registry (and whoever moves its aliases) is the source of truth.
    const registration = upstreamOf(env.name)
      ? new ModelRegistration(this, "ModelRegistration", {
          namespace,
          image: imageFrom(target.imageMirror, MLFLOW_SERVER_IMAGE),
          imagePullSecret: pullSecret,
          trackingUri: props.trackingUri,
          credentialsSecret: MLFLOW_CLIENT_SECRET,
          model: release.serving.model,
          artifactsBucket: target.objectStore.artifactsBucket,
          artifactPath: served.artifactPath,
          releaseVersion: served.version,
          proxiedArtifactPrefix: MLFLOW_ARTIFACT_PATH,
        })
      : undefined;
    this.registration = registration;

    const servedLogMode = served.monitoring.logging.mode;
    this.serving = new ModelServing(this, "ModelServing", {
      // The served model's logging mode goes with the URI: a model whose inputs are personal data
      // logs responses only, and the server must hold to that as KServe's logger does.
      ...(servedLogMode !== "off"
        ? {
            predictionLogUri: `s3://${store.dataBucket}/${PREDICTION_LOG_PREFIX}${served.name}`,
            predictionLogMode: servedLogMode,
          }
        : {}),
      namespace,
      image: imageName(target.registry.servingRepository, release.serving.image),
      serviceAccount: {
        name: PLATFORM_SERVICE_ACCOUNTS.modelServing.name,
        annotations: target.serviceAccountAnnotations("modelServing"),
      },
      trackingUri: props.trackingUri,
      mlflowCredentialsSecret: MLFLOW_CLIENT_SECRET,
      model: release.serving.model,
      replicas: env.serving.replicas,
      maxReplicas: env.serving.maxReplicas,
      exposure,
      placement: target.placement.general,
      imagePullSecret: pullSecret,
      objectStore: storeAccess,
      dependsOn: registration ? [registration.job] : [],
    });

    // KServe's storage initializer (v0.20 credential builder) takes the s3-* settings from the
    // predictor's service account where it carries a web identity role (IRSA), and otherwise
    // from the annotations of the Secret the service account lists, whose
    // AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY keys it reads as the chart configures it.
    const storeSecret = store.credentials.kind === "secret" ? store.credentials.secretName : undefined;
    const predictorAccount = storeSecret
      ? serviceAccount("kservePredictor", {}, [storeSecret])
      : serviceAccount("kservePredictor", kserveObjectStoreAnnotations(store));
    if (store.caBundle) {
      // KServe mounts a CA bundle from a ConfigMap only: a copy of the CA certificate (public
      // material) from its Secret in this namespace, which the storage initializer (by the
      // s3-cabundle-configmap annotation) and the logger's agent (by the `logger` entry the
      // platform stack writes into inferenceservice-config) mount at /etc/tls/logger.
      const ca = new DataKubernetesSecretV1(this, "ObjectStoreCaBundle", {
        metadata: { name: store.caBundle.name, namespace },
      });
      new ConfigMapV1(this, "KserveObjectStoreCa", {
        metadata: { name: KSERVE_CA_BUNDLE.configMap, namespace },
        data: { [KSERVE_CA_BUNDLE.file]: ca.data.lookup(store.caBundle.key) },
      });
    }
    // Where the store takes keys, the platform copies the keys Secret into this namespace with
    // KServe's s3-* annotations (kserveObjectStoreAnnotations).
    this.inferenceServices = new InferenceServices(this, "InferenceServices", {
      namespace,
      models: release.models,
      artifactsBucket: store.artifactsBucket,
      serviceAccountName: predictorAccount.metadata.name,
      predictionLogBucket: store.dataBucket,
      gpuPlacement: target.placement.gpu,
      imagePullSecret: pullSecret,
    });
    // The models' routes, which split a canary's share by weight: published with the UIs'
    // ingress settings (one load balancer group, same scheme), the health check on the v2
    // readiness path (the runtimes answer 404 on `/`) of the runtime's own port: the Service of a
    // model that logs targets KServe's agent, which would log every health check as a prediction
    // (v0.20.0 `pkg/logger/handler.go` passes only kubelet probes through unlogged).
    this.inferenceRoutes = new InferenceRoutes(this, "InferenceRoutes", {
      namespace,
      models: release.models,
      host: (model) => inferenceServiceHost(model, namespace, env.platform.domain),
      className: target.traffic.ingressClassName,
      annotations: {
        ...target.traffic.ingressAnnotations(env.platform.exposure),
        ...target.traffic.healthCheckAnnotations(PREDICTOR_HEALTH_PATH, PREDICTOR_HTTP_PORT),
      },
      tlsSecret: target.traffic.ingressTlsSecret?.bind(target.traffic),
      weightedRouting: target.traffic.weightedRouting,
      inferenceServices: this.inferenceServices.byModel,
    });

    // The thresholds of the model-monitoring alerts, one series per model: the release's, else the
    // environment's drift threshold; a performance threshold only where the release names one.
    this.monitoringThresholds = new ModelMonitoringThresholds(this, "ModelMonitoringThresholds", {
      namespace,
      models: release.models.map((entry): MonitoredModel => {
        const performance = entry.monitoring.performance;
        return {
          model: entry.name,
          logs: entry.monitoring.logging.mode !== "off",
          schedule: entry.monitoring.schedule ?? env.monitoring.schedule,
          driftThreshold: entry.monitoring.driftThreshold ?? env.monitoring.driftThreshold,
          ...(performance
            ? {
                performance: {
                  metric: performance.metric,
                  threshold: performance.threshold,
                  direction: PERFORMANCE_DIRECTIONS[performance.metric],
                },
              }
            : {}),
        };
      }),
    });

    const training = serviceAccount("modelTraining");
    const batch = serviceAccount("batchInference");
    const trainingImage = imageName(target.registry.trainingRepository, release.training.image);
    const model = release.serving.model;
    const common = { MLFLOW_TRACKING_URI: props.trackingUri, AWS_DEFAULT_REGION: store.region };
    this.jobs = new ScheduledJobs(this, "ScheduledJobs", {
      namespace,
      jobs: [
        {
          name: "model-retraining",
          // Every 30 days or so: the first of each month, 03:00 UTC.
          schedule: "0 3 1 * *",
          image: trainingImage,
          args: ["train", "--registered-model", model.name, "--data", `s3://${store.dataBucket}/training/`],
          serviceAccountName: training.metadata.name,
          env: { ...common, MODEL_NAME: model.name },
          envFromSecret: MLFLOW_CLIENT_SECRET,
          placement: target.placement.training,
          imagePullSecret: pullSecret,
          objectStore: storeAccess,
          deadlineSeconds: 6 * 3600,
          resources: { requests: { cpu: "4", memory: "8Gi" }, limits: { cpu: "8", memory: "14Gi" } },
        },
        {
          name: "batch-inference",
          schedule: "0 2 * * *",
          image: trainingImage,
          args: [
            "batch-predict",
            "--model",
            `models:/${model.name}@${model.alias}`,
            "--input",
            `s3://${store.dataBucket}/batch/input/`,
            "--output",
            `s3://${store.dataBucket}/batch/predictions/`,
          ],
          serviceAccountName: batch.metadata.name,
          env: { ...common, MODEL_NAME: model.name, MODEL_ALIAS: model.alias },
          envFromSecret: MLFLOW_CLIENT_SECRET,
          placement: target.placement.general,
          imagePullSecret: pullSecret,
          objectStore: storeAccess,
          deadlineSeconds: 2 * 3600,
          resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
        },
      ],
    });

    // Per model that logs, its drift and performance job on the training nodes, pushing to the
    // platform's Pushgateway; the release names the image (validation requires it then).
    const monitored = release.models.filter((entry) => entry.monitoring.logging.mode !== "off");
    if (monitored.length > 0) {
      if (!release.monitoring) {
        throw new Error(
          `${releaseFile}: monitoring.image is missing while ${monitored.map((entry) => entry.name).join(", ")} log predictions; fix: add "monitoring": { "image": { "digest": "sha256:<64 hex>" } }`,
        );
      }
      const monitoringAccount = serviceAccount("modelMonitoring");
      this.monitoringJobs = new ModelMonitoringJobs(this, "ModelMonitoringJobs", {
        namespace,
        image: imageName(target.registry.trainingRepository, release.monitoring.image),
        serviceAccountName: monitoringAccount.metadata.name,
        placement: target.placement.training,
        imagePullSecret: pullSecret,
        objectStore: storeAccess,
        region: store.region,
        dataBucket: store.dataBucket,
        artifactsBucket: store.artifactsBucket,
        predictionPrefix: PREDICTION_LOG_PREFIX,
        pushgatewayNamespace: PLATFORM_NAMESPACES.monitoring,
        models: monitored.map((entry) => ({
          name: entry.name,
          versions: [entry.version, ...(entry.canary ? [entry.canary.version] : [])],
          referenceData: entry.monitoring.referenceData!,
          groundTruth: entry.monitoring.groundTruth,
          metric: entry.monitoring.performance?.metric,
          schedule: entry.monitoring.schedule ?? env.monitoring.schedule,
        })),
      });
    }
  }
}
