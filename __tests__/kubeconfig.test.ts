import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describeAccess, eksAccess, rancherAccess, runKubeconfig } from "../scripts/kubeconfig";
import { synthesizeEnvironments, synthesizeOnPremEnvironments } from "./support/synth";

const aws = synthesizeEnvironments();
const onPrem = synthesizeOnPremEnvironments();

describe("npm run kubeconfig", () => {
  it.each(Object.keys(aws))("%s: names its EKS cluster, region and exactly its admin principals", (name) => {
    const { environment, foundation } = aws[name];
    const access = eksAccess(name, foundation.json as any);
    expect(access.clusterName).toBe(`mlops-${name}`);
    expect(access.region).toBe(environment.aws.region);
    const admins = access.entries
      .filter((e) => e.policy === "AmazonEKSClusterAdminPolicy")
      .map((e) => e.principalArn);
    expect(admins).toEqual([...environment.eks.adminPrincipalArns]);
    const text = describeAccess(access);
    expect(text).toContain(
      `aws eks update-kubeconfig --name mlops-${name} --region ${environment.aws.region} --alias ${name}`,
    );
    expect(text).not.toMatch(/\$\{|<reference>/);
  });

  it("shows the pull-request diff role as a viewer with its Kubernetes group, account resolved", () => {
    const access = eksAccess("dev", aws.dev.foundation.json as any);
    const account = aws.dev.environment.aws.allowedAccountIds?.[0];
    expect(account).toMatch(/^\d{12}$/);
    expect(access.entries.filter((e) => e.policy === "AmazonEKSViewPolicy")).toEqual([
      {
        principalArn: `arn:aws:iam::${account}:role/ci-diff`,
        policy: "AmazonEKSViewPolicy",
        kubernetesGroups: ["mlops:pull-request-diff"],
      },
    ]);
  });

  it("says where the API endpoint answers: the allowed ranges, or only inside the VPC", () => {
    const publicOne = Object.values(aws).find((e) => e.environment.eks.publicEndpoint.enabled);
    const privateOne = Object.values(aws).find((e) => !e.environment.eks.publicEndpoint.enabled);
    expect(publicOne && privateOne).toBeDefined();
    const name = (e: typeof publicOne) => e!.environment.name;
    expect(describeAccess(eksAccess(name(publicOne), publicOne!.foundation.json as any))).toContain(
      `public for ${publicOne!.environment.eks.publicEndpoint.allowedCidrs.join(", ")}`,
    );
    expect(describeAccess(eksAccess(name(privateOne), privateOne!.foundation.json as any))).toContain(
      "The API endpoint is private",
    );
  });

  it.each(Object.keys(onPrem))("%s: names the kubeconfig context of its Rancher cluster", (name) => {
    const access = rancherAccess(name, onPrem[name].platform.json as any);
    expect(access.context).toBe(onPrem[name].environment.cluster.kubeconfigContext);
    expect(describeAccess(access)).toContain(`--context ${access.context} get nodes`);
  });

  describe("as a command over a cdktf.out folder", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
      for (const [stack, json] of [
        ["dev-foundation", aws.dev.foundation.json],
        ["onprem-test-platform", onPrem["onprem-test"].platform.json],
      ] as const) {
        mkdirSync(join(dir, "out", "stacks", stack), { recursive: true });
        writeFileSync(join(dir, "out", "stacks", stack, "cdk.tf.json"), JSON.stringify(json));
      }
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("prints the EKS or the Rancher way in, by what the environment synthesized", () => {
      const eks = runKubeconfig(["--env", "dev", "--out", "out"], dir);
      expect(eks.exitCode).toBe(0);
      expect(eks.stdout).toContain("aws eks update-kubeconfig --name mlops-dev");
      const rancher = runKubeconfig(["--env", "onprem-test", "--out", "out"], dir);
      expect(rancher.exitCode).toBe(0);
      expect(rancher.stdout).toContain("KUBE_CONFIG_PATH");
    });

    it("refuses an unknown environment with the ones synthesized, and a missing folder with npm run synth", () => {
      expect(runKubeconfig(["--env", "uat", "--out", "out"], dir)).toEqual({
        exitCode: 1,
        stdout: "",
        stderr:
          "kubeconfig: out/stacks/uat-platform/cdk.tf.json does not exist; the synthesized environments are dev, onprem-test; fix: name one of them, or run npm run synth after adding the environment\n",
      });
      expect(runKubeconfig(["--env", "dev", "--out", "empty"], dir).stderr).toBe(
        "kubeconfig: empty/stacks/dev-platform/cdk.tf.json does not exist: nothing is synthesized; fix: run npm run synth first\n",
      );
    });

    it("refuses a missing --env and an unknown flag with the usage", () => {
      expect(runKubeconfig([], dir).stderr).toMatch(/--env is required; usage: npm run kubeconfig -- --env/);
      expect(runKubeconfig(["--env", "dev", "--bogus"], dir).stderr).toMatch(
        /Unknown option '--bogus'; fix: usage: npm run kubeconfig/,
      );
    });
  });
});
