import { Construct } from "constructs";
import { TerraformStack } from "cdktf";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import type { AnyEnvironment } from "../environments/targets";
import type { ReleaseContent } from "../environments/release-schema";
import type { ClusterTarget } from "../constructs/platform/cluster-target";
import { PLATFORM_SERVICE_ACCOUNTS } from "../constructs/platform/service-accounts";
import { ModelServing } from "../constructs/serving/model-serving";
import { InferenceServices, PREDICTOR_HEALTH_PATH } from "../constructs/serving/inference-services";
import { ScheduledJobs } from "../constructs/serving/scheduled-jobs";
import { imageName } from "../constructs/lib/workload-defaults";
import { configureStateBackend } from "./state-backend";
import { configureClusterProviders } from "./cluster-providers";
import { MLFLOW_CLIENT, PLATFORM_NAMESPACES } from "./platform-stack";

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
  public readonly inferenceServices: InferenceServices;
  public readonly jobs: ScheduledJobs;

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
    });

    const serviceAccount = (
      name: keyof typeof PLATFORM_SERVICE_ACCOUNTS,
      extra: Record<string, string> = {},
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
      });
    };

    this.serving = new ModelServing(this, "ModelServing", {
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
      loadBalancerAnnotations: target.traffic.loadBalancerServiceAnnotations(env.serving.exposure),
    });

    const store = target.objectStore;
    const predictorAccount = serviceAccount("kservePredictor", {
      // KServe's storage initializer reads these to reach S3 with the pod's identity.
      "serving.kserve.io/s3-region": store.region,
      "serving.kserve.io/s3-endpoint":
        store.endpoint?.replace(/^https?:\/\//, "") ?? `s3.${store.region}.amazonaws.com`,
      "serving.kserve.io/s3-usehttps": "1",
    });
    this.inferenceServices = new InferenceServices(this, "InferenceServices", {
      namespace,
      models: release.models,
      artifactsBucket: store.artifactsBucket,
      serviceAccountName: predictorAccount.metadata.name,
      gpuNodes: target.gpuNodes,
      // Published with the UIs' ingress settings (one load balancer group, same scheme), its
      // health check on the v2 readiness path: the runtimes answer 404 on `/`.
      ingressAnnotations: {
        ...target.traffic.ingressAnnotations(env.platform.exposure),
        ...target.traffic.healthCheckAnnotations(PREDICTOR_HEALTH_PATH),
      },
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
          placement: {
            nodeSelector: { workload: "training" },
            tolerations: [{ key: "workload", operator: "Equal", value: "training", effect: "NoSchedule" }],
          },
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
          placement: { nodeSelector: { workload: "general" }, tolerations: [] },
          deadlineSeconds: 2 * 3600,
          resources: { requests: { cpu: "1", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
        },
      ],
    });
  }
}
