/** Reads `helm-values/<chart>.yaml` and `helm-values/<chart>.<env>.yaml`. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { HelmValues } from "../constructs/lib/values";
import type { ChartValueFiles } from "../constructs/platform/chart-catalog";
import { PLATFORM_CHART_NAMES, type PlatformChart } from "../constructs/platform/charts";

export const HELM_VALUES_DIRECTORY = join(__dirname, "..", "helm-values");

function readValuesFile(path: string, label: string): HelmValues | undefined {
  if (!existsSync(path)) return undefined;
  let parsed: unknown;
  try {
    parsed = parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(
      `${label}: not valid YAML (${error instanceof Error ? error.message : String(error)}); fix the syntax`,
    );
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(
      `${label}: must hold a YAML map of chart values, got ${Array.isArray(parsed) ? "a list" : typeof parsed}`,
    );
  }
  return parsed as HelmValues;
}

/** Values files of every chart for `environment`. */
export function loadChartValues(
  environment: string,
  directory = HELM_VALUES_DIRECTORY,
): Record<PlatformChart, ChartValueFiles> {
  return Object.fromEntries(
    PLATFORM_CHART_NAMES.map((chart) => [
      chart,
      {
        base: readValuesFile(join(directory, `${chart}.yaml`), `helm-values/${chart}.yaml`),
        environment: readValuesFile(
          join(directory, `${chart}.${environment}.yaml`),
          `helm-values/${chart}.${environment}.yaml`,
        ),
      },
    ]),
  ) as Record<PlatformChart, ChartValueFiles>;
}

/**
 * Files in the values directory that no chart or environment would read: a misspelt chart or
 * environment name would otherwise be ignored without a word.
 */
export function strayValueFiles(
  environments: readonly string[],
  directory = HELM_VALUES_DIRECTORY,
): string[] {
  const expected = new Set<string>(
    PLATFORM_CHART_NAMES.flatMap((chart) => [
      `${chart}.yaml`,
      ...environments.map((env) => `${chart}.${env}.yaml`),
    ]),
  );
  return readdirSync(directory)
    .filter((file) => !expected.has(file))
    .sort();
}
