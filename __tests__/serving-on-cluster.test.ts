/**
 * What KServe and the serving stack need to come up on a real cluster, checked in process on the
 * synthesized stacks (where a chart, a CRD or Terraform decides, integration/serving-on-cluster.test.ts
 * checks them on the pinned upstream sources and a real plan):
 * - a runtime for every InferenceService (the v2 protocol kserve-mlserver requires);
 * - predictor pods that Pod Security "restricted" admits (pod, runtime container, storage initializer);
 * - primary predictors KServe v0.20's webhook admits (no model name), canaries its CRD accepts;
 * - a plan that fails, saying what to push, when a release's image is not in the registry;
 * - Ingresses the AWS Load Balancer Controller can serve (IP targets, a health check that answers).
 */
import { parse as parseYaml } from "yaml";
import { Testing, TerraformStack } from "cdktf";
import { RequiredEcrImages } from "../constructs/aws/required-images";
import { PREDICTOR_HEALTH_PATH } from "../constructs/serving/inference-services";
import {
  resourcesOf,
  synthesizeEnvironments,
  synthesizeWithFixtureReleases,
  type TerraformJson,
} from "./support/synth";
import { releaseText } from "./support/release-files";
import { ecrImageListings, helmValues, inferenceServices, predictors } from "./support/serving";

const synthesized = synthesizeEnvironments();
/** Every AWS environment of the registry. */
const NAMES = Object.keys(synthesized);

const ingresses = (json: TerraformJson): any[] => Object.values(resourcesOf(json, "kubernetes_ingress_v1"));

// The fixture staging release carries the canary these checks need, whatever the registry's runs.
let withCanary: TerraformJson | undefined;
const fixtureStaging = () => (withCanary ??= synthesizeWithFixtureReleases().staging.serving.json);
it("the fixture staging release has a canary to check", () => {
  expect(inferenceServices(fixtureStaging()).some((s) => s.spec.canary?.length)).toBe(true);
});

describe("InferenceServices get a runtime (v2 protocol)", () => {
  it.each(NAMES)("%s: every predictor, canaries included, asks for protocolVersion v2", (name) => {
    for (const isvc of inferenceServices(synthesized[name].serving.json)) {
      for (const predictor of predictors(isvc)) {
        expect(predictor.model.protocolVersion).toBe("v2");
      }
    }
  });
});

describe("predictor pods pass Pod Security restricted", () => {
  it.each(NAMES)(
    "%s: each predictor sets non-root, UID 1000 and RuntimeDefault seccomp for the pod",
    (name) => {
      for (const isvc of inferenceServices(synthesized[name].serving.json)) {
        for (const predictor of predictors(isvc)) {
          expect(predictor.securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 1000,
            seccompProfile: { type: "RuntimeDefault" },
          });
          expect(predictor.model.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            privileged: false,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          });
        }
      }
    },
  );

  it.each(NAMES)("%s: the storage initializer's container has RuntimeDefault seccomp", (name) => {
    const values = parseYaml(helmValues(synthesized[name].platform.json, "kserve-resources").join("\n"));
    expect(values.kserve.storage.containerSecurityContext).toEqual({
      allowPrivilegeEscalation: false,
      privileged: false,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
  });
});

describe("primary predictors KServe v0.20.0's webhook admits", () => {
  // inference_service_validation.go, validatePredictor: "the 'name' field is not allowed in
  // standard predictor"; the webhook fails closed, so a named model refuses the InferenceService.
  it.each(NAMES)("%s: no primary predictor names its model container", (name) => {
    const services = inferenceServices(synthesized[name].serving.json);
    expect(services.length).toBeGreaterThan(0);
    for (const isvc of services) expect(isvc.spec.predictor.model).not.toHaveProperty("name");
  });
});

describe("canaries the v0.20 CRD accepts", () => {
  it("names the canary predictor's model container kserve-container", () => {
    const [churn] = inferenceServices(fixtureStaging());
    expect(churn.spec.canary[0].predictor.model.name).toBe("kserve-container");
    expect(churn.spec.canary[0].predictor.name).toBe("canary");
  });
});

describe("routes of InferenceServices get a load balancer", () => {
  it.each(NAMES)(
    "%s: each route carries IP targets, the v2 health check and the UIs' group and scheme; the InferenceService none",
    (name) => {
      const platformIngress = ingresses(synthesized[name].platform.json);
      const routes = ingresses(synthesized[name].serving.json).filter((i) =>
        i.metadata.name.endsWith("-route"),
      );
      const services = inferenceServices(synthesized[name].serving.json);
      expect(routes.map((r) => r.metadata.name).sort()).toEqual(
        services.map((isvc) => `${isvc.metadata.name}-route`).sort(),
      );
      for (const isvc of services) {
        // KServe copies the InferenceService's annotations onto its pods and Services.
        expect(Object.keys(isvc.metadata.annotations).filter((k) => k.startsWith("alb."))).toEqual([]);
      }
      for (const route of routes) {
        const annotations = route.metadata.annotations;
        expect(annotations["alb.ingress.kubernetes.io/target-type"]).toBe("ip");
        expect(annotations["alb.ingress.kubernetes.io/healthcheck-path"]).toBe(PREDICTOR_HEALTH_PATH);
        expect(annotations["alb.ingress.kubernetes.io/group.name"]).toBe(`mlops-${name}`);
        expect(annotations["alb.ingress.kubernetes.io/scheme"]).toBe(
          synthesized[name].environment.platform.exposure === "public" ? "internet-facing" : "internal",
        );
        for (const ingress of platformIngress) {
          const ui = ingress.metadata.annotations ?? {};
          if (
            ui["alb.ingress.kubernetes.io/group.name"] === annotations["alb.ingress.kubernetes.io/group.name"]
          ) {
            expect(ui["alb.ingress.kubernetes.io/scheme"]).toBe(
              annotations["alb.ingress.kubernetes.io/scheme"],
            );
          }
        }
      }
    },
  );
});

describe("serving images must exist before serving deploys", () => {
  it.each(NAMES)("%s: reads each repository's images with the foundation's AWS provider settings", (name) => {
    const { foundation, serving, environment } = synthesized[name];
    expect(serving.json.provider?.aws).toEqual(
      foundation.json.provider?.aws?.map((p: any) => ({
        ...p,
        default_tags: [{ tags: { ...p.default_tags[0].tags, "mlops-platform/stack": `${name}-serving` } }],
      })),
    );
    expect(
      Object.values(ecrImageListings(serving.json))
        .map((l) => l.repository_name)
        .sort(),
    ).toEqual(
      // The monitoring image is read from the training repository too.
      [
        environment.registry.servingRepository,
        environment.registry.trainingRepository,
        environment.registry.trainingRepository,
      ].sort(),
    );
  });

  it("names the missing image, the release field, and how to push it", () => {
    // The fixture staging release names its serving image by tag (the registry's may move).
    const listing = Object.values(ecrImageListings(fixtureStaging())).find(
      (l) => l.repository_name === "mlops-serving",
    );
    const tag: string = JSON.parse(releaseText("staging")).current.serving.image.tag;
    const escaped = tag.replace(/\./g, "\\.");
    expect(listing.lifecycle.postcondition).toEqual([
      {
        condition: `\${anytrue([for id in self.image_ids : id.image_tag == "${tag}"])}`,
        error_message: expect.stringMatching(
          new RegExp(
            `^image mlops-serving:${escaped} \\(serving\\.image of environments/releases/staging\\.json\\) is not in ECR mlops-serving; build and push it first \\(docker push \\$\\{data\\.terraform_remote_state\\.[^}]+ServingRepository[^}]+repository_url\\}:${escaped}\\), then plan again$`,
          ),
        ),
      },
    ]);
  });

  it("checks a digest against the images' digests", () => {
    const stack = new TerraformStack(Testing.app(), "digest");
    const digest = `sha256:${"a".repeat(64)}`;
    new RequiredEcrImages(stack, "Images", {
      images: [
        {
          id: "Serving",
          repositoryName: "mlops-serving",
          repositoryUrl: "registry.example/mlops-serving",
          source: "serving.image",
          image: { digest },
        },
      ],
    });
    const [listing] = Object.values<any>(JSON.parse(Testing.synth(stack)).data.aws_ecr_images);
    expect(listing.lifecycle.postcondition[0]).toEqual({
      condition: `\${anytrue([for id in self.image_ids : id.image_digest == "${digest}"])}`,
      error_message: `image mlops-serving@${digest} (serving.image) is not in ECR mlops-serving; build and push it first (push the image with that digest to registry.example/mlops-serving), then plan again`,
    });
  });
});
