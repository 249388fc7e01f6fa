/**
 * schema: every object against the Kubernetes schema (built-in kinds) or its CRD at the pinned
 * version (custom resources); unknown fields are errors, as with server-side field validation.
 */
import { declaredKind, kindSchemas, KUBERNETES_SCHEMA_VERSION, validateAgainst } from "../k8s-schema";
import { CrdCatalog } from "../crds";
import type { Rule } from "./rule";
import { findingFor } from "./rule";

const MAX_PER_OBJECT = 5;

export const schemaRule: Rule = {
  name: "schema",
  summary: `objects against the Kubernetes ${KUBERNETES_SCHEMA_VERSION} schema or their CRD at the pinned version; unknown fields are errors`,
  check(state, context) {
    const findings = [];
    // Without a CRD folder, custom resources are checked against the CRDs the state's pinned
    // charts install.
    const crds = (context.crds ?? new CrdCatalog("(no CRD folder)", [])).withFallback(
      state.objects.map((o) => o.object),
      "CRD",
    );
    const builtIn = state.objects.filter((o) => declaredKind(o.object.apiVersion, o.object.kind));
    const schemas = kindSchemas(
      builtIn.map((o) => ({ apiVersion: o.object.apiVersion, kind: o.object.kind })),
    );
    for (const at of state.objects) {
      const { apiVersion, kind } = at.object;
      if (typeof apiVersion !== "string" || typeof kind !== "string") {
        findings.push(
          findingFor(state, "schema", at, "object has no apiVersion or kind", "set apiVersion and kind"),
        );
        continue;
      }
      if (!at.object.metadata?.name) {
        findings.push(findingFor(state, "schema", at, "metadata.name is missing", "give the object a name"));
      }
      const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
      const installed = state.objects.some(
        (o) =>
          o.object.kind === "CustomResourceDefinition" &&
          (o.object.spec as { group?: string })?.group === group &&
          (o.object.spec as { names?: { kind?: string } })?.names?.kind === kind,
      );
      const isBuiltInGroup =
        !installed && (/^(|apps|batch|policy|autoscaling)$/.test(group) || group.endsWith(".k8s.io"));
      const version = apiVersion.split("/").pop() ?? "";
      // kubernetes-models keeps the removed beta APIs; a cluster serves no alpha or beta built-in
      // API by default (those before 1.24 are all removed by 1.34, later ones start disabled).
      const prerelease = /(alpha|beta)\d*$/.test(version);
      if (declaredKind(apiVersion, kind) && !prerelease) {
        const ref = schemas.kinds[`${apiVersion}/${kind}`];
        const violations = validateAgainst(schemas, { type: "object", ref }, at.object, "");
        for (const v of violations.slice(0, MAX_PER_OBJECT)) {
          findings.push(
            findingFor(
              state,
              "schema",
              at,
              `${v.path.replace(/^\./, "")}: ${v.message}`,
              "make the field match the Kubernetes API (see `kubectl explain`)",
            ),
          );
        }
        if (violations.length > MAX_PER_OBJECT) {
          findings.push(
            findingFor(
              state,
              "schema",
              at,
              `${violations.length - MAX_PER_OBJECT} more schema violations`,
              "fix the ones above first",
            ),
          );
        }
        continue;
      }
      if (isBuiltInGroup) {
        findings.push(
          findingFor(
            state,
            "schema",
            at,
            `${apiVersion} ${kind} is not served by Kubernetes ${state.environment.kubeVersion}${prerelease ? " (no alpha or beta built-in API is enabled by default)" : ""}`,
            "use the apiVersion the cluster serves (kubectl api-resources)",
          ),
        );
        continue;
      }
      if (!installed) {
        findings.push(
          findingFor(
            state,
            "schema",
            at,
            `no release of the environment installs the CRD of ${group} ${kind}`,
            "install the chart that owns the CRD before objects of this kind",
          ),
        );
      }
      const result = crds.validate(at.object as { apiVersion: string; kind: string });
      if (result.found === "no-crd") {
        findings.push(
          findingFor(
            state,
            "schema",
            at,
            `no CRD for ${group} ${kind} in ${crds.dir} or the state`,
            "add the CRD at the pinned version to the CRD folder",
          ),
        );
        continue;
      }
      if (result.found === "version-not-served") {
        findings.push(
          findingFor(
            state,
            "schema",
            at,
            `${apiVersion} is not a served version of ${kind} (served: ${result.versions?.join(", ")}; ${result.file})`,
            `use apiVersion ${group}/${result.versions?.[0]}`,
          ),
        );
        continue;
      }
      const checked = result;
      for (const e of checked.errors.slice(0, MAX_PER_OBJECT)) {
        findings.push(
          findingFor(
            state,
            "schema",
            at,
            `${e.path.replace(/^\./, "")}: ${e.message} (CRD ${checked.file})`,
            "make the field match the CRD schema at the pinned version",
          ),
        );
      }
      if (checked.errors.length > MAX_PER_OBJECT) {
        findings.push(
          findingFor(
            state,
            "schema",
            at,
            `${checked.errors.length - MAX_PER_OBJECT} more schema violations`,
            "fix the ones above first",
          ),
        );
      }
    }
    return findings;
  },
};
