import { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import { Release } from "@cdktf/provider-helm/lib/release";
import { mergeValues, renderValues, type HelmValues } from "../lib/values";

/** Where a chart comes from. */
export interface ChartSource {
  /** Helm repository URL (`https://...`) or OCI registry path (`oci://...`). */
  readonly repository: string;
  readonly chart: string;
}

export interface PlatformReleaseProps {
  /** Release name. */
  readonly name: string;
  readonly namespace: string;
  readonly source: ChartSource;
  /** Exact chart version, from the environment's release file. */
  readonly version: string;
  /** `helm-values/<chart>.yaml`. @default {} */
  readonly baseValues?: HelmValues;
  /** `helm-values/<chart>.<env>.yaml`. @default {} */
  readonly environmentValues?: HelmValues;
  /** Values computed from other resources (role ARNs, bucket names, hosts). @default {} */
  readonly computedValues?: HelmValues;
  /** Seconds Helm waits for the release to become ready. @default 600 */
  readonly timeoutSeconds?: number;
  /** Wait for the chart's Jobs (migrations, CRD upgrades) too. @default false */
  readonly waitForJobs?: boolean;
  /** Releases and resources that must exist first (CRDs, namespaces, webhooks). @default [] */
  readonly dependsOn?: ITerraformDependable[];
}

const EXACT_VERSION = /^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A Helm release pinned to an exact chart version, installed atomically (a failed install or
 * upgrade rolls back and cleans up), waited for, with its values layered deterministically.
 */
export class PlatformRelease extends Construct {
  public readonly release: Release;
  /** The merged values as Helm receives them. */
  public readonly values: HelmValues;
  public readonly name: string;
  public readonly namespace: string;
  /** The exact chart version installed. */
  public readonly version: string;

  constructor(scope: Construct, id: string, props: PlatformReleaseProps) {
    super(scope, id);
    if (!RELEASE_NAME.test(props.name) || props.name.length > 53) {
      throw new Error(
        `PlatformRelease: name "${props.name}" must be a DNS label of at most 53 characters (Helm's limit); rename it`,
      );
    }
    if (!EXACT_VERSION.test(props.version)) {
      throw new Error(
        `PlatformRelease ${props.name}: version "${props.version}" must be an exact chart version such as 1.2.3; ranges and "latest" make plans unrepeatable`,
      );
    }
    const timeout = props.timeoutSeconds ?? 600;
    if (!Number.isInteger(timeout) || timeout < 60 || timeout > 3600) {
      throw new Error(
        `PlatformRelease ${props.name}: timeoutSeconds (${timeout}) must be a whole number from 60 to 3600`,
      );
    }
    if (!/^(https:\/\/|oci:\/\/)/.test(props.source.repository)) {
      throw new Error(
        `PlatformRelease ${props.name}: repository "${props.source.repository}" must be an https:// or oci:// URL`,
      );
    }
    this.name = props.name;
    this.namespace = props.namespace;
    this.version = props.version;
    this.values = mergeValues(props.baseValues, props.environmentValues, props.computedValues);
    const oci = props.source.repository.startsWith("oci://");
    this.release = new Release(this, "Release", {
      name: props.name,
      namespace: props.namespace,
      repository: oci ? undefined : props.source.repository,
      chart: oci ? `${props.source.repository.replace(/\/$/, "")}/${props.source.chart}` : props.source.chart,
      version: props.version,
      atomic: true,
      wait: true,
      waitForJobs: props.waitForJobs ?? false,
      cleanupOnFail: true,
      timeout,
      maxHistory: 10,
      createNamespace: false,
      values: [renderValues(this.values)],
      dependsOn: props.dependsOn,
    });
  }
}
