import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { ENVIRONMENTS } from "../environments";
import { deliveryEntries } from "../environments/delivery";
import { requireEnvironments } from "../environments/load";
import { PROMOTION_PATHS } from "../environments/promotion";
import { isAws } from "../environments/targets";
import { listEnvironments } from "../scripts/environments";
import { loadEnvironments } from "../environments/load";
import { prod } from "../environments/prod";
import { variant } from "./support/environment-variant";
import { synthesizeOnPremEnvironments } from "./support/synth";

const WORKFLOWS = join(__dirname, "..", ".github", "workflows");
const workflow = (file: string): any => parse(readFileSync(join(WORKFLOWS, file), "utf8"));

/** The step that prints the list of environments the pipeline deploys. */
const LIST_COMMAND = "npm run --silent environments -- --json --deployed-by pipeline --target aws";
const listed = () => {
  const run = listEnvironments(["--json", "--deployed-by", "pipeline", "--target", "aws"], ENVIRONMENTS);
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout) as any[];
};
/** A job that prints the list and hands it on as its output `list`. */
const expectListJob = (job: any) => {
  const step = job.steps.find((s: any) => s.id === "list");
  expect(step.run).toContain(LIST_COMMAND);
  expect(step.run).toContain('>> "$GITHUB_OUTPUT"');
  expect(job.outputs.list).toBe("${{ steps.list.outputs.list }}");
};

/** GitHub's token permission levels, ordered: a called job may only ask for a level at or below its caller's. */
const LEVELS = ["none", "read", "write"] as const;
const SCOPES = [
  "actions",
  "attestations",
  "checks",
  "contents",
  "deployments",
  "discussions",
  "id-token",
  "issues",
  "models",
  "packages",
  "pages",
  "pull-requests",
  "repository-projects",
  "security-events",
  "statuses",
] as const;
type Permissions = Record<(typeof SCOPES)[number], (typeof LEVELS)[number]>;
/**
 * A `permissions:` value as GitHub reads it: a map (unlisted scopes are none), `read-all`,
 * `write-all`, or `{}` (all none). `undefined` means not set at this level.
 */
const permissionsOf = (value: unknown): Permissions | undefined => {
  if (value === undefined) return undefined;
  const all = (level: (typeof LEVELS)[number]) =>
    Object.fromEntries(SCOPES.map((scope) => [scope, level])) as Permissions;
  if (value === "read-all") return all("read");
  if (value === "write-all") return all("write");
  const map = all("none");
  for (const [scope, level] of Object.entries(value as Record<string, string>)) {
    if (!(SCOPES as readonly string[]).includes(scope)) throw new Error(`unknown permission scope ${scope}`);
    if (!(LEVELS as readonly string[]).includes(level)) throw new Error(`unknown level ${scope}: ${level}`);
    map[scope as keyof Permissions] = level as (typeof LEVELS)[number];
  }
  return map;
};
/**
 * GitHub's rule for reusable workflows: the caller job's token (its own `permissions`, else its
 * workflow's top-level ones) is the ceiling; each job of the called workflow gets its own
 * `permissions` (else the called workflow's top-level ones, else the caller's) and the run is
 * refused at startup when any scope exceeds the ceiling. Returns GitHub's complaint per breach.
 */
const reusableCallProblems = (
  caller: { workflow: any; job: any; jobName: string },
  called: any,
): string[] => {
  const ceiling = permissionsOf(caller.job.permissions) ?? permissionsOf(caller.workflow.permissions);
  if (ceiling === undefined)
    return [`${caller.jobName}: no permissions at the job or the workflow; the repository default decides`];
  return Object.entries<any>(called.jobs).flatMap(([name, job]) => {
    const asked = permissionsOf(job.permissions) ?? permissionsOf(called.permissions) ?? ceiling;
    return SCOPES.filter((scope) => LEVELS.indexOf(asked[scope]) > LEVELS.indexOf(ceiling[scope])).map(
      (scope) =>
        `nested job '${name}' is requesting '${scope}: ${asked[scope]}', but is only allowed '${scope}: ${ceiling[scope]}'`,
    );
  });
};
/** Every job that calls a workflow of this repository, with the workflow it calls. */
const reusableCalls = () =>
  readdirSync(WORKFLOWS).flatMap((file) => {
    const parsed = workflow(file);
    return Object.entries<any>(parsed.jobs)
      .filter(([, job]) => typeof job.uses === "string" && job.uses.startsWith("./.github/workflows/"))
      .map(([jobName, job]) => ({
        file,
        jobName,
        caller: { workflow: parsed, job, jobName },
        called: workflow(job.uses.slice("./.github/workflows/".length)),
      }));
  });

describe("GitHub workflows", () => {
  it("take the environments from the registry: the pipeline-deployed AWS ones, in promotion order", () => {
    const loaded = requireEnvironments(ENVIRONMENTS);
    const expected = deliveryEntries(loaded, { deployedBy: "pipeline", target: "aws" });
    expect(listed()).toEqual(JSON.parse(JSON.stringify(expected)));
    // Every pipeline-deployed AWS environment is listed, each after its upstream.
    const names = listed().map((e) => e.name);
    const pipeline = loaded.filter(isAws).filter((e) => e.delivery.deployedBy === "pipeline");
    expect([...names].sort()).toEqual(pipeline.map((e) => e.name).sort());
    for (const path of PROMOTION_PATHS) {
      const onPath = names.filter((name) => path.includes(name));
      expect(onPath).toEqual(path.filter((name) => onPath.includes(name)));
    }
    for (const entry of listed()) {
      expect(entry.runsOn.length).toBeGreaterThan(0);
      expect(entry.foundationState.key).toBe(
        `${pipeline.find((e) => e.name === entry.name)!.stateBackend!.keyPrefix}/${entry.name}-foundation.tfstate`,
      );
    }
  });

  it("check pull requests with tests, lint, synth and a diff of every listed environment on its runner", () => {
    const pr = workflow("pull-request.yml");
    const steps = pr.jobs.test.steps.map((s: any) => s.run).filter(Boolean);
    expect(steps).toEqual([
      "npm ci",
      "npm test",
      "sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager",
      "npm run test:integration",
      "npm run lint",
      "npm run synth",
    ]);
    expectListJob(pr.jobs.environments);
    const diff = pr.jobs.diff;
    expect(diff.needs).toEqual(["test", "environments"]);
    expect(diff.strategy.matrix.environment).toBe("${{ fromJSON(needs.environments.outputs.list) }}");
    expect(diff.strategy["fail-fast"]).toBe(false);
    expect(diff["runs-on"]).toBe("${{ matrix.environment.diffRunsOn }}");
    expect(diff.env.FOUNDATION_STATE_KEY).toBe("${{ matrix.environment.foundationState.key }}");
    // Synthesized once, before the plans that read cdktf.out.
    const runs = diff.steps.map((s: any) => s.run).filter(Boolean);
    expect(runs.slice(0, -1)).toEqual(["npm ci", "npm run synth"]);
    expect(JSON.stringify(pr)).not.toMatch(/\[\s*"?dev"?\s*,\s*"?staging"?/);
  });

  describe("the pull-request plan script, run with stand-ins for aws and terraform", () => {
    const script = workflow("pull-request.yml").jobs.diff.steps.at(-1).run as string;
    /** Runs the script as GitHub does (bash -e); `aws` answers `headObject`, terraform logs its arguments. */
    const run = (headObject: { exit: number; stderr?: string }) => {
      const bin = mkdtempSync(join(tmpdir(), "pr-plan-"));
      try {
        writeFileSync(
          join(bin, "aws"),
          `#!/bin/sh\nprintf '%s' '${headObject.stderr ?? ""}' >&2\nexit ${headObject.exit}\n`,
          { mode: 0o755 },
        );
        writeFileSync(join(bin, "terraform"), `#!/bin/sh\necho "terraform $*" >> "${join(bin, "calls")}"\n`, {
          mode: 0o755,
        });
        const result = spawnSync("bash", ["-e", "-c", script], {
          cwd: bin,
          encoding: "utf8",
          env: {
            PATH: `${bin}:${process.env.PATH}`,
            ENVIRONMENT: "staging",
            STATE_BUCKET: "bucket",
            STATE_REGION: "eu-west-1",
            FOUNDATION_STATE_KEY: "mlops/staging-foundation.tfstate",
          },
        });
        const calls = existsSync(join(bin, "calls"))
          ? readFileSync(join(bin, "calls"), "utf8").trim().split("\n")
          : [];
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    };

    it("plans a deployed environment's platform and serving without refresh, and says why", () => {
      const result = run({ exit: 0 });
      expect(result.status).toBe(0);
      const dir = (stack: string) => `-chdir=cdktf.out/stacks/staging-${stack}`;
      expect(result.calls).toEqual([
        `terraform ${dir("foundation")} init -input=false`,
        `terraform ${dir("foundation")} plan -lock=false -input=false`,
        `terraform ${dir("platform")} init -input=false`,
        `terraform ${dir("platform")} plan -lock=false -refresh=false -input=false`,
        `terraform ${dir("serving")} init -input=false`,
        `terraform ${dir("serving")} plan -lock=false -refresh=false -input=false`,
      ]);
      expect(result.stdout).toMatch(
        /^::notice title=staging: platform and serving planned without refresh::/m,
      );
      expect(result.stdout).toContain("Helm's release records (Secrets), which the diff role cannot read");
      expect(result.stdout).toContain("drift");
    });

    it("plans only the foundation, with a notice, where the environment has never been deployed", () => {
      const result = run({
        exit: 254,
        stderr: "An error occurred (404) when calling the HeadObject operation",
      });
      expect(result.status).toBe(0);
      expect(result.calls).toEqual([
        "terraform -chdir=cdktf.out/stacks/staging-foundation init -input=false",
        "terraform -chdir=cdktf.out/stacks/staging-foundation plan -lock=false -input=false",
      ]);
      expect(result.stdout).toMatch(/^::notice title=staging has never been deployed::/m);
    });

    it("fails, planning nothing, where the foundation state is unreadable", () => {
      const result = run({
        exit: 254,
        stderr: "An error occurred (403) when calling the HeadObject operation",
      });
      expect(result.status).toBe(1);
      expect(result.calls).toEqual([]);
      expect(result.stdout).toMatch(/^::error title=staging: foundation state unreadable::/m);
    });
  });

  it("never lock the state from a pull request; deploys wait for a held lock instead of failing", () => {
    const plans = (workflow("pull-request.yml").jobs.diff.steps.at(-1).run as string)
      .split("\n")
      .filter((line) => /terraform .* plan /.test(line));
    expect(plans.length).toBeGreaterThan(0);
    for (const line of plans) expect(line).toContain("-lock=false");
    const deploy = workflow("deploy-environment.yml").jobs.deploy;
    expect(deploy.env.TF_CLI_ARGS_plan).toMatch(/^-lock-timeout=\d+m$/);
    expect(deploy.env.TF_CLI_ARGS_apply).toMatch(/^-lock-timeout=\d+m$/);
  });

  it("deploy the listed environments one at a time in promotion order, each on its runner", () => {
    const deploy = workflow("deploy.yml");
    expect(deploy.on.push.branches).toEqual(["main"]);
    expectListJob(deploy.jobs.environments);
    const job = deploy.jobs.deploy;
    expect(job.needs).toBe("environments");
    expect(job.strategy).toEqual({
      "max-parallel": 1,
      "fail-fast": true,
      matrix: { environment: "${{ fromJSON(needs.environments.outputs.list) }}" },
    });
    expect(job.uses).toBe("./.github/workflows/deploy-environment.yml");
    expect(job.with).toEqual({
      environment: "${{ matrix.environment.name }}",
      "runs-on": "${{ toJSON(matrix.environment.runsOn) }}",
      region: "${{ matrix.environment.region }}",
    });
    expect(Object.keys(deploy.jobs)).toEqual(["environments", "deploy"]);
    const reusable = workflow("deploy-environment.yml");
    expect(reusable.jobs.deploy.environment).toBe("${{ inputs.environment }}");
    expect(reusable.jobs.deploy["runs-on"]).toBe("${{ fromJSON(inputs.runs-on) }}");
    expect(reusable.jobs.deploy.steps.at(-1).run).toContain('"${{ inputs.environment }}-serving"');
  });

  it("grant every reusable call the permissions its called jobs ask for (GitHub refuses the run otherwise)", () => {
    const calls = reusableCalls();
    expect(calls.map((c) => `${c.file}:${c.jobName}`)).toContain("deploy.yml:deploy");
    for (const call of calls)
      expect([call.file, call.jobName, reusableCallProblems(call.caller, call.called)]).toEqual([
        call.file,
        call.jobName,
        [],
      ]);
  });

  it("model GitHub's narrowing: a called job may ask for no more than its caller holds", () => {
    const called = { jobs: { deploy: { permissions: { contents: "read", "id-token": "write" } } } };
    const workflowOnly = { workflow: { permissions: { contents: "read" } }, job: {}, jobName: "deploy" };
    // deploy.yml before the fix: the job inherited the workflow's contents: read.
    expect(reusableCallProblems(workflowOnly, called)).toEqual([
      "nested job 'deploy' is requesting 'id-token: write', but is only allowed 'id-token: none'",
    ]);
    const granted = { ...workflowOnly, job: { permissions: { contents: "read", "id-token": "write" } } };
    expect(reusableCallProblems(granted, called)).toEqual([]);
    // A called job without permissions gets the called workflow's, else the caller's.
    expect(reusableCallProblems(workflowOnly, { jobs: { deploy: {} } })).toEqual([]);
    expect(reusableCallProblems(workflowOnly, { permissions: "write-all", jobs: { deploy: {} } })).toContain(
      "nested job 'deploy' is requesting 'contents: write', but is only allowed 'contents: read'",
    );
    expect(reusableCallProblems({ workflow: {}, job: {}, jobName: "x" }, called)).toHaveLength(1);
  });

  it("plan pull requests on runners that never take a deploy job (diff and deploy labels, neither within the other)", () => {
    for (const entry of listed()) {
      const diff: string[] = entry.diffRunsOn;
      const deploy: string[] = entry.runsOn;
      expect(diff).toBeDefined();
      if (!diff.includes("self-hosted")) continue;
      expect([entry.name, diff.every((l) => deploy.includes(l))]).toEqual([entry.name, false]);
      expect([entry.name, deploy.every((l) => diff.includes(l))]).toEqual([entry.name, false]);
    }
  });

  it.each([
    [
      "the deploy runner's labels",
      ["self-hosted", "mlops-prod"],
      "a runner carrying the deploy labels takes pull-request jobs",
    ],
    ["a subset of them", ["self-hosted"], "a runner carrying the deploy labels takes pull-request jobs"],
    [
      "a superset of them",
      ["self-hosted", "mlops-prod", "diff"],
      "a runner carrying the pull-request labels takes deploy jobs",
    ],
    ["nothing", undefined, "must name the pull-request runner when the deploy runner is self-hosted"],
  ])("refuse an environment whose pull-request runner labels are %s", (_what, labels, message) => {
    const result = loadEnvironments([
      variant(prod, (e) => {
        if (labels === undefined) delete e.delivery.diffRunnerLabels;
        else e.delivery.diffRunnerLabels = labels;
      }),
    ]);
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringContaining("prod: delivery.diffRunnerLabels"),
    ]);
    expect(result.ok ? "" : result.problems[0]).toContain(message);
    expect(result.ok ? "" : result.problems[0]).toContain("fix:");
  });

  it("reach AWS only through OIDC role assumption, never static keys", () => {
    for (const file of readdirSync(WORKFLOWS)) {
      const text = readFileSync(join(WORKFLOWS, file), "utf8");
      expect([file, /aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/i.test(text)]).toEqual([
        file,
        false,
      ]);
      const parsed = workflow(file);
      for (const job of Object.values<any>(parsed.jobs)) {
        const assumes = (job.steps ?? []).some((s: any) =>
          String(s.uses).startsWith("aws-actions/configure-aws-credentials"),
        );
        if (assumes) {
          expect(job.permissions["id-token"]).toBe("write");
          const step = job.steps.find((s: any) =>
            String(s.uses).startsWith("aws-actions/configure-aws-credentials"),
          );
          expect(step.with["role-to-assume"]).toMatch(/^\$\{\{ vars/);
        }
      }
    }
  });
});

/** A Jenkinsfile of the repository with each stage's body, nested stages included (brace matching). */
const readJenkinsfile = (file: string) => {
  const text = readFileSync(join(__dirname, "..", file), "utf8");
  const stageBodies: Record<string, string> = Object.fromEntries(
    [...text.matchAll(/stage\('([^']+)'\) \{/g)].map((m) => {
      let depth = 0;
      let end = m.index!;
      for (let i = m.index! + m[0].length - 1; i < text.length; i++) {
        if (text[i] === "{") depth++;
        else if (text[i] === "}" && --depth === 0) {
          end = i;
          break;
        }
      }
      return [m[1], text.slice(m.index!, end + 1)];
    }),
  );
  return {
    text,
    header: text.slice(0, text.indexOf("pipeline {")),
    pipeline: text.slice(text.indexOf("pipeline {")),
    stages: [...text.matchAll(/stage\('([^']+)'\)/g)].map((m) => m[1]),
    stageBodies,
    /** A stage's own directives, without those of the stages nested in it. */
    ownPart: (name: string) => stageBodies[name].split(/\n\s+stages \{/)[0],
    shells: (name: string) => [...stageBodies[name].matchAll(/sh '([^']+)'/g)].map((m) => m[1]),
    credentials: [...new Set([...text.matchAll(/credentialsId: '([^']+)'/g)].map((m) => m[1]))].sort(),
    labels: [...new Set([...text.matchAll(/agent \{ label '([^']+)' \}/g)].map((m) => m[1]))],
  };
};
const DEPLOY_KUBECONFIGS = ["kubeconfig-onprem-prod", "kubeconfig-onprem-test"];

describe("Jenkinsfile (branches and pull requests: diff only)", () => {
  const branch = readJenkinsfile("Jenkinsfile");

  it("tests and synthesizes, then diffs onprem-test; nothing else", () => {
    expect(branch.stages).toEqual(["onprem-test", "Install", "Test", "Synth", "Diff onprem-test"]);
    expect(branch.shells("Test")).toEqual(["npm test", "npm run test:integration", "npm run lint"]);
  });

  it("references no deploy credential, no apply and no approval (any branch can edit this file)", () => {
    expect(branch.credentials).toEqual(["kubeconfig-onprem-test-diff", "terraform-cli-config"]);
    for (const credential of [
      ...DEPLOY_KUBECONFIGS,
      "artifactory-promote-token",
      "object-store-promote-keys",
    ]) {
      expect(branch.pipeline).not.toContain(`'${credential}'`);
    }
    expect(branch.pipeline).not.toMatch(
      /cdktf deploy|terraform apply|--auto-approve|promote-artifacts|input /,
    );
    // Branch conditions would suggest the file guards main; it cannot.
    expect(branch.pipeline).not.toMatch(/\bbranch '/);
  });

  it("diffs with the read-only kubeconfig, without refresh or lock", () => {
    const diff = branch.stageBodies["Diff onprem-test"];
    // The Kubernetes and Helm providers and Terraform's kubernetes backend read KUBE_CONFIG_PATH.
    expect(diff).toContain(
      "file(credentialsId: 'kubeconfig-onprem-test-diff', variable: 'KUBE_CONFIG_PATH')",
    );
    expect(diff).toContain("variable: 'TF_CLI_CONFIG_FILE'");
    expect(diff).toContain("TF_CLI_ARGS_plan = '-refresh=false -lock=false'");
    expect(branch.shells("Diff onprem-test")).toEqual([
      "npm run doctor -- --env onprem-test",
      "scripts/diff-onprem.sh onprem-test",
    ]);
    expect(branch.labels).toEqual(["rhel"]);
    expect(branch.header).toContain("ci/onprem-test-diff-rbac.yaml");
  });
});

describe("Jenkinsfile.deploy (main only: deploys onprem-test, then onprem-prod after approval)", () => {
  const deploy = readJenkinsfile("Jenkinsfile.deploy");
  const branch = readJenkinsfile("Jenkinsfile");

  it("tests and synthesizes, then deploys onprem-test, waits for approval, deploys onprem-prod", () => {
    expect(deploy.stages).toEqual([
      "onprem-test",
      "Install",
      "Test",
      "Synth",
      "Deploy onprem-test",
      "Approve onprem-prod",
      "onprem-prod",
      "Install and synth",
      "Promote artifacts to onprem-prod",
      "Deploy onprem-prod",
    ]);
    expect(deploy.text).toMatch(
      /input message: 'Deploy to onprem-prod\?', submitter: 'mlops-release-approvers'/,
    );
    expect(deploy.shells("Test")).toEqual(["npm test", "npm run test:integration", "npm run lint"]);
  });

  it("runs from main by its job (pipeline script from SCM pinned to main), with no branch condition a plain job would skip", () => {
    // In a plain Pipeline job BRANCH_NAME is unset: `when { branch 'main' }` would skip every deploy.
    expect(deploy.pipeline).not.toMatch(/\bbranch '|BRANCH_NAME/);
    expect(deploy.header).toContain('"Pipeline script from SCM" pinned to the branch `*/main`');
    expect(deploy.header).toContain("not a multibranch job");
  });

  it("binds the deploy credentials only, on deploy agents the branch builds never take", () => {
    expect(deploy.credentials).toEqual([
      "artifactory-promote-token",
      "kubeconfig-onprem-prod",
      "kubeconfig-onprem-test",
      "object-store-promote-keys",
      "terraform-cli-config",
    ]);
    // The deploy agents' label is neither the branch agents' label nor contains it, nor the reverse.
    expect(deploy.labels).toEqual(["rhel-deploy"]);
    for (const label of branch.labels) expect(label).not.toBe(deploy.labels[0]);
    // Folder-scoped credentials: the header names the folder that alone holds them.
    expect(deploy.header).toContain("credentials of the folder `mlops-deploy`");
    expect(branch.header).toContain("credentials of the folder `mlops-ci`");
  });

  it("holds no agent while it waits for the approval, and no build timeout shorter than the wait", () => {
    expect(deploy.pipeline).toMatch(/^pipeline \{\n  agent none\n/);
    const approval = deploy.stageBodies["Approve onprem-prod"];
    expect(approval).not.toContain("agent {");
    expect(approval).toMatch(/timeout\(time: 3, unit: 'DAYS'\)/);
    // The two-hour limits sit on the stages holding an agent, not on the whole build.
    const options = deploy.pipeline.slice(0, deploy.pipeline.indexOf("stages {"));
    expect(options).not.toContain("timeout(");
    for (const name of ["onprem-test", "onprem-prod"]) {
      expect(deploy.ownPart(name)).toContain("agent { label 'rhel-deploy' }");
      expect(deploy.ownPart(name)).toContain("timeout(time: 2, unit: 'HOURS')");
    }
  });

  it("deploys exactly the stacks synthesis writes for the on-prem environments", () => {
    const deployed = [...deploy.text.matchAll(/cdktf deploy --auto-approve ([^']+)'/g)].flatMap((m) =>
      m[1].trim().split(/\s+/),
    );
    // The on-prem environments the registry marks for the pipeline, in promotion order.
    const onPrem = deliveryEntries(requireEnvironments(ENVIRONMENTS), {
      deployedBy: "pipeline",
      target: "rancher",
    }).map((env) => env.name);
    expect(deployed).toEqual(onPrem.flatMap((env) => [`${env}-platform`, `${env}-serving`]));
    expect(PROMOTION_PATHS).toContainEqual(onPrem);
  });

  it("preflights and diffs each environment with its deploy kubeconfig before applying; deploys wait for a held lock", () => {
    expect(deploy.text).not.toMatch(/variable: 'KUBECONFIG'/);
    for (const env of ["onprem-test", "onprem-prod"]) {
      const body = deploy.stageBodies[`Deploy ${env}`];
      expect(body).toContain(`file(credentialsId: 'kubeconfig-${env}', variable: 'KUBE_CONFIG_PATH')`);
      expect(body).toContain("variable: 'TF_CLI_CONFIG_FILE'");
      expect(body).toContain("TF_CLI_ARGS_plan = '-lock-timeout=15m'");
      expect(deploy.shells(`Deploy ${env}`).slice(0, 2)).toEqual([
        `npm run doctor -- --env ${env}`,
        `scripts/diff-onprem.sh ${env}`,
      ]);
    }
    expect(deploy.text).toContain("TF_CLI_ARGS_apply = '-lock-timeout=15m'");
  });

  it("copies the release's images and model files to onprem-prod after the approval, before its deploy", () => {
    const stage = deploy.stageBodies["Promote artifacts to onprem-prod"];
    expect(stage).toContain("sh 'npm run promote-artifacts -- --from onprem-test --to onprem-prod'");
    expect(stage).not.toContain("--dry-run");
    // The Artifactory token and the object store keys, where the command and the AWS CLI read them.
    expect(stage).toContain(
      "string(credentialsId: 'artifactory-promote-token', variable: 'ARTIFACTORY_TOKEN')",
    );
    expect(stage).toMatch(
      /usernamePassword\(\s*credentialsId: 'object-store-promote-keys',\s*usernameVariable: 'AWS_ACCESS_KEY_ID',\s*passwordVariable: 'AWS_SECRET_ACCESS_KEY',?\s*\)/,
    );
    // Neither the kubeconfig nor the deploy: nothing in the cluster changes here.
    expect(stage).not.toContain("KUBE_CONFIG_PATH");
    expect(stage).not.toContain("cdktf");
    // Both credentials are listed in the header, where the agents' needs are.
    expect(deploy.header).toContain("'artifactory-promote-token'");
    expect(deploy.header).toContain("'object-store-promote-keys'");
  });
});

describe("the diff kubeconfig's RBAC (ci/onprem-test-diff-rbac.yaml)", () => {
  const manifests: any[] = parseAllDocuments(
    readFileSync(join(__dirname, "..", "ci", "onprem-test-diff-rbac.yaml"), "utf8"),
  ).map((doc) => doc.toJS());
  const account = manifests.find((m) => m.kind === "ServiceAccount");
  const bound = (kind: "Role" | "ClusterRole") =>
    manifests
      .filter((m) => m.kind === kind)
      .filter((role) =>
        manifests.some(
          (b) =>
            b.kind === `${kind}Binding` &&
            b.metadata.namespace === role.metadata.namespace &&
            b.roleRef.kind === kind &&
            b.roleRef.name === role.metadata.name &&
            b.subjects.some(
              (s: any) =>
                s.kind === "ServiceAccount" &&
                s.name === account.metadata.name &&
                s.namespace === account.metadata.namespace,
            ),
        ),
      );
  /** Whether a bound rule lets the account `verb` the core-group `resource` `name` in `namespace`. */
  const allows = (verb: string, resource: string, namespace: string, name?: string) =>
    [...bound("ClusterRole"), ...bound("Role").filter((role) => role.metadata.namespace === namespace)].some(
      (role) =>
        role.rules.some(
          (rule: any) =>
            rule.apiGroups.includes("") &&
            rule.resources.includes(resource) &&
            rule.verbs.includes(verb) &&
            (rule.resourceNames === undefined || (name !== undefined && rule.resourceNames.includes(name))),
        ),
    );
  const onPremTest = synthesizeOnPremEnvironments()["onprem-test"];
  /** The resources the Kubernetes provider's data sources read, by data source type. */
  const DATA_SOURCE_RESOURCES: Record<string, string> = {
    kubernetes_secret_v1: "secrets",
    kubernetes_secret: "secrets",
    kubernetes_config_map_v1: "configmaps",
    kubernetes_config_map: "configmaps",
    kubernetes_namespace_v1: "namespaces",
    kubernetes_namespace: "namespaces",
  };

  it.each(["platform", "serving"] as const)(
    "onprem-test-%s: the state backend can list and get the state Secrets (terraform init lists the workspaces)",
    (stack) => {
      const backend = onPremTest[stack].json.terraform.backend.kubernetes;
      expect(allows("list", "secrets", backend.namespace)).toBe(true);
      expect(allows("get", "secrets", backend.namespace)).toBe(true);
      // -lock=false: no Lease is written, and none may be.
      expect(JSON.stringify(manifests)).not.toContain("leases");
    },
  );

  it.each(["platform", "serving"] as const)(
    "onprem-test-%s: every Kubernetes data source (read even with -refresh=false) is readable",
    (stack) => {
      const data = onPremTest[stack].json.data ?? {};
      const reads = Object.entries(data)
        .filter(([type]) => type.startsWith("kubernetes_"))
        .flatMap(([type, sources]) =>
          Object.values<any>(sources).map((source) => {
            const metadata = Array.isArray(source.metadata) ? source.metadata[0] : source.metadata;
            return {
              type,
              resource: DATA_SOURCE_RESOURCES[type],
              namespace: metadata?.namespace ?? "default",
              name: metadata?.name,
            };
          }),
        );
      for (const read of reads) {
        const covered =
          read.resource !== undefined &&
          (read.resource === "namespaces"
            ? allows("get", "namespaces", "", read.name)
            : allows("get", read.resource, read.namespace, read.name));
        expect([read, covered]).toEqual([read, true]);
      }
    },
  );

  it("grants nothing it could change with, and Secrets outside the state namespace only by name", () => {
    const stateNamespace = onPremTest.environment.stateBackend.namespace;
    for (const role of manifests.filter((m) => m.kind === "Role" || m.kind === "ClusterRole")) {
      for (const rule of role.rules) {
        expect(rule.verbs.filter((verb: string) => !["get", "list", "watch"].includes(verb))).toEqual([]);
        expect([...rule.resources, ...rule.apiGroups, ...rule.verbs]).not.toContain("*");
        if (rule.resources.includes("secrets") && role.metadata.namespace !== stateNamespace) {
          expect([role.kind, role.metadata.namespace, rule.resourceNames?.length > 0]).toEqual([
            "Role",
            role.metadata.namespace,
            true,
          ]);
        }
      }
    }
    // scripts/diff-onprem.sh reads KServe's CRD; `npm run doctor` reads the state namespace.
    expect(
      bound("ClusterRole").some((role) =>
        role.rules.some(
          (rule: any) =>
            rule.apiGroups.includes("apiextensions.k8s.io") &&
            rule.resources.includes("customresourcedefinitions") &&
            rule.verbs.includes("get"),
        ),
      ),
    ).toBe(true);
    expect(allows("get", "namespaces", "", stateNamespace)).toBe(true);
  });
});

describe("scripts/diff-onprem.sh", () => {
  describe("scripts/diff-onprem.sh, run with stand-ins for kubectl and npx", () => {
    const run = (kubectl: { exit: number; stderr?: string }) => {
      const bin = mkdtempSync(join(tmpdir(), "diff-onprem-"));
      try {
        writeFileSync(
          join(bin, "kubectl"),
          `#!/bin/sh\nprintf '%s' '${kubectl.stderr ?? "customresourcedefinition.apiextensions.k8s.io/inferenceservices.serving.kserve.io"}' >&2\nexit ${kubectl.exit}\n`,
          { mode: 0o755 },
        );
        writeFileSync(join(bin, "npx"), `#!/bin/sh\necho "npx $*" >> "${join(bin, "calls")}"\n`, {
          mode: 0o755,
        });
        const result = spawnSync(
          "bash",
          [join(__dirname, "..", "scripts", "diff-onprem.sh"), "onprem-test"],
          {
            cwd: bin,
            encoding: "utf8",
            env: { PATH: `${bin}:${process.env.PATH}`, KUBE_CONFIG_PATH: join(bin, "kubeconfig") },
          },
        );
        const calls = existsSync(join(bin, "calls"))
          ? readFileSync(join(bin, "calls"), "utf8").trim().split("\n")
          : [];
        return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    };

    it("diffs platform and serving once the platform has installed KServe's CRD", () => {
      const result = run({ exit: 0 });
      expect(result.status).toBe(0);
      expect(result.calls).toEqual([
        "npx cdktf diff onprem-test-platform",
        "npx cdktf diff onprem-test-serving",
      ]);
    });

    it("diffs only the platform before its first apply, saying why (serving's InferenceServices need the CRD at plan)", () => {
      const result = run({
        exit: 1,
        stderr:
          'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "inferenceservices.serving.kserve.io" not found',
      });
      expect(result.status).toBe(0);
      expect(result.calls).toEqual(["npx cdktf diff onprem-test-platform"]);
      expect(result.stdout).toContain(
        "onprem-test-serving is not planned: the cluster has no inferenceservices.serving.kserve.io yet",
      );
    });

    it("fails when the CRD cannot be read for another reason", () => {
      const result = run({ exit: 1, stderr: "Error from server (Forbidden): forbidden" });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("must allow get on customresourcedefinitions");
    });
  });
});
