/** The directory login the construct and integration tests configure: an AD over LDAPS, role groups, hosts. */
import type { DirectoryLoginProps, MlflowLoginProps } from "../../constructs/platform/directory-login";

/** Login props: the directory, the role groups, the UIs' hosts and namespaces, no local admins. */
export const props: DirectoryLoginProps = {
  directory: {
    url: "ldaps://ad.corp.example.com:636",
    bindDn: "CN=svc-dex,OU=Service Accounts,DC=corp,DC=example,DC=com",
    bindPasswordSecret: { name: "directory-bind", key: "password" },
    caSecret: { name: "directory-ca", key: "ca.crt" },
    userSearch: { baseDn: "OU=People,DC=corp,DC=example,DC=com" },
    groupSearch: { baseDn: "OU=Groups,DC=corp,DC=example,DC=com", nested: true },
  },
  roles: {
    admins: ["MLOps Admins"],
    editors: ["MLOps Engineers", "Data Scientists"],
    viewers: ["MLOps Viewers"],
  },
  hosts: {
    argocd: "argocd.mlops.example.com",
    grafana: "grafana.mlops.example.com",
    mlflow: "mlflow.mlops.example.com",
    pipelines: "pipelines.mlops.example.com",
  },
  namespaces: { argocd: "argocd", monitoring: "monitoring", mlflow: "mlflow", pipelines: "kubeflow" },
  disableLocalAdmins: true,
  issuerCaSecret: { name: "ingress-ca", key: "ca.crt" },
};

/** The login props with MLflow's users database. */
export const mlflowProps: MlflowLoginProps = {
  ...props,
  mlflowUsersDatabase: {
    host: "db.mlops.example.com",
    port: 5432,
    database: "mlflow_oidc_auth",
    secret: "mlflow-database",
  },
};

/** Dex's issuer for these props (Argo CD's host). */
export const issuer = "https://argocd.mlops.example.com/api/dex";
