/** Reads `helm-values/<chart>.yaml` and `helm-values/<chart>.<env>.yaml`. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parseDocument } from "yaml";
import type { HelmValues } from "../constructs/lib/values";
import type { ChartValueFiles } from "../constructs/platform/chart-catalog";
import { PLATFORM_CHART_NAMES, type PlatformChart } from "../constructs/platform/charts";
import { projectRoot } from "../environments/project-root";

export const HELM_VALUES_DIRECTORY = join(projectRoot(), "helm-values");

/** A values file that cannot be used; its message is one line naming the file and line. */
export class ValuesFileError extends Error {
  override readonly name = "ValuesFileError";
}

function readValuesFile(path: string, label: string): HelmValues | undefined {
  if (!existsSync(path)) return undefined;
  // Duplicate keys are errors too (yaml's default): the hidden value would never reach the chart.
  const document = parseDocument(readFileSync(path, "utf8"));
  const [error] = document.errors;
  if (error !== undefined) {
    const at = error.linePos?.[0];
    const where = at ? `${label}:${at.line}:${at.col}` : label;
    const reason = error.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
    throw new ValuesFileError(`${where}: not valid YAML: ${reason}; fix: correct the YAML at that spot`);
  }
  const parsed: unknown = document.toJS();
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ValuesFileError(
      `${label}:1: holds ${Array.isArray(parsed) ? "a list" : `a ${typeof parsed}`}, not a map of chart values; fix: write the values as key: value lines`,
    );
  }
  return parsed as HelmValues;
}

/** Every values file an environment would read that cannot be used, as one line each. */
export function valueFileProblems(
  environments: readonly string[],
  directory = HELM_VALUES_DIRECTORY,
): string[] {
  const problems = new Set<string>();
  for (const chart of PLATFORM_CHART_NAMES) {
    for (const file of [`${chart}.yaml`, ...environments.map((env) => `${chart}.${env}.yaml`)]) {
      try {
        readValuesFile(join(directory, file), `helm-values/${file}`);
      } catch (error) {
        if (!(error instanceof ValuesFileError)) throw error;
        problems.add(error.message);
      }
    }
  }
  return [...problems];
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
