/**
 * What a pull-request diff of a deployed AWS environment relies on. The diff job plans the
 * platform and serving stacks with `-refresh=false` as the `ci-diff` role, which the cluster
 * knows through an access entry with AmazonEKSViewPolicy (built-in groups, no Secrets, no custom
 * resources) and the Kubernetes group the platform stack binds to a ClusterRole reading the
 * CRDs. Each precondition of such a plan has a direct check here:
 * - the Helm provider's manifest experiment stays off (it would read the release Secrets and
 *   dry-run PATCH at plan);
 * - no helm_release upgrade-installs without a version (the one plan that reads the cluster);
 * - the stacks read no Kubernetes data source (data sources are read even without refresh);
 * - every custom kind created through kubernetes_manifest has a structural schema in its pinned
 *   CRD (otherwise the plan dry-run PATCHes the object, a write the role cannot make);
 * - the providers authenticate as whoever runs the plan (no role pinned in the token command).
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import {
  resourcesOf,
  synthesizeEnvironments,
  synthesizeOnPremEnvironments,
  type TerraformJson,
} from "./support/synth";
import { UPSTREAM_DIR, describeWithUpstream } from "./support/upstream";

const synthesized = synthesizeEnvironments();
const NAMES = Object.keys(synthesized);
/** The stacks a pull-request diff plans without refresh, per AWS environment. */
const PLANNED_WITHOUT_REFRESH: [string, TerraformJson][] = NAMES.flatMap((name) => [
  [`${name}-platform`, synthesized[name].platform.json] as [string, TerraformJson],
  [`${name}-serving`, synthesized[name].serving.json] as [string, TerraformJson],
]);

const READ_VERBS = ["get", "list", "watch"];

describe("the pull-request diff principal in the cluster", () => {
  it.each(NAMES)("%s: the platform binds the diff group to reading CRDs, and to nothing else", (name) => {
    const platform = synthesized[name].platform.json;
    const roles = Object.entries(resourcesOf(platform, "kubernetes_cluster_role_v1"));
    const bindings = Object.values(resourcesOf(platform, "kubernetes_cluster_role_binding_v1"));
    const bound = bindings.filter((binding) =>
      binding.subject.some((s: any) => s.kind === "Group" && s.name === "mlops:pull-request-diff"),
    );
    expect(bound).toHaveLength(1);
    const [binding] = bound;
    expect(binding.subject).toEqual([
      { kind: "Group", name: "mlops:pull-request-diff", api_group: "rbac.authorization.k8s.io" },
    ]);
    expect(binding.role_ref.kind).toBe("ClusterRole");
    const [roleId, role] = roles.find(([id]) => binding.role_ref.name.includes(`.${id}.`))!;
    expect(binding.role_ref.name).toBe(`\${kubernetes_cluster_role_v1.${roleId}.metadata[0].name}`);
    expect(role.rule).toEqual([
      {
        api_groups: ["apiextensions.k8s.io"],
        resources: ["customresourcedefinitions"],
        verbs: ["get", "list", "watch"],
      },
    ]);
    expect(role.aggregation_rule).toBeUndefined();
    for (const rule of role.rule) {
      expect(rule.resources).not.toContain("secrets");
      expect(rule.resources).not.toContain("*");
      expect(rule.api_groups).not.toContain("*");
      expect(rule.verbs.filter((verb: string) => !READ_VERBS.includes(verb))).toEqual([]);
      expect(rule.resource_names).toBeUndefined();
    }
  });

  it.each(NAMES)("%s: the diff role's access entry carries the group the platform binds", (name) => {
    const entries = Object.values(resourcesOf(synthesized[name].foundation.json, "aws_eks_access_entry"));
    const diff = entries.filter((entry) => entry.principal_arn.endsWith(":role/ci-diff"));
    expect(diff).toHaveLength(1);
    const boundGroups = Object.values(
      resourcesOf(synthesized[name].platform.json, "kubernetes_cluster_role_binding_v1"),
    ).flatMap((binding) => binding.subject.map((s: any) => s.name));
    expect(diff[0].kubernetes_groups).toEqual(["mlops:pull-request-diff"]);
    expect(boundGroups).toContain(diff[0].kubernetes_groups[0]);
    // Nobody else is in the group: the admins need no RBAC beyond their access policy.
    for (const entry of entries.filter((e) => e !== diff[0])) expect(entry.kubernetes_groups).toBeUndefined();
  });

  // Jenkins plans on-prem with the deploy kubeconfig; nothing maps a principal into the group there.
  it.each(Object.entries(synthesizeOnPremEnvironments()))(
    "%s: an on-prem platform binds no diff group and creates no ClusterRole for one",
    (_, onPrem) => {
      const platform = onPrem.platform.json;
      const bindings = Object.values(resourcesOf(platform, "kubernetes_cluster_role_binding_v1"));
      expect(bindings.flatMap((b) => b.subject.map((s: any) => s.name))).not.toContain(
        "mlops:pull-request-diff",
      );
      const roles = Object.values(resourcesOf(platform, "kubernetes_cluster_role_v1"));
      expect(roles.map((r) => r.metadata.name)).not.toContain("mlops-pull-request-diff");
    },
  );
});

describe("preconditions of a plan without refresh", () => {
  it.each(PLANNED_WITHOUT_REFRESH)(
    "%s: no Helm provider turns on the manifest experiment (it reads release Secrets at plan)",
    (_stack, json) => {
      for (const helm of json.provider?.helm ?? []) {
        const experiments = [helm.experiments ?? []].flat();
        expect(experiments.map((e: any) => e.manifest ?? false)).not.toContain(true);
      }
    },
  );

  it("the platform stacks do configure a Helm provider (the check above is not vacuous)", () => {
    for (const name of NAMES) expect(synthesized[name].platform.json.provider?.helm).toHaveLength(1);
  });

  it.each(PLANNED_WITHOUT_REFRESH)(
    "%s: no helm_release upgrade-installs without a pinned version (that plan reads the release)",
    (_stack, json) => {
      const unpinned = Object.values(resourcesOf(json, "helm_release"))
        .filter((release) => release.upgrade_install === true || release.upgrade_install === "true")
        .filter((release) => typeof release.version !== "string" || release.version === "")
        .map((release) => release.name);
      expect(unpinned).toEqual([]);
    },
  );

  it.each(PLANNED_WITHOUT_REFRESH)(
    "%s: reads only the foundation's state and ECR image lists, never a Kubernetes data source",
    (_stack, json) => {
      const types = Object.keys(json.data ?? {});
      expect(types.filter((type) => type.startsWith("kubernetes_") || type.startsWith("helm_"))).toEqual([]);
      // Each of these is readable by the diff role: the state bucket (its state statements) and
      // ECR (ReadOnlyAccess).
      expect(types.filter((type) => !["terraform_remote_state", "aws_ecr_images"].includes(type))).toEqual(
        [],
      );
    },
  );

  it.each(PLANNED_WITHOUT_REFRESH)(
    "%s: the cluster providers authenticate as whoever plans (no role or profile in the token command)",
    (_stack, json) => {
      const configs = [
        ...(json.provider?.kubernetes ?? []),
        ...(json.provider?.helm ?? []).map((helm: any) => helm.kubernetes),
      ];
      expect(configs.length).toBeGreaterThan(0);
      for (const config of configs) {
        const exec = [config.exec].flat()[0];
        expect(exec.command).toBe("aws");
        expect(exec.args.slice(0, 2)).toEqual(["eks", "get-token"]);
        expect(exec.args).not.toContain("--role-arn");
        expect(exec.args).not.toContain("--profile");
        expect(Object.keys(exec.env ?? {})).toEqual([]);
      }
    },
  );
});

/** Every CustomResourceDefinition of the pinned sources (`crds/<folder>/*.yaml`). */
function pinnedCrds(): any[] {
  const root = join(UPSTREAM_DIR!, "crds");
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return files(path);
      return /\.ya?ml$/.test(entry) ? [path] : [];
    });
  return files(root).flatMap((file) =>
    parseAllDocuments(readFileSync(file, "utf8"))
      .map((doc) => doc.toJS())
      .filter((crd) => crd?.kind === "CustomResourceDefinition"),
  );
}

/** API groups served by Kubernetes itself: their kinds have no CRD. */
const isBuiltInGroup = (group: string) => !group.includes(".") || group.endsWith(".k8s.io");

describeWithUpstream("__tests__/pull-request-diff.test.ts", "CRD schemas")(
  "custom kinds a plan without refresh meets",
  () => {
    const crds = pinnedCrds();
    const manifests = PLANNED_WITHOUT_REFRESH.flatMap(([stack, json]) =>
      Object.values(resourcesOf(json, "kubernetes_manifest")).map((resource) => ({
        stack,
        manifest: resource.manifest,
      })),
    );

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
