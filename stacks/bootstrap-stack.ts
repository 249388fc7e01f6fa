import { Construct } from "constructs";
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { AwsAccount } from "../constructs/aws/account";
import { EncryptionKey } from "../constructs/aws/encryption-key";
import { SecureBucket } from "../constructs/aws/secure-bucket";
import { assertExplicitActions, policyDocument, type PolicyStatement } from "../constructs/aws/policy";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import {
  PERMISSIONS_BOUNDARY_NAME,
  deployRoleStatements,
  diffRoleStatements,
  permissionsBoundaryStatements,
  type BoundaryScope,
  type ReplicaTarget,
  stateAccessStatements,
  stateKeyProtectionStatements,
} from "../constructs/aws/delivery-policies";
import type { Environment } from "../environments/schema";
import {
  DEPLOY_BRANCH,
  DEPLOY_ROLE_NAME,
  DIFF_ROLE_NAME,
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_HOST,
  GITHUB_REPOSITORY,
  environmentSubject,
  pullRequestSubject,
  repositoryProblem,
} from "../environments/github";
import { AWS_PROVIDER_ID } from "./aws-provider";
import { accountOf, platformKeyAlias, promotionLinks } from "./promotion-topology";
import { STATE_KEY_ALIAS, stateKeyArn } from "./state-backend";

/** The deploy role's session: the deploy job's whole apply of foundation, platform and serving. */
export const DEPLOY_SESSION_SECONDS = 4 * 3600;

/** Prefix of every name the platform's stacks give IAM roles, clusters and log groups. */
const PLATFORM_NAME_PREFIX = "mlops-";

/** One AWS account hosting environments, as the bootstrap sees it. */
export interface BootstrapAccount {
  readonly accountId: string;
  /** Region of the state bucket, else of the first environment. */
  readonly region: string;
  readonly environments: readonly Environment[];
  /** The state bucket the account's environments name, if any names one. */
  readonly stateBackend?: { readonly bucket: string; readonly region: string; readonly keyPrefix: string };
  /** Where the model replication of the account's producing environments writes. */
  readonly replicas: readonly ReplicaTarget[];
}

/** The bootstrap stack of an account. */
export function bootstrapStackName(accountId: string): string {
  return `bootstrap-${accountId}`;
}

/**
 * The accounts of the AWS environments, in registry order, each with its environments and its
 * state bucket. Throws (one line, with the fix) when environments of one account name
 * different state buckets: the account's bootstrap creates one.
 */
export function bootstrapAccounts(environments: readonly Environment[]): BootstrapAccount[] {
  const byAccount = new Map<string, Environment[]>();
  for (const env of environments) {
    const accountId = accountOf(env, "the account bootstrap");
    byAccount.set(accountId, [...(byAccount.get(accountId) ?? []), env]);
  }
  const links = promotionLinks(environments);
  return [...byAccount.entries()].map(([accountId, envs]) => {
    const withState = envs.filter((env) => env.stateBackend !== undefined);
    const first = withState[0]?.stateBackend;
    for (const env of withState.slice(1)) {
      const state = env.stateBackend!;
      if (state.bucket !== first!.bucket || state.region !== first!.region) {
        throw new Error(
          `environment ${env.name}: stateBackend.bucket "${state.bucket}" (${state.region}) differs from ${withState[0].name}'s "${first!.bucket}" (${first!.region}) in the same account ${accountId}; the account's bootstrap creates one state bucket; fix: use "${first!.bucket}" in ${first!.region} (keys differ per stack already)`,
        );
      }
    }
    return {
      accountId,
      region: first?.region ?? envs[0].aws.region,
      environments: envs,
      replicas: envs.flatMap((env) =>
        (links.get(env.name)?.consumers ?? []).map((consumer) => ({
          accountId: consumer.accountId,
          bucketName: consumer.artifactsBucket,
          foundationStack: `${consumer.environment}-foundation`,
        })),
      ),
      ...(first
        ? { stateBackend: { bucket: first.bucket, region: first.region, keyPrefix: first.keyPrefix } }
        : {}),
    };
  });
}

/**
 * What the account's delivery roles and the roles the deploy role creates reach: the
 * environments' buckets, repositories, keys (by their foundation's stack tag), key aliases,
 * the alert receivers' secrets and the model replication's destinations.
 */
export function deliveryScope(
  target: BootstrapAccount,
  partition: string,
  accountId: string,
): Omit<BoundaryScope, "state"> {
  return {
    partition,
    accountId,
    bucketNames: target.environments.flatMap((env) => [env.storage.artifactsBucket, env.storage.dataBucket]),
    repositoryNames: [
      ...new Set(
        target.environments.flatMap((env) => [
          env.registry.servingRepository,
          env.registry.trainingRepository,
        ]),
      ),
    ],
    namePrefix: PLATFORM_NAME_PREFIX,
    foundationStacks: target.environments.map((env) => `${env.name}-foundation`),
    keyAliases: target.environments.map((env) => platformKeyAlias(env.name)),
    secrets: target.environments.flatMap((env) => [
      ...env.platform.alerting.receivers.map((receiver) => receiver.secret.remoteKey),
      ...(env.platform.alerting.heartbeat ? [env.platform.alerting.heartbeat.secret.remoteKey] : []),
    ]),
    replicas: target.replicas,
  };
}

export interface BootstrapStackProps {
  readonly account: BootstrapAccount;
  /**
   * Keep this stack's own state in a local file: the first apply, before the bucket it creates
   * exists. Afterwards the state moves into that bucket (docs/deploying-aws.md, "Day 0").
   * @default false
   */
  readonly localState?: boolean;
  /** @default GITHUB_REPOSITORY */
  readonly repository?: string;
}

/**
 * What an AWS account needs before any environment stack can be planned by the pipelines: the
 * Terraform state bucket under its own key, GitHub's OIDC provider, a deploy role trusted by
 * this repository's GitHub environments of the account only, and a read-only diff role trusted
 * by its pull requests only. Applied once by an administrator.
 */
export class BootstrapStack extends TerraformStack {
  public readonly stateBucket?: SecureBucket;
  public readonly stateKey?: EncryptionKey;
  public readonly oidcProvider: IamOpenidConnectProvider;
  public readonly deployRole: IamRole;
  public readonly diffRole: IamRole;
  public readonly deployStatements: readonly PolicyStatement[];
  public readonly diffStatements: readonly PolicyStatement[];
  /** The permissions boundary every role the deploy role creates must carry. */
  public readonly permissionsBoundary: IamPolicy;
  public readonly permissionsBoundaryStatements: readonly PolicyStatement[];

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    const { account: target } = props;
    const repository = props.repository ?? GITHUB_REPOSITORY;
    const problem = repositoryProblem(repository);
    if (problem) throw new Error(problem);
    const first = target.environments[0];

    const state = target.stateBackend;
    if (state && !props.localState) {
      new S3Backend(this, {
        bucket: state.bucket,
        key: `${state.keyPrefix}/${id}.tfstate`,
        region: state.region,
        encrypt: true,
        kmsKeyId: stateKeyArn(state.region, target.accountId),
      });
      this.addOverride("terraform.backend.s3.use_lockfile", true);
    } else {
      new LocalBackend(this, { path: `../../../terraform.${id}.tfstate` });
    }
    new AwsProvider(this, AWS_PROVIDER_ID, {
      region: target.region,
      allowedAccountIds: [target.accountId],
      defaultTags: [
        {
          tags: { ...first.tags, "managed-by": "cdktf", "mlops-platform/stack": id },
        },
      ],
    });
    const account = new AwsAccount(this, "Account", target.region);
    const { partition } = account;

    let stateStatements = (_: "plan" | "apply"): PolicyStatement[] => [];
    const environmentNames = target.environments.map((env) => env.name);
    if (state) {
      this.stateKey = new EncryptionKey(this, "StateKey", {
        alias: STATE_KEY_ALIAS,
        account,
        description: `Encrypts the Terraform state of ${target.environments.map((e) => e.name).join(", ")}`,
        deletionWindowDays: 30,
        preventDestroy: true,
      });
      this.stateBucket = new SecureBucket(this, "StateBucket", {
        bucketName: state.bucket,
        key: this.stateKey,
        noncurrentVersionExpirationDays: 90,
        retainOnDelete: true,
      });
      const location = {
        bucketArn: this.stateBucket.arn,
        keyPrefix: state.keyPrefix,
        keyArn: this.stateKey.arn,
        region: state.region,
      };
      stateStatements = (access) => stateAccessStatements(location, access, environmentNames);
    }

    this.oidcProvider = new IamOpenidConnectProvider(this, "GithubOidcProvider", {
      url: `https://${GITHUB_OIDC_HOST}`,
      clientIdList: [GITHUB_OIDC_AUDIENCE],
      tags: { Name: "github-actions" },
    });
    // Subjects follow the repository's OIDC subject template (environments/github.ts): the
    // deploy role's are exact; the diff role's leave only the pull request's number open.
    const trust = (documentId: string, subjects: string[], test: "StringEquals" | "StringLike") =>
      policyDocument(this, documentId, [
        {
          sid: "GithubWorkflowsOfThisRepository",
          actions: ["sts:AssumeRoleWithWebIdentity"],
          principals: [{ type: "Federated", identifiers: [this.oidcProvider.arn] }],
          conditions: [
            { test: "StringEquals", variable: `${GITHUB_OIDC_HOST}:aud`, values: [GITHUB_OIDC_AUDIENCE] },
            { test, variable: `${GITHUB_OIDC_HOST}:sub`, values: subjects },
          ],
        },
      ]).json;

    const delivered = deliveryScope(target, partition, account.accountId);
    this.permissionsBoundaryStatements = permissionsBoundaryStatements({
      ...delivered,
      state:
        this.stateBucket && this.stateKey
          ? { bucketArn: this.stateBucket.arn, keyArn: this.stateKey.arn }
          : undefined,
    });
    this.permissionsBoundary = new IamPolicy(this, "PermissionsBoundary", {
      name: PERMISSIONS_BOUNDARY_NAME,
      description:
        "Permissions boundary of every role ci-deploy creates: the platform's own buckets, repositories, clusters, keys and secrets; no IAM or key administration, no commands on instances, no EKS access entries, no Terraform state",
      policy: policyDocument(this, "PermissionsBoundaryDocument", this.permissionsBoundaryStatements).json,
    });

    this.deployStatements = [
      ...deployRoleStatements(delivered),
      ...stateStatements("apply"),
      ...(this.stateKey ? stateKeyProtectionStatements(this.stateKey.arn) : []),
    ];
    assertExplicitActions(`${id} deploy role`, this.deployStatements);
    this.deployRole = new IamRole(this, "DeployRole", {
      name: DEPLOY_ROLE_NAME,
      description: `Deploys ${target.environments.map((e) => e.name).join(", ")} from ${repository}'s GitHub environments of the same names, on ${DEPLOY_BRANCH} only`,
      assumeRolePolicy: trust(
        "DeployTrust",
        target.environments.map((env) => environmentSubject(env.name, repository)),
        "StringEquals",
      ),
      // The deploy job applies three stacks in one session: an EKS version upgrade or a node
      // group roll outlasts an hour (deploy-environment.yml asks for the same duration).
      maxSessionDuration: DEPLOY_SESSION_SECONDS,
    });
    new IamRolePolicy(this, "DeployPermissions", {
      name: "deploy",
      role: this.deployRole.name,
      policy: policyDocument(this, "DeployPermissionsDocument", this.deployStatements).json,
    });

    this.diffRole = new IamRole(this, "DiffRole", {
      name: DIFF_ROLE_NAME,
      description: `Plans (reads what a plan refreshes) ${target.environments.map((e) => e.name).join(", ")} for ${repository}'s pull requests`,
      assumeRolePolicy: trust("DiffTrust", [pullRequestSubject(repository)], "StringLike"),
      maxSessionDuration: 3600,
    });
    this.diffStatements = diffRoleStatements(delivered);
    assertExplicitActions(`${id} diff role`, this.diffStatements);
    new IamRolePolicy(this, "DiffPermissions", {
      name: "plan",
      role: this.diffRole.name,
      policy: policyDocument(this, "DiffPermissionsDocument", this.diffStatements).json,
    });
    const diffState = stateStatements("plan");
    if (diffState.length > 0) {
      new IamRolePolicy(this, "DiffState", {
        name: "terraform-state",
        role: this.diffRole.name,
        policy: policyDocument(this, "DiffStateDocument", diffState).json,
      });
    }

    const outputs: Record<string, { value: string; description: string }> = {
      deploy_role_arn: {
        value: this.deployRole.arn,
        description:
          "AWS_DEPLOY_ROLE_ARN of the account's GitHub environments; list it in eks.adminPrincipalArns",
      },
      diff_role_arn: {
        value: this.diffRole.arn,
        description: "AWS_DIFF_ROLE_ARN_<env> of the account's environments",
      },
      github_oidc_provider_arn: { value: this.oidcProvider.arn, description: "GitHub's OIDC provider" },
    };
    if (this.stateBucket) {
      outputs.state_bucket = { value: this.stateBucket.bucketName, description: "Terraform state bucket" };
    }
    for (const [name, spec] of Object.entries(outputs)) new TerraformOutput(this, name, spec);
  }
}
