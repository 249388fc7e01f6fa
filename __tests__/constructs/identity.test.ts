import { Fn } from "cdktf";
import { WorkloadIdentity } from "../../constructs/aws/workload-identity";
import { assertExplicitActions, type PolicyStatement } from "../../constructs/aws/policy";
import { bucketAccessStatements } from "../../constructs/aws/controller-policies";
import { awsFixture, synthJson } from "../support/aws-fixture";
import { policyStatements, resourceFor } from "../support/synth";

const cluster = {
  oidcProviderArn: "arn:aws:iam::111111111111:oidc-provider/oidc.eks.example",
  oidcIssuerHostPath: "oidc.eks.example/id/ABC",
};
const read: PolicyStatement[] = [
  { sid: "Read", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::bucket/*"] },
];

function identity(overrides: Partial<ConstructorParameters<typeof WorkloadIdentity>[2]> = {}) {
  const { stack } = awsFixture();
  const construct = new WorkloadIdentity(stack, "Identity", {
    roleName: "unit-reader",
    cluster,
    namespace: "mlops",
    serviceAccount: "reader",
    statements: read,
    purpose: "reads things",
    ...overrides,
  });
  return { stack, construct };
}

describe("WorkloadIdentity", () => {
  it("trusts exactly one service account with the STS audience", () => {
    const { stack, construct } = identity();
    const json = synthJson(stack);
    const role = resourceFor(json, construct.role);
    expect(role.name).toBe("unit-reader");
    expect(policyStatements(json, role.assume_role_policy)).toEqual([
      {
        sid: "ServiceAccountAssumesRoleWithWebIdentity",
        effect: "Allow",
        actions: ["sts:AssumeRoleWithWebIdentity"],
        principals: [{ type: "Federated", identifiers: [cluster.oidcProviderArn] }],
        condition: [
          {
            test: "StringEquals",
            variable: "oidc.eks.example/id/ABC:sub",
            values: ["system:serviceaccount:mlops:reader"],
          },
          { test: "StringEquals", variable: "oidc.eks.example/id/ABC:aud", values: ["sts.amazonaws.com"] },
        ],
      },
    ]);
  });

  it("fails on a namespace that is not a Kubernetes name", () => {
    expect(() => identity({ namespace: "ML_Ops" })).toThrow(
      'WorkloadIdentity unit-reader: namespace "ML_Ops" must be a Kubernetes name',
    );
  });

  it("fails on a service account that is not a Kubernetes name", () => {
    expect(() => identity({ serviceAccount: "-reader" })).toThrow(
      'serviceAccount "-reader" must be a Kubernetes name',
    );
  });

  it("fails without statements", () => {
    expect(() => identity({ statements: [] })).toThrow("statements is empty");
  });

  it.each(["*", "s3:*", "ec2:Describe*"])("fails on the wildcard action %s", (action) => {
    expect(() =>
      identity({ statements: [{ sid: "TooBroad", actions: [action], resources: ["*"] }] }),
    ).toThrow(`statement TooBroad action "${action}" is a wildcard; list the exact API calls`);
  });
});

describe("assertExplicitActions", () => {
  it("fails on a statement without actions", () => {
    expect(() => assertExplicitActions("unit", [{ sid: "Empty", actions: [] }])).toThrow(
      "unit: statement Empty has no actions",
    );
  });
});

describe("bucketAccessStatements", () => {
  it("grants read-only access without write actions or encrypt permissions", () => {
    const { account, key } = awsFixture();
    const statements = bucketAccessStatements({ account, key }, [
      { bucketArn: "arn:aws:s3:::b", access: "read" },
    ]);
    expect(statements.map((s) => s.sid)).toEqual(["ListBuckets", "ReadObjects", "UseBucketKeyThroughS3"]);
    expect(statements[2].actions).toEqual(["kms:Decrypt", "kms:DescribeKey"]);
  });

  it("adds writes only on the writable buckets", () => {
    const { account, key } = awsFixture();
    const statements = bucketAccessStatements({ account, key }, [
      { bucketArn: "arn:aws:s3:::models", access: "read" },
      { bucketArn: "arn:aws:s3:::scratch", access: "read-write" },
    ]);
    expect(statements.find((s) => s.sid === "WriteObjects")!.resources).toEqual(["arn:aws:s3:::scratch/*"]);
    expect(statements.find((s) => s.sid === "UseBucketKeyThroughS3")!.actions).toContain(
      "kms:GenerateDataKey",
    );
  });

  it("is usable with token ARNs", () => {
    const { account, key } = awsFixture();
    expect(() =>
      bucketAccessStatements({ account, key }, [
        { bucketArn: Fn.join("", ["arn:aws:s3:::", "x"]), access: "read" },
      ]),
    ).not.toThrow();
  });
});
