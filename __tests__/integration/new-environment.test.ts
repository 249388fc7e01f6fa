import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  copyFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENVIRONMENTS } from "../../environments";
import { deliveryEntries } from "../../environments/delivery";
import { loadEnvironments, requireEnvironments } from "../../environments/load";
import { dev } from "../../environments/dev";
import { staging } from "../../environments/staging";
import type { AnyEnvironmentInput } from "../../environments/targets";
import { listEnvironments } from "../../scripts/environments";
import { scaffoldEnvironment } from "../../scripts/new-environment";
import { synthesizeAll } from "../../stacks/synthesize";
import { deliveryProblems } from "../support/registry-checks";
import { absentName, onPremSets } from "../support/scaffold-names";
import { bootstrapAccounts, bootstrapStackName } from "../../stacks/bootstrap-stack";
import type { Environment } from "../../environments/schema";
import { onPremTest } from "../../environments/onprem-test";

const ROOT = join(__dirname, "..", "..");
type Mutable = any;
const variant = (base: AnyEnvironmentInput, change: (env: Mutable) => void): AnyEnvironmentInput => {
  const copy = structuredClone(base) as Mutable;
  change(copy);
  return copy;
};
const problemsOf = (inputs: readonly unknown[]) => {
  const result = loadEnvironments(inputs);
  return result.ok ? [] : result.problems;
};

describe("delivery rules", () => {
  it("hold for the committed registry: remote state, a runner and no placeholder range wherever CI deploys", () => {
    const environments = requireEnvironments(ENVIRONMENTS);
    expect(deliveryProblems(environments)).toEqual([]);
    expect(deliveryEntries(environments, { deployedBy: "pipeline" }).length).toBeGreaterThan(0);
  });

  it.each<[string, (env: Mutable) => void, string]>([
    [
      "pipeline delivery with local state",
      (e) => delete e.stateBackend,
      'staging: delivery.deployedBy = "pipeline": an environment the pipeline deploys needs remote state (stateBackend)',
    ],
    [
      "pipeline delivery without a runner",
      (e) => delete e.delivery.runnerLabels,
      "staging: delivery.runnerLabels = missing: must name the runner when the pipeline deploys the environment",
    ],
    [
      "a GitHub-hosted runner for a private endpoint",
      (e) => (e.delivery.runnerLabels = ["ubuntu-24.04"]),
      'staging: delivery.runnerLabels = ["ubuntu-24.04"]: name a GitHub-hosted runner, which reaches the cluster only through the public endpoint',
    ],
    [
      "a documentation range where the pipeline deploys",
      (e) => (e.eks.publicEndpoint = { enabled: true, allowedCidrs: ["198.51.100.7/32"] }),
      'staging: eks.publicEndpoint.allowedCidrs[0] = "198.51.100.7/32": is in the documentation range 198.51.100.0/24 (RFC 5737)',
    ],
    [
      "a runner for an environment deployed by hand",
      (e) => (e.delivery = { deployedBy: "manual", runnerLabels: ["self-hosted"] }),
      'staging: delivery.runnerLabels = ["self-hosted"]: only an environment the pipeline deploys has a runner',
    ],
  ])("refuses %s with one line naming the field, the value and the fix", (_what, change, expected) => {
    const problems = problemsOf([variant(staging, change)]);
    expect(problems).toHaveLength(1);
    expect(problems[0].startsWith(expected)).toBe(true);
    expect(problems[0]).toMatch(/; fix: \S/);
  });

  it("lets an environment deployed by hand keep local state and an example range", () => {
    expect(problemsOf([dev])).toEqual([]);
    expect(problemsOf([variant(dev, (e) => (e.delivery = { deployedBy: "pipeline" }))])).toEqual([
      expect.stringContaining(
        'dev: delivery.deployedBy = "pipeline": an environment the pipeline deploys needs remote state',
      ),
      expect.stringContaining("dev: delivery.runnerLabels = missing"),
      expect.stringContaining(
        'dev: eks.publicEndpoint.allowedCidrs[0] = "203.0.113.0/24": is in the documentation range',
      ),
    ]);
  });
});

describe("npm run new-environment", () => {
  // A copy of the project's environments folder beside links to what its files import.
  const root = mkdtempSync(join(tmpdir(), "new-environment-"));
  const environments = join(root, "environments");
  cpSync(join(ROOT, "environments"), environments, { recursive: true });
  for (const linked of ["constructs", "node_modules"]) symlinkSync(join(ROOT, linked), join(root, linked));
  copyFileSync(join(ROOT, "package.json"), join(root, "package.json"));
  const contents = () =>
    Object.fromEntries(
      [
        ...readdirSync(environments),
        ...readdirSync(join(environments, "releases")).map((f) => `releases/${f}`),
      ]
        .filter((f) => statSync(join(environments, f)).isFile())
        .map((f) => [f, readFileSync(join(environments, f), "utf8")]),
    );
  const scaffold = (...args: string[]) =>
    // prettier loads its plugins with dynamic imports, which jest's module system refuses; the
    // command itself formats with it.
    scaffoldEnvironment(args, {
      environmentsDirectory: environments,
      registry: ENVIRONMENTS,
      format: async (text) => text,
    });
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // Names no environment of the registry has (a committed uat must not make these tests refuse).
  const uatName = absentName("uat", ENVIRONMENTS, join(ROOT, "environments"));
  const onPremUat = absentName("onprem-uat", ENVIRONMENTS, join(ROOT, "environments"));
  const unknownSource = absentName("qa", ENVIRONMENTS, join(ROOT, "environments"));

  it("refuses an existing name, an unknown source and clashing values, writing nothing", async () => {
    const before = contents();
    const existing = ENVIRONMENTS[ENVIRONMENTS.length - 1].name;
    const runs = [
      await scaffold("--from", "staging", "--name", existing),
      await scaffold("--from", unknownSource, "--name", uatName),
      await scaffold("--from", "staging", "--name", "Bad_Name"),
      await scaffold("--from", "onprem-test", "--name", onPremUat),
      await scaffold("--name", uatName),
    ];
    expect(runs.map((r) => r.exitCode)).toEqual([1, 1, 1, 1, 1]);
    expect(runs[0].stderr).toContain(`--name "${existing}": an environment of that name exists already`);
    expect(runs[1].stderr).toContain(
      `--from "${unknownSource}": is not an environment of the registry (dev, staging`,
    );
    expect(runs[2].stderr).toContain('--name "Bad_Name": must be 3 to 24 lower-case letters');
    expect(runs[3].stderr).toContain(
      `${onPremUat}: cluster.kubeconfigContext = "rancher-mlops-test": is onprem-test's cluster too`,
    );
    // The cluster's addresses are the source cluster's: refused, once each, naming the --set.
    for (const field of ["cluster.apiServerCidrs", "cluster.ingressSourceCidrs"]) {
      const lines = runs[3].stderr.split("\n").filter((l) => l.startsWith(`  - ${onPremUat}: ${field} = `));
      expect(lines).toEqual([
        expect.stringContaining(
          `: copied from onprem-test, these are its cluster's addresses (network policies would send ${onPremUat}'s traffic there); fix: give ${onPremUat}'s own cluster's; pass it with --set ${field}=<value>`,
        ),
      ]);
    }
    // The refusal names exactly the fields the scaffold cannot invent, and the option that gives them.
    expect(runs[3].stderr.trim().split("\n").at(-1)).toBe(
      `  - the scaffold of ${onPremUat} from onprem-test needs values it cannot invent; fix: run it again with --set cluster.apiServerCidrs=<value> --set cluster.ingressSourceCidrs=<value> --set objectStore.artifactsBucket=<value> --set objectStore.dataBucket=<value> --set cluster.kubeconfigContext=<value> --set registry.servingRepository=<value> --set registry.trainingRepository=<value>`,
    );
    for (const run of runs) expect(run.stderr).toMatch(/^No file was written:\n/);
    expect(contents()).toEqual(before);
  });

  it("refuses a --set of a field the source has not, or not in <field>=<value> form, writing nothing", async () => {
    const before = contents();
    const unknown = await scaffold(
      "--from",
      "staging",
      "--name",
      uatName,
      "--set",
      "cluster.kubeconfigContext=x",
    );
    const malformed = await scaffold("--from", "staging", "--name", uatName, "--set", "storage");
    expect(unknown).toMatchObject({ exitCode: 1 });
    expect(unknown.stderr).toContain(
      "--set cluster.kubeconfigContext: the source's file has no cluster at the top; fix: name a field the source's file has (e.g. platform.domain)",
    );
    expect(malformed.stderr).toContain('--set "storage": not <field>=<value>');
    expect(contents()).toEqual(before);
  });

  it("adds an on-prem environment from onprem-test with the values given by --set, deployed by hand", async () => {
    const run = await scaffold(
      "--from",
      "onprem-test",
      "--name",
      onPremUat,
      ...onPremSets(onPremUat, ENVIRONMENTS),
    );
    expect(run).toMatchObject({ exitCode: 0, stderr: "" });
    expect(run.stdout).toContain(`${onPremUat} is deployed by hand (delivery.deployedBy: "manual")`);
    // What still says "test" is listed for review: the alert channel, the bind DN, the domain.
    expect(run.stdout).toContain('Values that still say "test" (copied from onprem-test; review them):');
    for (const field of ["platform.alerting.receivers[0].channel", "directory.bindDn", "platform.domain"])
      expect(run.stdout).toMatch(new RegExp(`\\n  ${field.replace(/[.[\]]/g, "\\$&")} = ".*test`));
    // What to push and copy before its serving stack: the release's images and models are onprem-test's.
    expect(run.stdout).toContain(
      `push the release's serving and training images to artifactory.example.com/ml-docker-${onPremUat}-local/mlops-serving`,
    );
    expect(run.stdout).toContain(
      `from ${onPremTest.objectStore.artifactsBucket} to mlops-${onPremUat}-artifacts`,
    );
    // The digest-only monitoring image and the reference data of each model that logs, named.
    type Model = { monitoring: { logging?: { mode?: string }; referenceData?: string } };
    const source = JSON.parse(readFileSync(join(environments, "releases", "onprem-test.json"), "utf8"))
      .current as { models: Model[]; monitoring: { image: { digest: string } } };
    const references = [
      ...new Set(
        source.models.flatMap((m) =>
          (m.monitoring.logging?.mode ?? "all") !== "off" && m.monitoring.referenceData
            ? [m.monitoring.referenceData]
            : [],
        ),
      ),
    ];
    expect(references.length).toBeGreaterThan(0);
    expect(run.stdout).toContain(
      `, the monitoring image ${source.monitoring.image.digest} (by that digest) to artifactory.example.com/ml-docker-${onPremUat}-local/mlops-training, and copy each model's artifactPath (stable and canary) and the reference data of each model that logs (${references.join(", ")}) from ${onPremTest.objectStore.artifactsBucket}`,
    );
    const exportName = onPremUat.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    expect(readFileSync(join(environments, "index.ts"), "utf8")).toContain(
      `import { ${exportName} } from "./${onPremUat}";`,
    );
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const written = require(join(environments, `${onPremUat}.ts`))[exportName] as AnyEnvironmentInput;
    const uat = requireEnvironments([...ENVIRONMENTS, written]).find((e) => e.name === onPremUat) as Mutable;
    expect(uat.cluster.kubeconfigContext).toBe(`rancher-mlops-${onPremUat}`);
    expect(uat.cluster.apiServerCidrs).not.toEqual(onPremTest.cluster.apiServerCidrs);
    expect(uat.cluster.ingressSourceCidrs).not.toEqual(onPremTest.cluster.ingressSourceCidrs);
    expect(uat.objectStore).toMatchObject({
      artifactsBucket: `mlops-${onPremUat}-artifacts`,
      dataBucket: `mlops-${onPremUat}-data`,
    });
    expect(uat.registry.servingRepository).toBe(`ml-docker-${onPremUat}-local/mlops-serving`);
    expect(uat.delivery).toEqual({ deployedBy: "manual" });
    // Back to the registry as it was, for the next scaffold.
    for (const file of [`${onPremUat}.ts`, join("releases", `${onPremUat}.json`)])
      rmSync(join(environments, file), { force: true });
    copyFileSync(join(ROOT, "environments", "index.ts"), join(environments, "index.ts"));
  });

  it("adds a fourth AWS environment that validates, is deployed by hand and synthesizes, with no other edit", async () => {
    const run = await scaffold("--from", "staging", "--name", uatName);
    expect(run).toMatchObject({ exitCode: 0, stderr: "" });
    const release = JSON.parse(readFileSync(join(environments, "releases", `${uatName}.json`), "utf8"));
    const source = JSON.parse(readFileSync(join(environments, "releases", "staging.json"), "utf8"));
    const { promotedAt: _at, promotedFrom: _from, ...current } = source.current;
    expect(release).toEqual({ current, history: [] });

    // The registry as the copied index.ts now lists it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const registry = require(join(environments, "index.ts")).ENVIRONMENTS as AnyEnvironmentInput[];
    expect(registry.map((e) => e.name)).toEqual([...ENVIRONMENTS.map((e) => e.name), uatName]);
    const loaded = requireEnvironments(registry);
    const uat = loaded.find((e) => e.name === uatName) as Mutable;
    const staged = loaded.find((e) => e.name === "staging") as Mutable;
    expect(uat.network.vpcCidr).not.toBe(staged.network.vpcCidr);
    expect(uat.storage.artifactsBucket).toBe(`acme-mlops-${uatName}-artifacts`);
    expect(uat.platform.domain).toBe(`mlops.${uatName}.example.com`);
    expect(uat.stateBackend).toEqual(staged.stateBackend);
    // Deployed by hand until its runner, state and roles exist: the pipeline does not list it yet.
    expect(uat.delivery).toEqual({ deployedBy: "manual" });
    expect(run.stdout).toContain(`${uatName} is deployed by hand (delivery.deployedBy: "manual")`);
    // Handing it to the pipeline re-applies the account's bootstrap, which now lists it.
    const account = (staged as Environment).aws.allowedAccountIds![0];
    const bootstrap = bootstrapAccounts(loaded.filter((e): e is Environment => !("target" in e)));
    expect(bootstrap.find((a) => a.accountId === account)?.environments.map((e) => e.name)).toContain(
      uatName,
    );
    expect(run.stdout).toContain(
      `re-apply the account's bootstrap stack with the account's administrator credentials (its deploy role's trust and its state, key, bucket and ECR permissions gain ${uatName}): npx cdktf deploy ${bootstrapStackName(account)};`,
    );
    // Before its serving stack: the release's images and models are staging's.
    expect(run.stdout).toContain(
      `push the release's serving and training images to ${uatName}'s ECR repositories ${uatName}/mlops-serving and ${uatName}/mlops-training`,
    );
    // A consumer on a promotion path needs an account of its own (README step 5).
    expect(run.stdout).toContain(
      `To put ${uatName} on a promotion path after an AWS environment (environments/promotion.ts), it receives that environment's images and models by replication and needs an AWS account of its own (aws.allowedAccountIds, now staging's ${account})`,
    );
    expect(deliveryProblems(loaded)).toEqual([]);
    const pipeline = (inputs: readonly AnyEnvironmentInput[]) =>
      JSON.parse(listEnvironments(["--json", "--deployed-by", "pipeline"], inputs).stdout).map(
        (e: { name: string }) => e.name,
      );
    expect(pipeline(registry)).toEqual(pipeline(ENVIRONMENTS));
    const manual = listEnvironments(["--json", "--deployed-by", "manual"], registry);
    expect(JSON.parse(manual.stdout).map((e: { name: string }) => e.name)).toContain(uatName);

    const result = synthesizeAll(registry, {
      outdir: join(root, "cdktf.out"),
      releasesDirectory: join(environments, "releases"),
    });
    if (!result.ok) throw new Error(result.problems.join("\n"));
    expect(result.stacks).toEqual(
      expect.arrayContaining([`${uatName}-foundation`, `${uatName}-platform`, `${uatName}-serving`]),
    );
    expect(readdirSync(join(root, "cdktf.out", "stacks"))).toEqual(
      expect.arrayContaining([`${uatName}-foundation`, `${uatName}-platform`, `${uatName}-serving`]),
    );
  }, 300_000);
});
