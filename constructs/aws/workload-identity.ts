import { Construct } from "constructs";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { assertExplicitActions, policyDocument, type PolicyStatement } from "./policy";

/** The cluster's OIDC issuer as IAM knows it (IRSA). */
export interface OidcIdentityProvider {
  /** ARN of the IAM OIDC provider. */
  readonly oidcProviderArn: string;
  /** Issuer URL without `https://`, the prefix of the `:sub` and `:aud` condition keys. */
  readonly oidcIssuerHostPath: string;
}

export interface WorkloadIdentityProps {
  /** IAM role name. */
  readonly roleName: string;
  readonly cluster: OidcIdentityProvider;
  /** Kubernetes namespace of the service account. */
  readonly namespace: string;
  /** Kubernetes service account name. */
  readonly serviceAccount: string;
  /** What the workload may do, with explicit actions and scoped resources. */
  readonly statements: readonly PolicyStatement[];
  /** One line for the identity table: what the workload does with these permissions. */
  readonly purpose: string;
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * One IAM role for one Kubernetes service account (IRSA): the trust policy admits exactly
 * `system:serviceaccount:<namespace>:<serviceAccount>` with audience `sts.amazonaws.com`.
 */
export class WorkloadIdentity extends Construct {
  public readonly role: IamRole;
  public readonly roleArn: string;
  public readonly roleName: string;
  public readonly namespace: string;
  public readonly serviceAccount: string;
  public readonly purpose: string;
  public readonly statements: readonly PolicyStatement[];

  constructor(scope: Construct, id: string, props: WorkloadIdentityProps) {
    super(scope, id);
    for (const [field, value] of [
      ["namespace", props.namespace],
      ["serviceAccount", props.serviceAccount],
    ] as const) {
      if (!K8S_NAME.test(value) || value.length > 63) {
        throw new Error(
          `WorkloadIdentity ${props.roleName}: ${field} "${value}" must be a Kubernetes name (lower-case letters, digits and -, at most 63); rename it`,
        );
      }
    }
    if (props.statements.length === 0) {
      throw new Error(
        `WorkloadIdentity ${props.roleName}: statements is empty; a role without permissions needs no IRSA, remove it`,
      );
    }
    assertExplicitActions(`WorkloadIdentity ${props.roleName}`, props.statements);

    const issuer = props.cluster.oidcIssuerHostPath;
    const trust = policyDocument(this, "Trust", [
      {
        sid: "ServiceAccountAssumesRoleWithWebIdentity",
        actions: ["sts:AssumeRoleWithWebIdentity"],
        principals: [{ type: "Federated", identifiers: [props.cluster.oidcProviderArn] }],
        conditions: [
          {
            test: "StringEquals",
            variable: `${issuer}:sub`,
            values: [`system:serviceaccount:${props.namespace}:${props.serviceAccount}`],
          },
          { test: "StringEquals", variable: `${issuer}:aud`, values: ["sts.amazonaws.com"] },
        ],
      },
    ]);
    this.role = new IamRole(this, "Role", {
      name: props.roleName,
      description: `IRSA for ${props.namespace}/${props.serviceAccount}: ${props.purpose}`,
      assumeRolePolicy: trust.json,
      maxSessionDuration: 3600,
    });
    new IamRolePolicy(this, "Permissions", {
      name: "permissions",
      role: this.role.name,
      policy: policyDocument(this, "PermissionsDocument", props.statements).json,
    });
    this.roleArn = this.role.arn;
    this.roleName = props.roleName;
    this.namespace = props.namespace;
    this.serviceAccount = props.serviceAccount;
    this.purpose = props.purpose;
    this.statements = props.statements;
  }
}
