import { checkLeftovers, protections, teardownSteps, type Runner } from "../scripts/teardown";
import {
  AWS_ENVIRONMENT_INPUTS,
  synthesizeEnvironments,
  synthesizeOnPremEnvironments,
} from "./support/synth";

const aws = synthesizeEnvironments();
const onPrem = synthesizeOnPremEnvironments();
const stacksOf = (name: string) => ({
  foundation: aws[name].foundation.json as any,
  platform: aws[name].platform.json as any,
  serving: aws[name].serving.json as any,
});

describe("npm run teardown", () => {
  it("lists what a protected environment guards: prevent_destroy, deletion protection, the final snapshot", () => {
    const guarded = protections(stacksOf("prod").foundation);
    expect(guarded.map((p) => p.resource)).toEqual(
      expect.arrayContaining([
        "aws_db_instance mlops-prod-mlflow",
        "aws_eks_cluster mlops-prod",
        "aws_ecr_repository mlops-serving",
        `aws_s3_bucket ${aws.prod.environment.storage.artifactsBucket}`,
      ]),
    );
    expect(guarded.find((p) => p.resource === "aws_db_instance mlops-prod-mlflow")?.reason).toBe(
      "prevent_destroy, deletion protection, leaves the final snapshot mlops-prod-mlflow-final",
    );
  });

  it("guards nothing in a disposable environment", () => {
    expect(aws.dev.environment.protection).toBe("disposable");
    expect(protections(stacksOf("dev").foundation)).toEqual([]);
  });

  it("lifts prod's protection with exactly the change it prints", () => {
    const lifted = synthesizeEnvironments(
      AWS_ENVIRONMENT_INPUTS.map((input: any) =>
        input.name === "prod"
          ? { ...input, protection: "disposable", database: { ...input.database, deletionProtection: false } }
          : input,
      ),
    );
    expect(protections(lifted.prod.foundation.json as any)).toEqual([]);
    expect(teardownSteps("prod", stacksOf("prod"))).toContain(
      'in environments/prod.ts set protection: "disposable" and database.deletionProtection: false',
    );
  });

  it("destroys serving, then platform, then foundation, and names the state it leaves", () => {
    const text = teardownSteps("dev", stacksOf("dev"));
    const order = [
      "destroy dev-serving",
      "delete ingress --all",
      "destroy dev-platform",
      "destroy dev-foundation",
    ].map((s) => text.indexOf(s));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text).toContain("state of dev-foundation: the local file terraform.dev-foundation.tfstate");
    expect(text).not.toContain("Lift the protection");
  });

  it("on-prem: platform and serving only, state Secrets in the cluster", () => {
    const name = Object.keys(onPrem)[0];
    const text = teardownSteps(name, {
      platform: onPrem[name].platform.json as any,
      serving: onPrem[name].serving.json as any,
    });
    expect(text).not.toContain("-foundation");
    expect(text).toContain(
      `the Secret tfstate-default-${name}-platform in namespace ${onPrem[name].environment.stateBackend.namespace}`,
    );
  });
});

describe("npm run teardown -- --check", () => {
  const answers =
    (overrides: Record<string, unknown>): Runner =>
    (command, args) => {
      const key =
        command === "aws" ? `${args[0]} ${args.find((a) => a.startsWith("Key=")) ?? ""}`.trim() : command;
      const body = overrides[key] ?? {};
      return { code: 0, stdout: JSON.stringify(body), stderr: "" };
    };

  it("is ok when the account holds nothing of the environment", () => {
    const result = checkLeftovers("dev", stacksOf("dev"), answers({}));
    expect(result.exitCode).toBe(0);
    expect(result.lines).toEqual([
      "ok   no resource tagged environment=dev",
      "ok   no load balancer or target group of mlops-dev's load balancer controller",
      "ok   no unattached EBS volume made for a PersistentVolumeClaim",
      "ok   no snapshot of mlops-dev-mlflow",
    ]);
  });

  it("names a load balancer the controller left and the final snapshot, and exits 1", () => {
    const result = checkLeftovers(
      "prod",
      stacksOf("prod"),
      answers({
        "resourcegroupstaggingapi Key=elbv2.k8s.aws/cluster,Values=mlops-prod": {
          ResourceTagMappingList: [
            { ResourceARN: "arn:aws:elasticloadbalancing:eu-west-1:333333333333:loadbalancer/app/k8s-x/1" },
          ],
        },
        rds: { DBSnapshots: [{ DBSnapshotIdentifier: "mlops-prod-mlflow-final" }] },
      }),
    );
    expect(result.exitCode).toBe(1);
    expect(result.lines[1]).toMatch(
      /^left load balancer .*: arn:aws:elasticloadbalancing:.*k8s-x\/1; fix: aws elbv2 delete-load-balancer/,
    );
    expect(result.lines[3]).toMatch(/^left snapshot of mlops-prod-mlflow: mlops-prod-mlflow-final; fix: /);
  });

  it("fails with one line when the AWS CLI cannot answer", () => {
    const result = checkLeftovers("dev", stacksOf("dev"), () => ({
      code: 255,
      stdout: "",
      stderr: "Unable to locate credentials.",
    }));
    expect(result).toEqual({
      exitCode: 1,
      lines: [
        "fail resources tagged environment=dev: Unable to locate credentials.; fix: run it with credentials that may read the account (or cluster)",
      ],
    });
  });

  it("on-prem: lists the platform's namespaces still in the cluster", () => {
    const name = Object.keys(onPrem)[0];
    const seen: string[][] = [];
    const result = checkLeftovers(name, { platform: onPrem[name].platform.json as any }, (command, args) => {
      seen.push([command, ...args]);
      return { code: args.includes("mlflow") ? 0 : 1, stdout: "", stderr: "" };
    });
    expect(result.exitCode).toBe(1);
    expect(result.lines).toEqual([expect.stringMatching(/^left namespace of the platform: mlflow; fix: /)]);
    expect(
      seen.every(
        ([command, flag, context]) =>
          command === "kubectl" &&
          flag === "--context" &&
          context === onPrem[name].environment.cluster.kubeconfigContext,
      ),
    ).toBe(true);
  });
});
