import type { NodePlacement, ObjectStore } from "../platform/cluster-target";

/** An environment variable of a container, literal or from a Secret's key. */
export interface ContainerEnv {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef: { readonly name: string; readonly key: string } };
}

/** A Secret volume and where the containers mount it. */
export interface SecretMount {
  readonly volume: {
    readonly name: string;
    readonly secret: {
      readonly secretName: string;
      readonly items: { readonly key: string; readonly path: string }[];
    };
  };
  readonly mount: { readonly name: string; readonly mountPath: string; readonly readOnly: true };
}

/**
 * What a workload's container needs to reach the object store with boto3 and the MLflow client:
 * environment variables (endpoint, keys, CA bundle path) and the CA bundle's volume. Empty where
 * the store is AWS S3 reached with the pod's workload identity.
 */
export interface ObjectStoreAccess {
  readonly env: readonly ContainerEnv[];
  readonly mounts: readonly SecretMount[];
}

/** Where the store's CA bundle is mounted, and the file boto3 reads through AWS_CA_BUNDLE. */
export const OBJECT_STORE_CA_DIRECTORY = "/etc/ssl/object-store";
export const OBJECT_STORE_CA_FILE = "ca-bundle.pem";

/** Keys of the credentials Secret (the contract's `ObjectStore.credentials`). */
export const OBJECT_STORE_KEYS = {
  accessKeyId: "AWS_ACCESS_KEY_ID",
  secretAccessKey: "AWS_SECRET_ACCESS_KEY",
} as const;

/**
 * The object store access of a workload container, from the target's store: the endpoint for
 * MLflow (MLFLOW_S3_ENDPOINT_URL) and boto3 (AWS_ENDPOINT_URL), the keys from the credentials
 * Secret, the region, and the CA bundle mounted from its Secret. Nothing on AWS S3 with workload
 * identity: the SDK finds the web identity token and the regional endpoint itself.
 */
export function objectStoreAccess(store: ObjectStore): ObjectStoreAccess {
  const env: ContainerEnv[] = [];
  const mounts: SecretMount[] = [];
  if (store.endpoint) {
    env.push(
      { name: "MLFLOW_S3_ENDPOINT_URL", value: store.endpoint },
      { name: "AWS_ENDPOINT_URL", value: store.endpoint },
    );
  }
  if (store.credentials.kind === "secret") {
    const secret = store.credentials.secretName;
    env.push(
      ...Object.values(OBJECT_STORE_KEYS).map((key) => ({
        name: key,
        valueFrom: { secretKeyRef: { name: secret, key } },
      })),
    );
  }
  if (store.caBundle) {
    env.push({ name: "AWS_CA_BUNDLE", value: `${OBJECT_STORE_CA_DIRECTORY}/${OBJECT_STORE_CA_FILE}` });
    mounts.push({
      volume: {
        name: "object-store-ca",
        secret: {
          secretName: store.caBundle.name,
          items: [{ key: store.caBundle.key, path: OBJECT_STORE_CA_FILE }],
        },
      },
      mount: { name: "object-store-ca", mountPath: OBJECT_STORE_CA_DIRECTORY, readOnly: true },
    });
  }
  return { env, mounts };
}

/** A placement as the kubernetes provider's pod spec takes it (`toleration` blocks). */
export function providerPlacement(placement: NodePlacement) {
  return {
    nodeSelector: { ...placement.nodeSelector },
    toleration: placement.tolerations.map((toleration) => ({ ...toleration })),
  };
}

/**
 * Where KServe v0.20.0 finds the object store's CA, one ConfigMap (a copy of the CA certificate
 * in the serving namespace) for both containers that call the store:
 * - the storage initializer mounts the ConfigMap named by `serving.kserve.io/s3-cabundle-configmap`
 *   at the directory of the file `serving.kserve.io/s3-cabundle` names, which it gets as
 *   AWS_CA_BUNDLE (pod/storage_initializer_injector.go, after the credential builder);
 * - the logger's agent gets the same AWS_CA_BUNDLE from the credential builder, but mounts only
 *   the ConfigMap named by `caBundle` of the `logger` entry of `inferenceservice-config`, always at
 *   `/etc/tls/logger` (pod/agent_injector.go InjectAgent; constants.LoggerCaCertMountPath).
 * So the file is under `/etc/tls/logger` in both, and the platform writes the logger entry's
 * `caBundle` (`KserveLoggerCaBundle`).
 */
export const KSERVE_CA_BUNDLE = {
  configMap: "kserve-object-store-ca",
  directory: "/etc/tls/logger",
  file: "cabundle.crt",
} as const;

/** The `serving.kserve.io/s3-*` annotations KServe v0.20's credential builder reads (pkg/credentials/s3). */
export const KSERVE_S3_ANNOTATIONS = {
  endpoint: "serving.kserve.io/s3-endpoint",
  useHttps: "serving.kserve.io/s3-usehttps",
  region: "serving.kserve.io/s3-region",
  verifySsl: "serving.kserve.io/s3-verifyssl",
  useVirtualBucket: "serving.kserve.io/s3-usevirtualbucket",
  caBundle: "serving.kserve.io/s3-cabundle",
  caBundleConfigMap: "serving.kserve.io/s3-cabundle-configmap",
} as const;

/**
 * The `serving.kserve.io/s3-*` annotations of the Secret KServe's storage initializer and logger
 * agent read the object store's keys from (v0.20's credential builder takes them from the Secret
 * the predictor's service account lists, unless the account carries a web identity role). A store
 * with its own endpoint is addressed by path (`https://<endpoint>/<bucket>/<key>`): the agent
 * (pkg/agent/storage/utils.go GetProvider) addresses buckets as virtual hosts unless
 * S3_USER_VIRTUAL_BUCKET is "false", which the annotation becomes; the storage initializer
 * already defaults to path style.
 */
export function kserveObjectStoreAnnotations(store: ObjectStore): Record<string, string> {
  return {
    [KSERVE_S3_ANNOTATIONS.region]: store.region,
    [KSERVE_S3_ANNOTATIONS.endpoint]:
      store.endpoint?.replace(/^https?:\/\//, "") ?? `s3.${store.region}.amazonaws.com`,
    [KSERVE_S3_ANNOTATIONS.useHttps]: "1",
    [KSERVE_S3_ANNOTATIONS.verifySsl]: "1",
    ...(store.endpoint ? { [KSERVE_S3_ANNOTATIONS.useVirtualBucket]: "false" } : {}),
    ...(store.caBundle
      ? {
          [KSERVE_S3_ANNOTATIONS.caBundleConfigMap]: KSERVE_CA_BUNDLE.configMap,
          [KSERVE_S3_ANNOTATIONS.caBundle]: `${KSERVE_CA_BUNDLE.directory}/${KSERVE_CA_BUNDLE.file}`,
        }
      : {}),
  };
}
