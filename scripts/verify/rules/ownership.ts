/**
 * ownership: every object has one owner. Two releases, stacks or Argo CD Applications creating
 * the same object fight over it: Helm refuses to install over an object another release owns,
 * and Terraform and Argo CD revert each other's changes.
 */
import type { Finding } from "../finding";
import { findingFor, type Rule } from "./rule";

/** API group of an apiVersion (`apps/v1` -> `apps`, `v1` -> ``). */
function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
}

export const ownershipRule: Rule = {
  name: "ownership",
  summary: "no object is created by two owners (releases, stacks, Argo CD Applications)",
  check(state) {
    const findings: Finding[] = [];
    const seen = new Map<string, (typeof state.objects)[number]>();
    for (const at of state.objects) {
      const o = at.object;
      const key = `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, at);
        continue;
      }
      if (first.source === at.source) {
        findings.push(
          findingFor(state, "ownership", at, "is defined twice by the same owner", "remove the duplicate"),
        );
        continue;
      }
      const built = [at, first].find((o) => o.object.kind === "Namespace" && / Application /.test(o.source));
      if (built) {
        // Argo CD prunes what its Application built: deleting or renaming the Application, or
        // a prune, deletes the namespace with its quota, policies and volumes.
        const other = built === at ? first : at;
        findings.push(
          findingFor(
            state,
            "ownership",
            built,
            `is emitted by the Argo CD Application's build and also created by ${other.source}: deleting the Application deletes the namespace and everything in it`,
            "delete the Namespace inside the Application's kustomize build: a `$patch: delete` patch whose target matches it as the upstream kustomization names it while patches run (before its replacements), e.g. target by kind Namespace",
          ),
        );
        continue;
      }
      findings.push(
        findingFor(
          state,
          "ownership",
          at,
          `is also created by ${first.source}: two owners overwrite each other`,
          "keep one owner and remove the object from the other (or disable it in that chart's values)",
        ),
      );
    }
    return findings;
  },
};
