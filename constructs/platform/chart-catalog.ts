import type { Construct } from "constructs";
import type { ITerraformDependable } from "cdktf";
import type { HelmValues } from "../lib/values";
import { PLATFORM_CHARTS, type PlatformChart } from "./charts";
import { PlatformRelease } from "./helm-release";
import { chartImageValues, type ImageMirror } from "./image-mirror";
import { mergeValues } from "../lib/values";

/** Values files of one chart: `helm-values/<chart>.yaml` and the environment's overlay. */
export interface ChartValueFiles {
  readonly base?: HelmValues;
  readonly environment?: HelmValues;
}

export interface ChartCatalogProps {
  /** Exact version of each chart the environment installs (the environment's release file). */
  readonly versions: Readonly<Partial<Record<PlatformChart, string>>>;
  /** Where the versions come from, for messages, e.g. `environments/releases/dev.json`. */
  readonly versionsSource?: string;
  /** Values files by chart. */
  readonly values: Readonly<Partial<Record<PlatformChart, ChartValueFiles>>>;
  /**
   * Chart repositories by upstream repository URL (an on-prem mirror such as Artifactory). A
   * chart whose repository is not listed keeps its upstream one. @default upstream
   */
  readonly repositoryMirrors?: Readonly<Record<string, string>>;
  /** Every image of every chart through this registry mirror, with its pull Secret. @default upstream */
  readonly imageMirror?: ImageMirror;
}

export interface ChartInstall {
  readonly chart: PlatformChart;
  /** @default the chart's name */
  readonly name?: string;
  readonly namespace: string;
  readonly computedValues?: HelmValues;
  readonly timeoutSeconds?: number;
  readonly waitForJobs?: boolean;
  readonly dependsOn?: ITerraformDependable[];
}

/** Installs platform charts at the environment's versions with their layered values. */
export class ChartCatalog {
  constructor(private readonly props: ChartCatalogProps) {}

  public install(scope: Construct, id: string, install: ChartInstall): PlatformRelease {
    const files = this.props.values[install.chart] ?? {};
    const source = PLATFORM_CHARTS[install.chart];
    const version = this.props.versions[install.chart];
    if (version === undefined) {
      const file = this.props.versionsSource ?? "the release file";
      throw new Error(
        `${file}: current.charts has no version of "${install.chart}", which this environment installs; fix: add "${install.chart}": "<exact version>" to current.charts`,
      );
    }
    const mirror = this.props.imageMirror;
    // The mirror's values go last: they replace every image the other layers name.
    const computedValues = mirror
      ? mergeValues(
          install.computedValues,
          chartImageValues(
            install.chart,
            version,
            mirror,
            mergeValues(files.base, files.environment, install.computedValues),
          ),
        )
      : install.computedValues;
    return new PlatformRelease(scope, id, {
      name: install.name ?? install.chart,
      namespace: install.namespace,
      source: {
        repository: this.props.repositoryMirrors?.[source.repository] ?? source.repository,
        chart: source.chart,
      },
      version,
      baseValues: files.base,
      environmentValues: files.environment,
      computedValues,
      timeoutSeconds: install.timeoutSeconds,
      waitForJobs: install.waitForJobs,
      dependsOn: install.dependsOn,
    });
  }
}
