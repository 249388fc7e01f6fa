/**
 * The serving stack on the Rancher target, as a real RKE2 cluster needs it:
 * - every pod spec and service account pulls from Artifactory with the pull Secret;
 * - the serving Deployment is reached through an Ingress with TLS, with no LoadBalancer Service;
 * - the S3-compatible store's endpoint, keys and CA reach the workloads and KServe's storage
 *   initializer, with the annotations KServe v0.20's credential builder reads;
 * - GPU predictors land on the environment's GPU nodes, tolerating their taint.
 * The AWS serving stacks keep their snapshots (serving-stack.test.ts) and are checked here for
 * what must not leak into them.
 */
import { resourcesOf, synthesizeEnvironments, synthesizeOnPremEnvironments } from "./support/synth";
import type { TerraformJson } from "./support/synth";
import { PLATFORM_SERVICE_ACCOUNTS } from "../constructs/platform/service-accounts";

const PREDICTOR_ACCOUNT = PLATFORM_SERVICE_ACCOUNTS.kservePredictor.name;

const onPrem = synthesizeOnPremEnvironments();
const aws = synthesizeEnvironments();
const ON_PREM = Object.values(onPrem);

/** Every pod spec of the serving stack, with where it is. */
function podSpecs(json: TerraformJson): { where: string; spec: any }[] {
  const specs: { where: string; spec: any }[] = [];
  for (const [id, deployment] of Object.entries(resourcesOf(json, "kubernetes_deployment_v1"))) {
    specs.push({ where: `Deployment ${id}`, spec: deployment.spec.template.spec });
  }
  for (const [id, cron] of Object.entries(resourcesOf(json, "kubernetes_cron_job_v1"))) {
    specs.push({ where: `CronJob ${id}`, spec: cron.spec.job_template.spec.template.spec });
  }
  return specs;
}

const inferenceServices = (json: TerraformJson): any[] =>
  Object.values(resourcesOf(json, "kubernetes_manifest"))
    .map((m) => m.manifest)
    .filter((m) => m.kind === "InferenceService");

/** Every predictor of an InferenceService, canaries included. */
const predictors = (json: TerraformJson): any[] =>
  inferenceServices(json).flatMap((isvc) => [
    isvc.spec.predictor,
    ...((isvc.spec.canary ?? []) as any[]).map((c) => c.predictor),
  ]);

const envOf = (container: any): Record<string, any> =>
  Object.fromEntries((container.env as any[]).map((e) => [e.name, e.value ?? e.value_from]));

describe.each(ON_PREM.map((s) => [s.environment.name, s] as const))("%s serving", (_name, synthesized) => {
  const env = synthesized.environment;
  const json = synthesized.serving.json;
  const pullSecret = env.registry.pullSecretName;

  describe("images from Artifactory with the pull Secret", () => {
    it("every pod spec pulls with it", () => {
      const specs = podSpecs(json);
      expect(specs.length).toBeGreaterThanOrEqual(3);
      for (const { where, spec } of specs) {
        expect({ where, secrets: spec.image_pull_secrets }).toEqual({
          where,
          secrets: [{ name: pullSecret }],
        });
        for (const container of spec.container) {
          expect(container.image.startsWith(`${env.registry.host}/`)).toBe(true);
        }
      }
    });

    it("every service account carries it", () => {
      const accounts = Object.values(resourcesOf(json, "kubernetes_service_account_v1"));
      // Serving, predictors, training, batch and the models' monitoring jobs.
      expect(accounts.length).toBe(5);
      for (const account of accounts) {
        expect(account.image_pull_secret).toEqual([{ name: pullSecret }]);
      }
    });

    it("every predictor (canaries included) pulls with it: KServe copies it into the pod", () => {
      const all = predictors(json);
      expect(all.length).toBeGreaterThan(0);
      for (const predictor of all) expect(predictor.imagePullSecrets).toEqual([{ name: pullSecret }]);
    });
  });

  describe("InferenceService routes (ingress-nginx)", () => {
    const routes = () =>
      Object.fromEntries(
        Object.values(resourcesOf(json, "kubernetes_ingress_v1")).map((i) => [i.metadata.name, i]),
      );

    it("publishes every model at its KServe host through the platform's own Ingress, with TLS from the issuer", () => {
      const services = inferenceServices(json);
      expect(services.length).toBeGreaterThan(0);
      for (const isvc of services) {
        const name: string = isvc.metadata.name;
        const route = routes()[`${name}-route`];
        const host = `${name}-mlops.${env.platform.domain}`;
        expect(route.spec.ingress_class_name).toBe(env.cluster.ingressClassName);
        expect(route.metadata.annotations).toEqual({ "cert-manager.io/cluster-issuer": "organisation-ca" });
        expect(route.spec.tls).toEqual([{ hosts: [host], secret_name: `${host.replace(/\./g, "-")}-tls` }]);
        expect(route.spec.rule[0].http.path[0].backend.service).toEqual({
          name: `${name}-${isvc.spec.predictor.name}-predictor`,
          port: { number: 80 },
        });
        const canary = routes()[`${name}-canary`];
        const [spec] = (isvc.spec.canary ?? []) as any[];
        if (!spec) {
          expect(canary).toBeUndefined();
          continue;
        }
        expect(canary.metadata.annotations).toEqual({
          "nginx.ingress.kubernetes.io/canary": "true",
          "nginx.ingress.kubernetes.io/canary-weight": String(spec.trafficPercent),
        });
        expect(canary.spec.rule[0].host).toBe(host);
        expect(canary.spec.rule[0].http.path[0].backend.service).toEqual({
          name: `${name}-${spec.predictor.name}-predictor`,
          port: { number: 80 },
        });
      }
    });
  });

  describe("exposure without a cloud load balancer", () => {
    it("has no LoadBalancer Service", () => {
      const types = Object.values(resourcesOf(json, "kubernetes_service_v1")).map((s) => s.spec.type);
      expect(types).toEqual(["ClusterIP"]);
    });

    it("publishes the serving Service through an Ingress of the target's class, with TLS from the issuer", () => {
      const host = `serving.${env.platform.domain}`;
      const ingresses = Object.values(resourcesOf(json, "kubernetes_ingress_v1"));
      // The others are the InferenceServices' routes.
      const [ingress, ...others] = ingresses.filter((i) => i.metadata.name === "mlops-serving");
      expect(others).toEqual([]);
      expect(ingress.spec.ingress_class_name).toBe(env.cluster.ingressClassName);
      expect(ingress.metadata.annotations).toEqual({ "cert-manager.io/cluster-issuer": "organisation-ca" });
      expect(ingress.spec.tls).toEqual([{ hosts: [host], secret_name: `${host.replace(/\./g, "-")}-tls` }]);
      const [rule] = ingress.spec.rule;
      expect(rule.host).toBe(host);
      const backend = rule.http.path[0].backend.service;
      expect(backend.name).toMatch(
        /^\$\{kubernetes_service_v1\.ModelServing_Service_\w+\.metadata\[0\]\.name\}$/,
      );
      expect(backend.port).toEqual({ name: "http" });
    });
  });

  describe("the S3-compatible store", () => {
    const store = env.objectStore;
    const ca = store.caBundleSecret;

    it("reaches the serving Deployment and both CronJobs: endpoint, keys from the Secret, CA bundle", () => {
      for (const { where, spec } of podSpecs(json)) {
        const [container] = spec.container;
        const vars = envOf(container);
        expect({ where, endpoint: vars.MLFLOW_S3_ENDPOINT_URL }).toEqual({ where, endpoint: store.endpoint });
        expect(vars.AWS_ENDPOINT_URL).toBe(store.endpoint);
        for (const key of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
          expect(vars[key]).toEqual({ secret_key_ref: { name: store.credentialsSecret, key } });
        }
        if (ca) {
          expect(vars.AWS_CA_BUNDLE).toBe("/etc/ssl/object-store/ca-bundle.pem");
          expect(container.volume_mount).toContainEqual({
            name: "object-store-ca",
            mount_path: "/etc/ssl/object-store",
            read_only: true,
          });
          expect(spec.volume).toContainEqual({
            name: "object-store-ca",
            secret: { secret_name: ca.name, items: [{ key: ca.key, path: "ca-bundle.pem" }] },
          });
        } else {
          expect(vars.AWS_CA_BUNDLE).toBeUndefined();
        }
      }
    });

    it("gives KServe's storage initializer the keys Secret through the predictors' service account", () => {
      const accounts = Object.values(resourcesOf(json, "kubernetes_service_account_v1"));
      const predictor = accounts.find((a) => a.metadata.name === PREDICTOR_ACCOUNT);
      expect(predictor.secret).toEqual([{ name: store.credentialsSecret }]);
      // Without a web identity role KServe reads no annotation of the service account.
      expect(predictor.metadata.annotations).toEqual({});
    });

    it("annotates the platform's copy of that Secret with the s3-* settings KServe v0.20 reads from it", () => {
      expect(resourcesOf(json, "kubernetes_annotations")).toEqual({});
      const copies = Object.values(resourcesOf(synthesized.platform.json, "kubernetes_secret_v1")).filter(
        (secret) => secret.metadata.name === store.credentialsSecret && secret.metadata.namespace === "mlops",
      );
      expect(copies).toHaveLength(1);
      const {
        "mlops-platform/copied-from": from,
        "mlops-platform/purpose": _purpose,
        ...annotations
      } = copies[0].metadata.annotations;
      expect(from).toBe(`${env.stateBackend.namespace}/${store.credentialsSecret}`);
      expect(annotations).toEqual({
        "serving.kserve.io/s3-endpoint": store.endpoint.replace("https://", ""),
        "serving.kserve.io/s3-usehttps": "1",
        "serving.kserve.io/s3-region": store.region,
        "serving.kserve.io/s3-verifyssl": "1",
        "serving.kserve.io/s3-usevirtualbucket": "false",
        ...(ca
          ? {
              "serving.kserve.io/s3-cabundle-configmap": "kserve-object-store-ca",
              "serving.kserve.io/s3-cabundle": "/etc/tls/logger/cabundle.crt",
            }
          : {}),
      });
    });

    (ca ? it : it.skip)("copies the CA certificate into the ConfigMap KServe mounts", () => {
      const [configMap] = Object.values(resourcesOf(json, "kubernetes_config_map_v1"));
      expect(configMap.metadata).toEqual({ name: "kserve-object-store-ca", namespace: "mlops" });
      expect(Object.keys(configMap.data)).toEqual(["cabundle.crt"]);
      expect(configMap.data["cabundle.crt"]).toContain(`["${ca!.key}"]`);
      const [secret] = Object.values(json.data?.kubernetes_secret_v1 ?? {});
      expect(secret.metadata).toEqual({ name: ca!.name, namespace: "mlops" });
    });
  });

  describe("node placement", () => {
    const gpu = env.cluster.gpuNodes;

    it("puts GPU predictors on the environment's GPU nodes, tolerating their taint", () => {
      const gpuPredictors = predictors(json).filter((p) => p.model.resources.limits["nvidia.com/gpu"]);
      expect(gpuPredictors.length).toBeGreaterThan(0);
      for (const predictor of gpuPredictors) {
        expect(predictor.nodeSelector).toEqual({ [gpu.labelKey]: gpu.labelValue });
        expect(predictor.tolerations).toEqual(
          gpu.taintKey ? [{ key: gpu.taintKey, operator: "Exists", effect: "NoSchedule" }] : [],
        );
      }
    });

    it("keeps CPU predictors, the Deployment and the CronJobs off node-group labels that on-prem nodes lack", () => {
      for (const predictor of predictors(json).filter((p) => !p.model.resources.limits["nvidia.com/gpu"])) {
        expect(predictor.nodeSelector).toBeUndefined();
      }
      for (const { where, spec } of podSpecs(json)) {
        expect({ where, selector: spec.node_selector ?? {} }).toEqual({ where, selector: {} });
        expect(spec.toleration ?? []).toEqual([]);
      }
    });
  });
});

describe("the AWS serving stacks keep their EKS behaviour", () => {
  describe.each(Object.entries(aws))("%s", (_name, synthesized) => {
    const json = synthesized.serving.json;

    it("keeps the NLB Service and no Ingress of its own", () => {
      const [service] = Object.values(resourcesOf(json, "kubernetes_service_v1"));
      expect(service.spec.type).toBe("LoadBalancer");
      expect(service.metadata.annotations["service.beta.kubernetes.io/aws-load-balancer-type"]).toBe(
        "external",
      );
      // Only the InferenceServices' routes.
      expect(
        Object.values(resourcesOf(json, "kubernetes_ingress_v1")).filter(
          (i) => !i.metadata.name.endsWith("-route"),
        ),
      ).toEqual([]);
    });

    it("pulls from ECR without a pull Secret and reaches S3 by workload identity (no keys, no endpoint)", () => {
      for (const { spec } of podSpecs(json)) {
        expect(spec.image_pull_secrets).toBeUndefined();
        const vars = envOf(spec.container[0]);
        for (const name of [
          "AWS_ACCESS_KEY_ID",
          "AWS_SECRET_ACCESS_KEY",
          "MLFLOW_S3_ENDPOINT_URL",
          "AWS_CA_BUNDLE",
        ]) {
          expect(vars[name]).toBeUndefined();
        }
      }
      expect(resourcesOf(json, "kubernetes_annotations")).toEqual({});
    });

    it("keeps the s3-* settings on the predictors' IRSA service account", () => {
      const account = Object.values(resourcesOf(json, "kubernetes_service_account_v1")).find(
        (a) => a.metadata.name === PREDICTOR_ACCOUNT,
      );
      expect(account.metadata.annotations).toMatchObject({
        "serving.kserve.io/s3-usehttps": "1",
        "serving.kserve.io/s3-endpoint": `s3.${synthesized.environment.aws.region}.amazonaws.com`,
      });
      expect(account.secret).toBeUndefined();
    });

    it("places pods on the node groups: general, training (tolerated), GPU", () => {
      const [deployment] = Object.values(resourcesOf(json, "kubernetes_deployment_v1"));
      expect(deployment.spec.template.spec.node_selector).toEqual({ workload: "general" });
      const cron = resourcesOf(json, "kubernetes_cron_job_v1");
      const retraining = Object.values(cron).find((c) => c.metadata.name === "model-retraining");
      expect(retraining.spec.job_template.spec.template.spec.toleration).toEqual([
        { key: "workload", operator: "Equal", value: "training", effect: "NoSchedule" },
      ]);
      for (const predictor of predictors(json).filter((p) => p.model.resources.limits["nvidia.com/gpu"])) {
        expect(predictor.nodeSelector).toEqual({ workload: "gpu" });
      }
    });
  });
});
