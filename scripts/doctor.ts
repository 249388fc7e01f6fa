/**
 * Preflight of the deploy path: what `cdktf diff` and `deploy` need on this machine.
 *
 *   npm run doctor [-- --env <name>]
 *
 * Prints one line per check and exits 1 when any check fails, each failure with its fix:
 * Node and npm, Terraform and its version, the AWS CLI and the account its credentials belong
 * to against each environment's allowed accounts, the caller among the environment's admin
 * principals (EKS admits no one else), the diff role the foundation's access entry names, the
 * public endpoint's ranges (not the documentation examples), the chart repositories the Helm
 * provider downloads from, the state bucket of each environment that
 * keeps remote state, the EKS add-on builds the environment pins (listed by EKS), the
 * repository's OIDC subject template (with the GitHub CLI), the update check of the cdktf CLI;
 * for on-prem environments the kubeconfig (`KUBE_CONFIG_PATH`), each cluster's context and
 * version, the state backend's namespace, and the keys of the alert receivers' hand-made Secrets
 * there (names only: values are not printed).
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { ENVIRONMENTS } from "../environments";
import { loadEnvironments } from "../environments/load";
import { isAws, isOnPrem } from "../environments/targets";
import { DOCUMENTATION_RANGES, EKS_VERSIONS, type Environment } from "../environments/schema";
import { DIFF_ROLE_NAME, GITHUB_REPOSITORY, OIDC_SUBJECT_CLAIM_KEYS } from "../environments/github";
import { chartsInstalledOn, PLATFORM_CHARTS } from "../constructs/platform/charts";
import { promotionLinks, type PromotionLinks } from "../stacks/promotion-topology";
import type { RancherEnvironment } from "../environments/rancher-schema";
import {
  alertReceiverSecretKey,
  alertReceiverSecretName,
  withHeartbeat,
} from "../constructs/platform/monitoring";

/** The oldest versions the project works with: Node for synth and tests, Terraform for S3 native locking. */
export const MINIMUM_NODE = "20.0.0";
export const MINIMUM_TERRAFORM = "1.10.0";

export interface CommandResult {
  /** Exit code, or undefined when the command could not be started (not installed). */
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

export interface DoctorContext {
  readonly nodeVersion: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  run(command: string, args: readonly string[]): CommandResult;
}

export interface Check {
  readonly status: "ok" | "warn" | "fail";
  readonly subject: string;
  readonly detail: string;
  /** What to do, for warnings and failures. */
  readonly fix?: string;
}

/** `a` is at least `b`, comparing dotted numeric versions. */
export function atLeast(a: string, b: string): boolean {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}

function toolchainChecks(ctx: DoctorContext): Check[] {
  const checks: Check[] = [];
  const node = ctx.nodeVersion.replace(/^v/, "");
  checks.push(
    atLeast(node, MINIMUM_NODE)
      ? { status: "ok", subject: "node", detail: node }
      : {
          status: "fail",
          subject: "node",
          detail: `${node} is older than ${MINIMUM_NODE}`,
          fix: `install Node.js ${MINIMUM_NODE.split(".")[0]} or newer`,
        },
  );
  const npm = ctx.run("npm", ["--version"]);
  checks.push(
    npm.code === 0
      ? { status: "ok", subject: "npm", detail: npm.stdout.trim() }
      : { status: "fail", subject: "npm", detail: "not found", fix: "install npm with Node.js" },
  );
  const terraform = ctx.run("terraform", ["version", "-json"]);
  if (terraform.code === undefined) {
    checks.push({
      status: "fail",
      subject: "terraform",
      detail: "not found on PATH (cdktf diff and deploy run it)",
      fix: `install Terraform ${MINIMUM_TERRAFORM} or newer and put it on PATH`,
    });
  } else {
    let version: string | undefined;
    try {
      version = (JSON.parse(terraform.stdout) as { terraform_version?: string }).terraform_version;
    } catch {
      version = /Terraform v(\d+\.\d+\.\d+)/.exec(terraform.stdout)?.[1];
    }
    if (version === undefined) {
      checks.push({
        status: "fail",
        subject: "terraform",
        detail: `could not read its version (${firstLine(terraform.stderr || terraform.stdout)})`,
        fix: "run `terraform version` and repair the installation",
      });
    } else if (!atLeast(version, MINIMUM_TERRAFORM)) {
      checks.push({
        status: "fail",
        subject: "terraform",
        detail: `${version} is older than ${MINIMUM_TERRAFORM} (the S3 state backend locks with use_lockfile)`,
        fix: `install Terraform ${MINIMUM_TERRAFORM} or newer`,
      });
    } else checks.push({ status: "ok", subject: "terraform", detail: version });
  }
  checks.push(
    ctx.env.CHECKPOINT_DISABLE
      ? { status: "ok", subject: "CHECKPOINT_DISABLE", detail: "set: the cdktf CLI does not call home" }
      : {
          status: "warn",
          subject: "CHECKPOINT_DISABLE",
          detail: "unset: the cdktf CLI checks for updates over the network on every run",
          fix: "export CHECKPOINT_DISABLE=1",
        },
  );
  return checks;
}

function awsChecks(
  ctx: DoctorContext,
  environments: readonly Environment[],
  links: ReadonlyMap<string, PromotionLinks> = new Map(),
): Check[] {
  if (environments.length === 0) return [];
  const checks: Check[] = [];
  const identity = ctx.run("aws", ["sts", "get-caller-identity", "--output", "json"]);
  if (identity.code === undefined) {
    return [
      {
        status: "fail",
        subject: "aws",
        detail: "AWS CLI not found on PATH (the providers take EKS tokens from `aws eks get-token`)",
        fix: "install AWS CLI v2 and put it on PATH",
      },
    ];
  }
  if (identity.code !== 0) {
    return [
      {
        status: "fail",
        subject: "aws credentials",
        detail: `none usable (${firstLine(identity.stderr) || `exit ${identity.code}`})`,
        fix: "sign in (aws sso login, AWS_PROFILE, or the pipeline's OIDC role) and run doctor again",
      },
    ];
  }
  let account: string | undefined;
  let arn = "";
  try {
    const parsed = JSON.parse(identity.stdout) as { Account?: string; Arn?: string };
    account = parsed.Account;
    arn = parsed.Arn ?? "";
  } catch {
    account = undefined;
  }
  if (account === undefined) {
    return [
      {
        status: "fail",
        subject: "aws credentials",
        detail: "aws sts get-caller-identity printed no account",
        fix: "run it by hand and repair the AWS CLI configuration",
      },
    ];
  }
  checks.push({ status: "ok", subject: "aws credentials", detail: `account ${account} (${arn})` });
  for (const environment of environments) {
    const allowed = environment.aws.allowedAccountIds;
    if (allowed !== undefined && !allowed.includes(account)) {
      checks.push({
        status: "fail",
        subject: `${environment.name} account`,
        detail: `credentials are for ${account}, the environment allows ${allowed.join(", ")}`,
        fix: `use credentials of ${allowed.join(" or ")} for ${environment.name} (the provider refuses any other account)`,
      });
    } else {
      checks.push({ status: "ok", subject: `${environment.name} account`, detail: `${account} is allowed` });
      checks.push(adminCheck(environment, arn), diffRoleCheck(ctx, environment, account));
    }
    checks.push(...endpointRangeChecks(environment));
    checks.push(...addonChecks(ctx, environment));
    checks.push(...replicaBucketChecks(ctx, environment, links.get(environment.name)));
    const state = environment.stateBackend;
    if (!state) {
      checks.push({
        status: "ok",
        subject: `${environment.name} state`,
        detail: "local file at the project root",
      });
      continue;
    }
    const bucket = ctx.run("aws", [
      "s3api",
      "head-bucket",
      "--bucket",
      state.bucket,
      "--region",
      state.region,
    ]);
    checks.push(
      bucket.code === 0
        ? { status: "ok", subject: `${environment.name} state`, detail: `s3://${state.bucket} reachable` }
        : {
            status: "fail",
            subject: `${environment.name} state`,
            detail: `s3://${state.bucket} (${state.region}) not reachable (${firstLine(bucket.stderr) || `exit ${bucket.code}`})`,
            fix: `create the state bucket (see docs/deploying-aws.md, "Day 0: bootstrap an AWS account") or use credentials that may read it`,
          },
    );
  }
  return checks;
}

/** An IAM role's account and name from a role ARN or the STS ARN of a session of it. */
function roleOf(arn: string): { account: string; name: string } | undefined {
  const assumed = /^arn:[\w-]+:sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  if (assumed) return { account: assumed[1], name: assumed[2] };
  const role = /^arn:[\w-]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  return role ? { account: role[1], name: role[2] } : undefined;
}

/**
 * The caller can reach the cluster: EKS admits only the principals of the environment's access
 * entries (`eks.adminPrincipalArns`), the cluster's creator included.
 */
function adminCheck(environment: Environment, callerArn: string): Check {
  const subject = `${environment.name} cluster access`;
  const caller = roleOf(callerArn);
  const admitted = environment.eks.adminPrincipalArns.some((admin) => {
    if (admin === callerArn) return true;
    const role = roleOf(admin);
    return (
      caller !== undefined &&
      role !== undefined &&
      role.account === caller.account &&
      role.name === caller.name
    );
  });
  return admitted
    ? { status: "ok", subject, detail: `${callerArn} is in eks.adminPrincipalArns` }
    : {
        status: "fail",
        subject,
        detail: `${callerArn || "the caller"} is not in eks.adminPrincipalArns (${environment.eks.adminPrincipalArns.join(", ")}), so EKS will refuse it: no kubectl, and the platform and serving stacks cannot be planned`,
        fix: `use credentials of one of those roles, or add your role to eks.adminPrincipalArns in environments/${environment.name}.ts and deploy ${environment.name}-foundation with an admin's credentials`,
      };
}

/** The pull-request diff role the foundation's access entry names exists (the bootstrap makes it). */
function diffRoleCheck(ctx: DoctorContext, environment: Environment, account: string): Check {
  const subject = `${environment.name} diff role`;
  const result = ctx.run("aws", ["iam", "get-role", "--role-name", DIFF_ROLE_NAME, "--output", "json"]);
  if (result.code === 0) return { status: "ok", subject, detail: `${DIFF_ROLE_NAME} exists in ${account}` };
  if (/NoSuchEntity/.test(result.stderr))
    return {
      status: "fail",
      subject,
      detail: `${DIFF_ROLE_NAME} does not exist in ${account}, and ${environment.name}-foundation gives it an access entry, which EKS refuses for a missing role`,
      fix: `bootstrap the account first: npm run cdktf -- deploy bootstrap-${account} (docs/deploying-aws.md, "Day 0: bootstrap an AWS account")`,
    };
  return {
    status: "warn",
    subject,
    detail: `could not tell whether ${DIFF_ROLE_NAME} exists (${firstLine(result.stderr) || (result.code === undefined ? "aws not run" : `exit ${result.code}`)})`,
    fix: `allow iam:GetRole to these credentials, or make sure bootstrap-${account} is deployed`,
  };
}

/** The public endpoint admits real addresses, not the documentation ranges the examples use. */
function endpointRangeChecks(environment: Environment): Check[] {
  const endpoint = environment.eks.publicEndpoint;
  if (!endpoint.enabled) return [];
  const subject = `${environment.name} endpoint ranges`;
  const examples = endpoint.allowedCidrs.filter((cidr) =>
    (DOCUMENTATION_RANGES as readonly string[]).includes(cidr),
  );
  return [
    examples.length === 0
      ? { status: "ok", subject, detail: endpoint.allowedCidrs.join(", ") }
      : {
          status: "fail",
          subject,
          detail: `${examples.join(", ")} is an example (RFC 5737 documentation range): nobody reaches the cluster's API from it`,
          fix: `replace it in eks.publicEndpoint.allowedCidrs of environments/${environment.name}.ts with your office, VPN or runner egress range`,
        },
  ];
}

/**
 * The chart repositories the environment's platform installs from answer: the Helm provider
 * downloads every chart at plan. HTTP repositories serve index.yaml; OCI registries answer /v2/
 * (401 without a token still means reachable). On-prem the Artifactory remotes stand in for them.
 */
export function registryChecks(ctx: DoctorContext, environment: Environment | RancherEnvironment): Check[] {
  const onPrem = isOnPrem(environment);
  const upstreams = [
    ...new Set(
      chartsInstalledOn(onPrem ? "rancher" : "aws").map((chart) => PLATFORM_CHARTS[chart].repository),
    ),
  ] as string[];
  const remotes = onPrem ? (environment.registry.chartRepositories as Record<string, string>) : undefined;
  const repositories = [...new Set(upstreams.map((url) => remotes?.[url] ?? url))];
  return repositories.map((repository): Check => {
    const subject = `${environment.name} chart repository ${repository}`;
    const url = repository.startsWith("oci://")
      ? `https://${repository.slice("oci://".length).split("/")[0]}/v2/`
      : `${repository.replace(/\/$/, "")}/index.yaml`;
    const result = ctx.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", url]);
    if (result.code === undefined)
      return {
        status: "warn",
        subject,
        detail: "curl not found, not checked",
        fix: "install curl to check the repositories",
      };
    const status = Number(result.stdout.trim());
    if (result.code === 0 && (status < 400 || status === 401))
      return { status: "ok", subject, detail: `${url} answers ${status}` };
    return {
      status: "fail",
      subject,
      detail: `${url} ${result.code === 0 ? `answers ${status}` : `unreachable (${firstLine(result.stderr) || `curl exit ${result.code}`})`}; the Helm provider downloads the charts from it at plan`,
      fix: onPrem
        ? "check the Artifactory remote and this machine's network to Artifactory"
        : "give this machine (or runner) egress to the chart repositories, through the NAT gateways or a proxy",
    };
  });
}

/**
 * A producer's foundation replicates model artifacts into each consumer's artifacts bucket, and
 * S3 refuses a replication rule whose destination bucket does not exist: the consumers'
 * foundations go first. From the producer's account the bucket answers 403 (it exists, the
 * consumer's policy admits only the replication role) or 404 (not created yet).
 */
function replicaBucketChecks(
  ctx: DoctorContext,
  environment: Environment,
  links: PromotionLinks | undefined,
): Check[] {
  return (links?.consumers ?? []).map((consumer): Check => {
    const subject = `${environment.name} model replication to ${consumer.environment}`;
    const head = ctx.run("aws", [
      "s3api",
      "head-bucket",
      "--bucket",
      consumer.artifactsBucket,
      "--region",
      consumer.region,
    ]);
    if (head.code === 0 || /\(403\)|Forbidden/.test(head.stderr))
      return { status: "ok", subject, detail: `s3://${consumer.artifactsBucket} exists` };
    if (/\(404\)|Not Found|NoSuchBucket/.test(head.stderr))
      return {
        status: "fail",
        subject,
        detail: `s3://${consumer.artifactsBucket} does not exist yet, and S3 refuses a replication rule without its destination`,
        fix: `deploy ${consumer.environment}-foundation first (npm run cdktf -- deploy ${consumer.environment}-foundation with ${consumer.environment}'s credentials, or its pipeline), then ${environment.name}-foundation`,
      };
    return {
      status: "warn",
      subject,
      detail: `could not tell whether s3://${consumer.artifactsBucket} exists (${firstLine(head.stderr) || `exit ${head.code}`})`,
      fix: `make sure ${consumer.environment}-foundation is deployed before ${environment.name}-foundation`,
    };
  });
}

/** The EKS add-ons the foundation installs, by their name in EKS and their key in EKS_VERSIONS. */
export const EKS_ADDONS = [
  ["vpc-cni", "vpcCni"],
  ["coredns", "coredns"],
  ["kube-proxy", "kubeProxy"],
  ["aws-ebs-csi-driver", "ebsCsiDriver"],
] as const;

/**
 * The add-on builds the environment pins exist for its Kubernetes version in its region: EKS
 * publishes them (`describe-addon-versions`), nothing offline can tell. A refused or failed
 * call is a warning (the credentials may not allow it); a build EKS does not list fails.
 */
function addonChecks(ctx: DoctorContext, environment: Environment): Check[] {
  const version = environment.eks.version;
  const pinned = EKS_VERSIONS[version];
  return EKS_ADDONS.map(([addon, key]): Check => {
    const subject = `${environment.name} add-on ${addon}`;
    const result = ctx.run("aws", [
      "eks",
      "describe-addon-versions",
      "--addon-name",
      addon,
      "--kubernetes-version",
      version,
      "--region",
      environment.aws.region,
      "--query",
      "addons[].addonVersions[].addonVersion",
      "--output",
      "json",
    ]);
    let builds: string[] | undefined;
    try {
      builds = result.code === 0 ? (JSON.parse(result.stdout) as string[]) : undefined;
    } catch {
      builds = undefined;
    }
    if (!Array.isArray(builds))
      return {
        status: "warn",
        subject,
        detail: `could not list the builds for Kubernetes ${version} (${firstLine(result.stderr) || (result.code === undefined ? "aws not run" : `exit ${result.code}`)})`,
        fix: "allow eks:DescribeAddonVersions to these credentials to check the pinned build before a deploy",
      };
    if (builds.includes(pinned[key]))
      return { status: "ok", subject, detail: `${pinned[key]} is published for Kubernetes ${version}` };
    return {
      status: "fail",
      subject,
      detail: `${pinned[key]} is not among the builds EKS publishes for Kubernetes ${version} in ${environment.aws.region} (${builds.slice(0, 3).join(", ") || "none"}${builds.length > 3 ? ", ..." : ""})`,
      fix: `set EKS_VERSIONS["${version}"].${key} in environments/schema.ts to one of them`,
    };
  });
}

/**
 * The repository's OIDC subject template: the deploy roles trust `...:ref:refs/heads/main`
 * subjects only, which GitHub issues once the template includes the ref. Checked with the GitHub
 * CLI where it is logged in; otherwise a warning.
 */
function githubChecks(ctx: DoctorContext, environments: readonly Environment[]): Check[] {
  if (!environments.some((env) => env.delivery.deployedBy === "pipeline")) return [];
  const subject = "github oidc subject";
  const expected = [...OIDC_SUBJECT_CLAIM_KEYS];
  const fix = `gh api -X PUT repos/${GITHUB_REPOSITORY}/actions/oidc/customization/sub -F use_default=false ${expected.map((key) => `-f 'include_claim_keys[]=${key}'`).join(" ")}`;
  const result = ctx.run("gh", ["api", `repos/${GITHUB_REPOSITORY}/actions/oidc/customization/sub`]);
  let template: { use_default?: boolean; include_claim_keys?: string[] } | undefined;
  try {
    template = result.code === 0 ? JSON.parse(result.stdout) : undefined;
  } catch {
    template = undefined;
  }
  if (template === undefined)
    return [
      {
        status: "warn",
        subject,
        detail: `could not read ${GITHUB_REPOSITORY}'s template (${firstLine(result.stderr) || (result.code === undefined ? "gh not found" : `exit ${result.code}`)})`,
        fix: "gh auth login with a token that reads the repository's Actions settings, and run doctor again",
      },
    ];
  const keys = template.include_claim_keys ?? [];
  if (template.use_default === false && JSON.stringify(keys) === JSON.stringify(expected))
    return [{ status: "ok", subject, detail: `${expected.join(", ")}: deploy roles trust main only` }];
  return [
    {
      status: "fail",
      subject,
      detail: `${GITHUB_REPOSITORY} ${template.use_default !== false ? "uses the default subject" : `includes ${keys.join(", ")}`}; the deploy and diff roles trust subjects of ${expected.join(", ")} only, so no job can assume them`,
      fix,
    },
  ];
}

/** The one workflow whose jobs may run on a deploy runner: its deploy job is defined there. */
export const DEPLOY_WORKFLOW = `${GITHUB_REPOSITORY}/.github/workflows/deploy-environment.yml@refs/heads/main`;

interface RunnerGroup {
  readonly id: number;
  readonly name: string;
  readonly restricted_to_workflows?: boolean;
  readonly selected_workflows?: string[];
}

/**
 * The runner groups of the self-hosted deploy runners (GET /orgs/{org}/actions/runner-groups and
 * each group's runners): a pull request runs its own copy of the workflows and picks its own
 * `runs-on`, so labels keep no branch off a deploy runner; a group restricted to
 * `deploy-environment.yml@refs/heads/main` does. Every group holding a runner with an
 * environment's deploy labels must be restricted to that workflow alone.
 */
function runnerGroupChecks(ctx: DoctorContext, environments: readonly Environment[]): Check[] {
  const deployed = environments.filter(
    (env) =>
      env.delivery.deployedBy === "pipeline" && (env.delivery.runnerLabels ?? []).includes("self-hosted"),
  );
  if (deployed.length === 0) return [];
  const org = GITHUB_REPOSITORY.split("/")[0];
  const restrict = (id: number | string) =>
    `gh api -X PATCH orgs/${org}/actions/runner-groups/${id} -F restricted_to_workflows=true -f 'selected_workflows[]=${DEPLOY_WORKFLOW}'`;
  const json = <T>(args: string[]): T | string => {
    const result = ctx.run("gh", args);
    if (result.code !== 0)
      return firstLine(result.stderr) || (result.code === undefined ? "gh not found" : `exit ${result.code}`);
    try {
      return JSON.parse(result.stdout) as T;
    } catch {
      return "unreadable answer";
    }
  };
  const groups = json<{ runner_groups?: RunnerGroup[] }>([
    "api",
    `orgs/${org}/actions/runner-groups?per_page=100`,
  ]);
  if (typeof groups === "string")
    return [
      {
        status: "warn",
        subject: "github deploy runner groups",
        detail: `could not list ${org}'s runner groups (${groups})`,
        fix: "gh auth login with a token that reads the organization's Actions runner groups (admin:org read), and run doctor again",
      },
    ];
  const members = (groups.runner_groups ?? []).map((group) => {
    const runners = json<{ runners?: { name: string; labels?: { name: string }[] }[] }>([
      "api",
      `orgs/${org}/actions/runner-groups/${group.id}/runners?per_page=100`,
    ]);
    return { group, runners: typeof runners === "string" ? [] : (runners.runners ?? []) };
  });
  return deployed.map((env): Check => {
    const subject = `${env.name} deploy runner group`;
    const labels = env.delivery.runnerLabels ?? [];
    const holding = members.filter(({ runners }) =>
      runners.some((runner) => labels.every((label) => (runner.labels ?? []).some((l) => l.name === label))),
    );
    if (holding.length === 0)
      return {
        status: "warn",
        subject,
        detail: `no registered runner carries ${labels.join(", ")} (ephemeral runners register per job), so its group cannot be checked`,
        fix: `register the deploy runners in a group restricted to ${DEPLOY_WORKFLOW} (README, "Deploy runners") and run doctor again while one is registered`,
      };
    const open = holding.filter(
      ({ group }) =>
        group.restricted_to_workflows !== true ||
        JSON.stringify(group.selected_workflows ?? []) !== JSON.stringify([DEPLOY_WORKFLOW]),
    );
    if (open.length === 0)
      return {
        status: "ok",
        subject,
        detail: `${holding.map(({ group }) => group.name).join(", ")} runs ${DEPLOY_WORKFLOW} only`,
      };
    return {
      status: "fail",
      subject,
      detail: `runner group ${open.map(({ group }) => `${group.name} (${group.restricted_to_workflows === true ? `selected workflows: ${(group.selected_workflows ?? []).join(", ")}` : "any workflow"})`).join(", ")} holds runners with ${labels.join(", ")}: any branch's or fork's workflow naming those labels runs on them, with the deploy job's network and credentials`,
      fix: open.map(({ group }) => restrict(group.id)).join("; "),
    };
  });
}

/** Every check, for the given environments (all when `only` is unset). */
export function runDoctor(
  ctx: DoctorContext,
  inputs: readonly unknown[],
  only?: string,
): { readonly checks: Check[]; readonly exitCode: 0 | 1 } {
  const checks = toolchainChecks(ctx);
  const loaded = loadEnvironments(inputs);
  if (!loaded.ok) {
    checks.push({
      status: "fail",
      subject: "environments",
      detail: `${loaded.problems.length} problem(s), first: ${loaded.problems[0]}`,
      fix: "run npm run synth to see every problem and correct the environment files",
    });
  } else {
    const environments = loaded.environments.filter((env) => only === undefined || env.name === only);
    if (only !== undefined && environments.length === 0) {
      checks.push({
        status: "fail",
        subject: "--env",
        detail: `${only} is not an environment`,
        fix: `use one of ${loaded.environments.map((env) => env.name).join(", ")}`,
      });
    }
    checks.push(
      ...awsChecks(ctx, environments.filter(isAws), promotionLinks(loaded.environments.filter(isAws))),
    );
    checks.push(...githubChecks(ctx, environments.filter(isAws)));
    checks.push(...runnerGroupChecks(ctx, environments.filter(isAws)));
    checks.push(...onPremChecks(ctx, environments.filter(isOnPrem)));
    checks.push(...environments.flatMap((environment) => registryChecks(ctx, environment)));
  }
  return { checks, exitCode: checks.some((check) => check.status === "fail") ? 1 : 0 };
}

/**
 * On-prem environments: the kubeconfig Rancher generated (the Kubernetes and Helm providers and
 * the state backend read it from `KUBE_CONFIG_PATH`), each environment's context reaching its
 * cluster at the expected Kubernetes version, and the namespace that keeps the state.
 */
function onPremChecks(ctx: DoctorContext, environments: readonly RancherEnvironment[]): Check[] {
  if (environments.length === 0) return [];
  const kubeconfig = ctx.env.KUBE_CONFIG_PATH;
  if (!kubeconfig) {
    return [
      {
        status: "fail",
        subject: "KUBE_CONFIG_PATH",
        detail:
          "unset: the Kubernetes and Helm providers and the state backend of on-prem stacks read the kubeconfig from it",
        fix: "download the kubeconfig of each cluster from Rancher, merge them into one file and export KUBE_CONFIG_PATH=<that file>",
      },
    ];
  }
  const checks: Check[] = [{ status: "ok", subject: "KUBE_CONFIG_PATH", detail: "set" }];
  const kubectl = (args: string[]) => ctx.run("kubectl", [...args, "--kubeconfig", kubeconfig]);
  const client = kubectl(["version", "--client", "-o", "json"]);
  if (client.code === undefined) {
    checks.push({
      status: "fail",
      subject: "kubectl",
      detail: "not found on PATH (doctor reaches the clusters with it)",
      fix: "install kubectl within one minor version of the clusters and put it on PATH",
    });
    return checks;
  }
  for (const environment of environments) {
    const context = environment.cluster.kubeconfigContext;
    const subject = `${environment.name} cluster`;
    const server = kubectl(["version", "--context", context, "-o", "json"]);
    let version: string | undefined;
    try {
      const info = (JSON.parse(server.stdout) as { serverVersion?: { major?: string; minor?: string } })
        .serverVersion;
      if (info?.major && info.minor) version = `${info.major}.${info.minor.replace(/\D+$/, "")}`;
    } catch {
      version = undefined;
    }
    if (server.code !== 0 || version === undefined) {
      checks.push({
        status: "fail",
        subject,
        detail: `context ${context} does not reach a cluster (${firstLine(server.stderr) || `exit ${server.code}`})`,
        fix: `add the context ${context} to ${kubeconfig} (Rancher: cluster > Download KubeConfig) or correct cluster.kubeconfigContext in environments/${environment.name}.ts`,
      });
      continue;
    }
    checks.push(
      version === environment.cluster.kubernetesVersion
        ? { status: "ok", subject, detail: `context ${context}, Kubernetes ${version}` }
        : {
            status: "warn",
            subject,
            detail: `context ${context} runs Kubernetes ${version}, the environment says ${environment.cluster.kubernetesVersion}`,
            fix: `set cluster.kubernetesVersion to "${version}" in environments/${environment.name}.ts, or point the context at the right cluster`,
          },
    );
    const namespace = environment.stateBackend.namespace;
    const state = kubectl(["get", "namespace", namespace, "--context", context, "-o", "name"]);
    checks.push(
      state.code === 0
        ? { status: "ok", subject: `${environment.name} state`, detail: `namespace ${namespace} exists` }
        : {
            status: "fail",
            subject: `${environment.name} state`,
            detail: `namespace ${namespace} not readable (${firstLine(state.stderr) || `exit ${state.code}`})`,
            fix: `kubectl --context ${context} create namespace ${namespace} (see docs/onprem.md, "Before the first deploy, on the Rancher side")`,
          },
    );
    if (state.code === 0)
      checks.push(...receiverSecretChecks(environment, (args) => kubectl([...args, "--context", context])));
  }
  return checks;
}

/** Prints a Secret's key names, one a line, never a value. */
const SECRET_KEY_NAMES = '{{range $key, $value := .data}}{{$key}}{{"\\n"}}{{end}}';

/**
 * Each alert receiver's Secret `alert-receiver-<name>` (the heartbeat's included) in the state
 * namespace, holding the key Alertmanager reads for its kind: with another key the deploy
 * succeeds and every notification fails when sent. Only the key names are printed.
 */
function receiverSecretChecks(
  environment: RancherEnvironment,
  kubectl: (args: string[]) => CommandResult,
): Check[] {
  const namespace = environment.stateBackend.namespace;
  const alerting = environment.platform.alerting;
  return withHeartbeat(alerting.receivers, alerting.heartbeat).map((receiver): Check => {
    const name = alertReceiverSecretName(receiver.name);
    const key = alertReceiverSecretKey(receiver.kind);
    const subject = `${environment.name} secret ${name}`;
    const create = `kubectl -n ${namespace} create secret generic ${name} --from-literal=${key}=<value>`;
    const read = kubectl([
      "get",
      "secret",
      name,
      "-n",
      namespace,
      "-o",
      "go-template",
      "--template",
      SECRET_KEY_NAMES,
    ]);
    if (read.code !== 0)
      return {
        status: "fail",
        subject,
        detail: `not readable in ${namespace} (${firstLine(read.stderr) || `exit ${read.code}`})`,
        fix: `${create} (see docs/onprem.md, "Before the first deploy, on the Rancher side")`,
      };
    const keys = read.stdout.split("\n").filter((line) => line !== "");
    return keys.includes(key)
      ? { status: "ok", subject, detail: `holds ${key}` }
      : {
          status: "fail",
          subject,
          detail: `holds ${keys.length > 0 ? keys.join(", ") : "no key"}, not ${key} (what a ${receiver.kind} receiver reads)`,
          fix: `kubectl -n ${namespace} delete secret ${name}; ${create}`,
        };
  });
}

/** One line per check: `ok   terraform 1.11.4`, `FAIL aws credentials: ...; fix: ...`. */
export function describeChecks(checks: readonly Check[]): string {
  const label = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;
  return checks
    .map((check) => {
      const fix = check.fix && check.status !== "ok" ? `; fix: ${check.fix}` : "";
      return `${label[check.status]} ${check.subject}: ${check.detail}${fix}\n`;
    })
    .join("");
}

/** Runs a command with a time limit; a command that is not installed has no exit code. */
function runCommand(command: string, args: readonly string[]): CommandResult {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 20_000 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT") {
    return { code: undefined, stdout: "", stderr: "" };
  }
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

if (require.main === module) {
  let only: string | undefined;
  try {
    only = parseArgs({ options: { env: { type: "string" } }, strict: true }).values.env;
  } catch (error) {
    process.stderr.write(`doctor: ${(error as Error).message}; fix: run npm run doctor [-- --env <name>]\n`);
    process.exit(1);
  }
  const { checks, exitCode } = runDoctor(
    { nodeVersion: process.version, env: process.env, run: runCommand },
    ENVIRONMENTS,
    only,
  );
  process.stdout.write(describeChecks(checks));
  process.exitCode = exitCode;
}
