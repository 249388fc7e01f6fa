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
 *   CRD (otherwise the plan dry-run PATCHes the object, a write the role cannot make): checked
 *   against the pinned CRDs in `__tests__/integration/pull-request-diff.test.ts`;
 * - the providers authenticate as whoever runs the plan (no role pinned in the token command).
 */
import { plannedWithoutRefresh } from "./support/pull-request-diff";
import { resourcesOf, synthesizeEnvironments, synthesizeOnPremEnvironments } from "./support/synth";

const synthesized = synthesizeEnvironments();
const NAMES = Object.keys(synthesized);
const PLANNED_WITHOUT_REFRESH = plannedWithoutRefresh(synthesized);

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
      // ECR (its plan policy: the calls of DATA_SOURCE_API_CALLS, constructs/aws/provider-api-calls.ts).
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
