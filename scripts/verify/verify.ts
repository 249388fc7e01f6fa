/** Runs the rules on the collected cluster state of each environment. */
import type { Finding } from "./finding";
import type { CrdCatalog } from "./crds";
import type { Rule } from "./rules/rule";
import type { ClusterState } from "./state";

export interface EnvironmentReport {
  readonly environment: string;
  readonly objects: number;
  readonly rules: readonly string[];
  readonly findings: readonly Finding[];
  readonly milliseconds: number;
}

export function verifyState(
  state: ClusterState,
  rules: readonly Rule[],
  crds?: CrdCatalog,
): EnvironmentReport {
  const started = Date.now();
  const findings: Finding[] = [...state.problems];
  // A release or manifest that could not be rendered leaves the state incomplete: every rule
  // would then report what is missing (Services, CRDs, Secrets) instead of what is wrong.
  const unrendered = state.problems.filter((problem) => problem.rule === "render").length;
  if (unrendered > 0) {
    findings.push({
      environment: state.environment.name,
      source: "scripts/verify",
      object: "-",
      rule: "render",
      severity: "error",
      message: `the rules did not run: ${unrendered} release(s) or manifest(s) could not be rendered, so the cluster state is incomplete`,
      fix: "make every chart and manifest available (see the lines above), then run verify again",
    });
    return {
      environment: state.environment.name,
      objects: state.objects.length,
      rules: [],
      findings,
      milliseconds: Date.now() - started,
    };
  }
  for (const rule of rules) {
    try {
      findings.push(...rule.check(state, { crds }));
    } catch (error) {
      findings.push({
        environment: state.environment.name,
        source: "scripts/verify",
        object: "-",
        rule: rule.name,
        severity: "error",
        message: `the rule failed: ${(error as Error).stack ?? error}`,
        fix: "fix the rule or the object it could not read",
      });
    }
  }
  return {
    environment: state.environment.name,
    objects: state.objects.length,
    rules: rules.map((r) => r.name),
    findings,
    milliseconds: Date.now() - started,
  };
}

/** One line per finding: environment, source, object, rule, what is wrong, the fix. */
export function formatFinding(f: Finding): string {
  return `${f.environment} ${f.source} ${f.object} [${f.rule}]${f.severity === "warning" ? " (warning)" : ""} ${f.message}; fix: ${f.fix}`;
}
