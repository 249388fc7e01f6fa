import { parse } from "yaml";
import { PLATFORM_CHART_NAMES } from "../constructs/platform/charts";
import { PLATFORM_SERVICE_ACCOUNTS } from "../constructs/platform/service-accounts";
import { loadRelease } from "../environments/releases";
import {
  resourcesOf,
  roleArnFromFoundation,
  synthesizeEnvironments,
  type TerraformJson,
} from "./support/synth";

const synthesized = synthesizeEnvironments();
const dev = synthesized.dev.platform.json;
const prod = synthesized.prod.platform.json;
/** Every AWS environment of the registry. */
const NAMES = Object.keys(synthesized);
const ALL: [string, TerraformJson][] = NAMES.map((name) => [name, synthesized[name].platform.json]);

const releases = (json: TerraformJson) => Object.values(resourcesOf(json, "helm_release"));
const release = (json: TerraformJson, name: string) => {
  const found = releases(json).filter((r) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one release ${name}, found ${found.length}`);
  return found[0];
};
const valuesOf = (json: TerraformJson, name: string): any => parse(release(json, name).values[0]);
/** An output of the environment's own foundation stack, read through remote state. */
const remoteStateOf = (name: string) =>
  new RegExp(
    `^\\$\\{(base64decode\\()?data\\.terraform_remote_state\\.cross-stack-reference-input-${name}-foundation\\.outputs\\.[^}]+\\}$`,
  );
const roleOutput = roleArnFromFoundation;

describe.each(NAMES)("%s-platform snapshot", (name) => {
  it("matches the reviewed Terraform", () => {
    expect(synthesized[name].platform.text).toMatchSnapshot();
  });
});

describe("cluster access", () => {
  it.each(ALL)(
    "%s: providers take host, CA and the token command only from foundation outputs",
    (name, json) => {
      const REMOTE_STATE = remoteStateOf(name);
      const kubernetes = json.provider!.kubernetes[0];
      const helm = json.provider!.helm[0].kubernetes;
      for (const config of [kubernetes, helm]) {
        expect(config.host).toMatch(REMOTE_STATE);
        expect(config.cluster_ca_certificate).toMatch(REMOTE_STATE);
        expect(config.token).toBeUndefined();
        expect(config.config_path).toBeUndefined();
        expect(config.client_key).toBeUndefined();
      }
      const exec = kubernetes.exec[0];
      expect(exec.command).toBe("aws");
      expect(exec.args.slice(0, 3)).toEqual(["eks", "get-token", "--cluster-name"]);
      expect(exec.args[3]).toMatch(REMOTE_STATE);
      expect(helm.exec).toEqual(exec);
    },
  );

  it("reads the foundation's state from where the foundation keeps it", () => {
    expect(dev.data!.terraform_remote_state).toEqual({
      "cross-stack-reference-input-dev-foundation": {
        backend: "local",
        config: { path: "../../../terraform.dev-foundation.tfstate" },
        workspace: "${terraform.workspace}",
      },
    });
    expect(Object.values<any>(prod.data!.terraform_remote_state)[0].config).toMatchObject({
      bucket: "acme-mlops-terraform-state-prod",
      key: "mlops-platform/prod-foundation.tfstate",
    });
  });
});

describe("Helm releases", () => {
  it.each(ALL)("%s: every release is pinned, atomic, waited for and cleaned up on failure", (_name, json) => {
    for (const r of releases(json)) {
      expect(r.version).toMatch(/^v?\d+\.\d+\.\d+$/);
      expect(r).toMatchObject({ atomic: true, wait: true, cleanup_on_fail: true, create_namespace: false });
      expect(r.timeout).toBeGreaterThanOrEqual(300);
      expect(r.repository ?? r.chart).toMatch(/^(https|oci):\/\//);
    }
  });

  it.each(ALL)("%s: runs exactly the chart versions of its release file", (name, json) => {
    const file = loadRelease(name);
    if (!file.ok) throw new Error(file.problems.join("\n"));
    const installed = Object.fromEntries(
      releases(json).map((r) => [r.chart.replace(/^oci:\/\/.*\//, ""), r.version]),
    );
    expect(installed["cert-manager"]).toBe(file.release.current.charts["cert-manager"]);
    expect(installed.raw).toBe(file.release.current.charts["platform-resources"]);
    for (const chart of PLATFORM_CHART_NAMES.filter((c) => c !== "platform-resources")) {
      expect([chart, installed[chart]]).toEqual([chart, file.release.current.charts[chart]]);
    }
  });

  it("installs operators before the releases that need their CRDs or webhooks", () => {
    const idOf = (name: string) => {
      const [id] = Object.entries(resourcesOf(dev, "helm_release")).find(([, r]) => r.name === name)!;
      return `helm_release.${id}`;
    };
    expect(release(dev, "kserve-runtime-configs").depends_on).toEqual([idOf("kserve-resources")]);
    expect(release(dev, "kserve-resources").depends_on).toEqual(
      expect.arrayContaining([idOf("kserve-crd"), idOf("cert-manager")]),
    );
    expect(release(dev, "argocd-apps").depends_on).toEqual([idOf("argo-cd")]);
    expect(release(dev, "platform-secrets").depends_on).toContain(idOf("external-secrets"));
    expect(release(dev, "kube-prometheus-stack").depends_on).toContain(idOf("platform-secrets"));
    expect(release(dev, "dcgm-exporter").depends_on).toContain(idOf("kube-prometheus-stack"));
    expect(release(dev, "mlflow").depends_on).toEqual(
      expect.arrayContaining([idOf("platform-secrets"), idOf("kube-prometheus-stack")]),
    );
  });

  it.each(ALL)("%s: creates no custom resource through kubernetes_manifest", (_name, json) => {
    expect(resourcesOf(json, "kubernetes_manifest")).toEqual({});
  });
});

describe("namespaces", () => {
  const namespaces = (json: TerraformJson): Record<string, { id: string; ns: any }> =>
    Object.fromEntries(
      Object.entries(resourcesOf(json, "kubernetes_namespace_v1")).map(([id, ns]) => [
        ns.metadata.name,
        { id, ns },
      ]),
    );
  const inNamespace = (json: TerraformJson, type: string, namespace: string) => {
    const { id } = namespaces(json)[namespace];
    return Object.values(resourcesOf(json, type)).filter(
      (r) => r.metadata.namespace === `\${kubernetes_namespace_v1.${id}.metadata[0].name}`,
    );
  };
  const ML = ["mlflow", "kubeflow", "kserve", "mlops"];
  const PLATFORM = [...ML, "argocd", "monitoring"];

  it.each(ALL)(
    "%s: every namespace enforces a Pod Security level and explains any exception",
    (_name, json) => {
      for (const { ns } of Object.values(namespaces(json))) {
        const labels = ns.metadata.labels;
        expect(labels["pod-security.kubernetes.io/enforce"]).toMatch(/^(restricted|baseline|privileged)$/);
        expect(labels["pod-security.kubernetes.io/warn"]).toBe(labels["pod-security.kubernetes.io/enforce"]);
        if (labels["pod-security.kubernetes.io/enforce"] !== "restricted") {
          expect(ns.metadata.annotations["mlops-platform/pod-security-exception"].length).toBeGreaterThan(20);
        }
      }
      const levels = Object.fromEntries(
        Object.entries(namespaces(json)).map(([name, { ns }]) => [
          name,
          ns.metadata.labels["pod-security.kubernetes.io/enforce"],
        ]),
      );
      expect(levels).toMatchObject({
        mlflow: "restricted",
        kserve: "restricted",
        mlops: "restricted",
        argocd: "restricted",
        kubeflow: "baseline",
        monitoring: "privileged",
      });
    },
  );

  it.each(ALL)(
    "%s: every platform namespace has a quota capping GPUs at 4, and container defaults",
    (_name, json) => {
      for (const namespace of PLATFORM) {
        const [quota] = inNamespace(json, "kubernetes_resource_quota_v1", namespace);
        expect([namespace, quota.spec.hard["requests.nvidia.com/gpu"]]).toEqual([namespace, "4"]);
        expect(quota.spec.hard["requests.cpu"]).toBeDefined();
        expect(quota.spec.hard["limits.memory"]).toBeDefined();
        expect(inNamespace(json, "kubernetes_limit_range_v1", namespace)).toHaveLength(1);
      }
    },
  );

  it.each(ALL)(
    "%s: namespaces whose pods are ALB or NLB ip targets get the load balancer controller's pod readiness gates",
    (_name, json) => {
      const all = namespaces(json);
      for (const name of ["mlops", "mlflow", "argocd"]) {
        expect({ name, labels: all[name].ns.metadata.labels }).toMatchObject({
          name,
          labels: { "elbv2.k8s.aws/pod-readiness-gate-inject": "enabled" },
        });
      }
      // No load balancer target there on EKS (no directory login: no Grafana or pipelines login Ingress).
      for (const name of ["kserve", "kubeflow", "monitoring"]) {
        expect({ name, labels: all[name].ns.metadata.labels }).not.toMatchObject({
          labels: { "elbv2.k8s.aws/pod-readiness-gate-inject": expect.anything() },
        });
      }
    },
  );

  it("sizes quotas from the environment", () => {
    const [quota] = inNamespace(prod, "kubernetes_resource_quota_v1", "mlflow");
    expect(quota.spec.hard).toMatchObject({ "requests.cpu": "32", "requests.memory": "128Gi" });
  });

  it.each(ALL)("%s: every ML namespace denies all traffic by default and allows DNS", (_name, json) => {
    for (const namespace of ML) {
      const policies = inNamespace(json, "kubernetes_network_policy_v1", namespace);
      const deny = policies.find((p) => p.metadata.name === "default-deny");
      expect(deny.spec).toEqual({ pod_selector: {}, policy_types: ["Ingress", "Egress"] });
      const dns = policies.find((p) => p.metadata.name === "allow-dns");
      expect(dns.spec.egress[0].ports).toEqual([
        { port: "53", protocol: "UDP" },
        { port: "53", protocol: "TCP" },
      ]);
      expect(policies.find((p) => p.metadata.name === "allow-ingress-monitoring")).toBeDefined();
    }
  });

  it("lets only mlops, kubeflow and kserve (and the load balancer) reach MLflow, and MLflow reach only PostgreSQL, S3 and itself", () => {
    const policies = inNamespace(prod, "kubernetes_network_policy_v1", "mlflow");
    const clients = policies.find((p) => p.metadata.name === "allow-ingress-ml-clients");
    expect(
      clients.spec.ingress[0].from.map(
        (f: any) => f.namespace_selector.match_labels["kubernetes.io/metadata.name"],
      ),
    ).toEqual(["mlops", "kubeflow", "kserve"]);
    expect(clients.spec.ingress[0].ports).toEqual([{ port: "5000", protocol: "TCP" }]);
    const egress = policies.filter((p) => p.spec.policy_types[0] === "Egress").map((p) => p.metadata.name);
    // Same-namespace traffic lets the bootstrap Job reach the server.
    expect(egress.sort()).toEqual([
      "allow-dns",
      "allow-egress-database",
      "allow-egress-object-store",
      "allow-egress-same-namespace",
    ]);
    const database = policies.find((p) => p.metadata.name === "allow-egress-database");
    expect(database.spec.egress[0]).toEqual({
      to: [{ ip_block: { cidr: "10.30.0.0/16" } }],
      ports: [{ port: "5432", protocol: "TCP" }],
    });
  });

  it("lets KServe's controller reach the Kubernetes API, at its Service IP and its endpoints, and nothing else", () => {
    const policies = inNamespace(prod, "kubernetes_network_policy_v1", "kserve");
    const egress = policies.filter((p) => p.spec.policy_types[0] === "Egress").map((p) => p.metadata.name);
    expect(egress.sort()).toEqual([
      "allow-dns",
      "allow-egress-kubernetes-api",
      "allow-egress-kubernetes-api-service",
    ]);
    // The VPC CNI agent matches ipBlock before DNAT: pods dial the `kubernetes` Service, which
    // Kubernetes puts on the first address of the service range (172.20.0.0/16 by default).
    const service = policies.find((p) => p.metadata.name === "allow-egress-kubernetes-api-service");
    expect(service.spec.egress[0]).toEqual({
      to: [{ ip_block: { cidr: "172.20.0.1/32" } }],
      ports: [{ port: "443", protocol: "TCP" }],
    });
  });

  it("lets kubeflow reach MLflow and KServe, and the serving namespace take load-balancer traffic", () => {
    const kubeflow = inNamespace(prod, "kubernetes_network_policy_v1", "kubeflow").map(
      (p) => p.metadata.name,
    );
    expect(kubeflow).toEqual(
      expect.arrayContaining(["allow-egress-mlflow", "allow-egress-kserve", "allow-ingress-load-balancer"]),
    );
    const serving = inNamespace(prod, "kubernetes_network_policy_v1", "mlops");
    const entry = serving.find((p) => p.metadata.name === "allow-ingress-load-balancer");
    expect(entry.spec.ingress[0].ports).toEqual([
      { port: "8000", protocol: "TCP" },
      { port: "8080", protocol: "TCP" },
      // KServe v0.20's logger agent, the Service's target port of a predictor that logs.
      { port: "9081", protocol: "TCP" },
    ]);
  });

  it.each(ALL)("%s: every namespaced object is created after its namespace", (_name, json) => {
    for (const type of [
      "kubernetes_network_policy_v1",
      "kubernetes_resource_quota_v1",
      "kubernetes_limit_range_v1",
      "kubernetes_config_map_v1",
      "kubernetes_job_v1",
    ]) {
      for (const resource of Object.values(resourcesOf(json, type))) {
        expect([type, resource.metadata.namespace]).toEqual([
          type,
          expect.stringMatching(/^\$\{kubernetes_namespace_v1\./),
        ]);
      }
    }
    for (const r of releases(json)) {
      if (r.namespace === "kube-system") continue;
      expect([r.name, r.namespace]).toEqual([
        r.name,
        expect.stringMatching(/^\$\{kubernetes_namespace_v1\./),
      ]);
    }
  });
});

describe("workload identities", () => {
  it.each(ALL)("%s: each IRSA role is annotated on exactly the service account it trusts", (_name, json) => {
    const expectations: [string, (values: any) => any, string, string][] = [
      ["mlflow", (v) => v.serviceAccount, "mlflowServer", "MlflowServerIdentity"],
      [
        "aws-load-balancer-controller",
        (v) => v.serviceAccount,
        "loadBalancerController",
        "LoadBalancerControllerIdentity",
      ],
      ["cluster-autoscaler", (v) => v.rbac.serviceAccount, "clusterAutoscaler", "ClusterAutoscalerIdentity"],
      ["external-secrets", (v) => v.serviceAccount, "externalSecrets", "ExternalSecretsIdentity"],
    ];
    for (const [releaseName, pick, account, identity] of expectations) {
      const serviceAccount = pick(valuesOf(json, releaseName));
      const ref = PLATFORM_SERVICE_ACCOUNTS[account as keyof typeof PLATFORM_SERVICE_ACCOUNTS];
      expect(serviceAccount.name).toBe(ref.name);
      expect(release(json, releaseName).namespace).toMatch(
        new RegExp(ref.namespace === "kube-system" ? "^kube-system$" : "kubernetes_namespace_v1"),
      );
      expect(serviceAccount.annotations["eks.amazonaws.com/role-arn"]).toMatch(roleOutput(identity));
    }
  });

  it("runs the cluster autoscaler at the cluster's Kubernetes minor, discovering this cluster's groups", () => {
    const values = valuesOf(prod, "cluster-autoscaler");
    expect(values.image.tag).toMatch(/^v1\.34\.\d+$/);
    expect(values.autoDiscovery.clusterName).toMatch(remoteStateOf("prod"));
    expect(values.cloudProvider).toBe("aws");
  });

  it("gives the pipeline steps' service account its role through a kustomize patch", () => {
    const apps = valuesOf(prod, "argocd-apps").applications;
    const [saPatch] = apps["kubeflow-pipelines"].source.kustomize.patches;
    expect(saPatch.target).toEqual({ kind: "ServiceAccount", name: "pipeline-runner" });
    const [op] = JSON.parse(saPatch.patch);
    expect(op.value["eks.amazonaws.com/role-arn"]).toMatch(roleOutput("PipelineRunnerIdentity"));
  });
});

describe("the ML platform", () => {
  it("runs MLflow on PostgreSQL with credentials from a Secret, artifacts in S3, auth on, metrics exposed", () => {
    const values = valuesOf(prod, "mlflow");
    expect(values.backendStore).toMatchObject({
      postgres: { enabled: true, database: "mlflow", port: 5432 },
      existingDatabaseSecret: { name: "mlflow-database", usernameKey: "username", passwordKey: "password" },
    });
    expect(values.backendStore.postgres.password).toBeUndefined();
    expect(values.artifactRoot).toMatchObject({
      proxiedArtifactStorage: true,
      s3: { enabled: true, path: "mlflow" },
    });
    expect(values.artifactRoot.s3.awsAccessKeyId).toBeUndefined();
    expect(values.auth).toMatchObject({ enabled: true, existingAdminSecret: { name: "mlflow-admin" } });
    expect(values.auth.postgres).toMatchObject({ enabled: true, database: "mlflow_auth" });
    // Metrics on, scraped by the platform's ServiceMonitor (the chart's cannot authenticate).
    expect(values.serviceMonitor.enabled).toBe(false);
    expect(values.extraArgs.exposePrometheus).toBe("/mlflow/metrics");
    expect(values.extraDeploy.map((o: any) => o.kind)).toEqual(["ServiceMonitor"]);
    // In-cluster names and prod's pod range (the VPC, 10.30.0.0/16) as MLflow's fnmatch patterns.
    expect(values.serverAllowedHosts).toEqual(
      expect.arrayContaining(["mlflow", expect.stringMatching(/\.svc\.cluster\.local$/), "10.30.*"]),
    );
    expect(values.ingress.hosts[0].host).toBe("mlflow.mlops.example.com");
  });

  it("creates the workloads' and the metrics scraper's MLflow users through MLflow's API once the server runs", () => {
    const jobs = Object.entries(resourcesOf(prod, "kubernetes_job_v1"));
    const [id, job] = jobs.find(([, j]) => j.metadata.name === "mlflow-create-users")!;
    const container = job.spec.template.spec.container[0];
    expect(container.command[2]).toContain("/api/2.0/mlflow/users/create");
    expect(container.command[2]).toContain('-w "%%{http_code}"');
    expect(container.env.map((e: any) => e.name)).toEqual([
      "MLFLOW",
      "USER_COUNT",
      "ADMIN_USER",
      "ADMIN_PASSWORD",
      "USER_0",
      "PASSWORD_0",
      "USER_1",
      "PASSWORD_1",
    ]);
    expect(container.env[1].value).toBe("2");
    expect(container.env.slice(2).map((e: any) => e.value_from.secret_key_ref.name)).toEqual([
      "mlflow-admin",
      "mlflow-admin",
      "mlflow-client",
      "mlflow-client",
      "mlflow-metrics",
      "mlflow-metrics",
    ]);
    expect(job.depends_on[0]).toMatch(/^helm_release\.Mlflow_Server_Release_/);
    expect(job.wait_for_completion).toBe(true);
    expect(id).toContain("ClientUser");
  });

  it("serves prod's UIs over HTTPS with its ACM certificate, redirecting HTTP; dev on plain HTTP", () => {
    expect(valuesOf(prod, "mlflow").ingress.annotations).toMatchObject({
      "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP":80},{"HTTPS":443}]',
      "alb.ingress.kubernetes.io/ssl-redirect": "443",
      "alb.ingress.kubernetes.io/certificate-arn": expect.stringMatching(
        /^arn:aws:acm:eu-west-1:333333333333:certificate\//,
      ),
    });
    expect(
      valuesOf(prod, "argo-cd").server.ingress.annotations["alb.ingress.kubernetes.io/ssl-redirect"],
    ).toBe("443");
    expect(
      valuesOf(dev, "mlflow").ingress.annotations["alb.ingress.kubernetes.io/certificate-arn"],
    ).toBeUndefined();
  });

  it.each(ALL)(
    "%s: MLflow's ingress (an ALB) carries no ingress-nginx size or timeout annotations",
    (_name, json) => {
      const annotations = parse(
        Object.values<any>(json.resource.helm_release).find((r) => r.chart === "mlflow").values[0],
      ).ingress.annotations;
      expect(
        Object.keys(annotations).filter((key) => key.startsWith("nginx.ingress.kubernetes.io/")),
      ).toEqual([]);
    },
  );

  it.each(ALL)("%s: MLflow's bootstrap Jobs meet Pod Security restricted", (_name, json) => {
    for (const job of Object.values(resourcesOf(json, "kubernetes_job_v1"))) {
      const pod = job.spec.template.spec;
      expect(pod.security_context).toMatchObject({
        run_as_non_root: true,
        seccomp_profile: { type: "RuntimeDefault" },
      });
      expect(pod.container[0].security_context).toMatchObject({
        allow_privilege_escalation: false,
        read_only_root_filesystem: true,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("runs MLflow with two replicas and a PDB in prod, one replica in dev", () => {
    expect(valuesOf(prod, "mlflow").replicaCount).toBe(2);
    expect(valuesOf(dev, "mlflow").replicaCount).toBe(1);
    const pdbs = (json: TerraformJson) =>
      Object.values(resourcesOf(json, "kubernetes_pod_disruption_budget_v1"));
    expect(pdbs(prod).map((p) => p.metadata.name)).toEqual(["mlflow"]);
    expect(pdbs(dev)).toEqual([]);
  });

  it("generates admin credentials in the cluster and copies the database secret, nothing in values", () => {
    const resources = valuesOf(prod, "platform-secrets").resources;
    const kinds = resources.map((r: any) => `${r.kind}/${r.metadata.name}`);
    expect(kinds).toEqual([
      "ClusterSecretStore/platform-secrets",
      "ExternalSecret/database-admin",
      "Password/mlflow-admin-password",
      "ExternalSecret/mlflow-admin",
      "Password/mlflow-database-password",
      "ExternalSecret/mlflow-database",
      "Password/mlflow-metrics-password",
      "ExternalSecret/mlflow-metrics",
      "Password/grafana-admin-password",
      "ExternalSecret/grafana-admin",
      "Password/mlflow-client-password",
      "ExternalSecret/mlflow-client",
      "ServiceAccount/mlflow-client-reader",
      "Role/mlflow-client-reader",
      "RoleBinding/mlflow-client-reader",
      "SecretStore/mlflow-client-reader",
      "ExternalSecret/mlflow-client",
      "ExternalSecret/alert-receiver-on-call",
      "ExternalSecret/alert-receiver-platform-team",
    ]);
    const role = resources.find((r: any) => r.kind === "Role");
    expect(role.metadata.namespace).toBe("mlflow");
    expect(role.rules[0]).toEqual({
      apiGroups: [""],
      resources: ["secrets"],
      resourceNames: ["mlflow-client"],
      verbs: ["get", "list", "watch"],
    });
    const copy = resources.find((r: any) => r.kind === "ExternalSecret" && r.metadata.namespace === "mlops");
    expect(copy.metadata.name).toBe("mlflow-client");
    expect(copy.spec.dataFrom).toEqual([{ extract: { key: "mlflow-client" } }]);
    const database = resources[1];
    expect(database.metadata).toEqual({ name: "database-admin", namespace: "mlflow" });
    expect(database.spec.data.map((d: any) => d.remoteRef.property)).toEqual(["username", "password"]);
    expect(database.spec.data[0].remoteRef.key).toMatch(/master_user_secret0secret_arn\}$/);
  });

  it("installs KServe in Standard (raw deployment) mode without Istio, behind the cluster's ingress class", () => {
    expect(valuesOf(prod, "kserve-runtime-configs").kserve.servingruntime.enabled).toBe(true);
    expect(valuesOf(prod, "kserve-resources").kserve.controller).toMatchObject({
      deploymentMode: "Standard",
      gateway: { disableIstioVirtualHost: true, ingressGateway: { className: "alb" } },
    });
    // The serving stack's routes publish the InferenceServices; KServe's would send canaries nothing.
    expect(valuesOf(prod, "kserve-resources").kserve.controller.gateway.disableIngressCreation).toBe(true);
  });

  it("runs Argo CD HA in prod and single in dev, admin password never in values", () => {
    const prodValues = valuesOf(prod, "argo-cd");
    expect(prodValues["redis-ha"].enabled).toBe(true);
    expect(prodValues.server.replicas).toBe(2);
    expect(prodValues.repoServer.pdb.enabled).toBe(true);
    // The ALB checks Argo CD's health endpoint, not the UI.
    expect(prodValues.server.ingress.annotations["alb.ingress.kubernetes.io/healthcheck-path"]).toBe(
      "/healthz",
    );
    // A PDB on the single application controller would block every drain.
    expect(prodValues.controller).toMatchObject({ replicas: 1, pdb: { enabled: false } });
    expect(prodValues.configs.secret.argocdServerAdminPassword).toBeUndefined();
    expect(valuesOf(dev, "argo-cd")["redis-ha"].enabled).toBe(false);
  });

  it("installs Kubeflow Pipelines through Argo CD from the pinned upstream tag", () => {
    const apps = valuesOf(prod, "argocd-apps").applications;
    expect(Object.keys(apps).sort()).toEqual(["kubeflow-pipelines", "kubeflow-pipelines-cluster-scoped"]);
    expect(
      apps["kubeflow-pipelines-cluster-scoped"].additionalAnnotations["argocd.argoproj.io/sync-wave"],
    ).toBe("0");
    expect(apps["kubeflow-pipelines"].additionalAnnotations["argocd.argoproj.io/sync-wave"]).toBe("1");
    for (const app of Object.values<any>(apps)) {
      expect(app.source).toMatchObject({
        repoURL: "https://github.com/kubeflow/pipelines.git",
        targetRevision: "2.17.0",
      });
      expect(app.syncPolicy.automated).toEqual({ prune: true, selfHeal: true });
    }
    const [, launcher] = apps["kubeflow-pipelines"].source.kustomize.patches;
    // The launcher's ConfigMap itself: pipeline-install-config is consumed inside the upstream build.
    expect(launcher.target).toEqual({ kind: "ConfigMap", name: "kfp-launcher" });
    const [root, providers] = JSON.parse(launcher.patch);
    expect(root).toMatchObject({ op: "replace", path: "/data/defaultPipelineRoot" });
    expect(root.value).toMatch(/^s3:\/\/\$\{.*ArtifactsBucket.*\}\/pipelines$/);
    expect(JSON.parse(providers.value).s3.default).toMatchObject({
      region: "eu-west-1",
      credentials: { fromEnv: true },
    });
  });
});

describe("monitoring", () => {
  it("keeps Prometheus data on a volume for the configured days and picks up monitors from every namespace", () => {
    const spec = valuesOf(prod, "kube-prometheus-stack").prometheus.prometheusSpec;
    expect(spec).toMatchObject({
      retention: "30d",
      serviceMonitorSelectorNilUsesHelmValues: false,
      podMonitorSelectorNilUsesHelmValues: false,
      ruleSelectorNilUsesHelmValues: false,
    });
    expect(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe("200Gi");
  });

  it("scrapes the serving Deployment, KServe predictors and Kubeflow Pipelines", () => {
    const monitors = valuesOf(prod, "kube-prometheus-stack").prometheus.additionalPodMonitors;
    expect(monitors.map((m: any) => [m.name, m.namespaceSelector.matchNames[0]])).toEqual([
      ["mlops-serving", "mlops"],
      ["kserve-mlserver-predictors", "mlops"],
      ["kubeflow-pipelines-api", "kubeflow"],
      ["argo-workflows-controller", "kubeflow"],
    ]);
    const [mlflowMonitor] = valuesOf(prod, "mlflow").extraDeploy;
    expect(mlflowMonitor.spec.endpoints[0]).toMatchObject({ port: "http", path: "/metrics" });
  });

  it("takes Grafana's admin from an existing Secret", () => {
    const grafana = valuesOf(prod, "kube-prometheus-stack").grafana;
    expect(grafana.admin).toEqual({
      existingSecret: "grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    expect(grafana.adminPassword).toBeUndefined();
  });

  it("ships the ten platform alerts (six of the platform, four of model monitoring) as a PrometheusRule through the chart", () => {
    const rules = valuesOf(prod, "kube-prometheus-stack").additionalPrometheusRulesMap["mlops-platform"]
      .groups[0].rules;
    expect(rules.map((r: any) => [r.alert, r.labels.severity, r.for])).toEqual([
      ["HighInferenceLatency", "warning", "5m"],
      ["HighInferenceErrorRate", "critical", "5m"],
      ["InferenceServiceRestarts", "warning", "0m"],
      ["MLflowDown", "critical", "2m"],
      ["HighPipelineFailureRate", "warning", "0m"],
      ["LowGPUUtilization", "info", "30m"],
      ["ModelDriftDetected", "warning", "10m"],
      ["ModelPerformanceDegraded", "critical", "10m"],
      ["PredictionLoggingStalled", "warning", "10m"],
      ["ModelMonitoringJobFailed", "warning", "5m"],
    ]);
    // The model-monitoring alerts carry a runbook; the stall window is the environment default.
    for (const rule of rules.slice(6)) expect(rule.annotations.runbook).toContain("kubectl -n mlops ");
    expect(rules[8].expr).toContain("> 7200 ");
  });

  it("ships the inference dashboard as a ConfigMap the Grafana sidecar loads", () => {
    const [dashboard] = Object.values(resourcesOf(prod, "kubernetes_config_map_v1"));
    expect(dashboard.metadata.labels).toEqual({ grafana_dashboard: "1" });
    expect(JSON.parse(dashboard.data["mlops-inference.json"]).title).toBe("MLOps / Inference");
  });

  it("puts the NVIDIA device plugin and DCGM exporter on GPU nodes only", () => {
    for (const name of ["nvidia-device-plugin", "dcgm-exporter"]) {
      const values = valuesOf(prod, name);
      expect(values.nodeSelector).toEqual({ workload: "gpu" });
      expect(values.tolerations).toEqual([
        { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
      ]);
    }
  });
});
