import type { Finding } from "../finding";
import type { ClusterState, StateObject } from "../state";
import type { CrdCatalog } from "../crds";
import { objectName } from "../workloads";

export interface RuleContext {
  /** Custom resource schemas at the pinned versions; undefined when no CRD folder was given. */
  readonly crds?: CrdCatalog;
}

/** One named check of the cluster state. */
export interface Rule {
  readonly name: string;
  /** What the rule checks, one line (printed by --list-rules and in docs/verification.md). */
  readonly summary: string;
  check(state: ClusterState, context: RuleContext): Finding[];
}

/** A finding about one object of the state. */
export function findingFor(
  state: ClusterState,
  rule: string,
  at: StateObject,
  message: string,
  fix: string,
  severity: Finding["severity"] = "error",
): Finding {
  return {
    environment: state.environment.name,
    source: at.source,
    object: objectName(at.object),
    rule,
    severity,
    message,
    fix,
  };
}
