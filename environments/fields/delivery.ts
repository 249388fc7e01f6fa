/**
 * Who deploys an environment and from which runner: runner labels, and what pipeline delivery
 * asks of an environment.
 */
import { z } from "zod";
import type { Environment } from "../schema";
import { environmentNameSchema, fix, MISSING } from "./common";
import { documentationRangeOf } from "./network";

/** What GitHub Actions accepts as a runner label (`runs-on`). */
export const RUNNER_LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function runnerLabelsSchema(example: readonly string[]) {
  return z
    .array(
      z.string().regex(RUNNER_LABEL, {
        error: fix(
          "must be a runner label: letters, digits, . _ - (at most 100), starting with a letter or digit",
          'use labels like "self-hosted" and "mlops-prod"',
        ),
      }),
    )
    .min(1, {
      error: fix(
        "must list at least one label when given",
        `list the runner's labels, e.g. ${JSON.stringify(example)}`,
      ),
    })
    .optional();
}

/** Who deploys an AWS environment, and from which runner. */
export const awsDeliverySchema = z
  .strictObject({
    /**
     * `pipeline`: the GitHub workflows diff it on pull requests and deploy it on main (needs
     * `stateBackend` and `runnerLabels`); `manual`: deployed by hand, e.g. from a laptop with
     * local state; the workflows neither diff nor deploy it.
     */
    deployedBy: z
      .enum(["pipeline", "manual"], {
        error: fix(
          "must be pipeline or manual",
          'use "pipeline" for an environment CI deploys, "manual" for one deployed by hand',
        ),
      })
      .describe(
        "`pipeline` needs `stateBackend` and `runnerLabels`, and no documentation range (RFC 5737) in `eks.publicEndpoint.allowedCidrs`",
      ),
    /**
     * `runs-on` labels of the runner that deploys the stacks (main only, holding the deploy
     * role); a runner inside the VPC is self-hosted (`["self-hosted", "mlops-<env>"]`).
     * @default none (only for manual delivery)
     */
    runnerLabels: runnerLabelsSchema(["self-hosted", "mlops-prod"]).describe(
      "required when `deployedBy` is `pipeline`, refused otherwise; without `self-hosted`, `eks.publicEndpoint` must be enabled",
    ),
    /**
     * `runs-on` labels of the runner that plans pull requests (their code, with the read-only
     * diff role): never one that can take the deploy job. @default runnerLabels where those
     * name GitHub-hosted runners (a fresh machine per job)
     */
    diffRunnerLabels: runnerLabelsSchema(["self-hosted", "mlops-prod-diff"]).describe(
      "required with a self-hosted `runnerLabels`; neither label list may be contained in the other, so no runner takes both pull-request and deploy jobs",
    ),
  })
  .describe("who deploys the environment and from which runner");

/** What pipeline delivery asks of an environment: remote state, a runner that reaches the cluster. */
export function deliveryProblems(env: Environment, ctx: z.RefinementCtx<Environment>): void {
  const { deployedBy, runnerLabels, diffRunnerLabels } = env.delivery;
  const issue = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: "custom", path, input, message });
  if (deployedBy === "manual") {
    for (const field of ["runnerLabels", "diffRunnerLabels"] as const)
      if (env.delivery[field] !== undefined)
        issue(
          ["delivery", field],
          env.delivery[field],
          fix(
            "only an environment the pipeline deploys has a runner",
            `remove delivery.${field}, or set delivery.deployedBy: "pipeline"`,
          ),
        );
    return;
  }
  // .github/workflows/pull-request.yml assumes vars[AWS_DIFF_ROLE_ARN_<name>]; GitHub's
  // configuration variable names hold only letters, digits and underscores. A name its own rules
  // refuse is reported once, there.
  if (env.name.includes("-") && environmentNameSchema.safeParse(env.name).success)
    issue(
      ["delivery", "deployedBy"],
      deployedBy,
      fix(
        `cannot hold for an environment named ${JSON.stringify(env.name)}: the pull-request diff assumes the role in the repository variable AWS_DIFF_ROLE_ARN_${env.name}, and GitHub variable names hold only letters, digits and _`,
        `keep ${env.name} deployed by hand (delivery.deployedBy: "manual"), or give it a name without hyphens, e.g. ${env.name.replace(/-/g, "")}, before its first deploy (the name is its stacks' and state keys' too)`,
      ),
    );
  if (env.stateBackend === undefined)
    issue(
      ["delivery", "deployedBy"],
      deployedBy,
      fix(
        "an environment the pipeline deploys needs remote state (stateBackend): a runner's local state is gone after its job, and the next deploy fails on resources that already exist",
        'set stateBackend to an S3 bucket, or set delivery.deployedBy: "manual" to deploy it by hand',
      ),
    );
  if (runnerLabels === undefined)
    issue(
      ["delivery", "runnerLabels"],
      MISSING,
      fix(
        "must name the runner when the pipeline deploys the environment",
        `set delivery.runnerLabels, e.g. ["self-hosted", "mlops-${env.name}"] for a runner inside the VPC`,
      ),
    );
  else if (!runnerLabels.includes("self-hosted") && !env.eks.publicEndpoint.enabled)
    issue(
      ["delivery", "runnerLabels"],
      runnerLabels,
      fix(
        "name a GitHub-hosted runner, which reaches the cluster only through the public endpoint, and eks.publicEndpoint is disabled",
        `run a self-hosted runner inside the VPC and list its labels (["self-hosted", "mlops-${env.name}"]), or enable eks.publicEndpoint with the runners' egress ranges`,
      ),
    );
  if (runnerLabels !== undefined) runnerSeparationProblems(env.name, runnerLabels, diffRunnerLabels, issue);
  env.eks.publicEndpoint.allowedCidrs.forEach((block, index) => {
    const documentation = documentationRangeOf(block);
    if (documentation !== undefined)
      issue(
        ["eks", "publicEndpoint", "allowedCidrs", index],
        block,
        fix(
          `is in the documentation range ${documentation} (RFC 5737), a placeholder no runner or office egresses from, and the pipeline deploys this environment`,
          "list the real egress ranges of the runners and the office, or disable the public endpoint and deploy from a self-hosted runner inside the VPC",
        ),
      );
  });
}

/**
 * Pull requests run their own code on the diff runner; the deploy runner holds the deploy role's
 * token and the state. GitHub gives a job any runner carrying all its labels: if one list
 * contains the other, a runner registered for one job can take the other. GitHub-hosted runners
 * are a fresh machine per job, so they may share labels.
 */
export function runnerSeparationProblems(
  name: string,
  deploy: readonly string[],
  diff: readonly string[] | undefined,
  issue: (path: (string | number)[], input: unknown, message: string) => void,
): void {
  const selfHosted = deploy.includes("self-hosted") || (diff ?? []).includes("self-hosted");
  if (!selfHosted) return;
  if (diff === undefined) {
    issue(
      ["delivery", "diffRunnerLabels"],
      MISSING,
      fix(
        "must name the pull-request runner when the deploy runner is self-hosted: pull-request code must not run where deploys run",
        `set delivery.diffRunnerLabels, e.g. ["self-hosted", "mlops-${name}-diff"], a runner in its own runner group`,
      ),
    );
    return;
  }
  const within = (a: readonly string[], b: readonly string[]) => a.every((label) => b.includes(label));
  if (within(diff, deploy) || within(deploy, diff))
    issue(
      ["delivery", "diffRunnerLabels"],
      diff,
      fix(
        `coincides with delivery.runnerLabels ${JSON.stringify(deploy)}: a runner carrying ${within(diff, deploy) ? "the deploy labels takes pull-request jobs" : "the pull-request labels takes deploy jobs"}, so pull-request code would run where the deploy role and the state are`,
        `give each a label the other lacks, e.g. ["self-hosted", "mlops-${name}-diff"] for the pull-request runner, registered in its own runner group`,
      ),
    );
}

/**
 * Who deploys the environment. Its state always lives in the cluster, so Jenkins may; the
 * Jenkinsfile.deploy deploys exactly the on-prem environments marked `pipeline` (a test holds it).
 */
export const onPremDeliverySchema = z
  .strictObject({
    /** `pipeline`: Jenkinsfile.deploy diffs and deploys it; `manual`: deployed by hand only. */
    deployedBy: z.enum(["pipeline", "manual"], {
      error: fix(
        "must be pipeline or manual",
        'use "pipeline" for an environment Jenkins deploys, "manual" for one deployed by hand',
      ),
    }),
  })
  .describe("who deploys the environment");
