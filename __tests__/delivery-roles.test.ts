/**
 * The deploy role against the ways a role that creates roles becomes admin, evaluated with
 * IAM's rules (support/iam.ts): what the deploy role may call, and what any role it creates
 * can do through the permissions boundary it must carry.
 */
import type { PolicyStatement } from "../constructs/aws/policy";
import {
  ATTACHABLE_MANAGED_POLICIES,
  PERMISSIONS_BOUNDARY_NAME,
  STACK_TAG,
  deployRoleStatements,
  permissionsBoundaryStatements,
  stateAccessStatements,
  stateKeyProtectionStatements,
} from "../constructs/aws/delivery-policies";
import { evaluate, type IamRequest } from "./support/iam";
import { policyStatements, resourcesOf, synthesizeEnvironments } from "./support/synth";

const ACCOUNT = "222222222222";
const REGION = "eu-west-1";
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/${PERMISSIONS_BOUNDARY_NAME}`;
const STATE_BUCKET = "arn:aws:s3:::acme-state";
const STATE_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0000-state`;
const PLATFORM_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1111-staging`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/2222-someone-elses`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const managed = (name: string) => `arn:aws:iam::aws:policy/${name}`;

/** The deploy role of an account hosting staging, as the bootstrap composes it. */
const deploy: PolicyStatement[] = [
  ...deployRoleStatements({
    partition: "aws",
    accountId: ACCOUNT,
    bucketNames: ["acme-staging-artifacts", "acme-staging-data"],
    repositoryNames: ["mlops-serving", "mlops-training"],
    namePrefix: "mlops-",
    foundationStacks: ["staging-foundation"],
    keyAliases: ["mlops-staging"],
  }),
  ...stateAccessStatements(
    { bucketArn: STATE_BUCKET, keyPrefix: "mlops-platform", keyArn: STATE_KEY, region: REGION },
    "apply",
  ),
  ...stateKeyProtectionStatements(STATE_KEY),
];
const boundary = permissionsBoundaryStatements({ state: { bucketArn: STATE_BUCKET, keyArn: STATE_KEY } });
const deployMay = (request: IamRequest) => evaluate(deploy, request);
const keyTags = {
  [STATE_KEY]: "bootstrap-222222222222",
  [PLATFORM_KEY]: "staging-foundation",
  [OTHER_KEY]: undefined,
};
const onKey = (action: string, key: keyof typeof keyTags, context: Record<string, string> = {}) =>
  deployMay({
    action,
    resource: key,
    context: { [`aws:ResourceTag/${STACK_TAG}`]: keyTags[key], ...context },
  });

/** A role the deploy role created and gave AdministratorAccess (inline), capped by the boundary. */
const ADMIN: PolicyStatement[] = [{ sid: "Admin", actions: ["*"], resources: ["*"] }];
const createdRoleMay = (request: IamRequest) => evaluate(ADMIN, request, boundary);

describe("the deploy role cannot make itself admin", () => {
  it("creates roles only with the permissions boundary", () => {
    const create = (name: string, permissionsBoundary?: string) =>
      deployMay({
        action: "iam:CreateRole",
        resource: role(name),
        context: { "iam:PermissionsBoundary": permissionsBoundary },
      });
    expect(create("mlops-staging-mlflow")).toBe("implicit-deny");
    expect(create("mlops-staging-mlflow", `arn:aws:iam::${ACCOUNT}:policy/mlops-anything`)).toBe(
      "implicit-deny",
    );
    expect(create("mlops-staging-mlflow", BOUNDARY)).toBe("allow");
    // Not a platform name: not even with the boundary.
    expect(create("ci-admin", BOUNDARY)).toBe("implicit-deny");
  });

  it("attaches only the managed policies the foundation uses, and only to bounded roles", () => {
    const attach = (policy: string, permissionsBoundary?: string) =>
      deployMay({
        action: "iam:AttachRolePolicy",
        resource: role("mlops-staging-node"),
        context: { "iam:PermissionsBoundary": permissionsBoundary, "iam:PolicyARN": policy },
      });
    expect(attach(managed("AdministratorAccess"), BOUNDARY)).toBe("implicit-deny");
    expect(attach(managed("IAMFullAccess"), BOUNDARY)).toBe("implicit-deny");
    for (const name of ATTACHABLE_MANAGED_POLICIES) {
      expect(attach(managed(name), BOUNDARY)).toBe("allow");
      expect(attach(managed(name))).toBe("implicit-deny");
    }
  });

  it("writes inline policies only on bounded roles; AdministratorAccess inline stays inside the boundary", () => {
    const put = (permissionsBoundary?: string) =>
      deployMay({
        action: "iam:PutRolePolicy",
        resource: role("mlops-staging-mlflow"),
        context: { "iam:PermissionsBoundary": permissionsBoundary },
      });
    expect(put()).toBe("implicit-deny");
    expect(put(BOUNDARY)).toBe("allow");
    // What the role with an admin inline policy can then do: nothing on identities, keys or state.
    const escalations: IamRequest[] = [
      { action: "iam:CreateRole", resource: role("mlops-staging-x") },
      { action: "iam:CreateUser", resource: `arn:aws:iam::${ACCOUNT}:user/x` },
      { action: "iam:CreateAccessKey", resource: `arn:aws:iam::${ACCOUNT}:user/x` },
      { action: "iam:AttachRolePolicy", resource: role("ci-deploy") },
      { action: "iam:PutRolePolicy", resource: role("ci-deploy") },
      { action: "iam:UpdateAssumeRolePolicy", resource: role("ci-deploy") },
      { action: "iam:DeleteRolePermissionsBoundary", resource: role("mlops-staging-mlflow") },
      { action: "iam:CreatePolicyVersion", resource: BOUNDARY },
      { action: "iam:PassRole", resource: role("ci-deploy") },
      { action: "kms:PutKeyPolicy", resource: STATE_KEY },
      { action: "kms:PutKeyPolicy", resource: PLATFORM_KEY },
      { action: "kms:ScheduleKeyDeletion", resource: PLATFORM_KEY },
      { action: "kms:Decrypt", resource: STATE_KEY },
      { action: "s3:GetObject", resource: `${STATE_BUCKET}/mlops-platform/prod-foundation.tfstate` },
      { action: "s3:PutBucketPolicy", resource: STATE_BUCKET },
      { action: "sts:AssumeRole", resource: role("ci-deploy") },
      { action: "organizations:LeaveOrganization", resource: "*" },
      { action: "rds:DeleteDBInstance", resource: "*" },
    ];
    for (const request of escalations)
      expect([request.action, request.resource, createdRoleMay(request)]).toEqual([
        request.action,
        request.resource,
        expect.stringMatching(/deny/),
      ]);
    // The one IAM write the platform's controllers make: the load balancer's service-linked role.
    expect(
      createdRoleMay({
        action: "iam:CreateServiceLinkedRole",
        resource: role(
          "aws-service-role/elasticloadbalancing.amazonaws.com/AWSServiceRoleForElasticLoadBalancing",
        ),
        context: { "iam:AWSServiceName": "elasticloadbalancing.amazonaws.com" },
      }),
    ).toBe("allow");
  });

  it("can neither remove nor rewrite the boundary", () => {
    for (const context of [{}, { "iam:PermissionsBoundary": BOUNDARY }])
      expect(
        deployMay({
          action: "iam:DeleteRolePermissionsBoundary",
          resource: role("mlops-staging-mlflow"),
          context,
        }),
      ).toBe("implicit-deny");
    for (const action of [
      "iam:CreatePolicyVersion",
      "iam:SetDefaultPolicyVersion",
      "iam:DeletePolicy",
      "iam:DeletePolicyVersion",
    ])
      expect([action, deployMay({ action, resource: BOUNDARY })]).toEqual([action, "implicit-deny"]);
    // Nor change its own role, which is not a platform role.
    for (const action of ["iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"])
      expect(
        deployMay({ action, resource: role("ci-deploy"), context: { "iam:PermissionsBoundary": BOUNDARY } }),
      ).toBe("implicit-deny");
  });

  it("administers the platform's keys only: never the state key, nor a key it did not create", () => {
    for (const action of [
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
      "kms:CreateGrant",
      "kms:UpdateKeyDescription",
    ]) {
      expect([action, onKey(action, STATE_KEY)]).toEqual([action, "deny"]);
      expect([action, onKey(action, OTHER_KEY)]).toEqual([action, "implicit-deny"]);
      expect([action, onKey(action, PLATFORM_KEY)]).toEqual([action, "allow"]);
    }
    // Re-tagging the state key into the platform is refused too.
    expect(
      onKey("kms:TagResource", STATE_KEY, { [`aws:RequestTag/${STACK_TAG}`]: "staging-foundation" }),
    ).toBe("deny");
    // The state key is used through S3 for the state, nothing else.
    expect(onKey("kms:Decrypt", STATE_KEY, { "kms:ViaService": `s3.${REGION}.amazonaws.com` })).toBe("allow");
    expect(onKey("kms:Decrypt", STATE_KEY)).toBe("implicit-deny");
    // New keys only with the foundation's stack tag; aliases only the platform's.
    expect(
      deployMay({
        action: "kms:CreateKey",
        resource: "*",
        context: { [`aws:RequestTag/${STACK_TAG}`]: "staging-foundation" },
      }),
    ).toBe("allow");
    expect(deployMay({ action: "kms:CreateKey", resource: "*" })).toBe("implicit-deny");
    const alias = (name: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:alias/${name}`;
    expect(deployMay({ action: "kms:UpdateAlias", resource: alias("mlops-staging") })).toBe("allow");
    expect(deployMay({ action: "kms:UpdateAlias", resource: alias("mlops-terraform-state") })).toBe(
      "implicit-deny",
    );
  });
});

describe("the foundations' roles", () => {
  const synthesized = synthesizeEnvironments();
  const foundations = Object.values(synthesized).map(
    (env) => [env.environment.name, env.foundation.json] as const,
  );

  it.each(foundations)(
    "%s: every role carries the account's boundary, with the managed policies the deploy role may attach",
    (_name, json) => {
      for (const [id, r] of Object.entries(resourcesOf(json, "aws_iam_role")))
        expect([id, r.permissions_boundary]).toEqual([
          id,
          expect.stringMatching(
            /^arn:\$\{data\.aws_partition\.[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:policy\/mlops-permissions-boundary$/,
          ),
        ]);
      for (const attachment of Object.values<any>(resourcesOf(json, "aws_iam_role_policy_attachment"))) {
        const name = /:iam::aws:policy\/(.+)$/.exec(attachment.policy_arn)?.[1];
        expect(ATTACHABLE_MANAGED_POLICIES).toContain(name);
      }
    },
  );

  it.each(foundations)("%s: every inline statement of every role is within the boundary", (_name, json) => {
    for (const [id, policy] of Object.entries(resourcesOf(json, "aws_iam_role_policy"))) {
      for (const statement of policyStatements(json, policy.policy)) {
        if ((statement.effect ?? "Allow") !== "Allow") continue;
        // The request as the statement admits it: its condition values in the context.
        const context = Object.fromEntries(
          (statement.condition ?? []).map((c: any) => [c.variable, String(c.values[0])]),
        );
        for (const action of statement.actions)
          expect([
            id,
            action,
            evaluate([{ sid: "X", actions: [action] }], { action, resource: "*", context }, boundary),
          ]).toEqual([id, action, "allow"]);
      }
    }
  });
});
