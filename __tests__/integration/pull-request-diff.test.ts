/**
 * A pull-request diff plans the AWS platform and serving stacks without refresh (see
 * `__tests__/pull-request-diff.test.ts`); kubernetes_manifest then dry-run PATCHes, a write the
 * diff role cannot make, any object whose CRD has no structural schema. Checked here against the
 * pinned CRDs of every custom kind those stacks create.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { resourcesOf, synthesizeEnvironments, type TerraformJson } from "../support/synth";
import { UPSTREAM_DIR, describeWithUpstream } from "../support/upstream";

const synthesized = synthesizeEnvironments();
/** The stacks a pull-request diff plans without refresh, per AWS environment. */
const PLANNED_WITHOUT_REFRESH: [string, TerraformJson][] = Object.keys(synthesized).flatMap((name) => [
  [`${name}-platform`, synthesized[name].platform.json] as [string, TerraformJson],
  [`${name}-serving`, synthesized[name].serving.json] as [string, TerraformJson],
]);

/**
 * The CustomResourceDefinitions of the pinned sources (`crds/<folder>/*.yaml`) that define one of
 * these API groups; files that do not name any of them are not parsed (the CRDs are 24 MB).
 */
function pinnedCrds(groups: readonly string[]): any[] {
  const root = join(UPSTREAM_DIR!, "crds");
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return files(path);
      return /\.ya?ml$/.test(entry) ? [path] : [];
    });
  return files(root).flatMap((file) => {
    const text = readFileSync(file, "utf8");
    if (!groups.some((group) => text.includes(group))) return [];
    return parseAllDocuments(text)
      .map((doc) => doc.toJS())
      .filter((crd) => crd?.kind === "CustomResourceDefinition" && groups.includes(crd.spec.group));
  });
}

/** API groups served by Kubernetes itself: their kinds have no CRD. */
const isBuiltInGroup = (group: string) => !group.includes(".") || group.endsWith(".k8s.io");

const groupOf = (apiVersion: string): string => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");

describeWithUpstream("__tests__/integration/pull-request-diff.test.ts", "CRD schemas")(
  "custom kinds a plan without refresh meets",
  () => {
    const manifests = PLANNED_WITHOUT_REFRESH.flatMap(([stack, json]) =>
      Object.values(resourcesOf(json, "kubernetes_manifest")).map((resource) => ({
        stack,
        manifest: resource.manifest,
      })),
    );
    const crds = pinnedCrds([
      ...new Set(
        manifests.map(({ manifest }) => groupOf(manifest.apiVersion)).filter((g) => !isBuiltInGroup(g)),
      ),
    ]);

    it("the stacks do create custom resources through kubernetes_manifest (the check below is not vacuous)", () => {
      expect(
        manifests.filter(({ manifest }) => !isBuiltInGroup(manifest.apiVersion.split("/")[0])).length,
      ).toBeGreaterThan(0);
    });

    it("every custom kind has a structural schema in its pinned CRD, so the plan needs no dry-run PATCH", () => {
      const problems = manifests.flatMap(({ stack, manifest }) => {
        const [group, version] = manifest.apiVersion.includes("/")
          ? manifest.apiVersion.split("/")
          : ["", manifest.apiVersion];
        if (isBuiltInGroup(group)) return [];
        const what = `${stack}: ${manifest.kind}.${group}/${version}`;
        const crd = crds.find((c) => c.spec.group === group && c.spec.names.kind === manifest.kind);
        if (!crd) return [`${what}: no pinned CRD`];
        const served = crd.spec.versions.find((v: any) => v.name === version && v.served);
        if (!served) return [`${what}: version not served by the pinned CRD`];
        const schema = served.schema?.openAPIV3Schema;
        if (schema?.type !== "object" || typeof schema.properties !== "object")
          return [`${what}: the CRD's openAPIV3Schema is not a structural object schema`];
        if (schema["x-kubernetes-preserve-unknown-fields"] === true)
          return [`${what}: the CRD's schema preserves unknown fields at its root`];
        return [];
      });
      expect(problems).toEqual([]);
    });
  },
);
