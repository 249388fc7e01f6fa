import { Construct } from "constructs";
import type { NodePlacement } from "../platform/cluster-target";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import { RESTRICTED_WRITABLE_ROOT_SECURITY, type ContainerResources } from "../lib/workload-defaults";

/** A model the release serves (the release file's `models[]` entry). */
export interface ServedModel {
  /** InferenceService name and the model's label in metrics. */
  readonly name: string;
  readonly registeredModel: string;
  readonly version: number;
  /** Path of the version's files inside the artifacts bucket. */
  readonly artifactPath: string;
  /** KServe model format, e.g. `mlflow`. */
  readonly format: string;
  readonly gpu: boolean;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly canary?: {
    readonly version: number;
    readonly artifactPath: string;
    readonly trafficPercent: number;
  };
  /** Prediction logging; unset logs nothing. */
  readonly monitoring?: { readonly logging: PredictionLogging };
}

/** What KServe's payload logger records for a model, and how it batches records into objects. */
export interface PredictionLogging {
  readonly mode: "all" | "request" | "response" | "off";
  readonly batchSize: number;
  readonly batchInterval?: string;
}

/**
 * Port of the agent KServe v0.20.0 adds to a predictor pod that logs
 * (`constants.InferenceServiceDefaultAgentPort`): the predictor's Service then targets it, and
 * it forwards to the runtime.
 */
export const KSERVE_AGENT_PORT = 9081;

/** Prefix of the logged predictions in the data bucket, the same for every workload that logs. */
export const PREDICTION_LOG_PREFIX = "predictions/";

/**
 * Directory KServe's logger puts under its URL: it writes each batch to
 * `<url path>/<namespace>/<isvc>/<component>/<storage.path>/<first record id>-<request|response>.json`
 * (pkg/logger/store.go getObjectKey at v0.20.0).
 */
export const PREDICTION_LOG_RECORDS = "records";

/**
 * Where a model version's predictions are logged: `s3://<bucket>/predictions/<model>/v<version>`.
 * The version is in the URL because KServe v0.20 takes a canary's logger URL from the canary's
 * own predictor (components/predictor.go addLoggerAnnotations on the merged spec) but its
 * storage settings from the primary's (pod/agent_injector.go getLoggerConfigs).
 */
export function predictionLogUrl(bucket: string, model: string, version: number): string {
  return `s3://${bucket}/${PREDICTION_LOG_PREFIX}${model}/${predictorVersionLabel(version)}`;
}

export interface InferenceServicesProps {
  readonly namespace: string;
  readonly models: readonly ServedModel[];
  /** Bucket the models' artifact paths are in. */
  readonly artifactsBucket: string;
  /** Service account the predictors (and their storage initializer) run as. */
  readonly serviceAccountName: string;
  /** Where predictors of GPU models run: the GPU nodes' labels and the toleration of their taint. */
  readonly gpuPlacement: NodePlacement;
  /**
   * Existing image pull Secret the predictor pods (runtime, storage initializer) pull with; KServe
   * copies the predictor's `imagePullSecrets` into the pod it creates. Unset: none needed.
   */
  readonly imagePullSecret?: string;
  /**
   * Bucket the models' predictions are logged to (`PREDICTION_LOG_PREFIX`), with the predictor's
   * service account's store credentials. Unset: no model logs.
   */
  readonly predictionLogBucket?: string;
  /** @default requests 500m/1Gi, limits 1/2Gi */
  readonly resources?: ContainerResources;
}

const DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "500m", memory: "1Gi" },
  limits: { cpu: "1", memory: "2Gi" },
};

/**
 * The Open Inference Protocol (v2). KServe v0.20 takes an unset `protocolVersion` as v1, and the
 * only runtime that serves `mlflow` models, kserve-mlserver, supports v2 alone. Every format the
 * release schema allows has a runtime for v2 (tensorflow and onnx through Triton).
 */
export const PREDICTOR_PROTOCOL = "v2";

/** Readiness path of the v2 protocol, which every v2 runtime answers (MLServer: 200 once its models are ready). */
export const PREDICTOR_HEALTH_PATH = "/v2/health/ready";

/** Port the runtimes serve HTTP on: kserve-mlserver's `MLSERVER_HTTP_PORT`, kserve-tritonserver's `--http-port`. */
export const PREDICTOR_HTTP_PORT = 8080;

/**
 * Readiness of the runtime container: the v2 readiness path, which MLServer 1.5.0 (the image the
 * kserve-runtime-configs v0.20.0 chart runs) answers 200 only once every model it registered is
 * loaded, 400 while one is loading (rest/endpoints.py `ready`, handlers/dataplane.py `ready`).
 * Without it KServe v0.20.0 gives the container a TCP probe on 8080 (deployment_reconciler.go,
 * setDefaultPodSpec, which keeps a probe the predictor sets), and MLServer opens that port before
 * it loads the model: the pod would get requests, and a rolling update would retire the old pods,
 * before the model answers. The timeout leaves room for a busy server. No liveness or startup
 * probe: KServe sets none, and a failing readiness probe only holds traffic back, so a slow model
 * load is waited for (the Deployment's progress deadline, 600 s, only marks the rollout failed;
 * the old pods keep serving).
 */
export const PREDICTOR_READINESS_PROBE = {
  httpGet: { path: PREDICTOR_HEALTH_PATH, port: PREDICTOR_HTTP_PORT },
  periodSeconds: 10,
  timeoutSeconds: 5,
  failureThreshold: 3,
};

/** Name of the runtime container in every KServe serving runtime; the model container must keep it. */
export const RUNTIME_CONTAINER_NAME = "kserve-container";

/**
 * Pod labels of each predictor, which the predictor scrape turns into the `version` and `track`
 * labels of its series: the canary's error rate and latency stand beside the primary's.
 */
export const PREDICTOR_VERSION_LABEL = "mlops-platform/model-version";
export const PREDICTOR_TRACK_LABEL = "mlops-platform/track";

/** Which of an InferenceService's predictors: the stable one, or the canary beside it. */
export type PredictorTrack = "primary" | "canary";

/**
 * KServe's `predictor.name` of each track. The names are the tracks, never the model version:
 * KServe v0.20.0 deletes, on every Standard-mode reconcile, each predictor Deployment and Service
 * whose name is neither the stable predictor's nor a canary's (components/predictor.go,
 * reconcileCanaryDeployments), without waiting for the new one to be ready. With a name per
 * track a version change is a rolling update of the same Deployment, and the route's Services
 * never change name. The webhook asks a canary's name to be set and differ from the stable
 * one's (inference_service_validation.go, validateCanarySpecs). The version a pod serves is in
 * its `PREDICTOR_VERSION_LABEL`.
 */
export const PREDICTOR_NAMES: Readonly<Record<PredictorTrack, string>> = {
  primary: "primary",
  canary: "canary",
};

/** Value of `PREDICTOR_VERSION_LABEL` on the pods serving `version`. */
export function predictorVersionLabel(version: number): string {
  return `v${version}`;
}

/**
 * Name of the Deployment and Service KServe v0.20.0 makes for a track's predictor
 * (`constants.PredictorServiceName`: `<isvc>-<predictor>-predictor`). Its Service listens on
 * port 80 (`constants.CommonDefaultHttpPort`); its pods carry `app: isvc.<this name>`
 * (`constants.GetRawServiceLabel`), a label value of at most 63 characters, which bounds the
 * model names the release schema accepts.
 */
export function predictorServiceName(inferenceService: string, track: PredictorTrack): string {
  return `${inferenceService}-${PREDICTOR_NAMES[track]}-predictor`;
}

/** Port of every predictor Service KServe v0.20.0 makes (`constants.CommonDefaultHttpPort`). */
export const PREDICTOR_SERVICE_PORT = 80;

/** UID the runtime runs as: MLServer's image and KServe's storage initializer both declare `USER 1000`. */
export const PREDICTOR_UID = 1000;

/**
 * Pod security of the predictors (Pod Security "restricted"): non-root and RuntimeDefault seccomp
 * for every container, the storage initializer included. The group stays the image's own:
 * MLServer makes its home group-writable for group 0 so it runs under any UID.
 */
export const PREDICTOR_POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: PREDICTOR_UID,
  seccompProfile: { type: "RuntimeDefault" },
};

/**
 * Security of the runtime container, merged by KServe over the runtime's own. The root
 * filesystem stays writable: MLServer writes its metrics under its working directory
 * (`/opt/mlserver/.metrics`), its caches under `/opt/mlserver/.cache` and unpacks model
 * environments under `./envs`; Pod Security "restricted" does not ask for a read-only root.
 */
export const RUNTIME_CONTAINER_SECURITY = RESTRICTED_WRITABLE_ROOT_SECURITY;

/** The InferenceService condition KServe v0.20.0 sets True once every canary has an available replica. */
export const CANARY_READY_CONDITION = "CanaryPredictorReady";

/** How long an apply waits for a canary to get ready: its image pull, model download and load. */
export const PREDICTOR_READY_TIMEOUT = "20m";

/**
 * One KServe InferenceService per released model, in Standard deployment mode, on the v2
 * protocol, restricted (pod and runtime container). A canary is a second predictor (KServe's
 * `spec.canary`, which v0.20 supports in Standard mode) with fixed replicas. Predictors are named
 * after their track (`PREDICTOR_NAMES`), so a version change rolls the track's Deployment with
 * KServe's default RollingUpdate strategy (deployment_reconciler.go, setDefaultDeploymentSpec:
 * maxSurge and maxUnavailable 25 %, so a predictor of fewer than four replicas keeps every ready
 * pod until its replacement is ready), and promoting a canary (its version becomes the model's
 * `version`, `canary` goes) rolls the primary's pods to that version and removes the canary's:
 * the canary's pods are not kept, their track label differs.
 * KServe v0.20 routes nothing by `trafficPercent` (it sizes the canary's replicas and is copied
 * to status): the requests are split by the route the platform owns (`InferenceRoutes`).
 */
export class InferenceServices extends Construct {
  public readonly services: Manifest[] = [];
  /** Each model's InferenceService, by model name: what its route is applied after. */
  public readonly byModel: Record<string, Manifest> = {};

  constructor(scope: Construct, id: string, props: InferenceServicesProps) {
    super(scope, id);
    const resources = props.resources ?? DEFAULT_RESOURCES;
    for (const model of props.models) {
      const logging = model.monitoring?.logging;
      // KServe v0.20.0's payload logger (the agent sidecar its pod webhook injects), writing to
      // the store itself: the webhook (validateLogger) requires storage path, parameters and key
      // together; `format` selects the agent's JSON marshaller; the credentials come from the
      // service account named here (credentialBuilder.CreateSecretVolumeAndEnv), the key is unused.
      const logger = (version: number) =>
        props.predictionLogBucket && logging && logging.mode !== "off"
          ? {
              mode: logging.mode,
              url: predictionLogUrl(props.predictionLogBucket, model.name, version),
              storage: {
                path: PREDICTION_LOG_RECORDS,
                parameters: { format: "json" },
                key: "credentials",
                serviceAccountName: props.serviceAccountName,
              },
              batchSize: logging.batchSize,
              ...(logging.batchInterval ? { batchInterval: logging.batchInterval } : {}),
            }
          : undefined;
      const predictor = (version: number, artifactPath: string, track: PredictorTrack) => ({
        name: PREDICTOR_NAMES[track],
        // KServe puts a predictor's labels on its Deployment and pods (the canary's override the
        // primary's, which it is merged over). A version change changes the pod template, which
        // the Deployment rolls out.
        labels: { [PREDICTOR_VERSION_LABEL]: predictorVersionLabel(version), [PREDICTOR_TRACK_LABEL]: track },
        serviceAccountName: props.serviceAccountName,
        ...(props.imagePullSecret ? { imagePullSecrets: [{ name: props.imagePullSecret }] } : {}),
        securityContext: structuredClone(PREDICTOR_POD_SECURITY),
        model: {
          // The container's name. KServe v0.20.0's webhook refuses it on the primary predictor
          // (inference_service_validation.go, validatePredictor: "the 'name' field is not allowed
          // in standard predictor"), while the CRD requires it on a canary's model, which the
          // controller merges over the primary's (predictor.go, buildCanaryPredictor): there it
          // must be the runtime container's own name, or the merge would rename that container.
          ...(track === "canary" ? { name: RUNTIME_CONTAINER_NAME } : {}),
          modelFormat: { name: model.format },
          protocolVersion: PREDICTOR_PROTOCOL,
          storageUri: `s3://${props.artifactsBucket}/${artifactPath}`,
          resources: {
            requests: { ...resources.requests },
            limits: { ...resources.limits, ...(model.gpu ? { "nvidia.com/gpu": "1" } : {}) },
          },
          securityContext: structuredClone(RUNTIME_CONTAINER_SECURITY),
          readinessProbe: structuredClone(PREDICTOR_READINESS_PROBE),
        },
        ...(logger(version) ? { logger: logger(version) } : {}),
        ...(model.gpu
          ? {
              nodeSelector: { ...props.gpuPlacement.nodeSelector },
              tolerations: props.gpuPlacement.tolerations.map((toleration) => ({ ...toleration })),
            }
          : {}),
      });
      const spec: Record<string, unknown> = {
        predictor: {
          ...predictor(model.version, model.artifactPath, "primary"),
          minReplicas: model.minReplicas,
          maxReplicas: model.maxReplicas,
        },
      };
      if (model.canary) {
        spec.canary = [
          {
            // Canaries run fixed replicas, at most the stable predictor's minimum.
            predictor: {
              ...predictor(model.canary.version, model.canary.artifactPath, "canary"),
              minReplicas: 1,
            },
            trafficPercent: model.canary.trafficPercent,
          },
        ];
      }
      const service = new Manifest(this, model.name, {
        manifest: {
          apiVersion: "serving.kserve.io/v1beta1",
          kind: "InferenceService",
          metadata: {
            name: model.name,
            namespace: props.namespace,
            labels: { "app.kubernetes.io/part-of": "mlops-platform", "mlops-platform/model": model.name },
            // No load balancer annotations: KServe copies these onto the predictors' Deployments,
            // pods and Services; the route in front (`InferenceRoutes`) carries them.
            annotations: {
              "serving.kserve.io/deploymentMode": "Standard",
              "mlops-platform/registered-model": `${model.registeredModel}/${model.version}`,
            },
          },
          spec,
        },
        // With a canary, the apply waits for KServe to report it ready (predictor.go,
        // reconcileCanaryDeployments sets CanaryPredictorReady once the canary's Deployment has
        // an available replica, after creating its Service), and the route, applied after this
        // object, names the canary's Service only then: the AWS Load Balancer Controller
        // v3.5.0 tolerates a missing Service only in a forward to that one Service
        // (enhanced_backend_builder.go, loadBackendServices), so a weighted forward to a
        // Service not yet made would stop it building the whole shared ALB group. A canary
        // that never gets ready fails the apply at the timeout, before its route changes.
        ...(model.canary
          ? {
              wait: { condition: [{ type: CANARY_READY_CONDITION, status: "True" }] },
              timeouts: { create: PREDICTOR_READY_TIMEOUT, update: PREDICTOR_READY_TIMEOUT },
            }
          : {}),
      });
      this.services.push(service);
      this.byModel[model.name] = service;
    }
  }
}
