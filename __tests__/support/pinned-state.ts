/**
 * Cluster states built from the pinned upstream sources the way `npm run verify` builds them
 * (charts rendered with helm, Kubeflow Pipelines with kustomize), for the tests that assert on
 * them; absent sources make those tests skip, saying so.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { CrdCatalog } from "../../scripts/verify/crds";
import type { Finding } from "../../scripts/verify/finding";
import { RULES } from "../../scripts/verify/rules";
import { collect, type ClusterState } from "../../scripts/verify/state";
import { ensureTools } from "../../scripts/verify/tools";
import { verifyState } from "../../scripts/verify/verify";
import { UPSTREAM_DIR } from "./upstream";

/** Whether the pinned charts, CRDs and Kubeflow Pipelines manifests are all there. */
export const PINNED_SOURCES_PRESENT =
  UPSTREAM_DIR !== undefined &&
  ["charts", "crds", "kubeflow-pipelines-2.17.0"].every((dir) => existsSync(join(UPSTREAM_DIR!, dir)));

/** `describe` when the pinned sources are present; otherwise `describe.skip`, with a printed line. */
export function describeWithPinnedState(file: string): jest.Describe {
  if (PINNED_SOURCES_PRESENT) return describe;
  process.stdout.write(
    `SKIPPED ${file}: pinned upstream sources not found (npm run fetch-sources, or MLOPS_UPSTREAM_DIR)\n`,
  );
  return describe.skip;
}

/** The cluster states of these registry environments, as verify collects them. */
export function collectPinnedStates(names: readonly string[]): Promise<ClusterState[]> {
  return collect({
    environments: ENVIRONMENTS.filter((e) => names.includes((e as { name: string }).name)),
    tools: ensureTools(),
    charts: { chartsDir: join(UPSTREAM_DIR!, "charts"), pull: false },
    kubeflowPipelinesDir: UPSTREAM_DIR!,
  });
}

/** A finding as one comparable line. */
export const findingLine = (finding: Finding): string =>
  `${finding.object} [${finding.rule}] ${finding.message}`;

/** One environment's state with the pinned CRDs and what every rule finds in it. */
export interface VerifyBaseline {
  readonly state: ClusterState;
  readonly crds: CrdCatalog;
  readonly findings: ReadonlySet<string>;
  /** What one rule finds in a changed copy of the state beyond the baseline's findings. */
  readonly added: (state: ClusterState, rule: string) => string[];
}

export async function verifyBaseline(name: string): Promise<VerifyBaseline> {
  const [state] = await collectPinnedStates([name]);
  const crds = new CrdCatalog(join(UPSTREAM_DIR!, "crds"));
  const findings = new Set(verifyState(state, RULES, crds).findings.map(findingLine));
  return {
    state,
    crds,
    findings,
    // Only the rule a defect is about runs; the full run is the baseline's.
    added: (changed, rule) =>
      verifyState(
        changed,
        RULES.filter((r) => r.name === rule),
        crds,
      )
        .findings.filter((f) => f.rule === rule && !findings.has(findingLine(f)))
        .map(findingLine),
  };
}
