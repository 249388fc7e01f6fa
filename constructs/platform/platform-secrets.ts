import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { ChartCatalog } from "./chart-catalog";
import type { CloudSecretStore, ClusterTarget } from "./cluster-target";
import type { PlatformRelease } from "./helm-release";
import { PLATFORM_SERVICE_ACCOUNTS } from "./service-accounts";

/** A generated credential: a Secret with a fixed user name and a random password. */
export interface GeneratedCredential {
  readonly namespace: string;
  readonly secretName: string;
  readonly userKey: string;
  readonly passwordKey: string;
  readonly userName: string;
}

export interface PlatformSecretsProps {
  readonly charts: ChartCatalog;
  readonly target: ClusterTarget;
  /** Namespace of the release (External Secrets' own). */
  readonly namespace: string;
  /**
   * Where the database credentials are copied to (`username`, `password`) from the cloud secret
   * store, for targets whose database credentials live there; unused otherwise.
   */
  readonly databaseSecret: { readonly namespace: string; readonly name: string };
  /** Admin credentials generated in the cluster, never seen by Terraform. */
  readonly generated: readonly GeneratedCredential[];
  /**
   * Generated credentials copied from the namespace they are generated in to another one
   * (the MLflow client user: generated beside MLflow, used by the serving workloads).
   */
  readonly shared?: readonly {
    readonly credential: GeneratedCredential;
    readonly consumerNamespace: string;
  }[];
  /**
   * Secrets copied from the cloud secret store: each key of `keys` from its remote secret (and
   * JSON property). Only for targets with a secret store.
   */
  readonly fromSecretStore?: readonly SecretFromStore[];
  readonly dependsOn?: ITerraformDependable[];
}

export interface SecretFromStore {
  readonly namespace: string;
  readonly secretName: string;
  readonly keys: Readonly<Record<string, { readonly remoteKey: string; readonly property?: string }>>;
}

const STORE = "platform-secrets";
const EXTERNAL_SECRETS_API = "external-secrets.io/v1";
const GENERATORS_API = "generators.external-secrets.io/v1alpha1";

/**
 * The platform's credentials, as External Secrets custom resources installed through a chart
 * after the operator (so its CRDs exist): where the target has a cloud secret store, a
 * ClusterSecretStore on it using the operator's workload identity and ExternalSecrets copying the
 * database credentials and other named secrets; on every target, in-cluster generated passwords
 * (MLflow, Grafana, the workloads' MLflow user) and their copies across namespaces. No secret
 * value passes through Terraform, its state or the chart values.
 */
export class PlatformSecrets extends Construct {
  public readonly release: PlatformRelease;

  constructor(scope: Construct, id: string, props: PlatformSecretsProps) {
    super(scope, id);
    const credentials = props.target.database.credentials;
    const store = props.target.secretStore;
    const resources: Record<string, unknown>[] = [];
    const storeRef = { kind: "ClusterSecretStore", name: STORE };
    if (store) {
      resources.push(clusterSecretStore(store));
    } else if (credentials.kind === "external-secret" || (props.fromSecretStore ?? []).length > 0) {
      const what =
        credentials.kind === "external-secret"
          ? `its database credentials (${credentials.remoteKey})`
          : `secrets (${props.fromSecretStore!.map((s) => `${s.namespace}/${s.secretName}`).join(", ")})`;
      throw new Error(
        `PlatformSecrets: ${props.target.description} has no cloud secret store, yet ${what} are to come from one; fix: give the target a secretStore, or create those Secrets in the cluster and reference them by name`,
      );
    }
    if (credentials.kind === "external-secret") {
      resources.push({
        apiVersion: EXTERNAL_SECRETS_API,
        kind: "ExternalSecret",
        metadata: { name: props.databaseSecret.name, namespace: props.databaseSecret.namespace },
        spec: {
          refreshInterval: "1h",
          secretStoreRef: storeRef,
          target: { name: props.databaseSecret.name, creationPolicy: "Owner" },
          data: ["username", "password"].map((key) => ({
            secretKey: key,
            remoteRef: { key: credentials.remoteKey, property: key },
          })),
        },
      });
    }
    for (const credential of props.generated) resources.push(...generatedCredential(credential));
    for (const { credential, consumerNamespace } of props.shared ?? []) {
      resources.push(...generatedCredential(credential));
      resources.push(...copiedAcrossNamespaces(credential, consumerNamespace));
    }
    for (const secret of props.fromSecretStore ?? []) {
      resources.push({
        apiVersion: EXTERNAL_SECRETS_API,
        kind: "ExternalSecret",
        metadata: { name: secret.secretName, namespace: secret.namespace },
        spec: {
          refreshInterval: "1h",
          secretStoreRef: storeRef,
          target: { name: secret.secretName, creationPolicy: "Owner" },
          data: Object.entries(secret.keys).map(([secretKey, remote]) => ({
            secretKey,
            remoteRef: { key: remote.remoteKey, ...(remote.property ? { property: remote.property } : {}) },
          })),
        },
      });
    }
    this.release = props.charts.install(this, "Resources", {
      chart: "platform-resources",
      name: "platform-secrets",
      namespace: props.namespace,
      computedValues: { resources },
      dependsOn: props.dependsOn,
    });
  }
}

/** External Secrets' store on the cloud secret store, read with the operator's workload identity. */
function clusterSecretStore(store: CloudSecretStore): Record<string, unknown> {
  const operator = PLATFORM_SERVICE_ACCOUNTS.externalSecrets;
  return {
    apiVersion: EXTERNAL_SECRETS_API,
    kind: "ClusterSecretStore",
    metadata: { name: STORE },
    spec: {
      provider: {
        aws: {
          service: "SecretsManager",
          region: store.region,
          auth: { jwt: { serviceAccountRef: { name: operator.name, namespace: operator.namespace } } },
        },
      },
    },
  };
}

/** A Password generator and the ExternalSecret that turns it into a Secret, generated once. */
function generatedCredential(credential: GeneratedCredential): Record<string, unknown>[] {
  const generator = `${credential.secretName}-password`;
  return [
    {
      apiVersion: GENERATORS_API,
      kind: "Password",
      metadata: { name: generator, namespace: credential.namespace },
      spec: { length: 32, digits: 6, symbols: 0, noUpper: false, allowRepeat: true },
    },
    {
      apiVersion: EXTERNAL_SECRETS_API,
      kind: "ExternalSecret",
      metadata: { name: credential.secretName, namespace: credential.namespace },
      spec: {
        // Generated once; rotate by deleting the Secret.
        refreshInterval: "0",
        target: {
          name: credential.secretName,
          creationPolicy: "Owner",
          template: {
            data: { [credential.userKey]: credential.userName, [credential.passwordKey]: "{{ .password }}" },
          },
        },
        dataFrom: [
          { sourceRef: { generatorRef: { apiVersion: GENERATORS_API, kind: "Password", name: generator } } },
        ],
      },
    },
  ];
}

/**
 * Copies a Secret into another namespace with External Secrets' Kubernetes provider: a
 * service account in the consumer namespace may read exactly that Secret, nothing else.
 */
function copiedAcrossNamespaces(
  credential: GeneratedCredential,
  consumerNamespace: string,
): Record<string, unknown>[] {
  const reader = `${credential.secretName}-reader`;
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: reader, namespace: consumerNamespace } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: reader, namespace: credential.namespace },
      rules: [
        {
          apiGroups: [""],
          resources: ["secrets"],
          resourceNames: [credential.secretName],
          verbs: ["get", "list", "watch"],
        },
        { apiGroups: ["authorization.k8s.io"], resources: ["selfsubjectrulesreviews"], verbs: ["create"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: reader, namespace: credential.namespace },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: reader },
      subjects: [{ kind: "ServiceAccount", name: reader, namespace: consumerNamespace }],
    },
    {
      apiVersion: EXTERNAL_SECRETS_API,
      kind: "SecretStore",
      metadata: { name: reader, namespace: consumerNamespace },
      spec: {
        provider: {
          kubernetes: {
            remoteNamespace: credential.namespace,
            server: { caProvider: { type: "ConfigMap", name: "kube-root-ca.crt", key: "ca.crt" } },
            auth: { serviceAccount: { name: reader } },
          },
        },
      },
    },
    {
      apiVersion: EXTERNAL_SECRETS_API,
      kind: "ExternalSecret",
      metadata: { name: credential.secretName, namespace: consumerNamespace },
      spec: {
        refreshInterval: "1h",
        secretStoreRef: { kind: "SecretStore", name: reader },
        target: { name: credential.secretName, creationPolicy: "Owner" },
        dataFrom: [{ extract: { key: credential.secretName } }],
      },
    },
  ];
}
