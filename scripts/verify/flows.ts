/**
 * The network flows the platform needs, beyond those derived from the state itself (DNS for
 * every namespace, each controller to the API server, webhooks from the API server, Prometheus
 * to every scrape target, load balancers to Ingress and LoadBalancer backends). Add a flow by
 * adding one entry.
 */
export type FlowSource =
  /** Pods of a namespace (all, or those with these labels). */
  | { readonly namespace: string; readonly podLabels?: Readonly<Record<string, string>> }
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
}

export const REQUIRED_FLOWS: readonly Flow[] = [
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
  },
  {
    name: "mlflow-to-object-store",
    from: { namespace: "mlflow", podLabels: { "app.kubernetes.io/name": "mlflow" } },
    to: { objectStore: true },
    reason: "MLflow serves and stores artifacts in the artifacts bucket",
  },
  {
    name: "serving-to-object-store",
    from: { namespace: "mlops" },
    to: { objectStore: true },
    reason: "serving, batch inference, training and the predictors' storage initializer read models and data",
  },
  {
    name: "pipelines-to-object-store",
    from: { namespace: "kubeflow", podLabels: { app: "ml-pipeline" } },
    to: { objectStore: true },
    reason: "the pipelines API server reads and writes pipeline artifacts",
  },
  {
    name: "serving-to-mlflow",
    from: { namespace: "mlops" },
    to: { service: { namespace: "mlflow", name: "mlflow" }, port: 80 },
    reason: "serving and jobs load registered models through the tracking server",
  },
  {
    name: "pipelines-to-mlflow",
    from: { namespace: "kubeflow", podLabels: { app: "ml-pipeline" } },
    to: { service: { namespace: "mlflow", name: "mlflow" }, port: 80 },
    reason: "pipelines log runs and register models",
  },
  {
    name: "mlflow-bootstrap-to-mlflow",
    from: { namespace: "mlflow", podLabels: { "app.kubernetes.io/name": "mlflow-create-users" } },
    to: { service: { namespace: "mlflow", name: "mlflow" }, port: 80 },
    reason: "the bootstrap Job creates the platform's MLflow users through MLflow's API",
  },
  {
    name: "serving-to-predictors",
    from: { namespace: "mlops" },
    to: { pods: { namespace: "mlops", labels: { component: "predictor" } }, port: 8080 },
    reason: "batch inference and the serving Deployment call the KServe predictors",
  },
  {
    name: "load-balancer-to-predictors",
    from: { external: "load-balancer" },
    to: { pods: { namespace: "mlops", labels: { component: "predictor" } }, port: 8080 },
    reason: "clients reach the predictors through the load balancer",
  },
];
