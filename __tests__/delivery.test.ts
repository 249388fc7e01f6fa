import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

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

  it("runs synth, test, diff, deploy onprem-test, approval, deploy onprem-prod in that order", () => {
    const stages = [...jenkinsfile.matchAll(/stage\('([^']+)'\)/g)].map((m) => m[1]);
    expect(stages).toEqual([
      "Install",
      "Synth",
      "Test",
      "Diff onprem-test",
      "Deploy onprem-test",
      "Approve onprem-prod",
      "Deploy onprem-prod",
    ]);
    expect(jenkinsfile).toMatch(
      /input message: 'Deploy to onprem-prod\?', submitter: 'mlops-release-approvers'/,
    );
  });
});
