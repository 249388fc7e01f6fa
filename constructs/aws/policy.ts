/**
 * IAM policy documents written in TypeScript. Statements are plain data so constructs can
 * validate them (no wildcard actions) and tests can read them from the synthesized JSON.
 */
import { Construct } from "constructs";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";

export interface PolicyCondition {
  /** Condition operator, e.g. `StringEquals`. */
  readonly test: string;
  /** Condition key, e.g. `aws:SecureTransport`. */
  readonly variable: string;
  readonly values: string[];
}

export interface PolicyPrincipal {
  readonly type: "AWS" | "Service" | "Federated" | "*";
  readonly identifiers: string[];
}

export interface PolicyStatement {
  /** Statement id: says what the statement is for. */
  readonly sid: string;
  /** @default "Allow" */
  readonly effect?: "Allow" | "Deny";
  readonly actions: string[];
  readonly resources?: string[];
  readonly principals?: PolicyPrincipal[];
  readonly conditions?: PolicyCondition[];
}

/** Renders statements as an `aws_iam_policy_document` data source; use `.json` as the policy. */
export function policyDocument(
  scope: Construct,
  id: string,
  statements: readonly PolicyStatement[],
): DataAwsIamPolicyDocument {
  return new DataAwsIamPolicyDocument(scope, id, {
    statement: statements.map((s) => ({
      sid: s.sid,
      effect: s.effect ?? "Allow",
      actions: s.actions,
      resources: s.resources,
      principals: s.principals?.map((p) => ({ type: p.type, identifiers: p.identifiers })),
      condition: s.conditions?.map((c) => ({ test: c.test, variable: c.variable, values: c.values })),
    })),
  });
}

/**
 * Identity policies in this project name every action: a wildcard (`*`, `s3:*`, `ec2:Describe*`)
 * silently grows with every new API. Throws with the offending statement and action.
 */
export function assertExplicitActions(owner: string, statements: readonly PolicyStatement[]): void {
  for (const statement of statements) {
    if (statement.actions.length === 0) {
      throw new Error(`${owner}: statement ${statement.sid} has no actions; list the API calls it allows`);
    }
    for (const action of statement.actions) {
      if (action.includes("*")) {
        throw new Error(
          `${owner}: statement ${statement.sid} action "${action}" is a wildcard; list the exact API calls (e.g. s3:GetObject) instead`,
        );
      }
    }
  }
}
