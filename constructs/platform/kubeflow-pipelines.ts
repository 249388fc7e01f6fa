import type { ClusterTarget } from "./cluster-target";
import type { ArgoApplication } from "./argocd";
import { PLATFORM_SERVICE_ACCOUNTS } from "./service-accounts";
import { kubeflowPipelinesImageOverrides } from "./image-mirror";
import { remoteBasesOf } from "./kustomize-remote-bases";

export interface KubeflowPipelinesProps {
  readonly target: ClusterTarget;
  /** Upstream release tag, e.g. `2.14.3`. */
  readonly version: string;
  /** Git repository of the manifests (upstream or a mirror). */
  readonly repository: string;
  readonly namespace: string;
  /** Argo CD project of the Applications. */
  readonly project: string;
}

const IN_CLUSTER = "https://kubernetes.default.svc";

/** Where pipeline runs keep their artifacts by default. */
export function pipelineRoot(artifactsBucket: string): string {
  return `s3://${artifactsBucket}/pipelines`;
}

/**
 * Kubeflow Pipelines 2, installed declaratively by Argo CD from the upstream kustomize
 * manifests at the pinned tag: cluster-scoped resources first (sync wave 0), then the
 * standalone install (wave 1). Kustomize patches give the pipeline steps' service account its
 * workload identity, point the default pipeline root at the artifacts bucket and tell the
 * launcher to take S3 credentials from that identity.
 */
export function kubeflowPipelinesApplications(
  props: KubeflowPipelinesProps,
): Record<string, ArgoApplication> {
  if (!/^\d+\.\d+\.\d+$/.test(props.version)) {
    throw new Error(`KubeflowPipelines: version "${props.version}" must be a release tag such as 2.14.3`);
  }
  const runner = PLATFORM_SERVICE_ACCOUNTS.pipelineRunner;
  if (runner.namespace !== props.namespace) {
    throw new Error(
      `KubeflowPipelines: the pipeline identity is bound to namespace ${runner.namespace}, not ${props.namespace}`,
    );
  }
  // Where the repo server fetches the remote bases through mirrors or a proxy, they must be known.
  if (props.target.remoteBases) remoteBasesOf(props.version);
  const store = props.target.objectStore;
  // Every image of the manifests through the target's registry mirror, with its pull Secret.
  const mirror = props.target.imageMirror
    ? kubeflowPipelinesImageOverrides(props.version, props.target.imageMirror)
    : undefined;
  const s3Provider = {
    default: {
      endpoint: store.endpoint ?? `s3.${store.region}.amazonaws.com`,
      disableSSL: false,
      region: store.region,
      credentials:
        store.credentials.kind === "workload-identity"
          ? { fromEnv: true }
          : {
              fromEnv: false,
              secretRef: {
                secretName: store.credentials.secretName,
                accessKeyKey: "AWS_ACCESS_KEY_ID",
                secretKeyKey: "AWS_SECRET_ACCESS_KEY",
              },
            },
    },
  };
  const sync = (wave: number) => ({
    automated: { prune: true, selfHeal: true },
    syncOptions: ["ServerSideApply=true", "CreateNamespace=false"],
    retry: { limit: 5, backoff: { duration: "30s", factor: 2, maxDuration: "10m" } },
    wave,
  });
  const application = (path: string, wave: number, kustomize?: Record<string, unknown>): ArgoApplication => {
    const { wave: syncWave, ...syncPolicy } = sync(wave);
    return {
      project: props.project,
      additionalAnnotations: { "argocd.argoproj.io/sync-wave": String(syncWave) },
      source: {
        repoURL: props.repository,
        targetRevision: props.version,
        path,
        ...(kustomize ? { kustomize } : {}),
      },
      destination: { server: IN_CLUSTER, namespace: props.namespace },
      syncPolicy,
    };
  };
  return {
    "kubeflow-pipelines-cluster-scoped": application("manifests/kustomize/cluster-scoped-resources", 0, {
      patches: [
        {
          // The platform creates the namespace with its guard rails (Pod Security, quota,
          // network policies); left in, Argo CD would own it too, relabel it and, on a prune or
          // when the Application is deleted, delete it with everything in it. Argo CD appends
          // these patches to the upstream kustomization itself, where they run before its
          // replacements: the Namespace is still named `$(kfp-cluster-scoped-namespace)` then,
          // so a target by name matches nothing. Every Namespace of this build goes: the
          // platform owns all namespaces.
          target: { kind: "Namespace" },
          patch: [
            "$patch: delete",
            "apiVersion: v1",
            "kind: Namespace",
            "metadata:",
            `  name: ${props.namespace}`,
          ].join("\n"),
        },
      ],
    }),
    "kubeflow-pipelines": application("manifests/kustomize/env/platform-agnostic", 1, {
      patches: [
        {
          target: { kind: "ServiceAccount", name: runner.name },
          patch: JSON.stringify([
            {
              op: "add",
              path: "/metadata/annotations",
              value: props.target.serviceAccountAnnotations("pipelineRunner"),
            },
          ]),
        },
        {
          // The launcher reads the pipeline root from kfp-launcher. The manifests fill it from
          // pipeline-install-config with a kustomize replacement inside their own build, so a
          // patch of pipeline-install-config applied on top of that build never reaches it.
          target: { kind: "ConfigMap", name: "kfp-launcher" },
          patch: JSON.stringify([
            {
              op: "replace",
              path: "/data/defaultPipelineRoot",
              value: pipelineRoot(store.artifactsBucket),
            },
            { op: "add", path: "/data/providers", value: JSON.stringify({ s3: s3Provider }) },
          ]),
        },
        ...(mirror?.patches ?? []),
      ],
      ...(mirror ? { images: mirror.images } : {}),
    }),
  };
}
