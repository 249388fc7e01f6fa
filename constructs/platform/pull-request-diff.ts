import { Construct } from "constructs";
import { ClusterRoleV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-v1";
import { ClusterRoleBindingV1 } from "@cdktf/provider-kubernetes/lib/cluster-role-binding-v1";

/**
 * Kubernetes group of the principals that plan pull-request diffs of the platform and serving
 * stacks. The target maps its diff principal into it (on EKS: the `ci-diff` role's access entry).
 */
export const PULL_REQUEST_DIFF_GROUP = "mlops:pull-request-diff";

/** Name of the ClusterRole (and of its binding) that group gets. */
export const PULL_REQUEST_DIFF_ROLE = "mlops-pull-request-diff";

/**
 * What a plan with `-refresh=false` reads beyond a view policy: `kubernetes_manifest` lists the
 * CustomResourceDefinitions at every plan (PlanResourceChange and UpgradeResourceState), even for
 * built-in kinds. Read verbs on that one resource, nothing else; never Secrets, never a write.
 */
export const PULL_REQUEST_DIFF_RULES = [
  {
    apiGroups: ["apiextensions.k8s.io"],
    resources: ["customresourcedefinitions"],
    verbs: ["get", "list", "watch"],
  },
] as const;

export interface PullRequestDiffAccessProps {
  /** Kubernetes group the target maps its diff principal into (EKS: `PULL_REQUEST_DIFF_GROUP`). */
  readonly group: string;
}

/**
 * The ClusterRole of the pull-request diff principal and its binding to the target's group.
 * The principal's own view rights (EKS: AmazonEKSViewPolicy, built-in groups without Secrets)
 * cover the rest; the union is what the diff can read.
 */
export class PullRequestDiffAccess extends Construct {
  public readonly role: ClusterRoleV1;
  public readonly binding: ClusterRoleBindingV1;

  constructor(scope: Construct, id: string, props: PullRequestDiffAccessProps) {
    super(scope, id);
    const labels = { "app.kubernetes.io/part-of": "mlops-platform" };
    this.role = new ClusterRoleV1(this, "Role", {
      metadata: { name: PULL_REQUEST_DIFF_ROLE, labels },
      rule: PULL_REQUEST_DIFF_RULES.map((rule) => ({
        apiGroups: [...rule.apiGroups],
        resources: [...rule.resources],
        verbs: [...rule.verbs],
      })),
    });
    this.binding = new ClusterRoleBindingV1(this, "Binding", {
      metadata: { name: PULL_REQUEST_DIFF_ROLE, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: this.role.metadata.name },
      subject: [{ kind: "Group", name: props.group, apiGroup: "rbac.authorization.k8s.io" }],
    });
  }
}
