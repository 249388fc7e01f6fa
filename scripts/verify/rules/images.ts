/**
 * images: every container image is pinned (a tag other than `latest`, or a digest) and, where
 * the environment has a mirror registry (on-prem), comes from it.
 */
import type { Finding } from "../finding";
import type { ClusterState } from "../state";
import { allContainers, serviceAccountOf, workloads, type Workload } from "../workloads";
import { findingFor, type Rule } from "./rule";

/** Registry host of an image reference (Docker Hub when the first part is not a host). */
export function registryOf(image: string): string {
  const first = image.split("/")[0];
  return image.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost")
    ? first
    : "docker.io";
}

/** Why an image reference is not pinned, or undefined when it is. */
export function unpinned(image: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return undefined;
  const last = image.split("/").pop() ?? image;
  const colon = last.lastIndexOf(":");
  if (colon < 0) return "has no tag (pulls latest)";
  const tag = last.slice(colon + 1);
  if (tag === "") return "has an empty tag";
  if (tag === "latest") return "uses the latest tag";
  return undefined;
}

/** Pull Secrets a pod gets: its own, and its ServiceAccount's (the admission plugin adds those). */
export function pullSecretsOf(state: ClusterState, w: Workload): Set<string> {
  const sa = serviceAccountOf(state, w).object as { imagePullSecrets?: { name?: string }[] } | undefined;
  return new Set(
    [...(w.spec.imagePullSecrets ?? []), ...(sa?.imagePullSecrets ?? [])].map((s) => s.name ?? ""),
  );
}

export const imagesRule: Rule = {
  name: "images",
  summary:
    "every image is pinned (tag or digest, never latest) and, on-prem, comes from the mirror registry, pulled with its pull Secret",
  check(state) {
    const findings: Finding[] = [];
    const mirror = state.environment.mirrorRegistry;
    const pullSecret = state.environment.pullSecretName;
    for (const w of workloads(state)) {
      // Objects the distribution itself runs (EKS add-ons, RKE2's bundled charts) are not
      // installed by the stacks; what operators create from the stacks' resources is checked.
      if (w.owner.source.startsWith("cluster (")) continue;
      let pullsFromMirror = false;
      for (const { container, kind } of allContainers(w.spec)) {
        const image = container.image;
        if (!image) {
          if (
            !["Prometheus", "Alertmanager"].includes(w.owner.object.kind) &&
            !w.owner.source.startsWith("controller (KServe")
          ) {
            findings.push(
              findingFor(
                state,
                "images",
                w.owner,
                `${kind} "${container.name}" has no image`,
                "set the image",
              ),
            );
          }
          continue;
        }
        const problem = unpinned(image);
        if (problem) {
          findings.push(
            findingFor(
              state,
              "images",
              w.owner,
              `${kind} "${container.name}" image ${image} ${problem}`,
              "pin the image to a version tag or a digest",
            ),
          );
        }
        if (mirror && registryOf(image) === mirror) pullsFromMirror = true;
        if (mirror && registryOf(image) !== mirror) {
          findings.push(
            findingFor(
              state,
              "images",
              w.owner,
              `${kind} "${container.name}" image ${image} is not from the mirror registry ${mirror}`,
              `pull it through ${mirror} (set the chart's image registry value)`,
            ),
          );
        }
      }
      if (pullsFromMirror && pullSecret && !pullSecretsOf(state, w).has(pullSecret)) {
        const account = w.spec.serviceAccountName ?? w.spec.serviceAccount ?? "default";
        findings.push(
          findingFor(
            state,
            "images",
            w.owner,
            `pulls from ${mirror} without the pull Secret ${pullSecret} (neither the pod nor its ServiceAccount ${w.namespace}/${account} lists it)`,
            `add imagePullSecrets [{ name: ${pullSecret} }] to the pod template (the chart's imagePullSecrets value) or to the ServiceAccount`,
          ),
        );
      }
    }
    return findings;
  },
};
