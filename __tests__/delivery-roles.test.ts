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
  diffRoleStatements,
  permissionsBoundaryStatements,
  stateAccessStatements,
  stateKeyProtectionStatements,
} from "../constructs/aws/delivery-policies";
import { DATA_SOURCE_API_CALLS, PROVIDER_API_CALLS } from "../constructs/aws/provider-api-calls";
import { bootstrapAccounts, deliveryScope } from "../stacks/bootstrap-stack";
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

const SCOPE = {
  partition: "aws",
  accountId: ACCOUNT,
  bucketNames: ["acme-staging-artifacts", "acme-staging-data"],
  repositoryNames: ["mlops-serving", "mlops-training"],
  namePrefix: "mlops-",
  foundationStacks: ["staging-foundation"],
  keyAliases: ["mlops-staging"],
};
/** The deploy role of an account hosting staging, as the bootstrap composes it. */
const deploy: PolicyStatement[] = [
  ...deployRoleStatements(SCOPE),
  ...stateAccessStatements(
    { bucketArn: STATE_BUCKET, keyPrefix: "mlops-platform", keyArn: STATE_KEY, region: REGION },
    "apply",
    ["staging"],
  ),
  ...stateKeyProtectionStatements(STATE_KEY),
];
const boundary = permissionsBoundaryStatements({
  ...SCOPE,
  secrets: ["mlops/staging/alerting/slack-webhook-url"],
  replicas: [],
  state: { bucketArn: STATE_BUCKET, keyArn: STATE_KEY },
});
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

describe("what a role the deploy role creates reaches, whatever its policy and trust", () => {
  const other = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
  it("refuses everything outside the platform's own buckets, repositories, clusters, keys and secrets", () => {
    const outside: IamRequest[] = [
      {
        action: "secretsmanager:GetSecretValue",
        resource: other("secretsmanager", "secret:payroll/db-AbCdEf"),
      },
      { action: "ssm:SendCommand", resource: other("ec2", "instance/i-0123") },
      { action: "ssm:SendCommand", resource: "*" },
      { action: "ssm:StartSession", resource: other("ec2", "instance/i-0123") },
      { action: "ssm:GetParameter", resource: other("ssm", "parameter/payroll/password") },
      { action: "s3:GetObject", resource: "arn:aws:s3:::payroll-exports/2025.csv" },
      { action: "s3:PutBucketPolicy", resource: "arn:aws:s3:::payroll-exports" },
      { action: "eks:CreateAccessEntry", resource: other("eks", "cluster/mlops-staging") },
      { action: "eks:AssociateAccessPolicy", resource: other("eks", "access-entry/mlops-staging/role/x") },
      { action: "eks:DescribeCluster", resource: other("eks", "cluster/payments") },
      { action: "ecr:BatchDeleteImage", resource: other("ecr", "repository/payments") },
      { action: "ecr:PutImage", resource: other("ecr", "repository/payments") },
      { action: "kms:Decrypt", resource: OTHER_KEY },
      {
        action: "kms:Decrypt",
        resource: OTHER_KEY,
        context: { [`aws:ResourceTag/${STACK_TAG}`]: "payments" },
      },
      { action: "ec2:ModifyInstanceAttribute", resource: other("ec2", "instance/i-0123") },
      { action: "ec2:CreateLaunchTemplateVersion", resource: other("ec2", "launch-template/lt-1") },
    ];
    for (const request of outside)
      expect([request.action, request.resource, createdRoleMay(request)]).toEqual([
        request.action,
        request.resource,
        expect.stringMatching(/deny/),
      ]);
  });

  it("still reaches the platform's own resources", () => {
    const inside: IamRequest[] = [
      { action: "s3:GetObject", resource: "arn:aws:s3:::acme-staging-artifacts/mlflow/1/model.pkl" },
      {
        action: "secretsmanager:GetSecretValue",
        resource: other("secretsmanager", "secret:rds!db-0123-AbCdEf"),
      },
      {
        action: "secretsmanager:GetSecretValue",
        resource: other("secretsmanager", "secret:mlops/staging/alerting/slack-webhook-url-AbCdEf"),
      },
      { action: "ecr:BatchGetImage", resource: other("ecr", "repository/mlops-serving") },
      { action: "eks:DescribeNodegroup", resource: other("eks", "nodegroup/mlops-staging/general/abc") },
      {
        action: "kms:Decrypt",
        resource: PLATFORM_KEY,
        context: { [`aws:ResourceTag/${STACK_TAG}`]: "staging-foundation" },
      },
    ];
    for (const request of inside)
      expect([request.action, request.resource, createdRoleMay(request)]).toEqual([
        request.action,
        request.resource,
        "allow",
      ]);
  });
});

describe("the deploy role's keys and state", () => {
  it("cannot take over someone else's key by tagging it with the platform's stack tag", () => {
    const asFoundation = { [`aws:RequestTag/${STACK_TAG}`]: "staging-foundation" };
    // The takeover path: tag the key, then administer it as a platform key.
    expect(onKey("kms:TagResource", OTHER_KEY, asFoundation)).toBe("deny");
    expect(onKey("kms:TagResource", STATE_KEY, asFoundation)).toBe("deny");
    for (const action of ["kms:PutKeyPolicy", "kms:Decrypt", "kms:ScheduleKeyDeletion"])
      expect([action, onKey(action, OTHER_KEY)]).toEqual([action, "implicit-deny"]);
    // CreateKey with Tags: kms:CreateKey and kms:TagResource, both on `*`, the tag in the request.
    for (const action of ["kms:CreateKey", "kms:TagResource"])
      expect([action, deployMay({ action, resource: "*", context: asFoundation })]).toEqual([
        action,
        "allow",
      ]);
    // Its own keys stay taggable.
    expect(onKey("kms:TagResource", PLATFORM_KEY, asFoundation)).toBe("allow");
  });

  it("writes the environments' state and locks, never the bootstrap stack's", () => {
    const object = (key: string) => `${STATE_BUCKET}/mlops-platform/${key}`;
    for (const key of [
      "staging-foundation.tfstate",
      "staging-foundation.tfstate.tflock",
      "staging-platform.tfstate",
      "staging-serving.tfstate.tflock",
    ])
      for (const action of ["s3:PutObject", "s3:DeleteObject"])
        expect([action, key, deployMay({ action, resource: object(key) })]).toEqual([action, key, "allow"]);
    for (const key of [
      `bootstrap-${ACCOUNT}.tfstate`,
      `bootstrap-${ACCOUNT}.tfstate.tflock`,
      "prod-foundation.tfstate",
    ])
      for (const action of ["s3:PutObject", "s3:DeleteObject"])
        expect([action, key, deployMay({ action, resource: object(key) })]).toEqual([
          action,
          key,
          "implicit-deny",
        ]);
    expect(deployMay({ action: "s3:GetObject", resource: object(`bootstrap-${ACCOUNT}.tfstate`) })).toBe(
      "allow",
    );
  });
});

const synthesized = synthesizeEnvironments();

describe("the foundations' roles", () => {
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

  /** The boundary of each account, as its bootstrap composes it, with concrete ARNs. */
  const accounts = bootstrapAccounts(Object.values(synthesized).map((env) => env.environment));
  const boundaryOf = (accountId: string) => {
    const account = accounts.find((a) => a.accountId === accountId)!;
    return permissionsBoundaryStatements({
      ...deliveryScope(account, "aws", accountId),
      state: { bucketArn: STATE_BUCKET, keyArn: STATE_KEY },
    });
  };
  const foundationOfAccount = (accountId: string) =>
    Object.values(synthesized).find((env) => env.environment.aws.allowedAccountIds![0] === accountId)!
      .environment.name;

  it.each(Object.values(synthesized).map((env) => [env.environment.name, env] as const))(
    "%s: every inline statement of every role is within the boundary, on the resources it names",
    (_name, env) => {
      const json = env.foundation.json;
      const accountId = env.environment.aws.allowedAccountIds![0];
      const region = env.environment.aws.region;
      const boundaryHere = boundaryOf(accountId);
      /** A concrete request for one resource pattern of a statement, and the key's stack tag. */
      const concrete = (resource: string): { resource: string; context: Record<string, string> } => {
        let text = resource
          .replace(/\$\{data\.aws_partition\.[^}]+\}/g, "aws")
          .replace(/\$\{data\.aws_caller_identity\.[^}]+\}/g, accountId)
          .replace(/\$\{data\.aws_region\.[^}]+\}/g, region)
          .replace(/\$\{aws_kms_key\.[^}]+\.arn\}/g, `arn:aws:kms:${region}:${accountId}:key/platform`)
          .replace(
            /\$\{aws_db_instance\.[^}]+\}/g,
            `arn:aws:secretsmanager:${region}:${accountId}:secret:rds!db-0123-AbCdEf`,
          )
          .replace(
            /\$\{aws_cloudwatch_log_group\.([^.}]+)\.arn\}/g,
            (_m, id) =>
              `arn:aws:logs:${region}:${accountId}:log-group:${json.resource.aws_cloudwatch_log_group[id].name}`,
          )
          .replace(
            /\$\{aws_s3_bucket\.([^.}]+)\.arn\}/g,
            (_m, id) => `arn:aws:s3:::${json.resource.aws_s3_bucket[id].bucket}`,
          );
        expect([resource, text]).toEqual([resource, expect.not.stringContaining("${")]);
        text = text.replace(/\*/g, "x").replace(/\?/g, "a");
        const keyAccount = /^arn:aws:kms:[^:]*:(\d+):key\//.exec(text)?.[1];
        return {
          resource: text,
          context: keyAccount
            ? { [`aws:ResourceTag/${STACK_TAG}`]: `${foundationOfAccount(keyAccount)}-foundation` }
            : {},
        };
      };
      const refused: string[] = [];
      for (const [id, policy] of Object.entries(resourcesOf(json, "aws_iam_role_policy"))) {
        for (const statement of policyStatements(json, policy.policy)) {
          if ((statement.effect ?? "Allow") !== "Allow") continue;
          // The request as the statement admits it: its condition values in the context.
          const conditions = Object.fromEntries(
            (statement.condition ?? []).map((c: any) => [c.variable, String(c.values[0])]),
          );
          for (const pattern of (statement.resources ?? ["*"]) as string[]) {
            const { resource, context } = concrete(pattern);
            for (const action of statement.actions as string[]) {
              const request = { action, resource, context: { ...context, ...conditions } };
              if (
                evaluate([{ sid: "X", actions: [action], resources: [resource] }], request, boundaryHere) !==
                "allow"
              )
                refused.push(`${id}: ${action} on ${resource}`);
            }
          }
        }
      }
      expect(refused).toEqual([]);
    },
  );
});

describe("the deploy role against the pinned provider's API calls", () => {
  const environments = Object.values(synthesized);

  /** The deploy role of one environment's account, with a concrete request per action. */
  const deployRoleFor = (env: (typeof environments)[number]["environment"]) => {
    const account = env.aws.allowedAccountIds![0];
    const scope = {
      partition: "aws",
      accountId: account,
      bucketNames: [env.storage.artifactsBucket, env.storage.dataBucket],
      repositoryNames: [env.registry.servingRepository, env.registry.trainingRepository],
      namePrefix: "mlops-",
      foundationStacks: [`${env.name}-foundation`],
      keyAliases: [`mlops-${env.name}`],
    };
    const statements = deployRoleStatements(scope);
    const diff = diffRoleStatements(scope);
    const region = env.aws.region;
    const key = `arn:aws:kms:${region}:${account}:key/1111`;
    /** The resources one call names, each of which must be allowed. */
    const requests = (action: string): IamRequest[] => {
      const [service, name] = action.split(":");
      const bucket = `arn:aws:s3:::${env.storage.artifactsBucket}`;
      switch (service) {
        case "iam":
          if (name.includes("OpenIDConnectProvider"))
            return [
              {
                action,
                resource: `arn:aws:iam::${account}:oidc-provider/oidc.eks.${region}.amazonaws.com/id/ABC`,
              },
            ];
          return [
            {
              action,
              resource: `arn:aws:iam::${account}:role/mlops-${env.name}-node`,
              context: {
                "iam:PermissionsBoundary": `arn:aws:iam::${account}:policy/${PERMISSIONS_BOUNDARY_NAME}`,
                "iam:PolicyARN": managed("AmazonEKSWorkerNodePolicy"),
              },
            },
          ];
        case "kms": {
          const tagged = {
            [`aws:ResourceTag/${STACK_TAG}`]: `${env.name}-foundation`,
            [`aws:RequestTag/${STACK_TAG}`]: `${env.name}-foundation`,
          };
          if (name === "CreateKey" || name === "ListAliases")
            return [{ action, resource: "*", context: tagged }];
          if (/Alias$/.test(name))
            return [
              { action, resource: `arn:aws:kms:${region}:${account}:alias/mlops-${env.name}` },
              { action, resource: key, context: tagged },
            ];
          return [{ action, resource: key, context: tagged }];
        }
        case "s3":
          return /^(Get|Put|Delete)Object/.test(name)
            ? [{ action, resource: `${bucket}/models/x` }]
            : [{ action, resource: bucket }];
        case "ecr":
          return /Registry|Replication/.test(name)
            ? [{ action, resource: "*" }]
            : [
                {
                  action,
                  resource: `arn:aws:ecr:${region}:${account}:repository/${env.registry.servingRepository}`,
                },
              ];
        case "logs":
          return [
            {
              action,
              resource: `arn:aws:logs:${region}:${account}:log-group:/aws/eks/mlops-${env.name}/cluster`,
            },
          ];
        default:
          return [{ action, resource: "*" }];
      }
    };
    return { statements, diff, requests, account, region, key };
  };

  it.each(environments.map((e) => [e.environment.name, e] as const))(
    "%s: every resource type and data source of its stacks is in the catalogue",
    (_name, env) => {
      for (const json of [env.foundation.json, env.platform.json, env.serving.json]) {
        for (const type of Object.keys(json.resource ?? {}).filter((t) => t.startsWith("aws_")))
          expect(Object.keys(PROVIDER_API_CALLS)).toContain(type);
        for (const type of Object.keys(json.data ?? {}).filter((t) => t.startsWith("aws_")))
          expect(Object.keys(DATA_SOURCE_API_CALLS)).toContain(type);
      }
    },
  );

  it.each(environments.map((e) => [e.environment.name, e] as const))(
    "%s: the deploy role allows every call to create, read, update and delete what its stacks declare",
    (_name, env) => {
      const { statements, requests } = deployRoleFor(env.environment);
      const refused: string[] = [];
      const types = new Set(
        [env.foundation.json, env.platform.json, env.serving.json].flatMap((json) =>
          Object.keys(json.resource ?? {}),
        ),
      );
      for (const [type, calls] of Object.entries(PROVIDER_API_CALLS)) {
        if (!types.has(type)) continue;
        for (const [phase, actions] of Object.entries(calls))
          for (const action of actions as string[])
            for (const request of requests(action))
              if (evaluate(statements, request) !== "allow")
                refused.push(`${type} ${phase}: ${action} on ${request.resource}`);
      }
      const dataTypes = new Set(
        [env.foundation.json, env.serving.json].flatMap((json) => Object.keys(json.data ?? {})),
      );
      for (const [type, actions] of Object.entries(DATA_SOURCE_API_CALLS)) {
        if (!dataTypes.has(type)) continue;
        for (const action of actions)
          for (const request of requests(action))
            if (evaluate(statements, request) !== "allow")
              refused.push(`${type} read: ${action} on ${request.resource}`);
      }
      expect(refused).toEqual([]);
    },
  );

  it.each(environments.map((e) => [e.environment.name, e] as const))(
    "%s: the diff role reads what a plan refreshes, and no data: objects, images, secrets, parameters",
    (_name, env) => {
      const { diff, requests, account, region, key } = deployRoleFor(env.environment);
      const refused: string[] = [];
      for (const [type, calls] of Object.entries(PROVIDER_API_CALLS))
        for (const action of calls.read)
          for (const request of requests(action))
            if (evaluate(diff, request) !== "allow")
              refused.push(`${type}: ${action} on ${request.resource}`);
      for (const [type, actions] of Object.entries(DATA_SOURCE_API_CALLS))
        for (const action of actions)
          for (const request of requests(action))
            if (evaluate(diff, request) !== "allow")
              refused.push(`${type}: ${action} on ${request.resource}`);
      expect(refused).toEqual([]);
      const bucket = `arn:aws:s3:::${env.environment.storage.dataBucket}`;
      const repository = `arn:aws:ecr:${region}:${account}:repository/${env.environment.registry.servingRepository}`;
      const data: IamRequest[] = [
        { action: "s3:GetObject", resource: `${bucket}/datasets/churn.parquet` },
        {
          action: "s3:GetObject",
          resource: `arn:aws:s3:::${env.environment.storage.artifactsBucket}/mlflow/1/model.pkl`,
        },
        { action: "s3:PutObject", resource: `${bucket}/x` },
        { action: "ecr:BatchGetImage", resource: repository },
        { action: "ecr:GetDownloadUrlForLayer", resource: repository },
        {
          action: "secretsmanager:GetSecretValue",
          resource: `arn:aws:secretsmanager:${region}:${account}:secret:rds!db-1`,
        },
        { action: "ssm:GetParameter", resource: `arn:aws:ssm:${region}:${account}:parameter/anything` },
        {
          action: "kms:Decrypt",
          resource: key,
          context: { [`aws:ResourceTag/${STACK_TAG}`]: `${env.environment.name}-foundation` },
        },
        { action: "s3:GetBucketPolicy", resource: "arn:aws:s3:::someone-elses-bucket" },
      ];
      for (const request of data)
        expect([request.action, request.resource, evaluate(diff, request)]).toEqual([
          request.action,
          request.resource,
          "implicit-deny",
        ]);
    },
  );

  it("rolls a node group after a launch template change: a new version, made the default", () => {
    expect(PROVIDER_API_CALLS.aws_launch_template.update).toEqual(
      expect.arrayContaining(["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"]),
    );
    const { statements } = deployRoleFor(synthesized.prod.environment);
    for (const action of [
      "ec2:CreateLaunchTemplateVersion",
      "ec2:ModifyLaunchTemplate",
      "eks:UpdateNodegroupVersion",
    ])
      expect([action, evaluate(statements, { action, resource: "*" })]).toEqual([action, "allow"]);
    // The launch templates the foundation creates do make every version the default.
    for (const template of Object.values<any>(
      resourcesOf(synthesized.prod.foundation.json, "aws_launch_template"),
    ))
      expect(template.update_default_version).toBe(true);
  });
});
