import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import { mergeValues, type HelmValues } from "../lib/values";
import type { GitRepositoryAccess } from "./cluster-target";

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
    const certificates = repositoryTlsCertificates(props.repositories ?? []);
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
