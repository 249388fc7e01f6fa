import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { ConfigMapV1Data } from "@cdktf/provider-kubernetes/lib/config-map-v1-data";
import type { HelmValues } from "../lib/values";
import { resourceAddress } from "../lib/resource-address";
import type { ChartCatalog } from "./chart-catalog";
import type { PlatformRelease } from "./helm-release";
import { RESTRICTED_WRITABLE_ROOT_SECURITY } from "../lib/workload-defaults";

export interface KserveProps {
  readonly charts: ChartCatalog;
  readonly namespace: string;
  readonly highAvailability: boolean;
  /** Ingress class InferenceServices are published with (the target's). */
  readonly ingressClassName: string;
  /** Domain of generated InferenceService hosts: `<isvc>-<namespace>.<domain>`. */
  readonly domain: string;
  /** Scheme of the URLs KServe reports in InferenceService status: `https` when TLS ends in front. */
  readonly urlScheme: "http" | "https";
  /** cert-manager must be ready: KServe's webhooks take their certificates from it. */
  readonly dependsOn: ITerraformDependable[];
  /**
   * ConfigMap, in the namespace of every predictor that logs, holding the CA the object store's
   * certificate chains to (as `cabundle.crt`): KServe's logger agent mounts it at
   * `/etc/tls/logger`. Unset: the chart's `logger` entry stays as it is.
   */
  readonly loggerCaBundle?: string;
}

/** The controller's ConfigMap (kserve-resources files/common/configmap.yaml), in the release's namespace. */
export const KSERVE_CONFIG_MAP = "inferenceservice-config";

/** The `logger` entry of `inferenceservice-config`, as KServe v0.20.0 reads it (pod/agent_injector.go LoggerConfig). */
export interface KserveLoggerEntry {
  readonly image: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
  readonly cpuRequest: string;
  readonly cpuLimit: string;
  readonly defaultUrl: string;
  readonly caBundle?: string;
}

/**
 * The `logger` entry kserve-resources writes as fixed text (files/common/configmap-patch.yaml),
 * per chart version: everything but the image, which it builds from
 * `kserve.agent.image:(kserve.agent.tag | default kserve.version)`, and the chart's defaults of
 * those values (values.yaml).
 */
const CHART_LOGGER_ENTRIES: Readonly<
  Record<string, { entry: Omit<KserveLoggerEntry, "image" | "caBundle">; image: string; version: string }>
> = {
  "v0.20.0": {
    entry: {
      memoryRequest: "100Mi",
      memoryLimit: "1Gi",
      cpuRequest: "100m",
      cpuLimit: "1",
      defaultUrl: "http://default-broker",
    },
    image: "kserve/agent",
    version: "v0.20.0",
  },
};

const nonEmpty = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/**
 * The chart's `logger` entry at `chartVersion` with the release's values (the agent image as the
 * release renders it, through the registry mirror where there is one), plus `caBundle`.
 */
export function kserveLoggerEntry(
  chartVersion: string,
  values: HelmValues,
  caBundle: string,
): KserveLoggerEntry {
  const chart = CHART_LOGGER_ENTRIES[chartVersion];
  if (!chart) {
    throw new Error(
      `kserve-resources ${chartVersion}: the platform rewrites the "logger" entry of ${KSERVE_CONFIG_MAP} to add the object store's CA bundle, and knows that entry only for ${Object.keys(CHART_LOGGER_ENTRIES).join(", ")}; fix: read files/common/configmap-patch.yaml of kserve-resources ${chartVersion} and add its logger entry to CHART_LOGGER_ENTRIES in constructs/platform/kserve.ts`,
    );
  }
  const kserve = (values.kserve ?? {}) as HelmValues;
  const agent = (kserve.agent ?? {}) as HelmValues;
  const repository = nonEmpty(agent.image) ?? chart.image;
  const tag = nonEmpty(agent.tag) ?? nonEmpty(kserve.version) ?? chart.version;
  return { image: `${repository}:${tag}`, ...chart.entry, caBundle };
}

/**
 * Security of the storage initializer, the init container that downloads a predictor's model.
 * KServe merges the container of the `default` ClusterStorageContainer, which the chart renders
 * from these values, into the init container it injects; the chart's own lacks the seccomp
 * profile Pod Security "restricted" asks for. The root filesystem stays writable as upstream
 * ships it (the initializer's libraries may cache under its home).
 */
export const STORAGE_INITIALIZER_SECURITY = RESTRICTED_WRITABLE_ROOT_SECURITY;

/**
 * KServe in Standard (raw Kubernetes Deployment) mode: no Knative, no Istio. Its CRDs come
 * from their own chart, installed first. KServe makes no Ingress: the serving stack publishes
 * every InferenceService through its own route (`InferenceRoutes`), which splits canaries. The ClusterServingRuntimes of the pinned version come from their own chart,
 * installed once the controller's webhooks answer.
 */
export class Kserve extends Construct {
  public readonly crds: PlatformRelease;
  public readonly controller: PlatformRelease;
  public readonly runtimes: PlatformRelease;
  /** The `logger` entry with the CA bundle, where the store has a private CA. */
  public readonly loggerEntry?: ConfigMapV1Data;

  constructor(scope: Construct, id: string, props: KserveProps) {
    super(scope, id);
    this.crds = props.charts.install(this, "Crds", {
      chart: "kserve-crd",
      namespace: props.namespace,
      dependsOn: props.dependsOn,
    });
    this.controller = props.charts.install(this, "Controller", {
      chart: "kserve-resources",
      namespace: props.namespace,
      timeoutSeconds: 900,
      computedValues: {
        kserve: {
          storage: { containerSecurityContext: STORAGE_INITIALIZER_SECURITY },
          controller: {
            deploymentMode: "Standard",
            gateway: {
              domain: props.domain,
              urlScheme: props.urlScheme,
              disableIstioVirtualHost: true,
              // The platform owns every InferenceService's route (`InferenceRoutes`): KServe's
              // Ingress would send a canary nothing and keep stale annotations.
              disableIngressCreation: true,
              ingressGateway: { className: props.ingressClassName },
            },
          },
        },
      },
      dependsOn: [this.crds.release, ...props.dependsOn],
    });
    this.runtimes = props.charts.install(this, "Runtimes", {
      chart: "kserve-runtime-configs",
      namespace: props.namespace,
      computedValues: { kserve: { servingruntime: { enabled: true } } },
      dependsOn: [this.controller.release],
    });
    if (props.loggerCaBundle) {
      // KServe v0.20.0 mounts a CA bundle into the logger's agent only from the `logger` entry's
      // `caBundle`, which the chart writes as fixed text. The entry is owned here (server-side
      // apply, forced over Helm's field) and read by the webhook at each pod's admission. A Helm
      // upgrade of the release resets it (three-way merge against the chart's text), so the entry
      // is replaced whenever the release changes: destroyed (an empty apply: Helm owns the key
      // again by then, or it is removed until the upgrade writes it) and applied again after the
      // upgrade. Never create-before-destroy: the destroy's empty apply would remove the new entry.
      this.loggerEntry = new ConfigMapV1Data(this, "LoggerCaBundle", {
        metadata: { name: KSERVE_CONFIG_MAP, namespace: props.namespace },
        data: {
          logger: JSON.stringify(
            kserveLoggerEntry(this.controller.version, this.controller.values, props.loggerCaBundle),
            null,
            4,
          ),
        },
        force: true,
        dependsOn: [this.controller.release],
        lifecycle: { replaceTriggeredBy: [resourceAddress(this.controller.release)] },
      });
    }
  }
}
