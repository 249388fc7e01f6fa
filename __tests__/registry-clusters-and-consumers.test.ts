/**
 * Rules across environments that a new environment meets (README, "Adding an environment"):
 * - two on-prem environments of different clusters cannot share control-plane addresses (a copy
 *   of another cluster's would send API traffic to that cluster);
 * - an AWS environment that takes releases by replication on a promotion path needs an account
 *   (or region) of its own: the registry's rule and the promotion topology's say so alike, and
 *   following their fix makes both pass.
 */
import { dev } from "../environments/dev";
import { loadEnvironments } from "../environments/load";
import { onPremProd } from "../environments/onprem-prod";
import { onPremTest } from "../environments/onprem-test";
import { ownAccountFix } from "../environments/promotion";
import type { Environment } from "../environments/schema";
import { staging } from "../environments/staging";
import { isOnPrem } from "../environments/targets";
import { promotionLinks } from "../stacks/promotion-topology";

type Mutable = any;
const problemsOf = (inputs: readonly unknown[], paths?: readonly (readonly string[])[]) => {
  const result = loadEnvironments(inputs, paths);
  return result.ok ? [] : result.problems;
};

describe("on-prem clusters' control planes", () => {
  const uat = (apiServerCidrs: string[]) => {
    const copy = structuredClone(onPremTest) as Mutable;
    Object.assign(copy, { name: "onprem-uat" });
    copy.cluster = { ...copy.cluster, kubeconfigContext: "rancher-mlops-uat", apiServerCidrs };
    copy.cluster.ingressSourceCidrs = ["10.62.0.0/24"];
    copy.platform = { ...copy.platform, domain: "mlops.uat.example.com" };
    // Deployed by hand, as the scaffold writes it: no runner labels shared with staging.
    copy.delivery = { deployedBy: "manual" };
    copy.objectStore = { ...copy.objectStore, artifactsBucket: "mlops-uat-a", dataBucket: "mlops-uat-d" };
    copy.registry = {
      ...copy.registry,
      servingRepository: "ml-docker-uat-local/mlops-serving",
      trainingRepository: "ml-docker-uat-local/mlops-training",
    };
    return copy;
  };

  it("refuses another cluster's control-plane addresses with one line naming both environments", () => {
    expect(problemsOf([onPremTest, onPremProd, uat(["10.62.0.11/32", "10.60.0.12/32"])])).toEqual([
      'onprem-uat: cluster.apiServerCidrs = ["10.62.0.11/32","10.60.0.12/32"]: 10.60.0.12/32 is onprem-test\'s control plane too (cluster.apiServerCidrs), but the two name different clusters ("rancher-mlops-uat", "rancher-mlops-test"); fix: give onprem-uat\'s own control-plane nodes\' addresses',
    ]);
  });

  it("accepts a cluster of its own addresses, and the registry's on-prem environments", () => {
    expect(problemsOf([onPremTest, onPremProd, uat(["10.62.0.11/32"])])).toEqual([]);
    expect(problemsOf([onPremTest, onPremProd])).toEqual([]);
  });
});

describe("an AWS environment on a promotion path after a producer", () => {
  // A fourth environment in staging's account, put after staging on the AWS path.
  const uat = (change: (env: Mutable) => void = () => undefined) => {
    const copy = structuredClone(staging) as Mutable;
    Object.assign(copy, { name: "uat" });
    copy.network = { ...copy.network, vpcCidr: "10.9.0.0/16" };
    copy.storage = { ...copy.storage, artifactsBucket: "acme-uat-a", dataBucket: "acme-uat-d" };
    copy.platform = { ...copy.platform, domain: "mlops.uat.example.com" };
    // Deployed by hand, as the scaffold writes it: no runner labels shared with staging.
    copy.delivery = { deployedBy: "manual" };
    copy.registry = {
      ...copy.registry,
      servingRepository: "uat/mlops-serving",
      trainingRepository: "uat/mlops-training",
    };
    change(copy);
    return copy;
  };
  const paths = [["dev", "staging", "uat"]];
  /** The repository names dev's images replicate into (its own). */
  const producerNames = (e: Mutable) => ({
    ...e.registry,
    servingRepository: dev.registry.servingRepository ?? "mlops-serving",
    trainingRepository: dev.registry.trainingRepository ?? "mlops-training",
  });
  const topologyProblem = (inputs: readonly unknown[]) => {
    const loaded = loadEnvironments(inputs, paths);
    if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
    try {
      promotionLinks(
        loaded.environments.filter((e): e is Environment => !isOnPrem(e)),
        paths,
      );
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it("is refused by the topology and the registry with the same fix: an account of its own", () => {
    const fix = ownAccountFix("uat", "dev");
    // As scaffolded (repositories under uat/): the topology wants the producer's names.
    const topology = topologyProblem([dev, staging, uat()]);
    expect(topology).toBe(
      `environment uat: registry.servingRepository is "uat/mlops-serving" but dev, whose images it receives by replication, names it "mlops-serving"; ECR replicates into a repository of the same name; fix: ${fix}`,
    );
    // With the producer's names in staging's account: the registry refuses the clash, same fix.
    const sameNames = uat((e) => (e.registry = producerNames(e)));
    const registry = problemsOf([dev, staging, sameNames], paths);
    expect(registry).toHaveLength(2);
    for (const line of registry) expect(line.endsWith(`; fix: ${fix}`)).toBe(true);
    expect(registry[0]).toMatch(
      /^uat: registry\.servingRepository = "mlops-serving": is staging's registry\.servingRepository too/,
    );
  });

  it("passes both once it has its own account and the producer's repository names", () => {
    const own = uat((e) => {
      e.registry = producerNames(e);
      e.aws = { ...e.aws, allowedAccountIds: ["444444444444"] };
    });
    expect(problemsOf([dev, staging, own], paths)).toEqual([]);
    expect(topologyProblem([dev, staging, own])).toBeUndefined();
  });

  it("keeps the prefix fix for an environment on no path", () => {
    const offPath = uat((e) => (e.registry = producerNames(e)));
    expect(problemsOf([dev, staging, offPath])[0]).toContain(
      "fix: give the repository an environment prefix, e.g. uat/mlops-serving, or pin different aws.allowedAccountIds",
    );
  });
});
