/**
 * The renderers on real upstream sources, the typed-resource conversion, stand-ins and the
 * command line.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseOptions } from "../../scripts/verify/main";
import { convertTypedResource } from "../../scripts/verify/convert";
import { renderKustomize, renderRelease } from "../../scripts/verify/render";
import { resolveDeep, resolveString, standIn } from "../../scripts/verify/terraform";
import { ensureTools } from "../../scripts/verify/tools";
import { verifyState } from "../../scripts/verify/verify";
import { UPSTREAM_DIR } from "../support/upstream";
import { stateOf } from "./fixtures";

const kfp = UPSTREAM_DIR && join(UPSTREAM_DIR, "kubeflow-pipelines-2.17.0");
if (!UPSTREAM_DIR)
  console.warn(
    "verify renderer tests skipped: no pinned upstream sources (.upstream/ from npm run fetch-sources, or MLOPS_UPSTREAM_DIR)",
  );

(UPSTREAM_DIR ? describe : describe.skip)("renderers on the pinned upstream sources", () => {
  const tools = ensureTools();

  it("renders a chart with the release's values, namespace and Kubernetes version", async () => {
    const result = await renderRelease(
      tools,
      {
        name: "metrics",
        namespace: "kube-system",
        chart: "metrics-server",
        version: "3.13.1",
        values: [{ replicas: 2 }],
      },
      { chartsDir: join(UPSTREAM_DIR!, "charts"), pull: false },
      { kubeVersion: "1.34.0", apiVersions: [] },
    );
    if (!result.ok) throw new Error(result.problem);
    const deployment = result.objects.find((o) => o.kind === "Deployment");
    expect(deployment?.metadata.namespace).toBe("kube-system");
    expect((deployment?.spec as { replicas: number }).replicas).toBe(2);
  });

  it("reports a chart that is not available instead of skipping it", async () => {
    const result = await renderRelease(
      tools,
      { name: "x", namespace: "x", chart: "metrics-server", version: "0.0.1", values: [] },
      { chartsDir: join(UPSTREAM_DIR!, "charts"), pull: false },
      { kubeVersion: "1.34.0", apiVersions: [] },
    );
    expect(result).toEqual({
      ok: false,
      problem: expect.stringContaining("chart metrics-server-0.0.1 is not available"),
      fix: expect.stringContaining("--charts DIR"),
    });
  });

  (kfp && existsSync(kfp) ? it : it.skip)(
    "builds the Kubeflow Pipelines manifests with an Application's patches",
    async () => {
      const result = await renderKustomize(tools, {
        root: kfp!,
        path: "manifests/kustomize/env/platform-agnostic",
        patches: [
          {
            target: { kind: "ConfigMap", name: "pipeline-install-config" },
            patch: JSON.stringify([
              { op: "replace", path: "/data/defaultPipelineRoot", value: "s3://bucket/pipelines" },
            ]),
          },
        ],
      });
      if (!result.ok) throw new Error(result.problem);
      const config = result.objects.find(
        (o) => o.kind === "ConfigMap" && o.metadata.name === "pipeline-install-config",
      );
      expect((config as unknown as { data: Record<string, string> }).data.defaultPipelineRoot).toBe(
        "s3://bucket/pipelines",
      );
      expect(result.objects.some((o) => o.kind === "Deployment" && o.metadata.name === "ml-pipeline")).toBe(
        true,
      );
    },
  );

  (kfp && existsSync(kfp) ? it : it.skip)(
    "applies an Application's patches inside the upstream kustomization, before its replacements, as Argo CD does",
    async () => {
      const remove = (target: Record<string, string>) => ({
        target,
        patch: "$patch: delete\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: kubeflow",
      });
      const namespaces = async (patches: unknown[]) => {
        const result = await renderKustomize(tools, {
          root: kfp!,
          path: "manifests/kustomize/cluster-scoped-resources",
          patches,
        });
        if (!result.ok) throw new Error(result.problem);
        return result.objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name);
      };
      // While patches run the upstream Namespace is still named $(kfp-cluster-scoped-namespace).
      expect(await namespaces([])).toEqual(["kubeflow"]);
      expect(await namespaces([remove({ kind: "Namespace", name: "kubeflow" })])).toEqual(["kubeflow"]);
      expect(await namespaces([remove({ kind: "Namespace" })])).toEqual([]);
    },
    60_000,
  );
});

describe("typed provider resources in Kubernetes shape", () => {
  it("renames, unwraps and pluralizes blocks and types numbers as Kubernetes does", () => {
    const { object, problems } = convertTypedResource("kubernetes_deployment_v1", {
      metadata: { name: "web", namespace: "apps", labels: { "app.kubernetes.io/name": "web" } },
      spec: {
        replicas: "2",
        selector: { match_labels: { "app.kubernetes.io/name": "web" } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "web" } },
          spec: {
            security_context: { run_as_user: "10001", seccomp_profile: { type: "RuntimeDefault" } },
            container: [
              {
                name: "app",
                image: "app:1",
                port: [{ name: "http", container_port: 8000 }],
                env_from: [{ secret_ref: { name: "creds" } }],
                liveness_probe: { http_get: { path: "/health", port: "8000" } },
                volume_mount: [{ name: "tmp", mount_path: "/tmp" }],
              },
            ],
            volume: [{ name: "tmp", empty_dir: { size_limit: "64Mi" } }],
            topology_spread_constraint: [
              {
                max_skew: 1,
                topology_key: "zone",
                when_unsatisfiable: "ScheduleAnyway",
                label_selector: [{ match_labels: { a: "b" } }],
              },
            ],
          },
        },
      },
      wait_for_rollout: true,
      lifecycle: { ignore_changes: ["spec[0].replicas"] },
    });
    expect(problems).toEqual([]);
    expect(object).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "apps", labels: { "app.kubernetes.io/name": "web" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { "app.kubernetes.io/name": "web" } },
        template: {
          metadata: { labels: { "app.kubernetes.io/name": "web" } },
          spec: {
            securityContext: { runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
              {
                name: "app",
                image: "app:1",
                ports: [{ name: "http", containerPort: 8000 }],
                envFrom: [{ secretRef: { name: "creds" } }],
                livenessProbe: { httpGet: { path: "/health", port: 8000 } },
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: { a: "b" } },
              },
            ],
          },
        },
      },
    });
  });

  it("maps provider-only spellings (storage_provisioner, timezone)", () => {
    expect(
      convertTypedResource("kubernetes_storage_class_v1", {
        metadata: { name: "gp3" },
        storage_provisioner: "ebs.csi.aws.com",
      }).object,
    ).toMatchObject({ provisioner: "ebs.csi.aws.com" });
    expect(
      convertTypedResource("kubernetes_cron_job_v1", {
        metadata: { name: "c" },
        spec: { schedule: "@daily", timezone: "Etc/UTC" },
      }).object,
    ).toMatchObject({ spec: { timeZone: "Etc/UTC" } });
  });
});

describe("Terraform references", () => {
  const foundation = {
    resource: {
      aws_s3_bucket: { Artifacts_1234ABCD: { bucket: "acme-artifacts" } },
      aws_iam_role: { Serving_Role_89ABCDEF: { name_prefix: "serving" } },
    },
    output: {
      "cross-stack-output-aws_s3_bucketArtifactsbucket": {
        value: "${aws_s3_bucket.Artifacts_1234ABCD.bucket}",
      },
      "cross-stack-output-aws_iam_roleServingarn": { value: "${aws_iam_role.Serving_Role_89ABCDEF.arn}" },
    },
  };
  const context = {
    accountId: "111111111111",
    region: "eu-west-1",
    stacks: { "dev-foundation": foundation },
  };
  const stack = {
    name: "dev-platform",
    json: { resource: { kubernetes_namespace_v1: { Ns_00000000: { metadata: { name: "mlops" } } } } },
  };

  it("resolves literal values through remote state and resources of the same stack", () => {
    expect(
      resolveString(
        "s3://${data.terraform_remote_state.cross-stack-reference-input-dev-foundation.outputs.cross-stack-output-aws_s3_bucketArtifactsbucket}/x in ${kubernetes_namespace_v1.Ns_00000000.metadata[0].name}",
        stack,
        context,
      ),
    ).toBe("s3://acme-artifacts/x in mlops");
  });

  it("stands in for values that exist only after apply, shaped like the real thing", () => {
    expect(
      resolveString(
        "${data.terraform_remote_state.cross-stack-reference-input-dev-foundation.outputs.cross-stack-output-aws_iam_roleServingarn}",
        stack,
        context,
      ),
    ).toBe("arn:aws:iam::111111111111:role/standin-serving-role");
    expect(standIn("aws_db_instance", "Mlflow_Instance_ABCDEF12", "address", context)).toBe(
      "standin-mlflow-instance.standin.eu-west-1.rds.amazonaws.com",
    );
  });

  it("reads a copied Secret's data as unknown keys, plus the literal keys merged into it", () => {
    const source = "data.kubernetes_secret_v1.HandMadeSecrets_mirror-source_0000AAAA.data";
    expect(resolveDeep({ data: `\${${source}}` }, stack, context)).toEqual({ data: {} });
    expect(
      resolveDeep(
        { data: `\${merge(${source}, {"url" = "https://git.example.com/a \\"b\\".git", "type" = "git"})}` },
        stack,
        context,
      ),
    ).toEqual({ data: { url: 'https://git.example.com/a "b".git', type: "git" } });
  });
});

describe("command line", () => {
  it("reads options and their environment variables", () => {
    expect(
      parseOptions(
        ["--env", "dev", "--json", "--crds", "c"],
        { MLOPS_CHARTS_DIR: "charts" },
        () => undefined,
      ),
    ).toEqual({
      charts: "charts",
      crds: "c",
      kubeflowPipelines: undefined,
      environments: ["dev"],
      json: true,
      pull: false,
      listRules: false,
    });
    expect(() => parseOptions(["--charts"], {})).toThrow("--charts needs a value");
    expect(() => parseOptions(["--bogus"], {})).toThrow("unknown option --bogus");
  });
});

describe("an incomplete cluster state", () => {
  it("takes the upstream folder's charts, CRDs and manifests unless told otherwise", () => {
    expect(parseOptions([], {}, () => "/up")).toMatchObject({
      charts: "/up/charts",
      crds: "/up/crds",
      kubeflowPipelines: "/up",
    });
    expect(parseOptions(["--charts", "mine"], { MLOPS_CRDS_DIR: "crds" }, () => "/up")).toMatchObject({
      charts: "mine",
      crds: "crds",
    });
  });

  it("runs no rule when a release could not be rendered, and says so once", () => {
    const state = stateOf([]);
    state.problems.push({
      environment: "fixture",
      source: "fixture-platform helm_release mlflow",
      object: "release mlflow/mlflow",
      rule: "render",
      severity: "error",
      message: "chart mlflow-1.11.5 is not available",
      fix: "pass --charts DIR",
    });
    let ran = false;
    const report = verifyState(state, [
      {
        name: "spy",
        summary: "records that it ran",
        check: () => {
          ran = true;
          return [];
        },
      },
    ]);
    expect(ran).toBe(false);
    expect(report.rules).toEqual([]);
    expect(report.findings.map((f) => f.rule)).toEqual(["render", "render"]);
    expect(report.findings[1].message).toContain(
      "the rules did not run: 1 release(s) or manifest(s) could not be rendered",
    );
  });
});
