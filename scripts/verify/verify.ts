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
