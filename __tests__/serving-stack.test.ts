import { loadRelease } from "../environments/releases";
import {
  resourcesOf,
  roleArnFromFoundation,
  synthesizeEnvironments,
  synthesizeWithFixtureReleases,
  type TerraformJson,
} from "./support/synth";

const synthesized = synthesizeEnvironments();
const dev = synthesized.dev.serving.json;
const prod = synthesized.prod.serving.json;
/** Every AWS environment of the registry. */
const NAMES = Object.keys(synthesized);
const ALL: [string, TerraformJson][] = NAMES.map((name) => [name, synthesized[name].serving.json]);
const only = (json: TerraformJson, type: string) => {
  const all = Object.values(resourcesOf(json, type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
};
const deployment = (json: TerraformJson) => only(json, "kubernetes_deployment_v1");
const container = (json: TerraformJson) => deployment(json).spec.template.spec.container[0];
const inferenceServices = (json: TerraformJson) =>
  Object.values(resourcesOf(json, "kubernetes_manifest"))
    .map((m) => m.manifest)
    .filter((m) => m.kind === "InferenceService");
const prometheusRules = (json: TerraformJson) =>
  Object.values(resourcesOf(json, "kubernetes_manifest"))
    .map((m) => m.manifest)
    .filter((m) => m.kind === "PrometheusRule");
const cronJob = (json: TerraformJson, name: string) =>
  Object.values(resourcesOf(json, "kubernetes_cron_job_v1")).find((c) => c.metadata.name === name);
const accounts = (json: TerraformJson) =>
  Object.fromEntries(
    Object.values(resourcesOf(json, "kubernetes_service_account_v1")).map((a) => [a.metadata.name, a]),
  );
/** The release an environment of the registry runs today. */
const releaseOf = (name: string) => {
  const loaded = loadRelease(name);
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  return loaded.release.current;
};
/** How a stack names a release's image after its repository (`:tag` or `@digest`), as a pattern. */
const imageRef = (image: { tag?: string; digest?: string }) =>
  (image.digest ? `@${image.digest}` : `:${image.tag}`).replace(/\./g, "\\.");
/** The fixture staging release carries a canary, whatever the registry's staging runs. */
let withCanary: TerraformJson | undefined;
const fixtureStaging = () => (withCanary ??= synthesizeWithFixtureReleases().staging.serving.json);
const roleOutput = roleArnFromFoundation;

describe.each(NAMES)("%s-serving snapshot", (name) => {
  it("matches the reviewed Terraform", () => {
    expect(synthesized[name].serving.text).toMatchSnapshot();
  });
});

describe("serving Deployment", () => {
  it.each(ALL)("%s: runs the release's image from the environment's serving repository", (name, json) => {
    expect(container(json).image).toMatch(
      new RegExp(
        `^\\$\\{data\\.terraform_remote_state\\.[^}]+ServingRepository[^}]+repository_url\\}${imageRef(releaseOf(name).serving.image)}$`,
      ),
    );
    expect(deployment(json).metadata).toMatchObject({ name: "mlops-serving", namespace: "mlops" });
    expect(synthesized[name].environment.name).toBe(name);
  });

  it("keeps 2 replicas by default and prod's configured 3, never fewer than 2", () => {
    expect(deployment(dev).spec.replicas).toBe("2");
    expect(deployment(prod).spec.replicas).toBe("3");
  });

  it("requests 250m/256Mi, limits 500m/512Mi, listens on 8000 with probes on /health", () => {
    const c = container(prod);
    expect(c.resources).toEqual({
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    });
    expect(c.port).toEqual([{ name: "http", container_port: 8000, protocol: "TCP" }]);
    for (const probe of ["liveness_probe", "readiness_probe", "startup_probe"]) {
      expect(c[probe].http_get).toEqual({ path: "/health", port: "8000" });
    }
  });

  it("rolls out with maxSurge 1, maxUnavailable 0, spread across zones", () => {
    const spec = deployment(prod).spec;
    expect(spec.strategy).toEqual({
      type: "RollingUpdate",
      rolling_update: { max_surge: "1", max_unavailable: "0" },
    });
    expect(spec.template.spec.topology_spread_constraint[0]).toMatchObject({
      topology_key: "topology.kubernetes.io/zone",
      max_skew: 1,
    });
  });

  it("runs restricted: non-root, read-only root with a writable /tmp, no escalation, no capabilities, RuntimeDefault seccomp", () => {
    const pod = deployment(prod).spec.template.spec;
    expect(pod.security_context).toMatchObject({
      run_as_non_root: true,
      seccomp_profile: { type: "RuntimeDefault" },
    });
    expect(container(prod).security_context).toMatchObject({
      allow_privilege_escalation: false,
      read_only_root_filesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(container(prod).volume_mount).toEqual([{ name: "tmp", mount_path: "/tmp" }]);
    expect(pod.volume[0]).toMatchObject({ name: "tmp", empty_dir: { size_limit: "256Mi" } });
  });

  it("reads MLflow credentials from the Secret the platform keeps in sync", () => {
    expect(container(prod).env_from).toEqual([{ secret_ref: { name: "mlflow-client" } }]);
    const retraining = cronJob(prod, "model-retraining").spec.job_template.spec.template.spec.container[0];
    expect(retraining.env_from).toEqual([{ secret_ref: { name: "mlflow-client" } }]);
  });

  it("knows where MLflow is and which model alias to serve", () => {
    expect(Object.fromEntries(container(prod).env.map((e: any) => [e.name, e.value]))).toMatchObject({
      MLFLOW_TRACKING_URI: "http://mlflow.mlflow.svc.cluster.local",
      MODEL_NAME: releaseOf("prod").serving.model.name,
      MODEL_ALIAS: releaseOf("prod").serving.model.alias,
    });
  });

  it.each(ALL)("%s: runs as its own service account with the serving IRSA role", (_name, json) => {
    expect(deployment(json).spec.template.spec.service_account_name).toMatch(/mlops-serving|ModelServing/);
    expect(accounts(json)["mlops-serving"].metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(
      roleOutput("ModelServingIdentity"),
    );
  });

  it("is exposed on port 80 by an internal NLB through the load balancer controller", () => {
    const service = only(prod, "kubernetes_service_v1");
    expect(service.spec).toMatchObject({
      type: "LoadBalancer",
      port: [{ port: 80, target_port: "8000", protocol: "TCP", name: "http" }],
    });
    expect(service.metadata.annotations).toEqual({
      "service.beta.kubernetes.io/aws-load-balancer-type": "external",
      "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    });
  });

  it("scales on CPU and memory and keeps one pod through disruptions", () => {
    const hpa = only(prod, "kubernetes_horizontal_pod_autoscaler_v2");
    expect(hpa.spec.min_replicas).toBe(3);
    expect(hpa.spec.max_replicas).toBe(12);
    expect(hpa.spec.metric.map((m: any) => m.resource.name)).toEqual(["cpu", "memory"]);
    expect(only(prod, "kubernetes_pod_disruption_budget_v1").spec.min_available).toBe("1");
  });
});

describe("KServe InferenceServices", () => {
  it.each(ALL)("%s: one InferenceService per released model, in Standard mode", (name, json) => {
    const services = inferenceServices(json);
    expect(services.map((s) => s.metadata.name)).toEqual(releaseOf(name).models.map((m) => m.name));
    for (const service of services) {
      expect(service.apiVersion).toBe("serving.kserve.io/v1beta1");
      expect(service.metadata.annotations["serving.kserve.io/deploymentMode"]).toBe("Standard");
      expect(service.spec.predictor.serviceAccountName).toBe(
        "${kubernetes_service_account_v1.KservePredictorAccount.metadata[0].name}",
      );
      expect(service.spec.predictor.model.storageUri).toMatch(
        /^s3:\/\/\$\{[^}]+ArtifactsBucket[^}]+\}\/mlflow\/\d\/[0-9a-f]{32}\/artifacts\/model$/,
      );
    }
  });

  it("sends the canary's share of traffic to the canary version with fixed replicas", () => {
    const [churn, demand] = inferenceServices(fixtureStaging());
    expect(churn.spec.predictor.name).toBe("primary");
    expect(churn.spec.canary).toHaveLength(1);
    expect(churn.spec.canary[0]).toMatchObject({
      trafficPercent: 10,
      predictor: { name: "canary", minReplicas: 1 },
    });
    expect(churn.spec.canary[0].predictor.maxReplicas).toBeUndefined();
    expect(demand.spec.canary).toBeUndefined();
  });

  it("labels each predictor with its version and track, which the predictor scrape keeps", () => {
    const [churn, demand] = inferenceServices(fixtureStaging());
    expect(churn.spec.predictor.labels).toEqual({
      "mlops-platform/model-version": "v7",
      "mlops-platform/track": "primary",
    });
    expect(churn.spec.canary[0].predictor.labels).toEqual({
      "mlops-platform/model-version": "v8",
      "mlops-platform/track": "canary",
    });
    expect(demand.spec.predictor.labels["mlops-platform/track"]).toBe("primary");
  });

  it.each(ALL)(
    "%s: carries no load balancer annotations (KServe would copy them onto pods and Services)",
    (_n, json) => {
      for (const service of inferenceServices(json)) {
        expect(
          Object.keys(service.metadata.annotations).filter((key) => key.startsWith("alb.ingress")),
        ).toEqual([]);
      }
    },
  );

  it("gives the predictors' service account its IRSA role and the S3 settings of KServe's storage initializer", () => {
    const account = accounts(prod)["kserve-predictor"];
    expect(account.metadata.annotations).toMatchObject({
      "eks.amazonaws.com/role-arn": expect.stringMatching(roleOutput("KservePredictorIdentity")),
      "serving.kserve.io/s3-region": "eu-west-1",
      "serving.kserve.io/s3-endpoint": "s3.eu-west-1.amazonaws.com",
      "serving.kserve.io/s3-usehttps": "1",
    });
  });
});

describe("scheduled jobs", () => {
  it.each(["model-retraining", "batch-inference"])(
    "%s never overlaps, retries a bounded number of times and gives up",
    (name) => {
      const job = cronJob(prod, name);
      expect(job.spec).toMatchObject({
        concurrency_policy: "Forbid",
        successful_jobs_history_limit: 3,
        failed_jobs_history_limit: 3,
        starting_deadline_seconds: 3600,
      });
      expect(job.spec.job_template.spec.backoff_limit).toBe(2);
      expect(job.spec.job_template.spec.active_deadline_seconds).toBeGreaterThan(0);
      const pod = job.spec.job_template.spec.template.spec;
      expect(pod.security_context).toMatchObject({
        run_as_non_root: true,
        seccomp_profile: { type: "RuntimeDefault" },
      });
      expect(pod.container[0].security_context).toMatchObject({
        read_only_root_filesystem: true,
        allow_privilege_escalation: false,
      });
    },
  );

  it("retrains monthly on the training SPOT nodes with the training image, registering in MLflow", () => {
    const job = cronJob(prod, "model-retraining");
    expect(job.spec.schedule).toBe("0 3 1 * *");
    const pod = job.spec.job_template.spec.template.spec;
    expect(pod.node_selector).toEqual({ workload: "training" });
    expect(pod.toleration).toEqual([
      { key: "workload", operator: "Equal", value: "training", effect: "NoSchedule" },
    ]);
    expect(pod.container[0].image).toMatch(
      new RegExp(`TrainingRepository[^}]+repository_url\\}${imageRef(releaseOf("prod").training.image)}$`),
    );
    expect(pod.container[0].args.slice(0, 3)).toEqual([
      "train",
      "--registered-model",
      releaseOf("prod").serving.model.name,
    ]);
    expect(accounts(prod)["model-training"].metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(
      roleOutput("ModelTrainingIdentity"),
    );
  });

  it("runs batch inference nightly with its own identity", () => {
    const job = cronJob(prod, "batch-inference");
    expect(job.spec.schedule).toBe("0 2 * * *");
    const served = releaseOf("prod").serving.model;
    expect(job.spec.job_template.spec.template.spec.container[0].args).toContain(
      `models:/${served.name}@${served.alias}`,
    );
    expect(accounts(prod)["batch-inference"].metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(
      roleOutput("BatchInferenceIdentity"),
    );
  });
});

describe("InferenceService routes (ALB)", () => {
  const routes = (json: TerraformJson): Record<string, any> =>
    Object.fromEntries(
      Object.values(resourcesOf(json, "kubernetes_ingress_v1")).map((ingress) => [
        ingress.metadata.name,
        ingress,
      ]),
    );

  it("splits a staging canary 90/10 with the load balancer controller's weighted forward action", () => {
    const churn = routes(fixtureStaging())["churn-classifier-route"];
    expect(churn.spec.ingress_class_name).toBe("alb");
    const [rule] = churn.spec.rule;
    expect(rule.host).toBe("churn-classifier-mlops.mlops.staging.example.com");
    expect(rule.http.path).toEqual([
      {
        path: "/",
        path_type: "Prefix",
        backend: { service: { name: "churn-classifier-split", port: { name: "use-annotation" } } },
      },
    ]);
    expect(
      JSON.parse(churn.metadata.annotations["alb.ingress.kubernetes.io/actions.churn-classifier-split"]),
    ).toEqual({
      type: "forward",
      forwardConfig: {
        targetGroups: [
          { serviceName: "churn-classifier-primary-predictor", servicePort: 80, weight: 90 },
          { serviceName: "churn-classifier-canary-predictor", servicePort: 80, weight: 10 },
        ],
      },
    });
    // Both target groups probe the v2 readiness path of the runtime.
    expect(churn.metadata.annotations["alb.ingress.kubernetes.io/healthcheck-path"]).toBe("/v2/health/ready");
  });

  it.each(ALL)(
    "%s: probes the runtime's own port, so a logging model's agent never logs a health check as a prediction",
    (_name, json) => {
      // A logging model's Service targets KServe's agent (9081), which logs every request that is
      // not a kubelet probe; the load balancer's checks go to the runtime (8080) beside it.
      const published = Object.values(routes(json)).filter((r) => r.metadata.name.endsWith("-route"));
      expect(published.length).toBeGreaterThan(0);
      for (const route of published) {
        expect(route.metadata.annotations).toMatchObject({
          "alb.ingress.kubernetes.io/healthcheck-port": "8080",
          "alb.ingress.kubernetes.io/healthcheck-path": "/v2/health/ready",
        });
      }
    },
  );

  it.each(ALL)(
    "%s: a model without canary goes straight to its primary predictor's Service",
    (name, json) => {
      const steady = releaseOf(name).models.filter((model) => model.canary === undefined);
      for (const model of steady) {
        const route = routes(json)[`${model.name}-route`];
        const [path] = route.spec.rule[0].http.path;
        expect(path.backend.service).toEqual({
          name: `${model.name}-primary-predictor`,
          port: { number: 80 },
        });
        expect(Object.keys(route.metadata.annotations).filter((key) => key.includes("/actions."))).toEqual(
          [],
        );
      }
    },
  );

  it.each(ALL)(
    "%s: carries the target's load balancer settings, which Terraform keeps in step",
    (name, json) => {
      for (const route of Object.values(routes(json)).filter((r) => r.metadata.name.endsWith("-route"))) {
        expect(route.metadata.annotations).toMatchObject({
          "alb.ingress.kubernetes.io/group.name": `mlops-${name}`,
          "alb.ingress.kubernetes.io/target-type": "ip",
        });
      }
    },
  );
});

describe("model-monitoring thresholds", () => {
  it.each(ALL)(
    "%s: one PrometheusRule in the serving namespace, one drift and logging series per model",
    (name, json) => {
      const rules = prometheusRules(json);
      expect(rules).toHaveLength(1);
      const [rule] = rules;
      expect(rule.apiVersion).toBe("monitoring.coreos.com/v1");
      expect(rule.metadata).toMatchObject({ name: "model-monitoring-thresholds", namespace: "mlops" });
      const models = releaseOf(name).models;
      const recorded = rule.spec.groups[0].rules;
      expect(rule.spec.groups).toHaveLength(1);
      // The release's threshold where it names one, else the environment's.
      const environmentDrift = synthesized[name].environment.monitoring.driftThreshold;
      expect(recorded.filter((r: any) => r.record === "mlops:model_drift_threshold")).toEqual(
        models.map((m) => ({
          record: "mlops:model_drift_threshold",
          expr: `vector(${m.monitoring.driftThreshold ?? environmentDrift})`,
          labels: { model: m.name },
        })),
      );
      expect(recorded.filter((r: any) => r.record === "mlops:model_prediction_logging")).toEqual(
        models.map((m) => ({
          record: "mlops:model_prediction_logging",
          expr: `vector(${m.monitoring.logging.mode === "off" ? 0 : 1})`,
          labels: { model: m.name },
        })),
      );
      // A performance threshold only for a model whose release names one, in its metric's direction.
      const direction = (metric: string) => (["rmse", "mae"].includes(metric) ? "at-most" : "at-least");
      expect(recorded.filter((r: any) => r.record === "mlops:model_performance_threshold")).toEqual(
        models.flatMap((m) =>
          m.monitoring.performance
            ? [
                {
                  record: "mlops:model_performance_threshold",
                  expr: `vector(${m.monitoring.performance.threshold})`,
                  labels: {
                    model: m.name,
                    metric: m.monitoring.performance.metric,
                    direction: direction(m.monitoring.performance.metric),
                  },
                },
              ]
            : [],
        ),
      );
    },
  );
});
