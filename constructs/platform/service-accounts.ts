/**
 * The Kubernetes service accounts that call cloud APIs, named once: the foundation stack
 * trusts exactly these in its IRSA roles and the platform stack creates and annotates them.
 */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

export const PLATFORM_SERVICE_ACCOUNTS = {
  clusterAutoscaler: { namespace: "kube-system", name: "cluster-autoscaler" },
  loadBalancerController: { namespace: "kube-system", name: "aws-load-balancer-controller" },
  externalSecrets: { namespace: "external-secrets", name: "external-secrets" },
  mlflowServer: { namespace: "mlflow", name: "mlflow" },
  pipelineRunner: { namespace: "kubeflow", name: "pipeline-runner" },
  modelServing: { namespace: "mlops", name: "mlops-serving" },
  kservePredictor: { namespace: "mlops", name: "kserve-predictor" },
  modelTraining: { namespace: "mlops", name: "model-training" },
  batchInference: { namespace: "mlops", name: "batch-inference" },
  modelMonitoring: { namespace: "mlops", name: "model-monitoring" },
} as const satisfies Record<string, ServiceAccountRef>;

export type PlatformServiceAccount = keyof typeof PLATFORM_SERVICE_ACCOUNTS;
