/**
 * Image mirroring for clusters that pull only from the organisation's registry (JFrog
 * Artifactory): every image reference of every chart and workload is rewritten to
 * `<host>/<remote>/<path>`, where `<remote>` is the Artifactory remote repository that proxies
 * the image's upstream registry, and pods pull with an existing `kubernetes.io/dockerconfigjson`
 * Secret.
 *
 * The image keys of each chart were read from the chart's sources at the version pinned in
 * `environments/releases/*.json`: the values that hold an image (whole reference, or registry,
 * repository and tag apart), and the images a chart passes indirectly (flags, environment
 * variables, ConfigMaps, custom resources an operator turns into pods). Another chart version
 * is refused until its keys are read, so a chart bump cannot leave an image unmirrored.
 */
import type { HelmValues } from "../lib/values";
import type { PlatformChart } from "./charts";

export interface ImageMirror {
  /** Registry host of the mirror, e.g. `artifactory.example.com` (no scheme, no path; a port is allowed). */
  readonly host: string;
  /**
   * Artifactory remote repository per upstream registry host, e.g. `{ "docker.io": "docker-remote",
   * "quay.io": "quay-remote", "ghcr.io": "ghcr-remote", "registry.k8s.io": "k8s-remote",
   * "nvcr.io": "nvcr-remote", "public.ecr.aws": "ecr-public-remote" }`.
   */
  readonly remotes: Readonly<Record<string, string>>;
  /** Existing kubernetes.io/dockerconfigjson Secret, created out of band in every namespace that pulls. */
  readonly pullSecretName: string;
}

/** An image reference split as container runtimes read it. */
export interface ImageReference {
  /** Registry host, Docker Hub as `docker.io`. */
  readonly registry: string;
  /** Repository path inside the registry; Docker Hub official images under `library/`. */
  readonly path: string;
  readonly tag?: string;
  /** `sha256:<hex>` */
  readonly digest?: string;
}

const DOCKER_HUB = "docker.io";
/** Other names of Docker Hub that image references use. */
const DOCKER_HUB_ALIASES = new Set(["index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$/;
const REMOTE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Splits `reference` into registry, path, tag and digest, normalised as Docker does: no registry
 * means Docker Hub, and a one-component Docker Hub name is an official image under `library/`.
 */
export function parseImageReference(reference: string): ImageReference {
  const fail = (why: string, fix: string): never => {
    throw new Error(`image reference "${reference}" ${why}; fix: ${fix}`);
  };
  if (reference === "" || /\s/.test(reference)) {
    fail("is empty or contains whitespace", "write the reference as [registry/]path[:tag][@sha256:digest]");
  }
  if (reference.includes("://"))
    fail("has a URL scheme", "drop the scheme (https://): write registry/path:tag");
  const at = reference.indexOf("@");
  const name = at < 0 ? reference : reference.slice(0, at);
  const digest = at < 0 ? undefined : reference.slice(at + 1);
  if (digest !== undefined && !DIGEST.test(digest)) {
    fail(
      `has digest "${digest}", which is not <algorithm>:<hex>`,
      "write the digest as sha256:<64 hex digits>",
    );
  }
  const lastSlash = name.lastIndexOf("/");
  const lastColon = name.lastIndexOf(":");
  const tag = lastColon > lastSlash ? name.slice(lastColon + 1) : undefined;
  const repository = lastColon > lastSlash ? name.slice(0, lastColon) : name;
  if (tag !== undefined && !TAG.test(tag)) {
    fail(`has tag "${tag}", which is not a valid tag`, "use letters, digits, '_', '.' and '-' (at most 128)");
  }
  const components = repository.split("/");
  const first = components[0];
  const hasRegistry =
    components.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost");
  let registry = hasRegistry ? first : DOCKER_HUB;
  if (!HOST.test(registry))
    fail(`has registry "${registry}", which is not a host[:port]`, "fix the registry host");
  registry = registry.toLowerCase();
  if (DOCKER_HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  const pathComponents = hasRegistry ? components.slice(1) : components;
  if (registry === DOCKER_HUB && pathComponents.length === 1) pathComponents.unshift("library");
  for (const component of pathComponents) {
    if (!PATH_COMPONENT.test(component)) {
      fail(
        `has path component "${component}", which is not valid`,
        "use lower-case letters, digits and single separators ('.', '_', '__', '-')",
      );
    }
  }
  return { registry, path: pathComponents.join("/"), tag, digest };
}

function checkMirror(mirror: ImageMirror): void {
  if (!HOST.test(mirror.host)) {
    throw new Error(
      `image mirror host "${mirror.host}" is not a registry host; fix: give the host name only (e.g. artifactory.example.com or artifactory.example.com:8443), without scheme or path`,
    );
  }
  for (const [registry, remote] of Object.entries(mirror.remotes)) {
    if (!REMOTE.test(remote)) {
      throw new Error(
        `image mirror remotes["${registry}"] is "${remote}", which is not an Artifactory repository key; fix: give the remote repository's key (letters, digits, '.', '_', '-'), e.g. "docker-remote"`,
      );
    }
  }
  if (!SECRET_NAME.test(mirror.pullSecretName)) {
    throw new Error(
      `image mirror pullSecretName "${mirror.pullSecretName}" is not a Secret name; fix: give the name of the existing kubernetes.io/dockerconfigjson Secret (lower-case DNS subdomain)`,
    );
  }
}

function remoteFor(reference: string, parsed: ImageReference, mirror: ImageMirror): string {
  const remote = mirror.remotes[parsed.registry];
  if (remote !== undefined) return remote;
  const known = Object.keys(mirror.remotes).sort();
  throw new Error(
    `image "${reference}" comes from registry "${parsed.registry}", which has no Artifactory remote repository in the image mirror (remotes: ${known.length > 0 ? known.join(", ") : "none"}); fix: create a remote repository for https://${parsed.registry} in Artifactory and add "${parsed.registry}": "<remote repository key>" to the mirror's remotes`,
  );
}

/**
 * `quay.io/jetstack/cert-manager-controller:v1.21.1` ->
 * `artifactory.example.com/quay-remote/jetstack/cert-manager-controller:v1.21.1`. Docker Hub short
 * names are normalised (`postgres:17` -> `docker.io/library/postgres:17`) and tag and digest are
 * kept. A reference already on the mirror's host is returned as it is.
 */
export function mirroredImage(reference: string, mirror: ImageMirror): string {
  checkMirror(mirror);
  const parsed = parseImageReference(reference);
  if (parsed.registry === mirror.host.toLowerCase()) return reference;
  const remote = remoteFor(reference, parsed, mirror);
  return `${mirror.host}/${remote}/${parsed.path}${parsed.tag !== undefined ? `:${parsed.tag}` : ""}${
    parsed.digest !== undefined ? `@${parsed.digest}` : ""
  }`;
}

/** An image as the cluster pulls it: through the target's mirror where it has one, else as given. */
export function imageFrom(mirror: ImageMirror | undefined, reference: string): string {
  return mirror ? mirroredImage(reference, mirror) : reference;
}

/** `imagePullSecrets` of a pod spec (kubernetes provider and Kubernetes JSON alike), or nothing. */
export function pullSecrets(name: string | undefined): { name: string }[] | undefined {
  return name ? [{ name }] : undefined;
}

/** A repository or repository prefix without tag (`ghcr.io/dexidp/dex`, `nvcr.io/nvidia`) on the mirror. */
export function mirroredRepository(repository: string, mirror: ImageMirror): string {
  const parsed = parseImageReference(repository);
  if (parsed.tag !== undefined || parsed.digest !== undefined) {
    throw new Error(
      `repository "${repository}" carries a tag or digest; fix: give the repository without ":tag" or "@digest"`,
    );
  }
  return mirroredImage(repository, mirror);
}

/** Where a chart keeps its images, read at one version. */
export interface ChartImageKeys {
  /** The chart version whose sources the keys were read from. */
  readonly version: string;
  readonly values: (images: MirrorValues) => HelmValues;
}

/** Helpers bound to one mirror and the release's own values. */
class MirrorValues {
  constructor(
    readonly mirror: ImageMirror,
    private readonly chart: string,
    private readonly chartValues: HelmValues,
  ) {}

  /** The release's value at a dotted path (keys with dots are given as one array item). */
  value(path: readonly string[]): unknown {
    let current: unknown = this.chartValues;
    for (const key of path) {
      if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
      current = (current as HelmValues)[key];
    }
    return current;
  }

  private given(path: readonly string[]): string | undefined {
    const value = this.value(path);
    return typeof value === "string" && value !== "" ? value : undefined;
  }

  /** The repository at `path` (the release's or the chart's default `fallback`) on the mirror. */
  repository(path: readonly string[], fallback: string): string {
    return this.wrap(path, () => mirroredRepository(this.given(path) ?? fallback, this.mirror));
  }

  /** The whole image reference at `path` (the release's or the chart's default) on the mirror. */
  image(path: readonly string[], fallback: string): string {
    return this.wrap(path, () => mirroredImage(this.given(path) ?? fallback, this.mirror));
  }

  /** `{ registry, repository }` of a chart that keeps them apart, at `path` (the map holding both). */
  split(
    path: readonly string[],
    registry: string,
    repository: string,
  ): { registry: string; repository: string } {
    const upstream = `${this.given([...path, "registry"]) ?? registry}/${this.given([...path, "repository"]) ?? repository}`;
    const mirrored = this.wrap(path, () => mirroredRepository(upstream, this.mirror));
    return { registry: this.mirror.host, repository: mirrored.slice(this.mirror.host.length + 1) };
  }

  /** `<host>/<remote>` of an upstream registry: where its images are on the mirror. */
  registry(upstream: string): string {
    const probe = mirroredRepository(`${upstream}/probe`, this.mirror);
    return probe.slice(0, -"/probe".length);
  }

  /** `[{ name }]`, the form most charts take. */
  get secretRefs(): { name: string }[] {
    return [{ name: this.mirror.pullSecretName }];
  }

  /** `[name]`, the form of the GPU Operator's ClusterPolicy. */
  get secretNames(): string[] {
    return [this.mirror.pullSecretName];
  }

  refuse(why: string, fix: string): never {
    throw new Error(`${this.chart}: ${why}, which the image mirror cannot redirect; fix: ${fix}`);
  }

  private wrap<T>(path: readonly string[], make: () => T): T {
    try {
      return make();
    } catch (error) {
      throw new Error(`${this.chart} value ${path.join(".")}: ${(error as Error).message}`);
    }
  }
}

const truthy = (value: unknown): boolean => value === true || value === "true";

/**
 * cert-manager v1.21.1: every image is `<imageRegistry>/<imageNamespace>/<name>` unless a
 * component sets a full `repository`, including the ACME HTTP-01 solver, which the controller
 * gets as --acme-http01-solver-image and runs in the Issuer's namespace.
 */
function certManager(m: MirrorValues): HelmValues {
  const given = m.value(["imageRegistry"]);
  const result: HelmValues = {
    imageRegistry: m.registry(typeof given === "string" && given !== "" ? given : "quay.io"),
    global: { imagePullSecrets: m.secretRefs },
  };
  for (const component of [undefined, "webhook", "cainjector", "acmesolver", "startupapicheck"]) {
    const path = component === undefined ? ["image"] : [component, "image"];
    if (m.value([...path, "registry"]) !== undefined) {
      m.refuse(
        `${path.join(".")}.registry is set: the chart prepends it to the mirrored repository`,
        `remove ${path.join(".")}.registry (deprecated upstream)`,
      );
    }
    const repository = m.value([...path, "repository"]);
    if (typeof repository === "string" && repository !== "") {
      const image = { repository: m.repository([...path, "repository"], repository) };
      if (component === undefined) result.image = image;
      else result[component] = { image };
    }
  }
  return result;
}

function metricsServer(m: MirrorValues): HelmValues {
  return {
    image: {
      repository: m.repository(["image", "repository"], "registry.k8s.io/metrics-server/metrics-server"),
    },
    addonResizer: {
      image: {
        repository: m.repository(
          ["addonResizer", "image", "repository"],
          "registry.k8s.io/autoscaling/addon-resizer",
        ),
      },
    },
    imagePullSecrets: m.secretRefs,
  };
}

function externalSecrets(m: MirrorValues): HelmValues {
  const eso = (path: string[]) => ({
    repository: m.repository([...path, "image", "repository"], "ghcr.io/external-secrets/external-secrets"),
  });
  return {
    global: { imagePullSecrets: m.secretRefs },
    image: eso([]),
    imagePullSecrets: m.secretRefs,
    webhook: { image: eso(["webhook"]), imagePullSecrets: m.secretRefs },
    certController: { image: eso(["certController"]), imagePullSecrets: m.secretRefs },
    "bitwarden-sdk-server": {
      image: {
        repository: m.repository(
          ["bitwarden-sdk-server", "image", "repository"],
          "ghcr.io/external-secrets/bitwarden-sdk-server",
        ),
      },
      imagePullSecrets: m.secretRefs,
    },
  };
}

function kubePrometheusStack(m: MirrorValues): HelmValues {
  const split = (path: string[], registry: string, repository: string) => m.split(path, registry, repository);
  const prometheus = m.split(["prometheus", "prometheusSpec", "image"], "quay.io", "prometheus/prometheus");
  const alertmanager = m.split(
    ["alertmanager", "alertmanagerSpec", "image"],
    "quay.io",
    "prometheus/alertmanager",
  );
  return {
    // global.imageRegistry is one registry for all images; the images come from five.
    global: { imagePullSecrets: m.secretRefs },
    crds: {
      upgradeJob: {
        image: {
          busybox: split(["crds", "upgradeJob", "image", "busybox"], "docker.io", "busybox"),
          kubectl: split(["crds", "upgradeJob", "image", "kubectl"], "registry.k8s.io", "kubectl"),
        },
      },
    },
    prometheus: { prometheusSpec: { image: prometheus } },
    alertmanager: { alertmanagerSpec: { image: alertmanager } },
    thanosRuler: {
      thanosRulerSpec: {
        image: split(["thanosRuler", "thanosRulerSpec", "image"], "quay.io", "thanos/thanos"),
      },
    },
    prometheusOperator: {
      image: split(["prometheusOperator", "image"], "quay.io", "prometheus-operator/prometheus-operator"),
      // --prometheus-config-reloader: the sidecar the operator adds to Prometheus and Alertmanager pods.
      prometheusConfigReloader: {
        image: split(
          ["prometheusOperator", "prometheusConfigReloader", "image"],
          "quay.io",
          "prometheus-operator/prometheus-config-reloader",
        ),
      },
      // --thanos-default-base-image: the Thanos sidecar and ThanosRuler without an image of their own.
      thanosImage: split(["prometheusOperator", "thanosImage"], "quay.io", "thanos/thanos"),
      // --prometheus/alertmanager-default-base-image: Prometheus and Alertmanager resources without an image.
      prometheusDefaultBaseImageRegistry: prometheus.registry,
      prometheusDefaultBaseImage: prometheus.repository,
      alertmanagerDefaultBaseImageRegistry: alertmanager.registry,
      alertmanagerDefaultBaseImage: alertmanager.repository,
      admissionWebhooks: {
        deployment: {
          image: split(
            ["prometheusOperator", "admissionWebhooks", "deployment", "image"],
            "quay.io",
            "prometheus-operator/admission-webhook",
          ),
        },
        patch: {
          image: split(
            ["prometheusOperator", "admissionWebhooks", "patch", "image"],
            "ghcr.io",
            "jkroepke/kube-webhook-certgen",
          ),
        },
      },
    },
    grafana: {
      image: split(["grafana", "image"], "docker.io", "grafana/grafana"),
      testFramework: { image: split(["grafana", "testFramework", "image"], "docker.io", "bats/bats") },
      downloadDashboardsImage: split(["grafana", "downloadDashboardsImage"], "docker.io", "curlimages/curl"),
      initChownData: { image: split(["grafana", "initChownData", "image"], "docker.io", "library/busybox") },
      sidecar: { image: split(["grafana", "sidecar", "image"], "quay.io", "kiwigrid/k8s-sidecar") },
      imageRenderer: {
        image: split(["grafana", "imageRenderer", "image"], "docker.io", "grafana/grafana-image-renderer"),
      },
    },
    "kube-state-metrics": {
      image: split(
        ["kube-state-metrics", "image"],
        "registry.k8s.io",
        "kube-state-metrics/kube-state-metrics",
      ),
      kubeRBACProxy: {
        image: split(["kube-state-metrics", "kubeRBACProxy", "image"], "quay.io", "brancz/kube-rbac-proxy"),
      },
    },
    "prometheus-node-exporter": {
      image: split(["prometheus-node-exporter", "image"], "quay.io", "prometheus/node-exporter"),
      kubeRBACProxy: {
        image: split(
          ["prometheus-node-exporter", "kubeRBACProxy", "image"],
          "quay.io",
          "brancz/kube-rbac-proxy",
        ),
      },
      permissionInitContainer: {
        image: split(
          ["prometheus-node-exporter", "permissionInitContainer", "image"],
          "quay.io",
          "prometheus/busybox",
        ),
      },
    },
    "prometheus-windows-exporter": {
      image: split(
        ["prometheus-windows-exporter", "image"],
        "ghcr.io",
        "prometheus-community/windows-exporter",
      ),
    },
  };
}

function mlflow(m: MirrorValues): HelmValues {
  for (const database of ["postgresql", "mysql", "minio"]) {
    if (truthy(m.value([database, "enabled"]))) {
      m.refuse(
        `${database}.enabled deploys the bundled ${database} subchart, whose images were not read`,
        `use an external database and object store (${database}.enabled: false)`,
      );
    }
  }
  return {
    image: { repository: m.repository(["image", "repository"], "burakince/mlflow") },
    initImages: {
      dbchecker: { repository: m.repository(["initImages", "dbchecker", "repository"], "busybox") },
      mlflowDbMigration: {
        repository: m.repository(["initImages", "mlflowDbMigration", "repository"], "burakince/mlflow"),
      },
      iniFileInitializer: {
        repository: m.repository(["initImages", "iniFileInitializer", "repository"], "busybox"),
      },
    },
    oauth2Proxy: {
      image: {
        repository: m.repository(["oauth2Proxy", "image", "repository"], "quay.io/oauth2-proxy/oauth2-proxy"),
      },
    },
    imagePullSecrets: m.secretRefs,
  };
}

function argoCd(m: MirrorValues): HelmValues {
  const redisHa = ["redis-ha"];
  return {
    global: {
      image: { repository: m.repository(["global", "image", "repository"], "quay.io/argoproj/argocd") },
      imagePullSecrets: m.secretRefs,
    },
    dex: { image: { repository: m.repository(["dex", "image", "repository"], "ghcr.io/dexidp/dex") } },
    redis: {
      image: {
        repository: m.repository(["redis", "image", "repository"], "ecr-public.aws.com/docker/library/redis"),
      },
      exporter: {
        image: {
          repository: m.repository(
            ["redis", "exporter", "image", "repository"],
            "ghcr.io/oliver006/redis_exporter",
          ),
        },
      },
    },
    server: {
      extensions: {
        image: {
          repository: m.repository(
            ["server", "extensions", "image", "repository"],
            "quay.io/argoprojlabs/argocd-extension-installer",
          ),
        },
      },
    },
    "redis-ha": {
      image: {
        repository: m.repository(
          [...redisHa, "image", "repository"],
          "ecr-public.aws.com/docker/library/redis",
        ),
      },
      // redis-ha keeps the exporter's repository in `exporter.image`, its tag in `exporter.tag`.
      exporter: {
        image: m.repository([...redisHa, "exporter", "image"], "ghcr.io/oliver006/redis_exporter"),
      },
      haproxy: {
        image: {
          repository: m.repository(
            [...redisHa, "haproxy", "image", "repository"],
            "ecr-public.aws.com/docker/library/haproxy",
          ),
        },
        imagePullSecrets: m.secretRefs,
      },
      sysctlImage: m.split([...redisHa, "sysctlImage"], "public.ecr.aws/docker/library", "busybox"),
      configmapTest: {
        image: {
          repository: m.repository(
            [...redisHa, "configmapTest", "image", "repository"],
            "koalaman/shellcheck",
          ),
        },
      },
      imagePullSecrets: m.secretRefs,
    },
  };
}

function kserveResources(m: MirrorValues): HelmValues {
  const k = (...path: string[]) => ["kserve", ...path];
  return {
    kserve: {
      // The inferenceservice ConfigMap: agent, router, storage initializer, explainer, local model job.
      agent: { image: m.repository(k("agent", "image"), "kserve/agent") },
      router: {
        image: m.repository(k("router", "image"), "kserve/router"),
        // Written into the ConfigMap's JSON as Go prints the value: a JSON text keeps it JSON.
        imagePullSecrets: JSON.stringify(m.secretNames),
      },
      storage: { image: m.repository(k("storage", "image"), "kserve/storage-initializer") },
      servingruntime: {
        art: { image: m.repository(k("servingruntime", "art", "image"), "kserve/art-explainer") },
      },
      // The chart at v0.20.0 has no template for the local model controller and agent.
      localmodel: {
        defaultJobImage: m.repository(k("localmodel", "defaultJobImage"), "kserve/storage-initializer"),
      },
      controller: {
        image: m.repository(k("controller", "image"), "kserve/kserve-controller"),
        rbacProxyImage: m.image(k("controller", "rbacProxyImage"), "quay.io/brancz/kube-rbac-proxy:v0.18.0"),
        imagePullSecrets: m.secretRefs,
      },
    },
  };
}

/** ClusterServingRuntimes of kserve-runtime-configs v0.20.0 and their image repositories. */
const KSERVE_RUNTIMES: Readonly<Record<string, string | undefined>> = {
  tensorflow: "tensorflow/serving",
  mlserver: "docker.io/seldonio/mlserver",
  sklearnserver: "kserve/sklearnserver",
  xgbserver: "kserve/xgbserver",
  huggingfaceserver: "kserve/huggingfaceserver",
  // Runs the huggingfaceserver image; has pull secrets of its own.
  huggingfaceserver_multinode: undefined,
  tritonserver: "nvcr.io/nvidia/tritonserver",
  pmmlserver: "kserve/pmmlserver",
  predictiveserver: "kserve/predictiveserver",
  paddleserver: "kserve/paddleserver",
  lgbserver: "kserve/lgbserver",
  autogluonserver: "kserve/autogluonserver",
  torchserve: "pytorch/torchserve-kfs",
  vllmserver: "vllm/vllm-openai",
};

function kserveRuntimeConfigs(m: MirrorValues): HelmValues {
  if (truthy(m.value(["kserve", "llmisvcConfigs", "enabled"]))) {
    m.refuse(
      "kserve.llmisvcConfigs.enabled installs LLMInferenceServiceConfigs whose images (ghcr.io/llm-d/...) are written in the chart's files, not taken from values",
      "leave kserve.llmisvcConfigs.enabled false, or install those configs from mirrored copies",
    );
  }
  const servingruntime: HelmValues = {};
  for (const [runtime, repository] of Object.entries(KSERVE_RUNTIMES)) {
    servingruntime[runtime] = {
      ...(repository !== undefined
        ? { image: m.repository(["kserve", "servingruntime", runtime, "image"], repository) }
        : {}),
      imagePullSecrets: m.secretRefs,
    };
  }
  return { kserve: { servingruntime } };
}

function platformResources(m: MirrorValues): HelmValues {
  // bedag/raw deploys what the release gives it; every image there must be on the mirror already.
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) node.forEach((item, i) => visit(item, `${where}[${i}]`));
    else if (typeof node === "object" && node !== null) {
      for (const [key, value] of Object.entries(node)) {
        if ((key === "image" || key === "imageName") && typeof value === "string") {
          const host = parseImageReference(value).registry;
          if (host !== m.mirror.host.toLowerCase()) {
            m.refuse(
              `${where}.${key} is "${value}", not on the mirror ${m.mirror.host}`,
              `write mirroredImage("${value}", mirror) there`,
            );
          }
        } else visit(value, `${where}.${key}`);
      }
    }
  };
  visit(m.value(["resources"]), "resources");
  visit(m.value(["templates"]), "templates");
  return {};
}

function cloudnativePg(m: MirrorValues): HelmValues {
  const data: HelmValues = {};
  // Operator defaults for Clusters without imageName and Poolers without an image of their own.
  for (const key of ["POSTGRES_IMAGE_NAME", "PGBOUNCER_IMAGE_NAME"]) {
    const given = m.value(["config", "data", key]);
    if (typeof given === "string" && given !== "") data[key] = m.image(["config", "data", key], given);
  }
  return {
    // Also OPERATOR_IMAGE_NAME, the image of the bootstrap init container of every PostgreSQL pod.
    image: { repository: m.repository(["image", "repository"], "ghcr.io/cloudnative-pg/cloudnative-pg") },
    imagePullSecrets: m.secretRefs,
    ...(Object.keys(data).length > 0 ? { config: { data } } : {}),
  };
}

/** The chart `cluster` 0.8.1: the PostgreSQL image as `cluster.imageName` (or an ImageCatalog) computes it. */
function postgresCluster(m: MirrorValues): HelmValues {
  const text = (path: string[], fallback: string) => {
    const value = m.value(path);
    return value === undefined || value === null || value === "" ? fallback : String(value);
  };
  const type = text(["type"], "postgresql");
  const postgresql = text(["version", "postgresql"], "16");
  if (truthy(m.value(["cluster", "console", "enabled"]))) {
    m.refuse(
      "cluster.console.enabled deploys a console StatefulSet whose image (ubuntu, on its moving default tag) is written in the template",
      "leave cluster.console.enabled false",
    );
  }
  const catalogRef = m.value(["cluster", "imageCatalogRef", "name"]);
  if (typeof catalogRef === "string" && catalogRef !== "") {
    m.refuse(
      `cluster.imageCatalogRef names the catalog "${catalogRef}", which this release does not define`,
      "use cluster.imageName or imageCatalog.images, which are mirrored",
    );
  }
  const result: HelmValues = { cluster: { imagePullSecrets: m.secretRefs } };
  const catalogImages = m.value(["imageCatalog", "images"]);
  const createCatalog = m.value(["imageCatalog", "create"]) !== false;
  const imageName = m.value(["cluster", "imageName"]);
  if (createCatalog && Array.isArray(catalogImages) && catalogImages.length > 0) {
    result.imageCatalog = {
      images: (catalogImages as HelmValues[]).map((entry, i) => ({
        ...entry,
        image: m.image(["imageCatalog", "images", String(i), "image"], String(entry.image)),
      })),
    };
  } else if (typeof imageName === "string" && imageName !== "") {
    result.cluster = {
      ...(result.cluster as HelmValues),
      imageName: m.image(["cluster", "imageName"], imageName),
    };
  } else if (type === "postgresql") {
    result.cluster = {
      ...(result.cluster as HelmValues),
      imageName: m.image(["cluster", "imageName"], `ghcr.io/cloudnative-pg/postgresql:${postgresql}`),
    };
  } else if (type === "postgis") {
    const postgis = text(["version", "postgis"], "3.4");
    result.cluster = {
      ...(result.cluster as HelmValues),
      imageName: m.image(["cluster", "imageName"], `ghcr.io/cloudnative-pg/postgis:${postgresql}-${postgis}`),
    };
  } else if (type === "timescaledb" && createCatalog) {
    // The chart's own catalog (templates/image-catalog-timescaledb-ha.yaml), on the mirror.
    const timescaledb = text(["version", "timescaledb"], "2.15");
    result.imageCatalog = {
      images: ["12", "13", "14", "15", "16", "17", "18"].map((pg) => ({
        image: m.image(["imageCatalog", "images"], `timescale/timescaledb-ha:pg${pg}-ts${timescaledb}`),
        major: Number(pg),
      })),
    };
  } else {
    m.refuse(
      `type "${type}" without cluster.imageName leaves the PostgreSQL image to the chart`,
      "set cluster.imageName (or imageCatalog.images)",
    );
  }
  return result;
}

/** GPU Operator v26.7.0 components: `repository` is a registry and path prefix, `image` a name. */
const GPU_OPERATOR_REPOSITORIES: Readonly<Record<string, string | undefined>> = {
  operator: "nvcr.io/nvidia",
  validator: "nvcr.io/nvidia",
  driver: "nvcr.io/nvidia",
  toolkit: "nvcr.io/nvidia/k8s",
  devicePlugin: "nvcr.io/nvidia",
  dcgm: "nvcr.io/nvidia/cloud-native",
  dcgmExporter: "nvcr.io/nvidia/k8s",
  gfd: "nvcr.io/nvidia",
  migManager: "nvcr.io/nvidia/cloud-native",
  nodeStatusExporter: "nvcr.io/nvidia",
  gds: "nvcr.io/nvidia/cloud-native",
  gdrcopy: "nvcr.io/nvidia/cloud-native",
  // No default: vGPU manager images are built by the user from NVIDIA's licensed driver.
  vgpuManager: undefined,
  vgpuDeviceManager: "nvcr.io/nvidia/cloud-native",
  vfioManager: "nvcr.io/nvidia/cloud-native",
  // No default in the chart's values: the operator's own default image is used.
  kataManager: undefined,
  sandboxDevicePlugin: "nvcr.io/nvidia",
  kataSandboxDevicePlugin: "nvcr.io/nvidia/cloud-native",
  ccManager: "nvcr.io/nvidia/cloud-native",
  draDriver: "nvcr.io/nvidia",
};

function gpuOperator(m: MirrorValues): HelmValues {
  const result: HelmValues = {};
  for (const [component, fallback] of Object.entries(GPU_OPERATOR_REPOSITORIES)) {
    const given = m.value([component, "repository"]);
    const values: HelmValues = {
      // The operator Deployment takes `- name: <secret>` entries; ClusterPolicy takes names.
      imagePullSecrets: m.secretNames,
    };
    if (fallback !== undefined || (typeof given === "string" && given !== "")) {
      values.repository = m.repository([component, "repository"], fallback ?? "");
    } else if (component === "kataManager" && truthy(m.value(["kataManager", "enabled"]))) {
      m.refuse(
        "kataManager.enabled without kataManager.repository/image/version leaves the kata manager image to the operator's built-in default",
        "set kataManager.repository, kataManager.image and kataManager.version",
      );
    } else if (component === "vgpuManager" && truthy(m.value(["vgpuManager", "enabled"]))) {
      m.refuse(
        "vgpuManager.enabled without vgpuManager.repository",
        "set vgpuManager.repository to the image's registry path",
      );
    }
    result[component] = values;
  }
  // k8s-driver-manager: init container of the driver pods, also passed to the operator as DRIVER_MANAGER_IMAGE.
  const driverManager = (parent: string) => ({
    repository: m.repository([parent, "driverManager", "repository"], "nvcr.io/nvidia/cloud-native"),
  });
  result.driver = {
    ...(result.driver as HelmValues),
    manager: { repository: m.repository(["driver", "manager", "repository"], "nvcr.io/nvidia/cloud-native") },
  };
  result.vgpuManager = { ...(result.vgpuManager as HelmValues), driverManager: driverManager("vgpuManager") };
  result.vfioManager = { ...(result.vfioManager as HelmValues), driverManager: driverManager("vfioManager") };
  result["node-feature-discovery"] = {
    image: {
      repository: m.repository(
        ["node-feature-discovery", "image", "repository"],
        "registry.k8s.io/nfd/node-feature-discovery",
      ),
    },
    imagePullSecrets: m.secretRefs,
  };
  return result;
}

const none = (): HelmValues => ({});

/** Charts an on-prem environment installs, at the versions whose image keys were read. */
export const MIRRORED_CHARTS = {
  "cert-manager": { version: "v1.21.1", values: certManager },
  "metrics-server": { version: "3.13.1", values: metricsServer },
  "external-secrets": { version: "2.9.0", values: externalSecrets },
  "kube-prometheus-stack": { version: "88.5.3", values: kubePrometheusStack },
  mlflow: { version: "1.11.5", values: mlflow },
  "argo-cd": { version: "10.1.1", values: argoCd },
  // Renders Argo CD Applications and AppProjects only.
  "argocd-apps": { version: "2.0.5", values: none },
  // CustomResourceDefinitions only.
  "kserve-crd": { version: "v0.20.0", values: none },
  "kserve-resources": { version: "v0.20.0", values: kserveResources },
  "kserve-runtime-configs": { version: "v0.20.0", values: kserveRuntimeConfigs },
  "platform-resources": { version: "2.0.2", values: platformResources },
  "cloudnative-pg": { version: "0.29.0", values: cloudnativePg },
  "postgres-cluster": { version: "0.8.1", values: postgresCluster },
  "gpu-operator": { version: "v26.7.0", values: gpuOperator },
} as const satisfies Partial<Record<PlatformChart, ChartImageKeys>>;

export type MirroredChart = keyof typeof MIRRORED_CHARTS;

/**
 * Helm values that point every image the chart deploys (containers, init containers, images
 * passed as flags, environment variables or ConfigMaps, images of the custom resources the chart
 * creates or its operator runs) at the mirror, and set the chart's image pull secrets.
 *
 * `chartValues` are the values the release passes otherwise (base file, environment overlay,
 * computed values, merged): where the release sets an image of its own, that image is mirrored,
 * and images a chart computes from other values (the PostgreSQL image of a CloudNativePG
 * cluster) are computed from them. Merge the result over those values, last.
 */
export function chartImageValues(
  chart: PlatformChart,
  version: string,
  mirror: ImageMirror,
  chartValues: HelmValues = {},
): HelmValues {
  checkMirror(mirror);
  const keys = (MIRRORED_CHARTS as Partial<Record<PlatformChart, ChartImageKeys>>)[chart];
  if (keys === undefined) {
    throw new Error(
      `${chart}: the image mirror does not cover this chart, which only AWS environments install; fix: on-prem, install its on-prem counterpart (${Object.keys(MIRRORED_CHARTS).join(", ")}), or read the chart's image keys and add it to MIRRORED_CHARTS in constructs/platform/image-mirror.ts`,
    );
  }
  if (version !== keys.version) {
    throw new Error(
      `${chart}: image keys of ${chart} were read at ${keys.version}; check the chart's values for ${version} (every image, init container and image passed in flags, environment variables, ConfigMaps or custom resources) and add it to MIRRORED_CHARTS in constructs/platform/image-mirror.ts`,
    );
  }
  return keys.values(new MirrorValues(mirror, chart, chartValues));
}

/** Kubeflow Pipelines version whose manifests' images were read. */
export const MIRRORED_KUBEFLOW_PIPELINES_VERSION = "2.17.0";

/** Images in `image:` fields of `manifests/kustomize/env/platform-agnostic` at 2.17.0. */
const KUBEFLOW_PIPELINES_IMAGES = [
  "ghcr.io/kubeflow/kfp-api-server",
  "ghcr.io/kubeflow/kfp-cache-deployer",
  "ghcr.io/kubeflow/kfp-cache-server",
  "ghcr.io/kubeflow/kfp-frontend",
  "ghcr.io/kubeflow/kfp-metadata-envoy",
  "ghcr.io/kubeflow/kfp-metadata-writer",
  "ghcr.io/kubeflow/kfp-persistence-agent",
  "ghcr.io/kubeflow/kfp-scheduled-workflow-controller",
  "ghcr.io/kubeflow/kfp-viewer-crd-controller",
  "ghcr.io/kubeflow/kfp-visualization-server",
  "gcr.io/tfx-oss-public/ml_metadata_store_server",
  "ghcr.io/chrislusf/seaweedfs",
  "quay.io/argoproj/workflow-controller",
  // Init containers that wait for the database and object store.
  "docker.io/alpine",
  "mysql",
];

/** A JSON patch that first checks the upstream value it replaces, so a changed manifest fails the sync. */
function replaceChecked(
  target: { kind: string; name: string },
  path: string,
  upstream: string,
  replacement: string,
  guard?: { path: string; value: string },
): { target: { kind: string; name: string }; patch: string } {
  return {
    target,
    patch: JSON.stringify([
      ...(guard ? [{ op: "test", path: guard.path, value: guard.value }] : []),
      { op: "test", path, value: upstream },
      { op: "replace", path, value: replacement },
    ]),
  };
}

/**
 * For the Kubeflow Pipelines Application of `manifests/kustomize/env/platform-agnostic`: Argo CD
 * `source.kustomize.images` entries (`<upstream>=<mirrored>`, tags kept) and kustomize patches for
 * the images outside `image:` fields (the driver and launcher images the API server passes to
 * pipeline runs, the Argo executor image, the cache's image, the TensorBoard viewers' image) and
 * for pull secrets: on every Deployment's pods, on every ServiceAccount, which covers pipeline run
 * pods (pipeline-runner), and in the TensorBoard viewers' pod template.
 * The cluster-scoped Application holds no images.
 */
export function kubeflowPipelinesImageOverrides(
  version: string,
  mirror: ImageMirror,
): { images: string[]; patches: unknown[] } {
  checkMirror(mirror);
  if (version !== MIRRORED_KUBEFLOW_PIPELINES_VERSION) {
    throw new Error(
      `kubeflow-pipelines: image keys of kubeflow-pipelines were read at ${MIRRORED_KUBEFLOW_PIPELINES_VERSION}; check the manifests for ${version} (image: fields, images in env vars, args and ConfigMaps) and add it to constructs/platform/image-mirror.ts`,
    );
  }
  const images = KUBEFLOW_PIPELINES_IMAGES.map((name) => `${name}=${mirroredRepository(name, mirror)}`);
  const apiServer = { kind: "Deployment", name: "ml-pipeline" };
  const env = (index: number, name: string, upstream: string) =>
    replaceChecked(
      apiServer,
      `/spec/template/spec/containers/0/env/${index}/value`,
      upstream,
      mirroredImage(upstream, mirror),
      { path: `/spec/template/spec/containers/0/env/${index}/name`, value: name },
    );
  const executor = "quay.io/argoproj/argoexec:v4.0.5";
  const cacheImage = "ghcr.io/containerd/busybox";
  const patches: unknown[] = [
    env(24, "V2_DRIVER_IMAGE", "ghcr.io/kubeflow/kfp-driver:2.17.0"),
    env(25, "V2_LAUNCHER_IMAGE", "ghcr.io/kubeflow/kfp-launcher:2.17.0"),
    replaceChecked(
      { kind: "Deployment", name: "workflow-controller" },
      "/spec/template/spec/containers/0/args/3",
      executor,
      mirroredImage(executor, mirror),
      { path: "/spec/template/spec/containers/0/args/2", value: "--executor-image" },
    ),
    // The cache server reads it (CACHE_IMAGE) from this ConfigMap when it starts.
    replaceChecked(
      { kind: "ConfigMap", name: "pipeline-install-config" },
      "/data/cacheImage",
      cacheImage,
      mirroredRepository(cacheImage, mirror),
    ),
    // TensorBoard viewers the UI creates run `<VIEWER_TENSORBOARD_TF_IMAGE_NAME>:<version>`; unset,
    // the frontend server's built-in default is tensorflow/tensorflow (Docker Hub).
    {
      target: { kind: "Deployment", name: "ml-pipeline-ui" },
      patch: JSON.stringify([
        { op: "test", path: "/spec/template/spec/containers/0/name", value: "ml-pipeline-ui" },
        {
          op: "add",
          path: "/spec/template/spec/containers/0/env/-",
          value: {
            name: "VIEWER_TENSORBOARD_TF_IMAGE_NAME",
            value: mirroredRepository("tensorflow/tensorflow", mirror),
          },
        },
      ]),
    },
    // The viewers' pod template: they run as kubeflow-pipelines-viewer, which the manifests do not create.
    replaceChecked(
      { kind: "ConfigMap", name: "ml-pipeline-ui-configmap" },
      "/data/viewer-pod-template.json",
      JSON.stringify({ spec: { serviceAccountName: "kubeflow-pipelines-viewer" } }, null, 4),
      JSON.stringify(
        {
          spec: {
            serviceAccountName: "kubeflow-pipelines-viewer",
            imagePullSecrets: [{ name: mirror.pullSecretName }],
          },
        },
        null,
        4,
      ),
    ),
    {
      target: { kind: "Deployment" },
      patch: JSON.stringify([
        { op: "add", path: "/spec/template/spec/imagePullSecrets", value: [{ name: mirror.pullSecretName }] },
      ]),
    },
    {
      target: { kind: "ServiceAccount" },
      patch: JSON.stringify([
        { op: "add", path: "/imagePullSecrets", value: [{ name: mirror.pullSecretName }] },
      ]),
    },
  ];
  return { images, patches };
}

/** Records the upstream registries a mirror is asked for, with a stand-in remote for each. */
function recordingMirror(): { mirror: ImageMirror; registries: () => string[] } {
  const seen = new Set<string>();
  const remotes = new Proxy({} as Record<string, string>, {
    get: (_target, key) => {
      if (typeof key !== "string") return undefined;
      seen.add(key);
      return "remote";
    },
  });
  return {
    mirror: { host: "mirror.invalid", remotes, pullSecretName: "pull" },
    registries: () => [...seen].sort(),
  };
}

/**
 * Upstream registries whose images the chart deploys with `chartValues`: each needs a remote in
 * the mirror's `remotes`. The bedag/raw chart (`platform-resources`) has none of its own.
 */
export function chartRegistries(
  chart: PlatformChart,
  version: string,
  chartValues: HelmValues = {},
): string[] {
  if (chart === "platform-resources") {
    chartImageValues(chart, version, { host: "mirror.invalid", remotes: {}, pullSecretName: "pull" }, {});
    return [];
  }
  const recording = recordingMirror();
  chartImageValues(chart, version, recording.mirror, chartValues);
  return recording.registries();
}

/** Upstream registries of the Kubeflow Pipelines manifests at `version`. */
export function kubeflowPipelinesRegistries(version: string): string[] {
  const recording = recordingMirror();
  kubeflowPipelinesImageOverrides(version, recording.mirror);
  return recording.registries();
}
