/**
 * A pull-request diff plans the AWS platform and serving stacks without refresh (see
 * `__tests__/pull-request-diff.test.ts`); kubernetes_manifest then dry-run PATCHes, a write the
 * diff role cannot make, any object whose CRD has no structural schema. Checked here against the
 * pinned CRDs of every custom kind those stacks create.
 */
import { join } from "node:path";
import { CrdCatalog } from "../../scripts/verify/crds";
import { plannedWithoutRefresh } from "../support/pull-request-diff";
import { resourcesOf, synthesizeEnvironments } from "../support/synth";
import { UPSTREAM_DIR, describeWithUpstream } from "../support/upstream";

const PLANNED_WITHOUT_REFRESH = plannedWithoutRefresh(synthesizeEnvironments());

/** API groups served by Kubernetes itself: their kinds have no CRD. */
const isBuiltInGroup = (group: string) => !group.includes(".") || group.endsWith(".k8s.io");

describeWithUpstream("__tests__/integration/pull-request-diff.test.ts", "CRD schemas")(
  "custom kinds a plan without refresh meets",
  () => {
    const manifests = PLANNED_WITHOUT_REFRESH.flatMap(([stack, json]) =>
      Object.values(resourcesOf(json, "kubernetes_manifest")).map((resource) => ({
        stack,
        manifest: resource.manifest,
      })),
    );
    // The pinned CRDs as verify reads them (parsed once, cached by file size and time). Built on
    // first use inside a test: jest runs this describe body even when the block is skipped.
    let catalog: CrdCatalog | undefined;
    const crds = () => (catalog ??= new CrdCatalog(join(UPSTREAM_DIR!, "crds")));

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
        const crd = crds().crd(group, manifest.kind);
        if (!crd) return [`${what}: no pinned CRD`];
        const served = crd.versions.find((v) => v.name === version && v.served);
        if (!served) return [`${what}: version not served by the pinned CRD`];
        const schema = served.schema as Record<string, any> | undefined;
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
