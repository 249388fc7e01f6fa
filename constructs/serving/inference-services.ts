import { Construct } from "constructs";
import { Manifest } from "@cdktf/provider-kubernetes/lib/manifest";
import type { ServedModel } from "../../environments/release-schema";
import type { ContainerResources } from "../lib/workload-defaults";

export interface InferenceServicesProps {
  readonly namespace: string;
  readonly models: readonly ServedModel[];
  /** Bucket the models' artifact paths are in. */
  readonly artifactsBucket: string;
  /** Service account the predictors (and their storage initializer) run as. */
  readonly serviceAccountName: string;
  /** Node label and taint of the GPU group. */
  readonly gpuNodes: { readonly labels: Record<string, string>; readonly taintKey: string };
  /** @default requests 500m/1Gi, limits 1/2Gi */
  readonly resources?: ContainerResources;
}

const DEFAULT_RESOURCES: ContainerResources = {
  requests: { cpu: "500m", memory: "1Gi" },
  limits: { cpu: "1", memory: "2Gi" },
};

/**
 * One KServe InferenceService per released model, in Standard deployment mode. A canary is a
 * second predictor (KServe's `spec.canary`, which v0.20 supports in Standard mode) that takes
 * `trafficPercent` of the requests with fixed replicas; predictors are named after their model
 * version, so promoting a canary (making it the version) keeps its pods.
 */
export class InferenceServices extends Construct {
  public readonly services: Manifest[] = [];

  constructor(scope: Construct, id: string, props: InferenceServicesProps) {
    super(scope, id);
    const resources = props.resources ?? DEFAULT_RESOURCES;
    for (const model of props.models) {
      const predictor = (version: number, artifactPath: string) => ({
        name: `v${version}`,
        serviceAccountName: props.serviceAccountName,
        model: {
          modelFormat: { name: model.format },
          storageUri: `s3://${props.artifactsBucket}/${artifactPath}`,
          resources: {
            requests: { ...resources.requests },
            limits: { ...resources.limits, ...(model.gpu ? { "nvidia.com/gpu": "1" } : {}) },
          },
        },
        ...(model.gpu
          ? {
              nodeSelector: { ...props.gpuNodes.labels },
              tolerations: [{ key: props.gpuNodes.taintKey, operator: "Exists", effect: "NoSchedule" }],
            }
          : {}),
      });
      const spec: Record<string, unknown> = {
        predictor: {
          ...predictor(model.version, model.artifactPath),
          minReplicas: model.minReplicas,
          maxReplicas: model.maxReplicas,
        },
      };
      if (model.canary) {
        spec.canary = [
          {
            // Canaries run fixed replicas, at most the stable predictor's minimum.
            predictor: { ...predictor(model.canary.version, model.canary.artifactPath), minReplicas: 1 },
            trafficPercent: model.canary.trafficPercent,
          },
        ];
      }
      this.services.push(
        new Manifest(this, model.name, {
          manifest: {
            apiVersion: "serving.kserve.io/v1beta1",
            kind: "InferenceService",
            metadata: {
              name: model.name,
              namespace: props.namespace,
              labels: { "app.kubernetes.io/part-of": "mlops-platform", "mlops-platform/model": model.name },
              annotations: {
                "serving.kserve.io/deploymentMode": "Standard",
                "mlops-platform/registered-model": `${model.registeredModel}/${model.version}`,
              },
            },
            spec,
          },
        }),
      );
    }
  }
}
