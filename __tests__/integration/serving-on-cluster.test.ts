/**
 * What KServe and the serving stack need to come up on a real cluster, where a chart, a CRD or
 * Terraform decides: the synthesized stacks against the pinned upstream charts and CRDs (helm
 * renders, schema validation), and the serving stack's image check planned by terraform. The
 * same properties on the synthesized stacks alone are in serving-on-cluster.test.ts. The chart
 * and CRD checks are skipped, with the reason printed, when the upstream sources or helm are not
 * on this machine; the plans when terraform is not.
 * - a runtime for every InferenceService (the v2 protocol kserve-mlserver requires);
 * - predictor pods that Pod Security "restricted" admits (pod, runtime container, storage initializer);
 * - canaries the KServe v0.20 CRD accepts;
 * - a plan that fails, saying what to push, when a release's image is not in the registry;
 * - Ingresses the AWS Load Balancer Controller can serve (the IngressClass KServe names).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { STORAGE_INITIALIZER_SECURITY } from "../../constructs/platform/kserve";
import { PREDICTOR_POD_SECURITY, RUNTIME_CONTAINER_NAME } from "../../constructs/serving/inference-services";
import { releaseContentSchema } from "../../environments/release-schema";
import { fixtureReleaseText } from "../support/release-files";
import {
  synthesizeEnvironments,
  synthesizeWithFixtureReleases,
  type SynthesizedEnvironment,
} from "../support/synth";
import { ecrImageListings, helmValues, inferenceServices, predictors } from "../support/serving";
import {
  HELM,
  TERRAFORM,
  UPSTREAM_DIR,
  crdSchema,
  renderChart,
  schemaValidator,
  type KubernetesObject,
} from "../support/upstream";

const synthesized = synthesizeEnvironments();
/** Every AWS environment of the registry. */
const NAMES = Object.keys(synthesized);

/**
 * The fixture releases' staging (`../support/release-files`: a canary, an image tag), for checks
 * that need what a release holds: a promotion moves the registry's staging to dev's release.
 */
let fixtures: Record<string, SynthesizedEnvironment> | undefined;
const fixtureStaging = () => (fixtures ??= synthesizeWithFixtureReleases()).staging;
/** The serving image tag of the fixture staging release. */
const fixtureStagingTag = (): string => JSON.parse(fixtureReleaseText("staging")).current.serving.image.tag;

const upstream = UPSTREAM_DIR && HELM ? describe : describe.skip;
if (!UPSTREAM_DIR || !HELM) {
  console.warn("serving-on-cluster: pinned upstream charts or helm not found; chart and CRD checks skipped");
}

describe("InferenceServices get a runtime (v2 protocol)", () => {
  upstream("against the runtimes of kserve-runtime-configs v0.20.0 as installed", () => {
    /** KServe v0.20's choice (ModelSpec.GetSupportingRuntimes): enabled, auto-selected format, protocol listed. */
    const supporting = (runtimes: KubernetesObject[], format: string, protocol: string | undefined) =>
      runtimes
        .filter((r) => r.kind === "ClusterServingRuntime" && r.spec.disabled !== true)
        .filter((r) =>
          (r.spec.supportedModelFormats ?? []).some((f: any) => f.name === format && f.autoSelect === true),
        )
        .filter((r) => (r.spec.protocolVersions ?? ["v1"]).includes(protocol ?? "v1"))
        .map((r) => r.metadata.name);
    let runtimes: KubernetesObject[] = [];
    beforeAll(() => {
      runtimes = renderChart(
        "kserve-runtime-configs",
        "kserve-runtime-configs-v0.20.0",
        "kserve",
        helmValues(synthesized.staging.platform.json, "kserve-runtime-configs"),
      );
    });

    it.each(NAMES)("%s: kserve-mlserver serves each mlflow predictor", (name) => {
      for (const isvc of inferenceServices(synthesized[name].serving.json)) {
        for (const predictor of predictors(isvc)) {
          const found = supporting(
            runtimes,
            predictor.model.modelFormat.name,
            predictor.model.protocolVersion,
          );
          expect(found).toContain("kserve-mlserver");
        }
      }
    });

    it("finds no runtime for mlflow without a protocol version (the defect)", () => {
      expect(supporting(runtimes, "mlflow", undefined)).toEqual([]);
    });

    it("has a v2 runtime for every model format a release may name", () => {
      const formats = (releaseContentSchema.shape.models.element as any).shape.format.unwrap().options;
      expect(formats.length).toBeGreaterThan(0);
      for (const format of formats) {
        expect({ format, runtimes: supporting(runtimes, format, "v2") }).toEqual({
          format,
          runtimes: expect.arrayContaining([expect.any(String)]),
        });
      }
    });
  });
});

describe("predictor pods pass Pod Security restricted", () => {
  upstream("the pod KServe v0.20 assembles from the installed charts", () => {
    /** Strategic merge of two securityContexts: maps merge key by key, lists and scalars are replaced. */
    const merge = (base: any, overlay: any): any => {
      if (overlay === undefined) return base;
      if (
        base === undefined ||
        typeof base !== "object" ||
        Array.isArray(base) ||
        typeof overlay !== "object"
      )
        return overlay;
      const result: any = { ...base };
      for (const [key, value] of Object.entries(overlay)) result[key] = merge(base[key], value);
      return result;
    };
    /** The checks of Pod Security "restricted" (Kubernetes 1.34) that security contexts decide. */
    const restrictedViolations = (pod: { securityContext: any; containers: { name: string; sc: any }[] }) => {
      const problems: string[] = [];
      const podSc = pod.securityContext ?? {};
      const seccompOk = (type: string | undefined) => type === "RuntimeDefault" || type === "Localhost";
      for (const { name, sc = {} } of pod.containers) {
        if (sc.privileged === true) problems.push(`${name}: privileged`);
        if (sc.allowPrivilegeEscalation !== false)
          problems.push(`${name}: allowPrivilegeEscalation not false`);
        if (!(sc.capabilities?.drop ?? []).includes("ALL"))
          problems.push(`${name}: capabilities not dropping ALL`);
        const added = (sc.capabilities?.add ?? []).filter((c: string) => c !== "NET_BIND_SERVICE");
        if (added.length > 0) problems.push(`${name}: adds ${added.join(",")}`);
        const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
        if (!seccompOk(seccomp)) problems.push(`${name}: seccomp ${seccomp ?? "unset"}`);
        const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
        if (nonRoot !== true) problems.push(`${name}: runAsNonRoot not true`);
        if ((sc.runAsUser ?? podSc.runAsUser) === 0) problems.push(`${name}: runs as UID 0`);
      }
      return problems;
    };
    let installedInitializer: any;
    let mlserver: KubernetesObject | undefined;
    beforeAll(() => {
      installedInitializer = storageContainer(helmValues(synthesized.prod.platform.json, "kserve-resources"));
      mlserver = renderChart(
        "kserve-runtime-configs",
        "kserve-runtime-configs-v0.20.0",
        "kserve",
        helmValues(synthesized.prod.platform.json, "kserve-runtime-configs"),
      ).find((r) => r.kind === "ClusterServingRuntime" && r.metadata.name === "kserve-mlserver");
    });
    const storageContainer = (values: string[]) => {
      const found = renderChart("kserve-resources", "kserve-resources-v0.20.0", "kserve", values).find(
        (o) => o.kind === "ClusterStorageContainer" && o.metadata.name === "default",
      );
      if (!found) throw new Error("kserve-resources renders no default ClusterStorageContainer");
      return found.spec.container;
    };

    it("the installed storage initializer is the chart's, with the platform's security context", () => {
      expect(installedInitializer.name).toBe("storage-initializer");
      expect(installedInitializer.securityContext).toEqual(STORAGE_INITIALIZER_SECURITY);
    });

    it.each(NAMES)("%s: pod, runtime container and storage initializer of every predictor", (name) => {
      const runtime = mlserver?.spec.containers.find((c: any) => c.name === RUNTIME_CONTAINER_NAME);
      expect(runtime).toBeDefined();
      for (const isvc of inferenceServices(synthesized[name].serving.json)) {
        for (const predictor of predictors(isvc)) {
          // KServe keeps the runtime container's name only if the model's is unset (the primary's,
          // which the webhook requires) or the same (a canary's, which the CRD requires).
          if (predictor !== isvc.spec.predictor) expect(predictor.model.name).toBe(runtime.name);
          else expect(predictor.model).not.toHaveProperty("name");
          const pod = {
            securityContext: predictor.securityContext,
            containers: [
              { name: runtime.name, sc: merge(runtime.securityContext, predictor.model.securityContext) },
              { name: installedInitializer.name, sc: installedInitializer.securityContext },
            ],
          };
          expect(restrictedViolations(pod)).toEqual([]);
        }
      }
    });

    it("flags the chart's own storage initializer and runtime without the platform's settings (the defect)", () => {
      const chartDefault = storageContainer([]);
      const runtime = mlserver?.spec.containers.find((c: any) => c.name === RUNTIME_CONTAINER_NAME);
      expect(
        restrictedViolations({
          securityContext: undefined,
          containers: [
            { name: "kserve-container", sc: runtime.securityContext },
            { name: "storage-initializer", sc: chartDefault.securityContext },
          ],
        }),
      ).toEqual(["kserve-container: seccomp unset", "storage-initializer: seccomp unset"]);
    });

    it("runs MLServer 1.5.0, whose image declares the UID the predictors run as", () => {
      // PREDICTOR_POD_SECURITY.runAsUser is MLServer 1.5.0's `USER 1000`: a new image needs a new look.
      const runtime = mlserver?.spec.containers.find((c: any) => c.name === RUNTIME_CONTAINER_NAME);
      expect(runtime.image).toBe("docker.io/seldonio/mlserver:1.5.0");
      expect(PREDICTOR_POD_SECURITY.runAsUser).toBe(1000);
    });
  });
});

describe("canaries the v0.20 CRD accepts", () => {
  upstream("validated against serving.kserve.io_inferenceservices.yaml v0.20.0", () => {
    let schemaErrors: (object: unknown) => string[] = () => ["not compiled"];
    beforeAll(() => {
      schemaErrors = schemaValidator(
        crdSchema("kserve-v0.20.0", "serving.kserve.io", "InferenceService", "v1beta1"),
      );
    });

    it.each(NAMES)("%s: every InferenceService matches the schema, unknown fields refused", (name) => {
      const services = inferenceServices(synthesized[name].serving.json);
      expect(services.length).toBeGreaterThan(0);
      for (const isvc of services) {
        expect({ name: isvc.metadata.name, errors: schemaErrors(isvc) }).toEqual({
          name: isvc.metadata.name,
          errors: [],
        });
      }
    });

    it("rejects a canary without model.name (the defect)", () => {
      const withCanary = inferenceServices(fixtureStaging().serving.json).filter(
        (isvc) => (isvc.spec.canary ?? []).length > 0,
      );
      expect(withCanary.length).toBeGreaterThan(0);
      const broken = structuredClone(withCanary[0]);
      delete broken.spec.canary[0].predictor.model.name;
      expect(schemaErrors(broken)).toEqual([
        expect.stringContaining("/spec/canary/0/predictor/model: must have required property 'name'"),
      ]);
    });
  });
});

describe("Ingresses of InferenceServices get a load balancer", () => {
  upstream("the ingress class of the routes is the load balancer controller's", () => {
    it.each(NAMES)(
      "%s: kserve-resources' ingress config makes no Ingress and names the IngressClass the controller installs",
      (name) => {
        const platform = synthesized[name].platform.json;
        const kserve = renderChart(
          "kserve-resources",
          "kserve-resources-v0.20.0",
          "kserve",
          helmValues(platform, "kserve-resources"),
        );
        const config = kserve.find(
          (o) => o.kind === "ConfigMap" && o.metadata.name === "inferenceservice-config",
        );
        const ingress = JSON.parse(config?.data.ingress);
        expect(JSON.parse(config?.data.deploy).defaultDeploymentMode).toBe("Standard");
        // The serving stack's routes publish the InferenceServices, on this class too.
        expect(ingress.disableIngressCreation).toBe(true);
        const controller = renderChart(
          "aws-load-balancer-controller",
          "aws-load-balancer-controller-3.5.0",
          "kube-system",
          helmValues(platform, "aws-load-balancer-controller"),
        );
        const classes = controller.filter((o) => o.kind === "IngressClass");
        expect(classes.map((c) => c.metadata.name)).toEqual([ingress.ingressClassName]);
        expect(classes[0].spec.controller).toBe("ingress.k8s.aws/alb");
      },
    );
  });
});

describe("serving images must exist before serving deploys", () => {
  (TERRAFORM ? describe : describe.skip)("Terraform evaluates the check at plan time", () => {
    /**
     * Plans a configuration whose stand-in for `aws_ecr_images` (a `terraform_remote_state`
     * data source reading a local file, which needs no provider download) lists `imageIds`, under
     * the synthesized postcondition. Returns the plan's error diagnostics.
     */
    const plan = (imageIds: { image_digest: string; image_tag: string | null }[]): string[] => {
      const listing = Object.values(ecrImageListings(fixtureStaging().serving.json)).find(
        (l) => l.repository_name === "mlops-serving",
      );
      const [check] = listing.lifecycle.postcondition;
      const work = mkdtempSync(join(tmpdir(), "image-check-"));
      try {
        writeFileSync(
          join(work, "listing.tfstate"),
          JSON.stringify({
            version: 4,
            terraform_version: "1.10.0",
            serial: 1,
            lineage: "image-check",
            outputs: {
              image_ids: {
                value: imageIds,
                type: ["list", ["object", { image_digest: "string", image_tag: "string" }]],
              },
            },
            resources: [],
          }),
        );
        writeFileSync(
          join(work, "main.tf.json"),
          JSON.stringify({
            data: {
              terraform_remote_state: {
                images: {
                  backend: "local",
                  config: { path: "listing.tfstate" },
                  lifecycle: {
                    postcondition: [
                      {
                        condition: check.condition.replace("self.image_ids", "self.outputs.image_ids"),
                        error_message: check.error_message.replace(
                          /\$\{data\.terraform_remote_state\.[^}]+\}/,
                          "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops-serving",
                        ),
                      },
                    ],
                  },
                },
              },
            },
          }),
        );
        const env = { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
        execFileSync(TERRAFORM as string, ["init", "-input=false", "-no-color"], {
          cwd: work,
          env,
          stdio: "pipe",
        });
        let output: string;
        try {
          output = execFileSync(TERRAFORM as string, ["plan", "-input=false", "-json"], {
            cwd: work,
            env,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
          });
        } catch (error: any) {
          output = String(error.stdout);
        }
        return output
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map((line) => JSON.parse(line))
          .filter((entry) => entry.type === "diagnostic" && entry.diagnostic.severity === "error")
          .map((entry) => entry.diagnostic.detail as string);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    };

    it("fails the plan with the message when the tag is not pushed", () => {
      const tag = fixtureStagingTag();
      expect(plan([{ image_digest: `sha256:${"b".repeat(64)}`, image_tag: `${tag}-other` }])).toEqual([
        `image mlops-serving:${tag} (serving.image of environments/releases/staging.json) is not in ECR mlops-serving; build and push it first (docker push 123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlops-serving:${tag}), then plan again`,
      ]);
    });

    it("plans when the tag is there, untagged images beside it", () => {
      expect(
        plan([
          { image_digest: `sha256:${"c".repeat(64)}`, image_tag: null },
          { image_digest: `sha256:${"d".repeat(64)}`, image_tag: fixtureStagingTag() },
        ]),
      ).toEqual([]);
    });
  });
});
