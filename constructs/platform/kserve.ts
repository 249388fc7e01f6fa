import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
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
  }
}
