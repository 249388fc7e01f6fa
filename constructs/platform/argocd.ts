import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import { mergeValues, type HelmValues } from "../lib/values";
import type { GitRepositoryAccess } from "./cluster-target";
import { repoServerGitConfig, type RemoteBaseAccess } from "./kustomize-remote-bases";

/** An Argo CD Application, as the `argocd-apps` chart takes it. */
export interface ArgoApplication {
  readonly project: string;
  readonly source: HelmValues;
  readonly destination: { readonly server: string; readonly namespace: string };
  readonly syncPolicy?: HelmValues;
  /** Annotations of the Application object (argocd-apps calls them additionalAnnotations). */
  readonly additionalAnnotations?: Record<string, string>;
}

export interface ArgoCdProps {
  readonly charts: ChartCatalog;
  readonly namespace: string;
  readonly highAvailability: boolean;
  /** Host of the UI, e.g. `argocd.mlops.example.com`. */
  readonly host: string;
  readonly ingressClassName: string;
  readonly ingressAnnotations: Record<string, string>;
  /** TLS at the ingress controller: the chart's `argocd-server-tls` Secret, which cert-manager fills. @default false */
  readonly ingressTls?: boolean;
  /**
   * Directory login (`argoCdLoginValues`): Dex with the directory connector and the UIs' OIDC
   * clients, RBAC by group, the local admin off when asked. Unset: the local admin only.
   */
  readonly login?: HelmValues;
  /**
   * Git repositories whose server certificate Argo CD must verify against a CA of their own
   * (`repositoryTlsCertificates`); their credentials are Secrets, never values. @default none
   */
  readonly repositories?: readonly GitRepositoryAccess[];
  /**
   * How the repo server reaches the kustomize remote bases of the Applications (`repoServerValues`).
   * @default direct
   */
  readonly remoteBases?: RemoteBaseAccess;
  readonly dependsOn?: ITerraformDependable[];
}

/** A ConfigMap data key (argocd-tls-certs-cm is keyed by host name). */
const CONFIG_MAP_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * argocd-tls-certs-cm's data: per repository host, the PEM CA certificates Argo CD v3.4.4 trusts
 * for it. The repo server mounts the ConfigMap at /app/config/tls and, for an https:// repository,
 * looks for a file named after the URL's host with the port cut off (`util/cert/cert.go`,
 * GetCertificateForConnect and GetCertBundlePathForRepository): its own HTTP client verifies
 * against those certificates only, and the git CLI gets them as GIT_SSL_CAINFO
 * (`util/git/client.go`). The host is taken as the URL writes it, since Argo CD does not
 * lower-case it.
 */
export function repositoryTlsCertificates(
  repositories: readonly GitRepositoryAccess[],
): Record<string, string> {
  const certificates: Record<string, string> = {};
  for (const repository of repositories) {
    if (repository.caCertificate === undefined) continue;
    const host = /^https:\/\/(?:[^/@]*@)?([^/:?#[\]]+)(?::\d+)?(?:[/?#]|$)/.exec(repository.url)?.[1];
    if (host === undefined || !CONFIG_MAP_KEY.test(host)) {
      throw new Error(
        `ArgoCd: repository ${JSON.stringify(repository.url)} has no host name Argo CD can key its CA by; allowed is an https:// URL with a DNS name or IPv4 address as host. Fix: name the repository by its DNS name`,
      );
    }
    const known = certificates[host];
    // Two repositories on one host share the file: every distinct CA goes into it.
    certificates[host] =
      known === undefined || known.includes(repository.caCertificate)
        ? (known ?? repository.caCertificate)
        : known + repository.caCertificate;
  }
  return certificates;
}

/** The ConfigMap holding the repo server's gitconfig, and where the repo server mounts it. */
export const REPO_SERVER_GITCONFIG = {
  configMap: "argocd-repo-server-gitconfig",
  key: "gitconfig",
  mountPath: "/app/config/gitconfig",
} as const;

/**
 * The repo server's part of the argo-cd chart 10.1.1 values for the remote bases, and the CA
 * certificates the mirrors add to argocd-tls-certs-cm.
 *
 * kustomize runs git with the repo server's environment (argo-cd v3.4.4
 * `util/kustomize/kustomize.go`, Build: `os.Environ()`, the repository's credentials and, where
 * the Application's repository host has a CA in argocd-tls-certs-cm, `GIT_SSL_CAINFO` set to that
 * host's file, which git prefers over any `sslCAInfo` of a gitconfig). So:
 * - mirrors: a gitconfig of `insteadOf` rules in a ConfigMap (`extraObjects`), mounted into the
 *   repo server (`repoServer.volumes`/`volumeMounts`) and named by `GIT_CONFIG_GLOBAL`
 *   (`repoServer.env`), so HOME does not matter; a mirror's CA goes into argocd-tls-certs-cm
 *   under its own host (read through `http.<mirror>.sslCAInfo`) and into the file of every
 *   other host with a CA (read through GIT_SSL_CAINFO when that host serves the Application);
 * - proxy: HTTPS_PROXY and NO_PROXY on the repo server, which git (libcurl) and the repo
 *   server's own HTTP client both read.
 */
export function repoServerValues(
  remoteBases: RemoteBaseAccess | undefined,
  certificates: Record<string, string>,
): { values: HelmValues; certificates: Record<string, string> } {
  if (remoteBases === undefined) return { values: {}, certificates };
  const gitconfig = repoServerGitConfig(remoteBases.mirrors);
  const mirrorCas = remoteBases.mirrors.flatMap((m) => (m.caCertificate === undefined ? [] : [m]));
  const merged = { ...certificates };
  const add = (host: string, pem: string) => {
    const known = merged[host];
    merged[host] = known === undefined ? pem : known.includes(pem) ? known : known + pem;
  };
  for (const mirror of mirrorCas) add(new URL(mirror.mirror).hostname, mirror.caCertificate!);
  for (const host of Object.keys(merged)) for (const mirror of mirrorCas) add(host, mirror.caCertificate!);
  const env: { name: string; value: string }[] = [];
  const repoServer: HelmValues = {};
  const values: HelmValues = { repoServer };
  if (gitconfig !== "") {
    env.push({
      name: "GIT_CONFIG_GLOBAL",
      value: `${REPO_SERVER_GITCONFIG.mountPath}/${REPO_SERVER_GITCONFIG.key}`,
    });
    repoServer.volumes = [{ name: "gitconfig", configMap: { name: REPO_SERVER_GITCONFIG.configMap } }];
    repoServer.volumeMounts = [
      { name: "gitconfig", mountPath: REPO_SERVER_GITCONFIG.mountPath, readOnly: true },
    ];
    values.extraObjects = [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: {
          name: REPO_SERVER_GITCONFIG.configMap,
          labels: { "app.kubernetes.io/part-of": "argocd", "app.kubernetes.io/component": "repo-server" },
        },
        data: { [REPO_SERVER_GITCONFIG.key]: gitconfig },
      },
    ];
  }
  if (remoteBases.proxy) {
    env.push(
      { name: "HTTPS_PROXY", value: remoteBases.proxy.url },
      { name: "NO_PROXY", value: remoteBases.proxy.noProxy.join(",") },
    );
  }
  if (env.length > 0) repoServer.env = env;
  return { values, certificates: merged };
}

/**
 * Argo CD 3 (HA with redis-ha, several replicas and PDBs when asked) and a second release,
 * `argocd-apps`, that carries Applications and AppProjects: custom resources go through a chart
 * installed after the one that brings their CRDs, never through `kubernetes_manifest` here.
 * The admin password is never in values: Argo CD generates it into `argocd-initial-admin-secret`.
 */
export class ArgoCd extends Construct {
  public readonly release: PlatformRelease;
  private readonly props: ArgoCdProps;

  constructor(scope: Construct, id: string, props: ArgoCdProps) {
    super(scope, id);
    this.props = props;
    const ha = props.highAvailability;
    const replicas = ha ? 2 : 1;
    const pdb = { enabled: ha, minAvailable: 1 };
    const repoServer = repoServerValues(
      props.remoteBases,
      repositoryTlsCertificates(props.repositories ?? []),
    );
    const certificates = repoServer.certificates;
    this.release = props.charts.install(this, "ArgoCd", {
      chart: "argo-cd",
      namespace: props.namespace,
      timeoutSeconds: 900,
      computedValues: mergeValues(
        {
          global: { domain: props.host },
          configs: {
            // TLS ends at the load balancer; the server answers plain HTTP inside the cluster.
            params: { "server.insecure": true },
            secret: { createSecret: true },
            ...(Object.keys(certificates).length > 0 ? { tls: { certificates } } : {}),
          },
          "redis-ha": { enabled: ha },
          // One application controller (sharding is not worth it at this size). A PDB on a single
          // replica would leave no eviction allowed and block every node drain; its restart is
          // harmless, since Applications reconcile again when it is back.
          controller: { replicas: 1, pdb: { enabled: false } },
          server: {
            replicas,
            pdb,
            ingress: {
              enabled: true,
              ingressClassName: props.ingressClassName,
              annotations: props.ingressAnnotations,
              ...(props.ingressTls ? { tls: true } : {}),
            },
          },
          repoServer: { replicas, pdb },
          applicationSet: { replicas, pdb },
        },
        repoServer.values,
        props.login,
      ),
      dependsOn: props.dependsOn,
    });
  }

  /** Installs `argocd-apps` with these Applications, after Argo CD and its CRDs. */
  public addApplications(
    id: string,
    applications: Readonly<Record<string, ArgoApplication>>,
    projects: Readonly<Record<string, HelmValues>>,
  ): PlatformRelease {
    return this.props.charts.install(this, id, {
      chart: "argocd-apps",
      namespace: this.props.namespace,
      computedValues: {
        projects: Object.fromEntries(
          Object.entries(projects).map(([name, spec]) => [
            name,
            { namespace: this.props.namespace, ...spec },
          ]),
        ),
        applications: Object.fromEntries(
          Object.entries(applications).map(([name, app]) => [
            name,
            {
              namespace: this.props.namespace,
              finalizers: ["resources-finalizer.argocd.argoproj.io"],
              ...app,
            },
          ]),
        ),
      },
      dependsOn: [this.release.release],
    });
  }
}
