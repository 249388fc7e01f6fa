/**
 * Remote bases of the Kubeflow Pipelines manifests: kustomizations at the pinned tag that name
 * another Git repository as a resource. kustomize (v5.8.1 in Argo CD v3.4.4's repo server,
 * `api/internal/git/cloner.go`) fetches each with the git CLI at build time, as
 * `git fetch --depth=1 <clone URL> <ref>` in the repo server's environment, so a cluster that
 * reaches no internet needs a mirror (a git `url.<mirror>.insteadOf` rule) or a proxy for them.
 */

/** One remote base, as a kustomization at the pinned manifests names it. */
export interface KustomizeRemoteBase {
  /** The kustomization naming it, under `manifests/kustomize`. */
  readonly kustomization: string;
  /** What kustomize passes to `git fetch`: scheme, host and repository path (`RepoSpec.CloneSpec`). */
  readonly repository: string;
  /** Folder inside that repository. */
  readonly path: string;
  /** The `?ref=` kustomize fetches. */
  readonly ref: string;
  /** The Applications' paths whose build includes the kustomization. */
  readonly builds: readonly string[];
}

const CLUSTER_SCOPED = "manifests/kustomize/cluster-scoped-resources";
const PLATFORM_AGNOSTIC = "manifests/kustomize/env/platform-agnostic";
const ARGO_WORKFLOWS = "https://github.com/argoproj/argo-workflows";

/**
 * Per Kubeflow Pipelines release: every remote base of the two builds the Applications point at.
 * Read from `manifests/kustomize/third-party/argo` at the tag; a test derives it again from the
 * pinned manifests when they are on the machine.
 */
export const KUBEFLOW_PIPELINES_REMOTE_BASES: Readonly<Record<string, readonly KustomizeRemoteBase[]>> = {
  "2.17.0": [
    {
      kustomization: "third-party/argo/base",
      repository: ARGO_WORKFLOWS,
      path: "manifests/base/workflow-controller",
      ref: "v4.0.5",
      builds: [PLATFORM_AGNOSTIC],
    },
    {
      kustomization: "third-party/argo/installs/namespace",
      repository: ARGO_WORKFLOWS,
      path: "manifests/namespace-install/workflow-controller-rbac",
      ref: "v4.0.5",
      builds: [PLATFORM_AGNOSTIC],
    },
    {
      kustomization: "third-party/argo/installs/namespace/cluster-scoped",
      repository: ARGO_WORKFLOWS,
      path: "manifests/base/crds/minimal",
      ref: "v4.0.5",
      builds: [CLUSTER_SCOPED],
    },
  ],
};

/** The remote bases of one Application's build; throws for a release whose bases were not read. */
export function remoteBasesOf(version: string, applicationPath?: string): readonly KustomizeRemoteBase[] {
  const bases = KUBEFLOW_PIPELINES_REMOTE_BASES[version];
  if (bases === undefined) {
    throw new Error(
      `kubeflow-pipelines: the remote bases of ${version} are unknown (read at ${Object.keys(KUBEFLOW_PIPELINES_REMOTE_BASES).join(", ")}); allowed is a release listed in constructs/platform/kustomize-remote-bases.ts. Fix: list the remote bases (resources naming a Git URL) of manifests/kustomize at ${version} there`,
    );
  }
  return applicationPath === undefined ? bases : bases.filter((b) => b.builds.includes(applicationPath));
}

/** Every repository a remote base of any listed release comes from, sorted. */
export function remoteBaseRepositories(): string[] {
  return [
    ...new Set(
      Object.values(KUBEFLOW_PIPELINES_REMOTE_BASES).flatMap((bases) => bases.map((b) => b.repository)),
    ),
  ].sort();
}

/** How the repo server reaches the remote bases where the cluster has no direct internet access. */
export interface RemoteBaseAccess {
  /** Upstream repository (a `repository` above) -> the organisation's mirror of it (https://). */
  readonly mirrors: readonly RemoteBaseMirror[];
  /** HTTP(S) proxy of the repo server, and the destinations it must reach directly. */
  readonly proxy?: { readonly url: string; readonly noProxy: readonly string[] };
}

export interface RemoteBaseMirror {
  readonly upstream: string;
  readonly mirror: string;
  /** PEM of the CA(s) that issued the mirror's certificate. Unset: publicly trusted. */
  readonly caCertificate?: string;
}

/** Where the argo-cd chart mounts argocd-tls-certs-cm in the repo server (templates/argocd-repo-server/deployment.yaml). */
export const REPO_SERVER_TLS_DIR = "/app/config/tls";

const quoted = (text: string): string => {
  if (/["\\\n]/.test(text)) {
    throw new Error(
      `gitconfig: ${JSON.stringify(text)} contains a quote, backslash or newline; allowed is a URL without them. Fix: give the URL without them`,
    );
  }
  return `"${text}"`;
};

/**
 * The repo server's gitconfig: one `insteadOf` rule per mirror (git rewrites the URL kustomize
 * fetches to the mirror's, by longest matching prefix), and for a mirror with its own CA the CA
 * file Argo CD mounts for the mirror's host (`http.<url>.sslCAInfo`).
 */
export function repoServerGitConfig(mirrors: readonly RemoteBaseMirror[]): string {
  const lines: string[] = [];
  for (const { upstream, mirror, caCertificate } of [...mirrors].sort((a, b) =>
    a.upstream.localeCompare(b.upstream),
  )) {
    lines.push(`[url ${quoted(mirror)}]`, `\tinsteadOf = ${upstream}`);
    if (caCertificate !== undefined) {
      lines.push(
        `[http ${quoted(mirror)}]`,
        `\tsslCAInfo = ${REPO_SERVER_TLS_DIR}/${new URL(mirror).hostname}`,
      );
    }
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
