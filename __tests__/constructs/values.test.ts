import { ENVIRONMENTS } from "../../environments";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Testing, TerraformStack } from "cdktf";
import { mergeValues, renderValues } from "../../constructs/lib/values";
import { PlatformRelease } from "../../constructs/platform/helm-release";
import { loadChartValues, strayValueFiles } from "../../stacks/helm-values";

describe("mergeValues", () => {
  it("layers base, environment overlay and computed values, later layers winning", () => {
    const merged = mergeValues(
      { replicaCount: 1, resources: { requests: { cpu: "100m", memory: "128Mi" } }, args: ["a", "b"] },
      { resources: { requests: { cpu: "500m" } }, args: ["c"] },
      { replicaCount: 3, extra: undefined },
    );
    expect(merged).toEqual({
      replicaCount: 3,
      resources: { requests: { cpu: "500m", memory: "128Mi" } },
      args: ["c"],
    });
  });

  it("does not change its inputs", () => {
    const base = { a: { b: 1 } };
    mergeValues(base, { a: { b: 2 } });
    expect(base).toEqual({ a: { b: 1 } });
  });

  it("renders the same YAML whatever the key order", () => {
    expect(renderValues({ b: 1, a: { d: 2, c: 3 } })).toBe(renderValues({ a: { c: 3, d: 2 }, b: 1 }));
    expect(renderValues({ b: 1, a: 2 })).toBe("a: 2\nb: 1\n");
  });

  it("keeps long strings on one line", () => {
    const long = "x".repeat(300);
    expect(renderValues({ long }).trim().split("\n")).toHaveLength(1);
  });
});

describe("loadChartValues", () => {
  it("reads the base file and the environment overlay of each chart", () => {
    const directory = mkdtempSync(join(tmpdir(), "values-"));
    writeFileSync(join(directory, "mlflow.yaml"), "replicaCount: 1\n");
    writeFileSync(join(directory, "mlflow.prod.yaml"), "replicaCount: 2\n");
    const values = loadChartValues("prod", directory);
    expect(values.mlflow).toEqual({ base: { replicaCount: 1 }, environment: { replicaCount: 2 } });
    expect(values["argo-cd"]).toEqual({ base: undefined, environment: undefined });
  });

  it("fails on YAML that is not a map, naming the file", () => {
    const directory = mkdtempSync(join(tmpdir(), "values-"));
    writeFileSync(join(directory, "mlflow.yaml"), "- a\n- b\n");
    expect(() => loadChartValues("dev", directory)).toThrow(
      "helm-values/mlflow.yaml:1: holds a list, not a map of chart values",
    );
  });

  it("fails on malformed YAML, naming the file", () => {
    const directory = mkdtempSync(join(tmpdir(), "values-"));
    writeFileSync(join(directory, "mlflow.dev.yaml"), "a: [1, 2\n");
    expect(() => loadChartValues("dev", directory)).toThrow(
      "helm-values/mlflow.dev.yaml:2:1: not valid YAML",
    );
  });

  it("finds a values file that no chart or environment would read", () => {
    const directory = mkdtempSync(join(tmpdir(), "values-"));
    writeFileSync(join(directory, "mlflow.yaml"), "{}\n");
    writeFileSync(join(directory, "mlfow.yaml"), "{}\n");
    writeFileSync(join(directory, "mlflow.production.yaml"), "{}\n");
    expect(strayValueFiles(["dev", "prod"], directory)).toEqual(["mlflow.production.yaml", "mlfow.yaml"]);
  });

  it("has no stray file in the repository's helm-values/", () => {
    expect(strayValueFiles(ENVIRONMENTS.map((e) => e.name))).toEqual([]);
  });

  it("parses every values file in the repository", () => {
    for (const { name } of ENVIRONMENTS) expect(() => loadChartValues(name)).not.toThrow();
  });
});

describe("PlatformRelease", () => {
  const release = (overrides: Partial<ConstructorParameters<typeof PlatformRelease>[2]> = {}) =>
    new PlatformRelease(new TerraformStack(Testing.app(), "unit"), "Release", {
      name: "demo",
      namespace: "demo",
      source: { repository: "https://charts.example.com", chart: "demo" },
      version: "1.2.3",
      ...overrides,
    });

  it("installs from an OCI registry by full chart reference", () => {
    const construct = release({ source: { repository: "oci://ghcr.io/example/charts", chart: "demo" } });
    const json = JSON.parse(Testing.synth(TerraformStack.of(construct)));
    const [resource] = Object.values<any>(json.resource.helm_release);
    expect(resource.chart).toBe("oci://ghcr.io/example/charts/demo");
    expect(resource.repository).toBeUndefined();
  });

  it.each(["^1.2.0", "latest", "1.2", ""])("fails on the version %p", (version) => {
    expect(() => release({ version })).toThrow(
      `PlatformRelease demo: version "${version}" must be an exact chart version`,
    );
  });

  it("fails on a name Helm refuses", () => {
    expect(() => release({ name: "Demo_Release" })).toThrow(
      'PlatformRelease: name "Demo_Release" must be a DNS label',
    );
  });

  it("fails on a plain-HTTP repository", () => {
    expect(() => release({ source: { repository: "http://charts.example.com", chart: "demo" } })).toThrow(
      'repository "http://charts.example.com" must be an https:// or oci:// URL',
    );
  });

  it.each([30, 7200, 90.5])("fails on a timeout of %s seconds", (timeoutSeconds) => {
    expect(() => release({ timeoutSeconds })).toThrow(
      `timeoutSeconds (${timeoutSeconds}) must be a whole number from 60 to 3600`,
    );
  });
});
