import { Testing } from "cdktf";
import { loadEnvironments } from "../environments/load";
import { isAws } from "../environments/targets";
import type { Environment } from "../environments/schema";
import { GITHUB_REPOSITORY } from "../environments/github";
import { addBootstrapStacks } from "../stacks/app";
import { BootstrapStack, bootstrapAccounts } from "../stacks/bootstrap-stack";
import { AWS_ENVIRONMENT_INPUTS, policyStatements, type TerraformJson } from "./support/synth";

const loaded = loadEnvironments(AWS_ENVIRONMENT_INPUTS);
if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
const environments = loaded.environments.filter(isAws);
const app = Testing.app();
const stacks = addBootstrapStacks(app, environments, false);
const json = Object.fromEntries(
  stacks.map((stack) => [stack.node.id, JSON.parse(Testing.synth(stack)) as TerraformJson]),
);
const accountOf = (env: Environment) => env.aws.allowedAccountIds![0];
const only = (stack: TerraformJson, type: string) => {
  const all = Object.values(stack.resource[type] ?? {});
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0] as any;
};
const role = (stack: TerraformJson, name: string) =>
  Object.values(stack.resource.aws_iam_role).find((r: any) => r.name === name) as any;

describe("bootstrap stacks", () => {
  it("are one per account hosting environments, named after the account", () => {
    expect(stacks.map((stack) => stack.node.id)).toEqual(
      [...new Set(environments.map(accountOf))].map((id) => `bootstrap-${id}`),
    );
    for (const env of environments) {
      const stack = json[`bootstrap-${accountOf(env)}`];
      expect(stack.provider!.aws[0].allowed_account_ids).toEqual([accountOf(env)]);
    }
  });

  it("trust GitHub's OIDC issuer with audience sts.amazonaws.com", () => {
    for (const stack of Object.values(json)) {
      const provider = only(stack, "aws_iam_openid_connect_provider");
      expect(provider.url).toBe("https://token.actions.githubusercontent.com");
      expect(provider.client_id_list).toEqual(["sts.amazonaws.com"]);
    }
  });

  it("let the deploy role be assumed only from this repository's GitHub environments of the account", () => {
    for (const env of environments) {
      const stack = json[`bootstrap-${accountOf(env)}`];
      const [trust, ...others] = policyStatements(stack, role(stack, "ci-deploy").assume_role_policy);
      expect(others).toEqual([]);
      expect(trust.actions).toEqual(["sts:AssumeRoleWithWebIdentity"]);
      expect(trust.principals[0].type).toBe("Federated");
      expect(trust.condition).toEqual([
        {
          test: "StringEquals",
          variable: "token.actions.githubusercontent.com:aud",
          values: ["sts.amazonaws.com"],
        },
        {
          test: "StringEquals",
          variable: "token.actions.githubusercontent.com:sub",
          values: environments
            .filter((other) => accountOf(other) === accountOf(env))
            .map((other) => `repo:${GITHUB_REPOSITORY}:environment:${other.name}`),
        },
      ]);
    }
  });

  it("let the diff role be assumed only by this repository's pull requests, read-only", () => {
    for (const stack of Object.values(json)) {
      const diff = role(stack, "ci-diff");
      const [trust] = policyStatements(stack, diff.assume_role_policy);
      expect(trust.condition).toContainEqual({
        test: "StringEquals",
        variable: "token.actions.githubusercontent.com:sub",
        values: [`repo:${GITHUB_REPOSITORY}:pull_request`],
      });
      const attachments = Object.values(stack.resource.aws_iam_role_policy_attachment ?? {}) as any[];
      expect(attachments.map((a) => a.policy_arn)).toEqual([
        expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\}:iam::aws:policy\/ReadOnlyAccess$/),
      ]);
    }
  });

  it("use exact StringEquals subjects: no wildcard repository, branch or environment", () => {
    for (const stack of Object.values(json)) {
      for (const document of Object.values(stack.data!.aws_iam_policy_document) as any[]) {
        for (const statement of document.statement) {
          for (const condition of statement.condition ?? []) {
            if (!String(condition.variable).startsWith("token.actions")) continue;
            expect(condition.test).toBe("StringEquals");
            for (const value of condition.values) expect(value).not.toMatch(/[*?]/);
          }
        }
      }
    }
  });

  it("give the deploy role named actions only, and the diff role write access to lock files only", () => {
    for (const stack of Object.values(json)) {
      const deploy = Object.values(stack.resource.aws_iam_role_policy).find(
        (p: any) => p.name === "deploy",
      ) as any;
      const statements = policyStatements(stack, deploy.policy);
      const actions = statements.flatMap((s) => s.actions as string[]);
      expect(actions.filter((action) => action.includes("*"))).toEqual([]);
      expect(actions).toEqual(
        expect.arrayContaining([
          "secretsmanager:CreateSecret",
          "secretsmanager:RotateSecret",
          "kms:GenerateDataKey",
        ]),
      );
      const diffState = Object.values(stack.resource.aws_iam_role_policy).find(
        (p: any) => p.name === "terraform-state",
      ) as any;
      if (!diffState) continue;
      const writes = policyStatements(stack, diffState.policy).filter((s) =>
        (s.actions as string[]).some((a) => a.startsWith("s3:Put") || a.startsWith("s3:Delete")),
      );
      expect(writes).toHaveLength(1);
      expect(writes[0].resources).toEqual([expect.stringMatching(/\/mlops-platform\/\*\.tflock$/)]);
    }
  });

  it("create the state bucket its environments name: versioned, SSE-KMS under its own key, TLS only, private, old versions expiring", () => {
    for (const account of bootstrapAccounts(environments)) {
      const stack = json[`bootstrap-${account.accountId}`];
      if (!account.stateBackend) {
        expect(stack.resource.aws_s3_bucket).toBeUndefined();
        continue;
      }
      expect(only(stack, "aws_s3_bucket")).toMatchObject({
        bucket: account.stateBackend.bucket,
        lifecycle: { prevent_destroy: true },
      });
      expect(only(stack, "aws_s3_bucket_versioning").versioning_configuration.status).toBe("Enabled");
      const sse = only(stack, "aws_s3_bucket_server_side_encryption_configuration").rule[0];
      expect(sse.apply_server_side_encryption_by_default).toEqual({
        sse_algorithm: "aws:kms",
        kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.StateKey_/),
      });
      expect(only(stack, "aws_s3_bucket_public_access_block")).toMatchObject({
        block_public_acls: true,
        block_public_policy: true,
        ignore_public_acls: true,
        restrict_public_buckets: true,
      });
      const [tls] = policyStatements(stack, only(stack, "aws_s3_bucket_policy").policy);
      expect(tls).toMatchObject({
        effect: "Deny",
        condition: [{ variable: "aws:SecureTransport", values: ["false"] }],
      });
      const rules = only(stack, "aws_s3_bucket_lifecycle_configuration").rule;
      expect(rules[0].noncurrent_version_expiration).toEqual([{ noncurrent_days: 90 }]);
    }
  });

  it("keep their state in the bucket they created once migrated", () => {
    const remote = Testing.app();
    const [account] = bootstrapAccounts(environments).filter((a) => a.stateBackend);
    const stack = new BootstrapStack(remote, "bootstrap-remote", { account });
    const synthesized = JSON.parse(Testing.synth(stack));
    expect(synthesized.terraform.backend?.s3 ?? stack.toTerraform().terraform.backend.s3).toMatchObject({
      bucket: account.stateBackend!.bucket,
      key: "mlops-platform/bootstrap-remote.tfstate",
      use_lockfile: true,
    });
  });

  it("keep their first apply's state in a local file at the project root, by a relative path", () => {
    const [account] = bootstrapAccounts(environments).filter((a) => a.stateBackend);
    const stack = new BootstrapStack(Testing.app(), "bootstrap-first", { account, localState: true });
    const backend = stack.toTerraform().terraform.backend;
    expect(backend).toEqual({ local: { path: "../../../terraform.bootstrap-first.tfstate" } });
  });

  it("refuse a repository that is not owner/name", () => {
    const [account] = bootstrapAccounts(environments);
    expect(() => new BootstrapStack(Testing.app(), "bad", { account, repository: "acme/*" })).toThrow(
      'GITHUB_REPOSITORY "acme/*" is not <owner>/<repository>',
    );
  });
});
