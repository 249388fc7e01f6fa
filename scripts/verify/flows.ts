import { upstreamOf } from "../../environments/promotion";
import type { EnvironmentFacts } from "./state";

/**
 * The network flows the platform needs, beyond those derived from the state itself (DNS for
 * every namespace, each controller to the API server, webhooks from the API server, Prometheus
 * to every scrape target, load balancers to Ingress and LoadBalancer backends). Add a flow by
 * adding one entry.
 */
export type FlowSource =
  /** Pods of a namespace in the state (all, or those with these labels). */
  | { readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> }
  /** Pods a controller creates at run time (pipeline steps), with the labels they get. */
  | {
      readonly namespace: string;
      readonly podLabels: Readonly<Record<string, string>>;
      readonly createdAtRunTime: string;
    }
  /** Traffic from outside the pod network: load balancers, the API server. */
  | { readonly external: "load-balancer" | "api-server" };

export type FlowDestination =
  | { readonly service: { readonly namespace: string; readonly name: string }; readonly port: number }
  | {
      readonly pods: { readonly namespace: string; readonly labels: Readonly<Record<string, string>> };
      readonly port: number;
    }
  | { readonly apiServer: true }
  | { readonly database: true }
  | { readonly objectStore: true };

export interface Flow {
  readonly name: string;
  readonly from: FlowSource;
  readonly to: FlowDestination;
  readonly protocol?: "TCP" | "UDP";
  /** Why the platform needs it. */
  readonly reason: string;
  /** Where the flow exists (the component behind it runs only there); unset: everywhere. */
  readonly only?: FlowCondition;
}

/** A property of the environment that decides whether a flow's component runs. */
export type FlowCondition =
  /** RDS: MLflow's bootstrap Job creates the database user. */
  | "database-outside-cluster"
  /** CloudNativePG beside MLflow: the operator and the instances talk. */
  | "database-in-cluster"
  /** No directory login: the platform creates MLflow's local users. */
  | "local-logins"
  /** Releases arrive by promotion: the serving stack registers the served model version. */
  | "receives-promotions"
  /** A model of the release logs predictions: its monitoring job runs. */
  | "monitors-models";

export function flowApplies(flow: Flow, facts: EnvironmentFacts): boolean {
  switch (flow.only) {
    case undefined:
      return true;
    case "database-outside-cluster":
      return facts.databaseService === undefined;
    case "database-in-cluster":
      return facts.databaseService !== undefined;
    case "local-logins":
      return facts.directoryLogin !== true;
    case "receives-promotions":
      return upstreamOf(facts.name) !== undefined;
    case "monitors-models":
      return facts.monitoredModels === true;
  }
}

/** CloudNativePG's instance pods of MLflow's database (pkg/specs/pods.go labels). */
const POSTGRES_INSTANCES = {
  namespace: "mlflow",
  labels: { "cnpg.io/cluster": "mlflow-postgres", "cnpg.io/podRole": "instance" },
} as const;
const CNPG_OPERATOR = {
  namespace: "cnpg-system",
  podLabels: { "app.kubernetes.io/name": "cloudnative-pg" },
} as const;

const MLFLOW = { service: { namespace: "mlflow", name: "mlflow" }, port: 80 } as const;
/** The pods of every model's monitoring CronJob (constructs/serving/model-monitoring.ts). */
const MODEL_MONITORING = {
  namespace: "mlops",
  podLabels: { "app.kubernetes.io/name": "model-monitoring" },
} as const;
/** Argo Workflows labels every pod of a workflow with its name. */
const PIPELINE_STEP = {
  namespace: "kubeflow",
  podLabels: { "workflows.argoproj.io/workflow": "pipeline-run" },
  createdAtRunTime: "pipeline step",
} as const;

export const REQUIRED_FLOWS: readonly Flow[] = [
  {
    name: "cnpg-operator-to-instance-status",
    from: CNPG_OPERATOR,
    to: { pods: POSTGRES_INSTANCES, port: 8000 },
    reason: "the CloudNativePG operator polls each instance manager's status endpoint",
    only: "database-in-cluster",
  },
  {
    name: "cnpg-operator-to-postgres",
    from: CNPG_OPERATOR,
    to: { pods: POSTGRES_INSTANCES, port: 5432 },
    reason: "the CloudNativePG operator connects to PostgreSQL (roles, databases)",
    only: "database-in-cluster",
  },
  {
    name: "postgres-replication",
    from: { namespace: POSTGRES_INSTANCES.namespace, podLabels: POSTGRES_INSTANCES.labels },
    to: { database: true },
    reason: "replicas stream WAL from the primary through the -rw Service",
    only: "database-in-cluster",
  },
  {
    name: "postgres-instances-status",
    from: { namespace: POSTGRES_INSTANCES.namespace, podLabels: POSTGRES_INSTANCES.labels },
    to: { pods: POSTGRES_INSTANCES, port: 8000 },
    reason: "instances call each other's status endpoint (switchover, replica lag)",
    only: "database-in-cluster",
  },
  {
    name: "postgres-backup-to-object-store",
    from: { namespace: POSTGRES_INSTANCES.namespace, podLabels: POSTGRES_INSTANCES.labels },
    to: { objectStore: true },
    reason: "Barman Cloud archives WAL and the daily base backup to the object store",
    only: "database-in-cluster",
  },
  {
    name: "mlflow-to-database",
    from: { namespace: "mlflow", podLabels: { "app.kubernetes.io/name": "mlflow" } },
    to: { database: true },
    reason: "MLflow keeps runs and the model registry in PostgreSQL",
  },
  {
    name: "mlflow-bootstrap-to-database",
    from: { namespace: "mlflow", podLabels: { "app.kubernetes.io/name": "mlflow-database-user" } },
    to: { database: true },
    reason: "the bootstrap Job creates MLflow's database user and auth database",
    only: "database-outside-cluster",
  },
  {
    name: "mlflow-bootstrap-to-mlflow",
    from: { namespace: "mlflow", podLabels: { "app.kubernetes.io/name": "mlflow-create-users" } },
    to: MLFLOW,
    reason: "the bootstrap Job creates the platform's MLflow users through MLflow's API",
    only: "local-logins",
  },
  {
    name: "mlflow-to-object-store",
    from: { namespace: "mlflow", podLabels: { "app.kubernetes.io/name": "mlflow" } },
    to: { objectStore: true },
    reason: "MLflow serves and stores artifacts in the artifacts bucket",
  },
  {
    name: "serving-to-mlflow",
    from: { namespace: "mlops", podLabels: { "app.kubernetes.io/name": "mlops-serving" } },
    to: MLFLOW,
    reason: "the serving Deployment loads the champion model through the tracking server",
  },
  {
    name: "model-registration-to-mlflow",
    from: { namespace: "mlops", podLabels: { "app.kubernetes.io/name": "model-registration" } },
    to: MLFLOW,
    reason:
      "the serving stack registers the released model version and its alias in this environment's MLflow",
    only: "receives-promotions",
  },
  {
    name: "batch-inference-to-mlflow",
    from: { namespace: "mlops", podLabels: { "app.kubernetes.io/name": "batch-inference" } },
    to: MLFLOW,
    reason: "batch inference loads registered models",
  },
  {
    name: "retraining-to-mlflow",
    from: { namespace: "mlops", podLabels: { "app.kubernetes.io/name": "model-retraining" } },
    to: MLFLOW,
    reason: "retraining logs runs and registers models",
  },
  {
    name: "batch-inference-to-object-store",
    from: { namespace: "mlops", podLabels: { "app.kubernetes.io/name": "batch-inference" } },
    to: { objectStore: true },
    reason: "batch inference reads inputs and writes predictions to the data bucket",
  },
  {
    name: "retraining-to-object-store",
    from: { namespace: "mlops", podLabels: { "app.kubernetes.io/name": "model-retraining" } },
    to: { objectStore: true },
    reason: "retraining reads training data and writes model artifacts",
  },
  {
    name: "predictors-to-object-store",
    from: { namespace: "mlops", podLabels: { component: "predictor" } },
    to: { objectStore: true },
    reason:
      "KServe's storage initializer downloads the model from the artifacts bucket; the logger sidecar writes predictions to the data bucket",
  },
  {
    name: "batch-inference-to-predictors",
    from: { namespace: "mlops", podLabels: { "app.kubernetes.io/name": "batch-inference" } },
    to: { pods: { namespace: "mlops", labels: { component: "predictor" } }, port: 8080 },
    reason: "batch inference calls the KServe predictors",
  },
  {
    name: "load-balancer-to-predictors",
    from: { external: "load-balancer" },
    to: { pods: { namespace: "mlops", labels: { component: "predictor" } }, port: 8080 },
    reason: "clients reach the predictors through the load balancer",
  },
  {
    name: "load-balancer-to-predictor-loggers",
    from: { external: "load-balancer" },
    to: { pods: { namespace: "mlops", labels: { component: "predictor" } }, port: 9081 },
    reason:
      "a predictor that logs is reached through KServe's agent, the target port of its Service (service_reconciler.go at v0.20.0)",
  },
  {
    name: "model-monitoring-to-object-store",
    from: MODEL_MONITORING,
    to: { objectStore: true },
    reason:
      "a model's monitoring job reads its logged predictions, reference data set and ground truth from the object store",
    only: "monitors-models",
  },
  {
    name: "model-monitoring-to-pushgateway",
    from: MODEL_MONITORING,
    to: { service: { namespace: "monitoring", name: "prometheus-pushgateway" }, port: 9091 },
    reason: "a model's monitoring job pushes its drift and performance series to the Pushgateway",
    only: "monitors-models",
  },
  {
    name: "pipelines-api-to-database",
    from: { namespace: "kubeflow", podLabels: { app: "ml-pipeline" } },
    to: { service: { namespace: "kubeflow", name: "mysql" }, port: 3306 },
    reason: "the pipelines API server keeps runs in the bundled MySQL",
  },
  {
    name: "pipelines-api-to-object-store",
    from: { namespace: "kubeflow", podLabels: { app: "ml-pipeline" } },
    to: { service: { namespace: "kubeflow", name: "seaweedfs" }, port: 9000 },
    reason:
      "the pipelines API server stores pipeline packages in the bundled object store (OBJECTSTORECONFIG_HOST)",
  },
  {
    name: "pipeline-steps-to-pipelines-api",
    from: PIPELINE_STEP,
    to: { service: { namespace: "kubeflow", name: "ml-pipeline" }, port: 8887 },
    reason: "the v2 driver and launcher in every step report to the API server",
  },
  {
    name: "pipeline-steps-to-metadata",
    from: PIPELINE_STEP,
    to: { service: { namespace: "kubeflow", name: "metadata-grpc-service" }, port: 8080 },
    reason: "the launcher records executions and artifacts in ML Metadata",
  },
  {
    name: "pipeline-steps-to-object-store",
    from: PIPELINE_STEP,
    to: { objectStore: true },
    reason: "steps write artifacts under the pipeline root in the artifacts bucket (kfp-launcher providers)",
  },
  {
    name: "pipeline-steps-to-mlflow",
    from: PIPELINE_STEP,
    to: MLFLOW,
    reason: "training steps log runs and register models",
  },
];
