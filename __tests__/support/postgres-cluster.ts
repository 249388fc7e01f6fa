/**
 * MLflow's PostgreSQL on CloudNativePG as the tests build it: the props of PostgresOperator and
 * MlflowPostgres, and both synthesized in a stack of their own. Shared by the in-process tests of
 * the values and the ones that render the pinned charts from them.
 */
import { Testing, TerraformStack } from "cdktf";
import { ChartCatalog } from "../../constructs/platform/chart-catalog";
import {
  MlflowPostgres,
  PostgresOperator,
  type MlflowPostgresProps,
  type PostgresOperatorProps,
} from "../../constructs/platform/postgres-cluster";

export const VERSIONS = {
  "cloudnative-pg": "0.29.0",
  "postgres-cluster": "0.8.1",
  "platform-resources": "2.0.2",
};

export const resources = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "1Gi" } };

export const operatorProps = (charts: ChartCatalog, change: Partial<PostgresOperatorProps> = {}) => ({
  charts,
  namespace: "cnpg-system",
  highAvailability: true,
  resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  monitoring: true,
  ...change,
});

export const baseProps: Omit<MlflowPostgresProps, "charts" | "operator"> = {
  namespace: "mlflow",
  instances: 3,
  image: "ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie",
  storage: { storageClass: "longhorn", size: "20Gi" },
  resources,
  credentials: {
    namespace: "mlflow",
    secretName: "mlflow-database",
    userKey: "username",
    passwordKey: "password",
    userName: "mlflow",
  },
  backup: {
    endpointURL: "https://s3.storage.example.com",
    region: "default",
    bucket: "mlops-backups",
    path: "/postgres/",
    credentialsSecret: { namespace: "mlflow", name: "object-store" },
    caSecret: { name: "object-store-ca", key: "ca.crt" },
    retentionPolicy: "45d",
    schedule: "0 0 2 * * *",
    serverSideEncryption: false,
  },
  monitoring: true,
};

export interface Built {
  readonly operator: PostgresOperator;
  readonly database: MlflowPostgres;
  readonly json: any;
}

export function build(
  change: Partial<MlflowPostgresProps> = {},
  operatorChange: Partial<PostgresOperatorProps> = {},
): Built {
  const app = Testing.app();
  const stack = new TerraformStack(app, "test");
  const charts = new ChartCatalog({ versions: VERSIONS, values: {} });
  const operator = new PostgresOperator(stack, "Postgres", operatorProps(charts, operatorChange));
  const database = new MlflowPostgres(stack, "MlflowPostgres", { charts, operator, ...baseProps, ...change });
  return { operator, database, json: JSON.parse(Testing.synth(stack)) };
}
