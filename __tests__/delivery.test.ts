import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ENVIRONMENTS } from "../environments";
import { PROMOTION_PATHS } from "../environments/promotion";
import { isOnPremInput } from "../environments/targets";

const WORKFLOWS = join(__dirname, "..", ".github", "workflows");
const workflow = (file: string): any => parse(readFileSync(join(WORKFLOWS, file), "utf8"));

describe("GitHub workflows", () => {
  it("check pull requests with tests, lint, synth and a diff of every environment", () => {
    const pr = workflow("pull-request.yml");
    const steps = pr.jobs.test.steps.map((s: any) => s.run).filter(Boolean);
    expect(steps).toEqual(["npm ci", "npm test", "npm run lint", "npm run synth"]);
    expect(pr.jobs.diff.strategy.matrix.environment).toEqual(["dev", "staging", "prod"]);
    expect(pr.jobs.diff.steps.at(-1).run).toContain("npx cdktf diff");
  });

  it("deploy dev, then staging, then prod", () => {
    const deploy = workflow("deploy.yml");
    expect(deploy.on.push.branches).toEqual(["main"]);
    expect(deploy.jobs.staging.needs).toBe("dev");
    expect(deploy.jobs.prod.needs).toBe("staging");
    expect(Object.values<any>(deploy.jobs).map((job) => job.with.environment)).toEqual([
      "dev",
      "staging",
      "prod",
    ]);
    const reusable = workflow("deploy-environment.yml");
    expect(reusable.jobs.deploy.environment).toBe("${{ inputs.environment }}");
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

describe("Jenkinsfile", () => {
  const jenkinsfile = readFileSync(join(__dirname, "..", "Jenkinsfile"), "utf8");
  const stageBodies = Object.fromEntries(
    jenkinsfile
      .split(/\n    stage\('/)
      .slice(1)
      .map((chunk) => [chunk.slice(0, chunk.indexOf("'")), chunk]),
  );

  it("tests and synthesizes, then deploys onprem-test, waits for approval, deploys onprem-prod", () => {
    const stages = [...jenkinsfile.matchAll(/stage\('([^']+)'\)/g)].map((m) => m[1]);
    expect(stages).toEqual([
      "Install",
      "Test",
      "Synth",
      "Diff onprem-test",
      "Deploy onprem-test",
      "Approve onprem-prod",
      "Deploy onprem-prod",
    ]);
    expect(jenkinsfile).toMatch(
      /input message: 'Deploy to onprem-prod\?', submitter: 'mlops-release-approvers'/,
    );
  });

  it("deploys exactly the stacks synthesis writes for the on-prem environments", () => {
    const deployed = [...jenkinsfile.matchAll(/cdktf deploy --auto-approve ([^']+)'/g)].flatMap((m) =>
      m[1].trim().split(/\s+/),
    );
    const onPrem = ENVIRONMENTS.filter(isOnPremInput).map((env) => env.name);
    expect(deployed).toEqual(onPrem.flatMap((env) => [`${env}-platform`, `${env}-serving`]));
    expect(PROMOTION_PATHS).toContainEqual(onPrem);
  });

  it("hands each stage the kubeconfig where the providers and the state backend read it, after the preflight", () => {
    // The Kubernetes and Helm providers and Terraform's kubernetes backend read KUBE_CONFIG_PATH.
    expect(jenkinsfile).not.toMatch(/variable: 'KUBECONFIG'/);
    for (const env of ["onprem-test", "onprem-prod"]) {
      const stage =
        env === "onprem-test" ? stageBodies["Diff onprem-test"] : stageBodies["Deploy onprem-prod"];
      expect(stage).toContain(`file(credentialsId: 'kubeconfig-${env}', variable: 'KUBE_CONFIG_PATH')`);
      expect(stage).toContain("variable: 'TF_CLI_CONFIG_FILE'");
      const doctor = stage.indexOf(`npm run doctor -- --env ${env}`);
      expect(doctor).toBeGreaterThan(-1);
      expect(doctor).toBeLessThan(stage.indexOf("cdktf diff"));
    }
    for (const name of ["Deploy onprem-test", "Approve onprem-prod", "Deploy onprem-prod"])
      expect(stageBodies[name]).toContain("when { branch 'main' }");
  });
});
