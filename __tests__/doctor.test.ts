/**
 * The deploy preflight, run against scripted command answers: every missing or wrong
 * prerequisite is one line with its fix and makes the exit code 1.
 */
import { ENVIRONMENTS } from "../environments";
import {
  atLeast,
  describeChecks,
  runDoctor,
  type CommandResult,
  type DoctorContext,
} from "../scripts/doctor";

type Answers = Record<string, CommandResult | undefined>;
const installed = (stdout: string): CommandResult => ({ code: 0, stdout, stderr: "" });
const failing = (stderr: string, code = 255): CommandResult => ({ code, stdout: "", stderr });
const missing: CommandResult = { code: undefined, stdout: "", stderr: "" };

/** A machine whose commands answer as scripted (keyed by `command first-arg`). */
function machine(
  answers: Answers,
  env: Record<string, string> = { CHECKPOINT_DISABLE: "1" },
  node = "v20.20.2",
): DoctorContext {
  return {
    nodeVersion: node,
    env,
    run: (command, args) => {
      const key = `${command} ${args[0]}`;
      return answers[`${command} ${args.join(" ")}`] ?? answers[key] ?? answers[command] ?? missing;
    },
  };
}

const healthy: Answers = {
  "npm --version": installed("11.6.0\n"),
  "terraform version": installed(JSON.stringify({ terraform_version: "1.11.4" })),
  "aws sts": installed(
    JSON.stringify({
      Account: "111111111111",
      Arn: "arn:aws:sts::111111111111:assumed-role/platform-admin/me",
    }),
  ),
  "aws s3api": installed(""),
  "aws iam": installed(JSON.stringify({ Role: { RoleName: "ci-diff" } })),
  curl: installed("200"),
};

/** The registry with dev's example endpoint range replaced, as a user does before deploying. */
const EXAMPLE_RANGE = "203.0.113.0/24";
const REPLACED = ENVIRONMENTS.map((input: any) =>
  input.name === "dev"
    ? { ...input, eks: { ...input.eks, publicEndpoint: { enabled: true, allowedCidrs: ["52.95.110.0/24"] } } }
    : input,
);

function lines(answers: Answers, ...rest: [Record<string, string>?, string?]) {
  const result = runDoctor(machine(answers, ...rest), REPLACED, "dev");
  return { ...result, text: describeChecks(result.checks) };
}

describe("npm run doctor", () => {
  it("passes a machine with the tools, credentials of the environment's account and CHECKPOINT_DISABLE", () => {
    const { exitCode, text } = lines(healthy);
    expect(text).toContain("ok   terraform: 1.11.4\n");
    expect(text).toContain("ok   dev account: 111111111111 is allowed\n");
    expect(text).toContain("ok   dev state: local file at the project root\n");
    expect(exitCode).toBe(0);
  });

  it("fails without Terraform and says how to get it", () => {
    const { exitCode, text } = lines({ ...healthy, "terraform version": undefined });
    expect(text).toContain(
      "FAIL terraform: not found on PATH (cdktf diff and deploy run it); fix: install Terraform 1.10.0 or newer and put it on PATH\n",
    );
    expect(exitCode).toBe(1);
  });

  it("fails on a Terraform older than 1.10 (S3 native locking)", () => {
    const { exitCode, text } = lines({
      ...healthy,
      "terraform version": installed("Terraform v1.9.8\non linux_amd64\n"),
    });
    expect(text).toContain("FAIL terraform: 1.9.8 is older than 1.10.0");
    expect(exitCode).toBe(1);
  });

  it("fails without AWS credentials, with the sign-in fix", () => {
    const { exitCode, text } = lines({
      ...healthy,
      "aws sts": failing(
        'Unable to locate credentials. You can configure credentials by running "aws configure".',
      ),
    });
    expect(text).toContain("FAIL aws credentials: none usable (Unable to locate credentials.");
    expect(text).toContain("fix: sign in (aws sso login, AWS_PROFILE, or the pipeline's OIDC role)");
    expect(exitCode).toBe(1);
  });

  it("fails on credentials of another account than the environment allows", () => {
    const { exitCode, text } = lines({
      ...healthy,
      "aws sts": installed(
        JSON.stringify({ Account: "999999999999", Arn: "arn:aws:iam::999999999999:user/me" }),
      ),
    });
    expect(text).toContain(
      "FAIL dev account: credentials are for 999999999999, the environment allows 111111111111",
    );
    expect(exitCode).toBe(1);
  });

  it("fails when an environment's state bucket cannot be reached", () => {
    const result = runDoctor(
      machine({
        ...healthy,
        "aws sts": installed(
          JSON.stringify({ Account: "333333333333", Arn: "arn:aws:iam::333333333333:role/ci" }),
        ),
        "aws s3api": failing("An error occurred (404) when calling the HeadBucket operation: Not Found"),
      }),
      ENVIRONMENTS,
      "prod",
    );
    expect(describeChecks(result.checks)).toContain(
      "FAIL prod state: s3://acme-mlops-terraform-state-prod (eu-west-1) not reachable (An error occurred (404)",
    );
    expect(result.exitCode).toBe(1);
  });

  it("fails on an old Node and without the AWS CLI", () => {
    const { exitCode, text } = lines(
      { ...healthy, "aws sts": undefined, aws: undefined },
      undefined,
      "v18.19.0",
    );
    expect(text).toContain("FAIL node: 18.19.0 is older than 20.0.0; fix: install Node.js 20 or newer");
    expect(text).toContain("FAIL aws: AWS CLI not found on PATH");
    expect(exitCode).toBe(1);
  });

  it("warns, without failing, when CHECKPOINT_DISABLE is unset", () => {
    const { exitCode, text } = lines(healthy, {});
    expect(text).toContain("warn CHECKPOINT_DISABLE: unset");
    expect(text).toContain("fix: export CHECKPOINT_DISABLE=1");
    expect(exitCode).toBe(0);
  });

  it("refuses an unknown --env with the names it knows", () => {
    const result = runDoctor(machine(healthy), ENVIRONMENTS, "qa");
    expect(describeChecks(result.checks)).toContain(
      "FAIL --env: qa is not an environment; fix: use one of dev, staging, prod, onprem-test, onprem-prod",
    );
    expect(result.exitCode).toBe(1);
  });

  it("compares versions numerically", () => {
    expect(atLeast("1.10.0", "1.9.9")).toBe(true);
    expect(atLeast("1.9.9", "1.10.0")).toBe(false);
    expect(atLeast("20.0.0", "20.0.0")).toBe(true);
  });

  describe("on-prem environments", () => {
    const KUBECONFIG = "/tmp/rancher.yaml";
    const withKubeconfig = { CHECKPOINT_DISABLE: "1", KUBE_CONFIG_PATH: KUBECONFIG };
    /** The command that lists a Secret's key names (go-template over .data, no value printed). */
    const secretKeys = (name: string) =>
      `kubectl get secret ${name} -n terraform-state -o go-template --template {{range $key, $value := .data}}{{$key}}{{"\\n"}}{{end}} --context rancher-mlops-test --kubeconfig ${KUBECONFIG}`;
    const serverVersion = (minor: string) =>
      installed(JSON.stringify({ clientVersion: {}, serverVersion: { major: "1", minor } }));
    const rancher: Answers = {
      ...healthy,
      [`kubectl version --client -o json --kubeconfig ${KUBECONFIG}`]: installed("{}"),
      [`kubectl version --context rancher-mlops-test -o json --kubeconfig ${KUBECONFIG}`]:
        serverVersion("34"),
      [`kubectl get namespace terraform-state --context rancher-mlops-test -o name --kubeconfig ${KUBECONFIG}`]:
        installed("namespace/terraform-state\n"),
      [secretKeys("alert-receiver-platform-team")]: installed("api-url\n"),
      [secretKeys("alert-receiver-heartbeat")]: installed("url\n"),
    };
    const onPrem = (answers: Answers, env: Record<string, string> = withKubeconfig) => {
      const result = runDoctor(machine(answers, env), ENVIRONMENTS, "onprem-test");
      return { ...result, text: describeChecks(result.checks) };
    };

    it("passes a kubeconfig whose context reaches the cluster at its version, with the state namespace", () => {
      const { exitCode, text } = onPrem(rancher);
      expect(text).toContain("ok   onprem-test cluster: context rancher-mlops-test, Kubernetes 1.34\n");
      expect(text).toContain("ok   onprem-test state: namespace terraform-state exists\n");
      expect(text).not.toContain("aws");
      expect(exitCode).toBe(0);
    });

    it("fails without KUBE_CONFIG_PATH, saying where the kubeconfig comes from", () => {
      const { exitCode, text } = onPrem(rancher, { CHECKPOINT_DISABLE: "1" });
      expect(text).toContain("FAIL KUBE_CONFIG_PATH: unset");
      expect(text).toContain("fix: download the kubeconfig of each cluster from Rancher");
      expect(exitCode).toBe(1);
    });

    it("fails when the context does not reach a cluster, naming the environment file to correct", () => {
      const { exitCode, text } = onPrem({
        ...rancher,
        [`kubectl version --context rancher-mlops-test -o json --kubeconfig ${KUBECONFIG}`]: failing(
          'error: context "rancher-mlops-test" does not exist',
          1,
        ),
      });
      expect(text).toContain(
        'FAIL onprem-test cluster: context rancher-mlops-test does not reach a cluster (error: context "rancher-mlops-test" does not exist)',
      );
      expect(text).toContain("cluster.kubeconfigContext in environments/onprem-test.ts");
      expect(exitCode).toBe(1);
    });

    it("warns when the cluster runs another Kubernetes version than the environment says", () => {
      const { exitCode, text } = onPrem({
        ...rancher,
        [`kubectl version --context rancher-mlops-test -o json --kubeconfig ${KUBECONFIG}`]:
          serverVersion("33+"),
      });
      expect(text).toContain(
        "warn onprem-test cluster: context rancher-mlops-test runs Kubernetes 1.33, the environment says 1.34",
      );
      expect(exitCode).toBe(0);
    });

    it("fails when the state namespace is missing, with the command that creates it", () => {
      const { exitCode, text } = onPrem({
        ...rancher,
        [`kubectl get namespace terraform-state --context rancher-mlops-test -o name --kubeconfig ${KUBECONFIG}`]:
          failing('Error from server (NotFound): namespaces "terraform-state" not found', 1),
      });
      expect(text).toContain(
        "FAIL onprem-test state: namespace terraform-state not readable (Error from server (NotFound)",
      );
      expect(text).toContain("fix: kubectl --context rancher-mlops-test create namespace terraform-state");
      expect(exitCode).toBe(1);
    });

    it("checks that each receiver's Secret holds the key its kind reads, the heartbeat's included", () => {
      const { exitCode, text } = onPrem(rancher);
      expect(text).toContain("ok   onprem-test secret alert-receiver-platform-team: holds api-url\n");
      expect(text).toContain("ok   onprem-test secret alert-receiver-heartbeat: holds url\n");
      expect(exitCode).toBe(0);
    });

    it("fails on a receiver Secret with another key, naming the keys it has (never the values) and the fix", () => {
      const { exitCode, text } = onPrem({
        ...rancher,
        [secretKeys("alert-receiver-platform-team")]: installed("url\nwebhook\n"),
      });
      expect(text).toContain(
        "FAIL onprem-test secret alert-receiver-platform-team: holds url, webhook, not api-url (what a slack receiver reads); fix: kubectl -n terraform-state delete secret alert-receiver-platform-team; kubectl -n terraform-state create secret generic alert-receiver-platform-team --from-literal=api-url=<value>\n",
      );
      expect(exitCode).toBe(1);
    });

    it("fails on a missing receiver Secret, with the command that creates it", () => {
      const { exitCode, text } = onPrem({
        ...rancher,
        [secretKeys("alert-receiver-heartbeat")]: failing(
          'Error from server (NotFound): secrets "alert-receiver-heartbeat" not found',
          1,
        ),
      });
      expect(text).toContain(
        'FAIL onprem-test secret alert-receiver-heartbeat: not readable in terraform-state (Error from server (NotFound): secrets "alert-receiver-heartbeat" not found); fix: kubectl -n terraform-state create secret generic alert-receiver-heartbeat --from-literal=url=<value>',
      );
      expect(exitCode).toBe(1);
    });

    it("fails without kubectl", () => {
      const { exitCode, text } = onPrem({ ...healthy });
      expect(text).toContain("FAIL kubectl: not found on PATH");
      expect(exitCode).toBe(1);
    });
  });
});

describe("npm run doctor after the foundation", () => {
  it("passes the caller as a session of an admin role, the diff role, a real range and reachable charts", () => {
    const { exitCode, text } = lines(healthy);
    expect(text).toContain(
      "ok   dev cluster access: arn:aws:sts::111111111111:assumed-role/platform-admin/me is in eks.adminPrincipalArns\n",
    );
    expect(text).toContain("ok   dev diff role: ci-diff exists in 111111111111\n");
    expect(text).toContain("ok   dev endpoint ranges: 52.95.110.0/24\n");
    expect(text).toContain(
      "ok   dev chart repository https://charts.jetstack.io: https://charts.jetstack.io/index.yaml answers 200\n",
    );
    expect(text).toContain(
      "ok   dev chart repository oci://ghcr.io/kserve/charts: https://ghcr.io/v2/ answers 200\n",
    );
    expect(exitCode).toBe(0);
  });

  it("fails a caller who is not an admin principal, with the two ways in", () => {
    const { exitCode, text } = lines({
      ...healthy,
      "aws sts": installed(
        JSON.stringify({
          Account: "111111111111",
          Arn: "arn:aws:sts::111111111111:assumed-role/developer/me",
        }),
      ),
    });
    expect(text).toMatch(
      /FAIL dev cluster access: arn:aws:sts::111111111111:assumed-role\/developer\/me is not in eks.adminPrincipalArns \(.*\), so EKS will refuse it.*; fix: use credentials of one of those roles, or add your role to eks.adminPrincipalArns in environments\/dev.ts and deploy dev-foundation/,
    );
    expect(exitCode).toBe(1);
  });

  it("fails while the diff role is missing, naming the bootstrap stack", () => {
    const { exitCode, text } = lines({
      ...healthy,
      "aws iam": failing("An error occurred (NoSuchEntity) when calling the GetRole operation"),
    });
    expect(text).toContain("FAIL dev diff role: ci-diff does not exist in 111111111111");
    expect(text).toContain(
      "fix: bootstrap the account first: npm run cdktf -- deploy bootstrap-111111111111",
    );
    expect(exitCode).toBe(1);
  });

  it("fails while the example endpoint range is still in the file", () => {
    const result = runDoctor(machine(healthy), ENVIRONMENTS, "dev");
    const text = describeChecks(result.checks);
    expect(text).toContain(
      `FAIL dev endpoint ranges: ${EXAMPLE_RANGE} is an example (RFC 5737 documentation range): nobody reaches the cluster's API from it; fix: replace it in eks.publicEndpoint.allowedCidrs of environments/dev.ts`,
    );
    expect(result.exitCode).toBe(1);
  });

  it("fails on a chart repository that does not answer", () => {
    const { exitCode, text } = lines({
      ...healthy,
      curl: { code: 6, stdout: "000", stderr: "curl: (6) Could not resolve host" },
    });
    expect(text).toContain(
      "FAIL dev chart repository https://charts.jetstack.io: https://charts.jetstack.io/index.yaml unreachable (curl: (6) Could not resolve host); the Helm provider downloads the charts from it at plan; fix: give this machine",
    );
    expect(exitCode).toBe(1);
  });

  it("without --env checks only the targets the registry uses", () => {
    const awsOnly = REPLACED.filter((input: any) => input.target !== "rancher");
    const onPremOnly = REPLACED.filter((input: any) => input.target === "rancher");
    const text = (inputs: readonly unknown[]) => describeChecks(runDoctor(machine(healthy), inputs).checks);
    expect(text(awsOnly)).not.toMatch(/KUBE_CONFIG_PATH|kubectl/);
    expect(text(onPremOnly)).not.toMatch(/aws credentials|account|add-on/);
    expect(text(onPremOnly)).toContain("KUBE_CONFIG_PATH");
  });
});

describe("npm run doctor: what only AWS and GitHub can answer", () => {
  const describeAddon = (addon: string, version = "1.34", region = "eu-west-1") =>
    `aws eks describe-addon-versions --addon-name ${addon} --kubernetes-version ${version} --region ${region} --query addons[].addonVersions[].addonVersion --output json`;
  const published = (builds: Record<string, string[]>): Answers =>
    Object.fromEntries(
      Object.entries(builds).map(([addon, list]) => [describeAddon(addon), installed(JSON.stringify(list))]),
    );
  const dev1_34 = {
    "vpc-cni": ["v1.20.5-eksbuild.1", "v1.20.4-eksbuild.2"],
    coredns: ["v1.12.3-eksbuild.1"],
    "kube-proxy": ["v1.34.0-eksbuild.4"],
    "aws-ebs-csi-driver": ["v1.59.0-eksbuild.1"],
  };
  const run = (answers: Answers, env = "dev") => {
    const result = runDoctor(machine({ ...healthy, ...answers }), REPLACED, env);
    return { ...result, text: describeChecks(result.checks) };
  };

  it("checks each pinned EKS add-on build against the builds EKS publishes for the version", () => {
    const { exitCode, text } = run(published(dev1_34));
    expect(text).toContain("ok   dev add-on vpc-cni: v1.20.4-eksbuild.2 is published for Kubernetes 1.34\n");
    expect(text).toContain("ok   dev add-on aws-ebs-csi-driver: v1.59.0-eksbuild.1 is published");
    expect(exitCode).toBe(0);
  });

  it("fails on a pinned build EKS does not publish, naming the ones it does and where to pin", () => {
    const { exitCode, text } = run(
      published({ ...dev1_34, coredns: ["v1.12.4-eksbuild.1", "v1.12.2-eksbuild.3"] }),
    );
    expect(text).toContain(
      'FAIL dev add-on coredns: v1.12.3-eksbuild.1 is not among the builds EKS publishes for Kubernetes 1.34 in eu-west-1 (v1.12.4-eksbuild.1, v1.12.2-eksbuild.3); fix: set EKS_VERSIONS["1.34"].coredns in environments/schema.ts to one of them\n',
    );
    expect(exitCode).toBe(1);
  });

  it("warns, without failing, where the credentials may not list add-on builds", () => {
    const { exitCode, text } = run({
      "aws eks": failing("AccessDeniedException: not authorized to perform eks:DescribeAddonVersions"),
    });
    expect(text).toContain(
      "warn dev add-on vpc-cni: could not list the builds for Kubernetes 1.34 (AccessDeniedException",
    );
    expect(exitCode).toBe(0);
  });

  it("fails a producer's preflight while a consumer's artifacts bucket, its replication destination, does not exist", () => {
    const head = (environment: string) =>
      `aws s3api head-bucket --bucket acme-mlops-${environment}-artifacts --region eu-west-1`;
    const first = run({
      ...published(dev1_34),
      [head("staging")]: failing("An error occurred (404) when calling the HeadBucket operation: Not Found"),
      [head("prod")]: failing("An error occurred (403) when calling the HeadBucket operation: Forbidden"),
    });
    expect(first.text).toContain(
      "FAIL dev model replication to staging: s3://acme-mlops-staging-artifacts does not exist yet, and S3 refuses a replication rule without its destination; fix: deploy staging-foundation first",
    );
    // Forbidden from dev's account: it exists (its policy admits only the replication role).
    expect(first.text).toContain(
      "ok   dev model replication to prod: s3://acme-mlops-prod-artifacts exists\n",
    );
    expect(first.exitCode).toBe(1);
  });

  describe("the deploy runners' group", () => {
    const groups = "gh api orgs/acme/actions/runner-groups?per_page=100";
    const runnersOf = (id: number) => `gh api orgs/acme/actions/runner-groups/${id}/runners?per_page=100`;
    const runner = (...labels: string[]) => ({ name: "r", labels: labels.map((name) => ({ name })) });
    const answers = (group: object, labels = ["self-hosted", "mlops-prod"]): Answers => ({
      [groups]: installed(
        JSON.stringify({
          runner_groups: [
            { id: 1, name: "Default" },
            { id: 7, name: "mlops-deploy", ...group },
          ],
        }),
      ),
      [runnersOf(1)]: installed(JSON.stringify({ runners: [runner("self-hosted", "mlops-prod-diff")] })),
      [runnersOf(7)]: installed(JSON.stringify({ runners: [runner(...labels)] })),
    });
    const workflow = "acme/mlops-platform/.github/workflows/deploy-environment.yml@refs/heads/main";

    it("fails while a group holding prod's deploy runners lets any workflow (a pull request's too) use them", () => {
      const { exitCode, text } = run(answers({ restricted_to_workflows: false }), "prod");
      expect(text).toContain(
        "FAIL prod deploy runner group: runner group mlops-deploy (any workflow) holds runners with self-hosted, mlops-prod",
      );
      expect(text).toContain(
        `fix: gh api -X PATCH orgs/acme/actions/runner-groups/7 -F restricted_to_workflows=true -f 'selected_workflows[]=${workflow}'`,
      );
      expect(exitCode).toBe(1);
      // Restricted, but to a workflow a branch can edit: still open.
      const branch = run(
        answers({
          restricted_to_workflows: true,
          selected_workflows: [
            "acme/mlops-platform/.github/workflows/deploy-environment.yml@refs/heads/feature",
          ],
        }),
        "prod",
      );
      expect(branch.text).toContain("FAIL prod deploy runner group");
    });

    it("passes a group restricted to the deploy workflow on main, and warns where it cannot tell", () => {
      const restricted = run(
        answers({ restricted_to_workflows: true, selected_workflows: [workflow] }),
        "prod",
      );
      expect(restricted.text).toContain(
        `ok   prod deploy runner group: mlops-deploy runs ${workflow} only\n`,
      );
      const offline = run(answers({ restricted_to_workflows: false }, ["self-hosted", "other"]), "prod");
      expect(offline.text).toContain(
        "warn prod deploy runner group: no registered runner carries self-hosted, mlops-prod",
      );
      const denied = run({ [groups]: failing("HTTP 403: Must have admin rights") }, "prod");
      expect(denied.text).toContain(
        "warn github deploy runner groups: could not list acme's runner groups (HTTP 403",
      );
    });
  });

  const template = "gh api repos/acme/mlops-platform/actions/oidc/customization/sub";
  it("fails while the repository's OIDC subject omits the ref: no job could assume the deploy roles", () => {
    const { exitCode, text } = run(
      { ...published(dev1_34), [template]: installed(JSON.stringify({ use_default: true })) },
      "staging",
    );
    expect(text).toContain("FAIL github oidc subject: acme/mlops-platform uses the default subject");
    expect(text).toContain(
      "fix: gh api -X PUT repos/acme/mlops-platform/actions/oidc/customization/sub -F use_default=false -f 'include_claim_keys[]=repo' -f 'include_claim_keys[]=context' -f 'include_claim_keys[]=ref'",
    );
    expect(exitCode).toBe(1);
  });

  it("passes the template the roles trust, and only warns where gh cannot read it", () => {
    const set = run(
      {
        [template]: installed(
          JSON.stringify({ use_default: false, include_claim_keys: ["repo", "context", "ref"] }),
        ),
      },
      "staging",
    );
    expect(set.text).toContain(
      "ok   github oidc subject: repo, context, ref: deploy roles trust main only\n",
    );
    const unread = run({}, "staging");
    expect(unread.text).toContain(
      "warn github oidc subject: could not read acme/mlops-platform's template (gh not found)",
    );
    // An environment deployed by hand needs no template.
    expect(run({}, "dev").text).not.toContain("github oidc subject");
  });
});
