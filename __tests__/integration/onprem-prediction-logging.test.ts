/**
 * The `logger` entry the platform writes into `kserve/inferenceservice-config` where the object
 * store has a private CA, against what decides whether it works:
 * - the pinned kserve-resources chart, rendered with the release's values: the entry is the
 *   chart's, key by key, plus `caBundle` (a KServe bump that changes the entry fails here);
 * - Terraform 1.11, which must accept the `replace_triggered_by` address cdktf renders.
 * The synthesized resources alone: ../onprem-prediction-logging.test.ts.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, DataResource, TerraformStack } from "cdktf";
import { resourceAddress } from "../../constructs/lib/resource-address";
import { resourcesOf, synthesizeOnPremEnvironments } from "../support/synth";
import { helmValues } from "../support/serving";
import { HELM, TERRAFORM, describeWithUpstream, renderChart } from "../support/upstream";

const onPrem = synthesizeOnPremEnvironments();
const NAMES = Object.keys(onPrem);

describeWithUpstream(
  "onprem-prediction-logging.test.ts",
  "the logger entry against kserve-resources v0.20.0",
)("the logger entry is the chart's, plus the CA bundle", () => {
  const chartEntry = (name: string) => {
    const rendered = renderChart(
      "kserve-resources",
      "kserve-resources-v0.20.0",
      "kserve",
      helmValues(onPrem[name].platform.json, "kserve-resources"),
    );
    const config = rendered.find(
      (o) => o.kind === "ConfigMap" && o.metadata.name === "inferenceservice-config",
    );
    if (!config) throw new Error("kserve-resources v0.20.0 renders no inferenceservice-config");
    return JSON.parse(config.data.logger);
  };

  it.each(NAMES)("%s", (name) => {
    expect(HELM).toBeDefined();
    const [ours] = Object.values<any>(
      resourcesOf(onPrem[name].platform.json, "kubernetes_config_map_v1_data"),
    );
    const { caBundle, ...rest } = JSON.parse(ours.data.logger);
    const chart = chartEntry(name);
    expect(chart.caBundle).toBeUndefined();
    expect(Object.keys(rest).sort()).toEqual(Object.keys(chart).sort());
    for (const key of Object.keys(chart))
      expect({ key, value: rest[key] }).toEqual({ key, value: chart[key] });
    expect(caBundle).toBe("kserve-object-store-ca");
  });
});

(TERRAFORM ? describe : describe.skip)("Terraform 1.11 reads the replacement trigger cdktf renders", () => {
  it("validates a resource replaced by another's address", () => {
    const work = mkdtempSync(join(tmpdir(), "replace-trigger-"));
    try {
      const app = new App({ outdir: work });
      const stack = new TerraformStack(app, "trigger");
      const release = new DataResource(stack, "Release", { input: { chart: "v0.20.0" } });
      new DataResource(stack, "Entry", {
        input: { entry: "logger" },
        lifecycle: { replaceTriggeredBy: [resourceAddress(release)] },
      });
      app.synth();
      const dir = join(work, "stacks", "trigger");
      const json = JSON.parse(readFileSync(join(dir, "cdk.tf.json"), "utf8"));
      expect(json.resource.terraform_data.Entry.lifecycle.replace_triggered_by).toEqual([
        "terraform_data.Release",
      ]);
      // Only the built-in provider: nothing to download.
      writeFileSync(join(dir, ".terraformrc"), "");
      const run = (args: string[]) =>
        execFileSync(TERRAFORM!, args, {
          cwd: dir,
          encoding: "utf8",
          env: { ...process.env, TF_IN_AUTOMATION: "1", TF_CLI_CONFIG_FILE: join(dir, ".terraformrc") },
          stdio: ["ignore", "pipe", "pipe"],
        });
      run(["init", "-input=false", "-backend=false", "-no-color"]);
      expect(run(["validate", "-no-color"])).toContain("The configuration is valid");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
