import { Testing } from "cdktf";
import { loadEnvironments } from "../environments/load";
import { isAws } from "../environments/targets";
import type { Environment } from "../environments/schema";
import { GITHUB_REPOSITORY, OIDC_SUBJECT_CLAIM_KEYS } from "../environments/github";
import { addBootstrapStacks } from "../stacks/app";
import { BootstrapStack, DEPLOY_SESSION_SECONDS, bootstrapAccounts } from "../stacks/bootstrap-stack";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { AWS_ENVIRONMENT_INPUTS, policyStatements, type TerraformJson } from "./support/synth";
import { evaluate } from "./support/iam";
import type { PolicyStatement } from "../constructs/aws/policy";

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
/** A synthesized policy document's statements in the shape the IAM evaluator reads. */
const statementsOf = (stack: TerraformJson, reference: string): PolicyStatement[] =>
  policyStatements(stack, reference).map((s: any) => ({
    sid: s.sid,
    effect: s.effect,
    actions: s.actions,
    resources: s.resources,
    conditions: s.condition,
  }));

/** A job as GitHub's OIDC provider sees it. */
interface GithubJob {
  readonly event: "push" | "pull_request" | "pull_request_target" | "workflow_dispatch";
  /** GITHUB_REF: refs/heads/<branch> for pushes and dispatches, refs/pull/<n>/merge for pull requests. */
  readonly ref: string;
  readonly environment?: string;
  readonly repository?: string;
}
/**
 * The `sub` claim GitHub issues (docs.github.com, "OpenID Connect reference": default subject
 * formats, and "Customizing the subject claims"): the context is `environment:<name>` for a job
 * naming an environment, `pull_request` for pull-request events, else `ref:<ref>`; a custom
 * template joins `<key>:<value>` of its keys in order, `context` contributing the context.
 */
const subjectClaim = (job: GithubJob, template: readonly string[] | "default"): string => {
  const repository = job.repository ?? GITHUB_REPOSITORY;
  const context = job.environment
    ? `environment:${job.environment}`
    : job.event === "pull_request" || job.event === "pull_request_target"
      ? "pull_request"
      : `ref:${job.ref}`;
  if (template === "default") return `repo:${repository}:${context}`;
  const claims: Record<string, string> = { repo: repository, ref: job.ref };
  return template.map((key) => (key === "context" ? context : `${key}:${claims[key]}`)).join(":");
};
/** Whether a job's token may assume the role: its trust policy evaluated on the token's claims. */
const mayAssume = (
  stack: TerraformJson,
  roleName: string,
  job: GithubJob,
  template: readonly string[] | "default" = OIDC_SUBJECT_CLAIM_KEYS,
) =>
  evaluate(statementsOf(stack, role(stack, roleName).assume_role_policy), {
    action: "sts:AssumeRoleWithWebIdentity",
    resource: "*",
    context: {
      "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
      "token.actions.githubusercontent.com:sub": subjectClaim(job, template),
    },
  }) === "allow";

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

  it("let the deploy role be assumed only from this repository's GitHub environments of the account, on main", () => {
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
            .map((other) => `repo:${GITHUB_REPOSITORY}:environment:${other.name}:ref:refs/heads/main`),
        },
      ]);
    }
  });

  describe("model the sub claim of each trigger against the roles' trust", () => {
    const staging = environments.find((env) => env.name === "staging")!;
    const stack = () => json[`bootstrap-${accountOf(staging)}`];
    const onMain: GithubJob = { event: "push", ref: "refs/heads/main", environment: "staging" };

    it("a push to main deploying staging assumes the deploy role, not the diff role", () => {
      expect(subjectClaim(onMain, OIDC_SUBJECT_CLAIM_KEYS)).toBe(
        `repo:${GITHUB_REPOSITORY}:environment:staging:ref:refs/heads/main`,
      );
      expect(mayAssume(stack(), "ci-deploy", onMain)).toBe(true);
      expect(mayAssume(stack(), "ci-diff", onMain)).toBe(false);
      expect(mayAssume(stack(), "ci-deploy", { ...onMain, event: "workflow_dispatch" })).toBe(true);
    });

    it("a workflow on another branch naming the staging environment is refused", () => {
      const branch: GithubJob = { event: "push", ref: "refs/heads/feature", environment: "staging" };
      expect(mayAssume(stack(), "ci-deploy", branch)).toBe(false);
      expect(mayAssume(stack(), "ci-deploy", { ...branch, event: "workflow_dispatch" })).toBe(false);
      // What the default subject allowed before: the environment alone, from any branch.
      expect(subjectClaim(branch, "default")).toBe(`repo:${GITHUB_REPOSITORY}:environment:staging`);
    });

    it("a pull request assumes the diff role only, whatever its number; never the deploy role", () => {
      for (const ref of ["refs/pull/1/merge", "refs/pull/4711/merge"]) {
        const pr: GithubJob = { event: "pull_request", ref };
        expect(mayAssume(stack(), "ci-diff", pr)).toBe(true);
        expect(mayAssume(stack(), "ci-deploy", pr)).toBe(false);
        expect(mayAssume(stack(), "ci-deploy", { ...pr, environment: "staging" })).toBe(false);
      }
      // Another repository's pull requests, and pushes of this one, are refused.
      expect(
        mayAssume(stack(), "ci-diff", {
          event: "pull_request",
          ref: "refs/pull/1/merge",
          repository: "acme/fork",
        }),
      ).toBe(false);
      expect(mayAssume(stack(), "ci-diff", { event: "push", ref: "refs/heads/main" })).toBe(false);
    });

    it("fail closed until the repository's subject template is set: default subjects assume nothing", () => {
      expect(mayAssume(stack(), "ci-deploy", onMain, "default")).toBe(false);
      expect(
        mayAssume(stack(), "ci-diff", { event: "pull_request", ref: "refs/pull/1/merge" }, "default"),
      ).toBe(false);
      // Another environment of the account is not staging's neighbour in prod's account.
      expect(mayAssume(stack(), "ci-deploy", { ...onMain, environment: "prod" })).toBe(false);
    });
  });

  it("let the diff role be assumed only by this repository's pull requests, read-only", () => {
    for (const stack of Object.values(json)) {
      const diff = role(stack, "ci-diff");
      const [trust] = policyStatements(stack, diff.assume_role_policy);
      expect(trust.condition).toContainEqual({
        test: "StringLike",
        variable: "token.actions.githubusercontent.com:sub",
        values: [`repo:${GITHUB_REPOSITORY}:pull_request:ref:refs/pull/*/merge`],
      });
      // No managed policy (ReadOnlyAccess read every secret parameter, image and bucket): the
      // plan policy names what a plan reads.
      expect(stack.resource.aws_iam_role_policy_attachment).toBeUndefined();
      const plan = Object.values<any>(stack.resource.aws_iam_role_policy).find((p) => p.name === "plan");
      expect(plan.role).toBe("${aws_iam_role.DiffRole.name}");
    }
  });

  it("pin the repository, branch and environment in every subject: the pull request's number is the only wildcard", () => {
    for (const stack of Object.values(json)) {
      for (const document of Object.values(stack.data!.aws_iam_policy_document) as any[]) {
        for (const statement of document.statement) {
          for (const condition of statement.condition ?? []) {
            if (!String(condition.variable).startsWith("token.actions")) continue;
            for (const value of condition.values) {
              const exact = value.replace(/:ref:refs\/pull\/\*\/merge$/, "");
              expect(exact).not.toMatch(/[*?]/);
              if (exact !== value) expect(condition.test).toBe("StringLike");
              else expect(condition.test).toBe("StringEquals");
            }
          }
        }
      }
    }
  });

  it("give the deploy role named actions only, and the diff role no write access to the state, its locks included", () => {
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
      expect(writes).toEqual([]);
      const kms = policyStatements(stack, diffState.policy).flatMap((s) => s.actions as string[]);
      expect(kms.filter((a) => /^kms:(Encrypt|GenerateDataKey)/.test(a))).toEqual([]);
    }
  });

  it("give the deploy job a session as long as the deploy role allows, beyond the 1 h default", () => {
    const job = parse(readFileSync(".github/workflows/deploy-environment.yml", "utf8")).jobs.deploy;
    const credentials = job.steps.find((step: any) =>
      String(step.uses).startsWith("aws-actions/configure-aws-credentials"),
    );
    expect(credentials.with["role-duration-seconds"]).toBe(DEPLOY_SESSION_SECONDS);
    expect(DEPLOY_SESSION_SECONDS).toBeGreaterThan(3600);
    for (const stack of Object.values(json))
      expect(stack.resource.aws_iam_role.DeployRole.max_session_duration).toBe(DEPLOY_SESSION_SECONDS);
  });

  it("create the permissions boundary the deploy role's roles must carry, and make the deploy role require it", () => {
    for (const stack of Object.values(json)) {
      const boundary = only(stack, "aws_iam_policy");
      expect(boundary.name).toBe("mlops-permissions-boundary");
      const sids = policyStatements(stack, boundary.policy).map((s: any) => `${s.effect}:${s.sid}`);
      expect(sids).toEqual(
        expect.arrayContaining([
          "Allow:WorkloadServices",
          "Deny:NoIdentityAdministration",
          "Deny:NoKeyAdministration",
        ]),
      );
      const deploy = Object.values(stack.resource.aws_iam_role_policy).find(
        (p: any) => p.name === "deploy",
      ) as any;
      const statements = policyStatements(stack, deploy.policy);
      const create = statements.find((s: any) => s.actions.includes("iam:CreateRole"));
      expect(create.condition).toEqual([
        {
          test: "StringEquals",
          variable: "iam:PermissionsBoundary",
          values: [
            expect.stringMatching(
              /^arn:\$\{data\.aws_partition\.[^}]+\}:iam::\$\{data\.aws_caller_identity\.[^}]+\}:policy\/mlops-permissions-boundary$/,
            ),
          ],
        },
      ]);
      const actions = statements.flatMap((s: any) => s.actions as string[]);
      expect(actions).not.toContain("iam:DeleteRolePermissionsBoundary");
      expect(actions.filter((a: string) => /^iam:.*Policy(Version)?$/.test(a) && !/Role/.test(a))).toEqual(
        [],
      );
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
      kms_key_id: `arn:aws:kms:${account.stateBackend!.region}:${account.accountId}:alias/mlops-terraform-state`,
    });
    // The alias the backend names is the state key's.
    const alias = Object.values<any>(json[`bootstrap-${account.accountId}`].resource.aws_kms_alias)[0];
    expect(alias.name).toBe("alias/mlops-terraform-state");
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
