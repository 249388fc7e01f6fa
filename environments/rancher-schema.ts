/**
 * The schema of an on-prem environment: an existing Rancher (RKE2) cluster on RHEL hosts, with
 * JFrog Artifactory for images and charts, an S3-compatible object store, Active Directory for
 * logins and the organisation's internal CA. No AWS. Messages follow the AWS schema's form:
 * `<rule>; fix: <remedy>`, and the loader adds environment, field and value.
 */
import { z } from "zod";
import { isDistinguishedName, isLdapFilter, ldapsEndpoint } from "../constructs/platform/directory-login";
import { overlaps, parseCidr } from "../constructs/lib/cidr";
import { onPremChartRepositories } from "../constructs/platform/charts";
import { parseCaBundle } from "../constructs/lib/certificates";
import { remoteBaseRepositories } from "../constructs/platform/kustomize-remote-bases";
import {
  credentialShape,
  environmentNameSchema,
  fix,
  labelKeyLengthProblem,
  protectionSchema,
} from "./fields/common";
import { environmentMonitoringSchema } from "./fields/monitoring";
import {
  chartRepositoryUrlProblem,
  chartRepositoryUrlShape,
  objectStoreEndpointProblem,
} from "./fields/registries";
import { cidr } from "./fields/network";
import { credentialFreeUrl, onPremAlertingSchema, receiverNameProblems } from "./fields/alerting";
import { onPremDeliverySchema } from "./fields/delivery";
import { pipelinesShape, platformShape, servingSchema } from "./fields/platform";

/** The store's https:// URL; a trailing slash, which S3 clients accept, is dropped when parsed. */
const OBJECT_STORE_ENDPOINT = /^https:\/\/[a-z0-9.-]+(:\d{1,5})?\/?$/;

const keyLengthRule = (remedy: string) => (key: string, ctx: z.RefinementCtx<string>) => {
  const problem = LABEL_KEY.test(key) ? labelKeyLengthProblem(key) : undefined;
  if (problem) ctx.addIssue({ code: "custom", input: key, message: fix(problem, remedy) });
};

function chartRepositoryUrlRule(url: string, ctx: z.RefinementCtx<string>): void {
  if (!/^(https|oci):\/\/\S+$/.test(url)) return;
  const problem = chartRepositoryUrlProblem(url);
  if (problem)
    ctx.addIssue({
      code: "custom",
      input: url,
      message: fix(problem, `write ${JSON.stringify(chartRepositoryUrlShape(url))}`),
    });
}

/** Kubernetes versions RKE2 releases support while this release line is maintained. */
export const RKE2_KUBERNETES_VERSIONS = ["1.33", "1.34"] as const;

/** RKE2's defaults (`--cluster-cidr`, `--service-cidr`). */
export const RKE2_DEFAULT_POD_CIDR = "10.42.0.0/16";
export const RKE2_DEFAULT_SERVICE_CIDR = "10.43.0.0/16";

const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A kubeconfig context name as Rancher writes them: no spaces, no control characters. */
const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,252}$/;
const AD_GROUP = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;

const wholeNumber = (min: number, max: number, remedy: string) =>
  z
    .number({ error: fix("must be a number", remedy) })
    .int({ error: fix("must be a whole number", remedy) })
    .min(min, { error: fix(`must be between ${min} and ${max}`, remedy) })
    .max(max, { error: fix(`must be between ${min} and ${max}`, remedy) });

/** The name of a Secret created out of band. */
const secretName = (remedy: string) =>
  z
    .string({ error: fix("must be the name of an existing Secret", remedy) })
    .regex(RESOURCE_NAME, {
      error: (issue) =>
        credentialInName(issue.input) ??
        fix("must be a Kubernetes object name (lower-case letters, digits and -)", remedy),
    })
    .max(253, { error: fix("must be at most 253 characters", remedy) })
    .superRefine((name, ctx) => {
      const message = RESOURCE_NAME.test(name) ? credentialInName(name) : undefined;
      if (message) ctx.addIssue({ code: "custom", input: name, message });
    });

/** The refusal of a credential written where a Secret's name belongs. */
function credentialInName(value: unknown): string | undefined {
  const shape = typeof value === "string" ? credentialShape(value) : undefined;
  return shape === undefined
    ? undefined
    : fix(
        `looks like ${shape}, a credential written into the environment file where the name of the Secret holding it belongs`,
        "put the credential into a Secret created by hand in the cluster, give its name here, and rotate the credential: the file is in Git",
      );
}

/** A key of an existing Secret, and the Secret. */
const secretKeyRef = (remedy: string) =>
  z.strictObject({
    name: secretName(remedy),
    key: z.string().regex(SECRET_KEY, {
      error: fix("must be a Secret data key (letters, digits, -, _ and .)", remedy),
    }),
  });

/**
 * A registry as image references name it: a host and, off 443, its port (`host:port`, as in
 * Docker's reference grammar and the keys of RKE2's registries.yaml, whose default endpoint for
 * `registry.example.com:5000/...` is https://registry.example.com:5000/v2).
 */
const registryHost = (remedy: string) => {
  const valid = (text: string) => {
    const match = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
    const port = match?.[2] === undefined ? 443 : Number(match[2]);
    return match !== null && DNS_NAME.test(match[1]) && port >= 1 && port <= 65535;
  };
  return z.string().refine(valid, {
    error: (issue) => {
      const text = typeof issue.input === "string" ? issue.input : "";
      return text !== text.toLowerCase() && valid(text.toLowerCase())
        ? fix(
            "has upper-case letters; every image reference names the registry by this host, and containerd finds the registry's CA and credentials (the host's entry in RKE2's registries.yaml) by the host exactly as the reference writes it",
            `write ${JSON.stringify(text.toLowerCase())}, as registries.yaml names it`,
          )
        : fix("must be a lower-case DNS name with an optional :port (1-65535), no scheme or path", remedy);
    },
  });
};

/** `directory.url`: what Dex's LDAP connector can be given (see `ldapsEndpoint`). */
const directoryUrl = z.string().refine((url) => ldapsEndpoint(url) !== undefined, {
  error: (issue) => {
    const url = typeof issue.input === "string" ? issue.input : "";
    const path = /^ldaps:\/\/[^/]+(\/.+)$/i.exec(url)?.[1];
    return path !== undefined && !/^\/[?#]/.test(path)
      ? fix(
          `carries the path ${path}; Dex's LDAP connector takes only the host and port of the directory, and searches where directory.userBaseDn and directory.groupBaseDn say`,
          `write ${url.slice(0, url.length - path.length)}, and put a base DN in directory.userBaseDn or directory.groupBaseDn`,
        )
      : fix(
          "must be ldaps://<host>[:<port 1-65535>] with no path but an optional trailing / (plain ldap:// would send the bind password in clear); the host is a DNS name (any case: it is compared in lower case) or an IPv4 address the directory's certificate lists",
          "use the directory's LDAPS endpoint, e.g. ldaps://ad.example.com:636",
        );
  },
});

const distinguishedName = (remedy: string) =>
  z.string().refine(isDistinguishedName, {
    error: fix("must be a distinguished name such as OU=People,DC=example,DC=com (RFC 4514)", remedy),
  });

const ldapFilter = z.string().refine(isLdapFilter, {
  error: fix("must be one parenthesized LDAP filter with balanced parentheses", 'e.g. "(objectClass=group)"'),
});

const adGroups = z
  .array(
    z.string().regex(AD_GROUP, {
      error: fix(
        "must be an AD group name (cn): letters, digits, space, ., _ and -, at most 64",
        "use the group's cn as AD shows it, e.g. mlops-admins",
      ),
    }),
  )
  .default([]);

/**
 * Upstream registries of the platform's images at the pinned versions, each proxied by an
 * Artifactory remote (Argo CD's Redis and HAProxy come from ecr-public.aws.com, Kubeflow
 * Pipelines' metadata server from gcr.io).
 */
export const UPSTREAM_REGISTRIES = [
  "docker.io",
  "quay.io",
  "ghcr.io",
  "registry.k8s.io",
  "nvcr.io",
  "public.ecr.aws",
  "ecr-public.aws.com",
  "gcr.io",
] as const;

/** PEM of one or more CA certificates: public, so it lives in the environment file. */
const caCertificates = (remedy: string) =>
  z.string({ error: fix("must be the PEM text of CA certificates", remedy) }).superRefine((text, ctx) => {
    const parsed = parseCaBundle(text);
    if ("problem" in parsed) ctx.addIssue({ code: "custom", message: fix(parsed.problem, remedy) });
  });

/** A Git mirror's https:// URL with a lower-case host (Argo CD keys its CA by the host as written). */
const mirrorUrl = z.string().regex(/^https:\/\/[a-z0-9.-]+(:\d{1,5})?\/[^\s"\\?#]+$/, {
  error: fix(
    "must be the https:// URL of a Git repository with a lower-case host and no query",
    "use e.g. https://git.example.com/mirrors/argo-workflows.git",
  ),
});

/** Kubeflow Pipelines on-prem: the manifests come from the organisation's Git mirror. */
const onPremPipelinesSchema = z
  .strictObject({
    ...pipelinesShape,
    /**
     * PEM of the CA certificate(s) that issued the mirror's server certificate, where it is not
     * publicly trusted (a CA certificate is public: never its key). Argo CD trusts them for the
     * mirror's host only (argocd-tls-certs-cm). @default none: the mirror's certificate is publicly trusted
     */
    manifestsRepositoryCaCertificate: caCertificates(
      "paste the organisation CA's certificate, e.g. from `openssl s_client -showcerts -connect <mirror host>:443`",
    ).optional(),
    /**
     * Existing Secret with `username` and `password` (an access token) Argo CD fetches the mirror
     * with, where it needs credentials; copied into argocd as a repository Secret.
     * @default none: anonymous read access
     */
    manifestsRepositoryCredentialsSecret: secretName(
      "create it with the mirror's read-only username and password (or token)",
    ).optional(),
    /**
     * The organisation's mirrors of the repositories the manifests pull as kustomize remote bases
     * (Argo Workflows: https://github.com/argoproj/argo-workflows), upstream URL -> mirror URL.
     * Argo CD's repo server gets a gitconfig rewriting each upstream URL to its mirror
     * (`url.<mirror>.insteadOf`); it fetches the mirror with the manifests' credentials.
     * @default none: the repo server needs `remoteBasesProxy`
     */
    remoteBaseMirrors: z
      .record(
        z.string().regex(/^https:\/\/github\.com\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, {
          error: fix(
            "must be an upstream repository URL such as https://github.com/argoproj/argo-workflows",
            `use one of ${remoteBaseRepositories().join(", ")}`,
          ),
        }),
        mirrorUrl,
      )
      .default({}),
    /**
     * PEM of the CA certificate(s) that issued the remote-base mirrors' certificates, where they
     * are not publicly trusted. @default none: publicly trusted, or the same host as
     * manifestsRepository and its CA
     */
    remoteBaseMirrorsCaCertificate: caCertificates(
      "paste the organisation CA's certificate, e.g. from `openssl s_client -showcerts -connect <mirror host>:443`",
    ).optional(),
    /**
     * HTTP proxy Argo CD's repo server fetches the remote bases without a mirror through
     * (HTTPS_PROXY; NO_PROXY covers the cluster's pod and service ranges, the API server and the
     * Git mirrors). @default none
     */
    remoteBasesProxy: credentialFreeUrl(
      "an HTTP proxy",
      "use the organisation's proxy, e.g. http://proxy.example.com:3128",
    ).optional(),
  })
  .prefault({});

/** Namespaces Kubernetes and RKE2 keep for themselves. */
const KUBERNETES_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "default"];

export const rancherEnvironmentSchema = z
  .strictObject({
    name: environmentNameSchema,
    /** The environment runs on an existing Rancher (RKE2) cluster: platform and serving stacks only. */
    target: z.literal("rancher", {
      error: fix('must be "rancher" for an on-prem environment', 'set target: "rancher"'),
    }),
    protection: protectionSchema,
    cluster: z.strictObject({
      /**
       * The kubeconfig context Rancher generated for the cluster. The kubeconfig file itself comes
       * from `KUBE_CONFIG_PATH` at deploy time (the Kubernetes and Helm providers' own variable).
       */
      kubeconfigContext: z
        .string({
          error: fix("must name the kubeconfig context", "copy it from `kubectl config get-contexts`"),
        })
        .regex(CONTEXT_NAME, {
          error: fix(
            "must be a kubeconfig context name: no spaces, starting with a letter or digit",
            "copy it from `kubectl config get-contexts`",
          ),
        }),
      /** @default "1.34" */
      kubernetesVersion: z
        .enum(RKE2_KUBERNETES_VERSIONS, {
          error: fix(
            `must be one of ${RKE2_KUBERNETES_VERSIONS.join(", ")}`,
            "give the cluster's minor version",
          ),
        })
        .default("1.34"),
      /** Addresses of the control-plane nodes, where the API server listens (network policies). */
      apiServerCidrs: z
        .array(cidr("give the control-plane nodes' addresses, e.g. 10.60.0.11/32"))
        .min(1, { error: fix("must list the control-plane nodes", "give their addresses as /32 ranges") }),
      /** @default 6443 (RKE2) */
      apiServerPort: wholeNumber(1, 65535, "RKE2's API server listens on 6443").default(6443),
      /** @default "10.42.0.0/16" (RKE2) */
      podCidr: cidr("give the cluster's --cluster-cidr")
        .describe("the cluster's --cluster-cidr, an IPv4 range")
        .default(RKE2_DEFAULT_POD_CIDR),
      /** @default "10.43.0.0/16" (RKE2) */
      serviceCidr: cidr("give the cluster's --service-cidr")
        .describe("the cluster's --service-cidr, an IPv4 range apart from podCidr")
        .default(RKE2_DEFAULT_SERVICE_CIDR),
      /** Ingress class of the UIs and predictors. @default "nginx" (RKE2's ingress-nginx) */
      ingressClassName: z
        .string()
        .regex(RESOURCE_NAME, { error: fix("must be an IngressClass name", "use e.g. nginx") })
        .default("nginx"),
      /** Where ingress traffic reaches pods from: the nodes running the ingress controller. */
      ingressSourceCidrs: z.array(cidr("give the ingress nodes' range")).min(1, {
        error: fix("must list where ingress traffic comes from", "give the ingress nodes' range"),
      }),
      /**
       * Namespace of the ingress controller's pods. RKE2's ingress-nginx runs there with host
       * ports, so the traffic it forwards reaches pods from its pod addresses, and pods calling an
       * ingress host reach it there after DNAT. @default "kube-system"
       */
      ingressControllerNamespace: z
        .string()
        .regex(RESOURCE_NAME, {
          error: fix(
            "must be a namespace name",
            "give the namespace the ingress controller runs in, e.g. kube-system",
          ),
        })
        .default("kube-system"),
      /** Storage class of every volume (Longhorn, local-path, a CSI driver's). */
      storageClassName: z.string().regex(RESOURCE_NAME, {
        error: fix(
          "must be a StorageClass name",
          "use `kubectl get storageclass` to pick one, e.g. longhorn",
        ),
      }),
      /** Most nodes the cluster will have, GPU nodes included (node-exporter runs on each). */
      maxNodes: wholeNumber(1, 1000, "give the most nodes the cluster will have"),
      /**
       * Control-plane components an in-cluster Prometheus can scrape. RKE2 binds the controller
       * manager's and scheduler's metrics to 127.0.0.1 and does not expose etcd's unless told to
       * (`kube-controller-manager-arg: bind-address=0.0.0.0`, `etcd-expose-metrics: true`).
       * @default none
       */
      scrapeableComponents: z
        .strictObject({
          controllerManager: z.boolean().default(false),
          scheduler: z.boolean().default(false),
          etcd: z.boolean().default(false),
          kubeProxy: z.boolean().default(false),
        })
        .prefault({}),
      /** The GPU nodes (GPU test or GPU prod): the label the environment gives them, and their count. */
      gpuNodes: z.strictObject({
        labelKey: z
          .string()
          .regex(LABEL_KEY, {
            error: fix("must be a Kubernetes label key", "use a key like node.example.com/gpu"),
          })
          .superRefine(keyLengthRule("use a short prefix, e.g. node.example.com/gpu")),
        labelValue: z.string().regex(LABEL_VALUE, {
          error: fix("must be a non-empty label value", 'use a value like "true"'),
        }),
        maxNodes: wholeNumber(0, 1000, "give the number of GPU nodes (0: none)"),
        /** Taint that keeps other pods off the GPU nodes, if they carry one. */
        taintKey: z
          .string()
          .regex(LABEL_KEY, { error: fix("must be a taint key", "use e.g. nvidia.com/gpu") })
          .superRefine(keyLengthRule("use a short prefix, e.g. nvidia.com/gpu"))
          .optional(),
        /**
         * `preinstalled`: the RHEL hosts carry the NVIDIA driver; `container`: the GPU Operator
         * builds it in a container (needs the hosts' kernel headers). @default "preinstalled"
         */
        driver: z
          .enum(["preinstalled", "container"], {
            error: fix("must be preinstalled or container", "say whether the hosts carry the NVIDIA driver"),
          })
          .default("preinstalled"),
      }),
    }),
    /** JFrog Artifactory: every image and chart comes through it. */
    registry: z.strictObject({
      /** Docker registry host of Artifactory, e.g. `artifactory.example.com`. */
      host: registryHost(
        "give the host alone, with the port when the registry is not on 443, e.g. artifactory.example.com or artifactory.example.com:8443",
      ),
      /** Artifactory remote repository for each upstream registry the platform's images come from (all required). */
      remotes: z.record(
        z.enum(UPSTREAM_REGISTRIES, {
          error: fix(`must be one of ${UPSTREAM_REGISTRIES.join(", ")}`, "name the upstream registry host"),
        }),
        z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
          error: fix("must be an Artifactory repository key", "use e.g. docker-remote"),
        }),
      ),
      /** Existing docker-registry Secret in every namespace that pulls. */
      pullSecretName: secretName("create it with kubectl create secret docker-registry in each namespace"),
      /** Artifactory remote (Helm) repository per upstream chart repository URL. */
      chartRepositories: z.record(
        z
          .string()
          .regex(/^(https|oci):\/\/\S+$/, {
            error: fix("must be a chart repository URL", "copy it from the chart catalog"),
          })
          .superRefine(chartRepositoryUrlRule),
        z
          .string()
          .regex(/^(https|oci):\/\/\S+$/, {
            error: fix(
              "must be an https:// or oci:// repository URL",
              "use the remote's URL, e.g. https://artifactory.example.com/artifactory/api/helm/jetstack-remote",
            ),
          })
          .superRefine(chartRepositoryUrlRule),
      ),
      /** Repositories the serving and training images are pushed to (local Artifactory repositories). */
      servingRepository: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/, {
        error: fix(
          "must be a repository path such as ml-docker-local/mlops-serving",
          "give it without host or tag",
        ),
      }),
      trainingRepository: z.string().regex(/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)+$/, {
        error: fix(
          "must be a repository path such as ml-docker-local/mlops-training",
          "give it without host or tag",
        ),
      }),
    }),
    /** An existing S3-compatible object store (an appliance or Ceph RGW). */
    objectStore: z.strictObject({
      endpoint: z
        .string()
        .regex(OBJECT_STORE_ENDPOINT, {
          error: (issue) => {
            const problem =
              typeof issue.input === "string" ? objectStoreEndpointProblem(issue.input, []) : undefined;
            return problem
              ? fix(problem.rule, problem.shape)
              : fix("must be an https:// URL with no path", "use e.g. https://s3.example.com");
          },
        })
        .transform((url) => url.replace(/\/$/, "")),
      /** @default "us-east-1" (what most S3-compatible stores answer to) */
      region: z
        .string()
        .regex(/^[a-z0-9-]{1,32}$/, {
          error: fix("must be a region name", "use the store's, e.g. us-east-1"),
        })
        .default("us-east-1"),
      artifactsBucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        error: fix("must be a bucket name", "use lower-case letters, digits, . and -"),
      }),
      dataBucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        error: fix("must be a bucket name", "use lower-case letters, digits, . and -"),
      }),
      /** Existing Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, in every namespace that reads artifacts. */
      credentialsSecret: secretName(
        "create it with the store's access key in each namespace that reads artifacts",
      ),
      /** Ranges of the store's endpoint addresses (egress of everything that reads or writes artifacts). */
      cidrs: z
        .array(cidr("give the store's address range, e.g. 10.70.0.10/32"))
        .min(1, { error: fix("must list the store's addresses", "give its range, e.g. 10.70.0.10/32") }),
      /** Existing Secret with the CA bundle of the store's certificate, where it is internal. */
      caBundleSecret: secretKeyRef("name the Secret and its key holding the PEM bundle").optional(),
    }),
    /** MLflow's PostgreSQL cluster (CloudNativePG). */
    database: z
      .strictObject({
        /** @default 1; protected environments need 3 or more */
        instances: wholeNumber(1, 9, "run 1 instance in test, 3 in prod").default(1),
        /** @default 20 */
        storageGib: wholeNumber(1, 16384, "give each instance 1 GiB or more").default(20),
        /** @default 7 */
        backupRetentionDays: wholeNumber(1, 3650, "keep backups 1 day or more").default(7),
      })
      .prefault({}),
    /** Active Directory over LDAPS: the one login of every UI. */
    directory: z.strictObject({
      /** `ldaps://<host>[:<port>]`, the port 636 by default; Dex is given `<host>:<port>`, the host in lower case. */
      url: directoryUrl,
      bindDn: distinguishedName("write the service account's distinguishedName as AD shows it"),
      /** Existing Secret in the argocd namespace, labelled app.kubernetes.io/part-of=argocd. */
      bindPasswordSecret: secretKeyRef("create it in the argocd namespace with the bind password"),
      caSecret: secretKeyRef("name the Secret and key holding the directory's CA (PEM)").optional(),
      userBaseDn: distinguishedName("give the OU users are searched under, e.g. OU=People,DC=example,DC=com"),
      userFilter: ldapFilter.optional(),
      groupBaseDn: distinguishedName(
        "give the OU groups are searched under, e.g. OU=Groups,DC=example,DC=com",
      ),
      groupFilter: ldapFilter.optional(),
      /** Address ranges of the directory's LDAPS endpoints: the only place Dex may connect to. */
      cidrs: z.array(cidr("give the domain controllers' addresses, e.g. 10.50.0.10/32")).min(1, {
        error: fix(
          "must list the directory's addresses (Dex reaches nothing else)",
          "give each domain controller behind the LDAPS name as a /32, e.g. 10.50.0.10/32",
        ),
      }),
      roles: z.strictObject({
        admins: adGroups,
        editors: adGroups,
        viewers: adGroups,
      }),
    }),
    /** The organisation's internal CA, which signs the UIs' certificates through cert-manager. */
    tls: z.strictObject({
      /** Existing Secret in the cert-manager namespace with `tls.crt` and `tls.key` of the CA. */
      caSecret: secretName("create it in the cert-manager namespace from the CA's certificate and key"),
      /**
       * Existing Secret with the CA's certificate alone (PEM), in the monitoring, mlflow and kubeflow
       * namespaces: Grafana, MLflow and the pipelines login proxy call Dex at the Argo CD host,
       * whose certificate the CA signed. Unset: the UIs' certificates are publicly trusted.
       */
      caBundleSecret: secretKeyRef(
        "create it in the monitoring, mlflow and kubeflow namespaces with the CA's certificate (no key)",
      ).optional(),
    }),
    delivery: onPremDeliverySchema,
    /** Terraform state in the cluster (Kubernetes backend): one Secret per stack. */
    stateBackend: z
      .strictObject({
        /** @default "terraform-state" */
        namespace: z
          .string()
          .regex(RESOURCE_NAME, { error: fix("must be a namespace name", "use e.g. terraform-state") })
          .refine((namespace) => !KUBERNETES_NAMESPACES.includes(namespace), {
            error: fix(
              `must not be one of Kubernetes' own namespaces (${KUBERNETES_NAMESPACES.join(", ")}): whoever may read Secrets there (controllers, add-ons, their service accounts) would read every stack's state, credentials included`,
              'use a namespace of its own, e.g. "terraform-state", readable only by the deploy credential',
            ),
          })
          .default("terraform-state"),
      })
      .prefault({}),
    platform: z.strictObject({
      ...platformShape,
      pipelines: onPremPipelinesSchema,
      /** Where Alertmanager sends alerts; each receiver reads its credential from a hand-made Secret. */
      alerting: onPremAlertingSchema,
    }),
    serving: servingSchema,
    /** Defaults of the models' drift and performance jobs; the release overrides them per model. */
    monitoring: environmentMonitoringSchema,
  })
  .superRefine((env, ctx) => {
    receiverNameProblems(env.platform.alerting, ctx, " (it names the Secret alert-receiver-<name>)");
    clusterRangeProblems(env, ctx);
    endpointProblems(env, ctx);
    if (env.directory.roles.admins.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["directory", "roles", "admins"],
        input: env.directory.roles.admins,
        message: fix("must name at least one AD group", "list the group of the platform's administrators"),
      });
    }
    // A key refused for its form (e.g. with /index.yaml) was reported already, against itself.
    const mirrored = Object.keys(env.registry.chartRepositories).map(chartRepositoryUrlShape);
    const unmirrored = onPremChartRepositories().filter(
      (url) => !(url in env.registry.chartRepositories) && !mirrored.includes(url),
    );
    if (unmirrored.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["registry", "chartRepositories"],
        input: env.registry.chartRepositories,
        message: fix(
          `has no Artifactory remote for ${unmirrored.join(", ")}, where the platform's charts come from`,
          "create a Helm (or OCI) remote for each and map its upstream URL to the remote's URL",
        ),
      });
    }
    const pipelines = env.platform.pipelines;
    const unknownMirrors = Object.keys(pipelines.remoteBaseMirrors).filter(
      (url) => !remoteBaseRepositories().includes(url),
    );
    if (unknownMirrors.length > 0) {
      ctx.addIssue({
        code: "custom",
        path: ["platform", "pipelines", "remoteBaseMirrors"],
        input: unknownMirrors,
        message: fix(
          `maps ${unknownMirrors.join(", ")}, which no remote base of the Kubeflow Pipelines manifests comes from (allowed: ${remoteBaseRepositories().join(", ")})`,
          "remove the entry, or correct the upstream URL to the one the manifests name",
        ),
      });
    }
    const unreachable = remoteBaseRepositories().filter((url) => !(url in pipelines.remoteBaseMirrors));
    if (unreachable.length > 0 && pipelines.remoteBasesProxy === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["platform", "pipelines", "remoteBaseMirrors"],
        input: pipelines.remoteBaseMirrors,
        message: fix(
          `has no mirror for ${unreachable.join(", ")}, which the Kubeflow Pipelines manifests pull as kustomize remote bases, and platform.pipelines.remoteBasesProxy is unset: Argo CD's repo server cannot fetch them from a cluster without internet access`,
          "map each to the organisation's mirror of it, or set platform.pipelines.remoteBasesProxy to the organisation's HTTP proxy",
        ),
      });
    }
    if (
      env.protection === "protected" &&
      !env.platform.alerting.receivers.some((receiver) => receiver.severities.includes("critical"))
    )
      ctx.addIssue({
        code: "custom",
        path: ["platform", "alerting", "receivers"],
        input: env.platform.alerting.receivers,
        message: fix(
          "a protected environment must send critical alerts to at least one receiver",
          'add a receiver with severities ["critical"] (e.g. kind: "pagerduty") under platform.alerting.receivers, its key in the Secret alert-receiver-<name>',
        ),
      });
    if (env.protection === "protected" && env.database.instances < 3) {
      ctx.addIssue({
        code: "custom",
        path: ["database", "instances"],
        input: env.database.instances,
        message: fix("must be 3 or more in a protected environment", "run 3 instances across nodes"),
      });
    }
    if (env.cluster.gpuNodes.maxNodes > env.cluster.maxNodes) {
      ctx.addIssue({
        code: "custom",
        path: ["cluster", "gpuNodes", "maxNodes"],
        input: env.cluster.gpuNodes.maxNodes,
        message: fix(
          `must not exceed cluster.maxNodes (${env.cluster.maxNodes})`,
          "count GPU nodes in maxNodes",
        ),
      });
    }
  });

type Issue = Parameters<z.RefinementCtx<RancherEnvironment>["addIssue"]>[0];

/**
 * The cluster's pod and service ranges against each other and against the addresses the file
 * gives for machines outside them (control plane, ingress nodes, object store, directory):
 * network policies allow those by address, so a machine range inside the pod or service range
 * opens pods or breaks egress. The message names the field the file set; a range left to
 * RKE2's default is named as such, and the other field is blamed.
 */
function clusterRangeProblems(env: RancherEnvironment, ctx: z.RefinementCtx<RancherEnvironment>): void {
  const ranges = [
    { field: "podCidr", text: env.cluster.podCidr, what: "pod range", defaultText: RKE2_DEFAULT_POD_CIDR },
    {
      field: "serviceCidr",
      text: env.cluster.serviceCidr,
      what: "service range",
      defaultText: RKE2_DEFAULT_SERVICE_CIDR,
    },
  ] as const;
  const [pods, services] = ranges.map((range) => parseCidr(range.text));
  if (pods && services && overlaps(pods, services)) {
    const issue: Issue = {
      code: "custom",
      path: ["cluster", "serviceCidr"],
      input: env.cluster.serviceCidr,
      message: fix(`overlaps the pod range ${env.cluster.podCidr}`, "give the cluster's real --service-cidr"),
      params: {
        whenDefaulted: {
          path: ["cluster", "podCidr"],
          input: env.cluster.podCidr,
          message: fix(
            `overlaps the cluster's service range ${env.cluster.serviceCidr} (RKE2's default, as cluster.serviceCidr is not set)`,
            "give the cluster's real --cluster-cidr, and set cluster.serviceCidr if the cluster was installed with another --service-cidr",
          ),
        },
      },
    };
    ctx.addIssue(issue);
  }
  const machines = [
    {
      path: ["cluster", "apiServerCidrs"],
      list: env.cluster.apiServerCidrs,
      what: "the control-plane nodes",
    },
    {
      path: ["cluster", "ingressSourceCidrs"],
      list: env.cluster.ingressSourceCidrs,
      what: "the ingress nodes",
    },
    { path: ["objectStore", "cidrs"], list: env.objectStore.cidrs, what: "the object store" },
    { path: ["directory", "cidrs"], list: env.directory.cidrs, what: "the directory's domain controllers" },
  ] as const;
  ranges.forEach((range, r) => {
    const cluster = r === 0 ? pods : services;
    if (!cluster) return;
    const hits = machines.flatMap(({ path, list, what }) => {
      const inside = list.filter((text) => {
        const machine = parseCidr(text);
        return machine !== undefined && overlaps(machine, cluster);
      });
      return inside.length > 0 ? [{ path, list, what, inside, field: path.join(".") }] : [];
    });
    if (hits.length === 0) return;
    const field = `cluster.${range.field}`;
    if (range.text !== range.defaultText) {
      // A range the file set: one line for it, however many machine ranges it covers.
      ctx.addIssue({
        code: "custom",
        path: ["cluster", range.field],
        input: range.text,
        message: fix(
          `overlaps ${hits.map((hit) => `${hit.field} (${hit.inside.join(", ")})`).join(" and ")}, the addresses of ${hits.map((hit) => hit.what).join(" and ")}: a ${range.what} holds only the cluster's virtual addresses`,
          `give the cluster's real --${range.field === "podCidr" ? "cluster" : "service"}-cidr, or correct ${hits.map((hit) => hit.field).join(" and ")}`,
        ),
      });
      return;
    }
    // RKE2's default range: the machine addresses the file gives are what to look at.
    for (const hit of hits)
      ctx.addIssue({
        code: "custom",
        path: [...hit.path],
        input: hit.list,
        message: fix(
          `${hit.inside.length === 1 ? `${hit.inside[0]} lies` : `${hit.inside.join(", ")} lie`} in the cluster's ${range.what} ${range.text} (RKE2's default${valueSetNote(field)}), but ${hit.field} holds the addresses of ${hit.what}`,
          `give ${hit.what}' real addresses, or set ${field} to the range the cluster was installed with`,
        ),
      });
  });
}

/** How the default range came to apply, in words. */
const valueSetNote = (field: string) => `, the value when ${field} is not set`;

/** Endpoints given by IP address must lie in the ranges the network policies open for them. */
function endpointProblems(env: RancherEnvironment, ctx: z.RefinementCtx<RancherEnvironment>): void {
  const buckets = [env.objectStore.artifactsBucket, env.objectStore.dataBucket];
  const endpoint = objectStoreEndpointProblem(env.objectStore.endpoint, buckets);
  if (endpoint && OBJECT_STORE_ENDPOINT.test(env.objectStore.endpoint))
    ctx.addIssue({
      code: "custom",
      path: ["objectStore", "endpoint"],
      input: env.objectStore.endpoint,
      message: fix(endpoint.rule, endpoint.shape),
    });
  const checks = [
    {
      path: ["objectStore"],
      url: env.objectStore.endpoint,
      cidrs: env.objectStore.cidrs,
      what: "the object store",
      // A URL its field refuses is reported once, there.
      valid: OBJECT_STORE_ENDPOINT.test(env.objectStore.endpoint),
    },
    {
      path: ["directory"],
      url: env.directory.url,
      cidrs: env.directory.cidrs,
      what: "the directory",
      valid: ldapsEndpoint(env.directory.url) !== undefined,
    },
  ];
  for (const { path, url, cidrs, what, valid } of checks) {
    if (!valid) continue;
    // Both URLs may end in a trailing slash, which their clients drop (see their fields).
    const host = /^[a-z]+:\/\/(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?\/?$/i.exec(url)?.[1];
    const address = host ? parseCidr(`${host}/32`) : undefined;
    if (!address) continue;
    const listed = cidrs.map((text) => parseCidr(text)).some((range) => range && overlaps(range, address));
    if (!listed)
      ctx.addIssue({
        code: "custom",
        path: [...path, path[0] === "objectStore" ? "endpoint" : "url"],
        input: url,
        message: fix(
          `is the address ${host}, outside ${path[0]}.cidrs (${cidrs.join(", ")}), the only addresses the network policies let pods reach ${what} at`,
          `add ${host}/32 to ${path[0]}.cidrs, or correct the address`,
        ),
      });
  }
}

export type RancherEnvironmentInput = z.input<typeof rancherEnvironmentSchema>;
export type RancherEnvironment = z.output<typeof rancherEnvironmentSchema>;
