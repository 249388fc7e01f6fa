/**
 * The on-prem cluster model: the onprem-prod state (three CloudNativePG instances, tainted GPU
 * nodes, Canal) built once from the pinned sources, what verify adds for RKE2 and the operators,
 * and on-prem defects reintroduced one at a time into copies of it.
 */
import type { KubernetesObject } from "../../scripts/verify/convert";
import type { ClusterState } from "../../scripts/verify/state";
import { RULES } from "../../scripts/verify/rules";
import { formatFinding, verifyState } from "../../scripts/verify/verify";
import { calledWebhooks, catalogued, unselectedPods } from "../support/webhook-catalog";
import { describeWithPinnedState, verifyBaseline, type VerifyBaseline } from "../support/pinned-state";

type Loose = any;

/** Keeps only the objects `keep` accepts, in place. */
function retain(state: ClusterState, keep: (o: ClusterState["objects"][number]) => boolean): ClusterState {
  state.objects.splice(0, state.objects.length, ...state.objects.filter(keep));
  return state;
}

function find(state: ClusterState, kind: string, namespace: string | undefined, name: string): Loose {
  const found = state.objects.find(
    (o) =>
      o.object.kind === kind && o.object.metadata.namespace === namespace && o.object.metadata.name === name,
  );
  if (!found)
    throw new Error(
      `the onprem-prod state has no ${kind} ${namespace}/${name}; update the test to the stacks`,
    );
  return found.object;
}

/** The webhook rule of the kserve namespace as it was before issue 17: the control-plane nodes only. */
function admitOnlyNodeAddresses(state: ClusterState): void {
  const policy = find(state, "NetworkPolicy", "kserve", "allow-ingress-webhooks");
  policy.spec.ingress[0].from = ["10.61.0.11/32", "10.61.0.12/32", "10.61.0.13/32"].map((cidr) => ({
    ipBlock: { cidr },
  }));
}

describeWithPinnedState("__tests__/integration/verify-onprem-defects.test.ts")(
  "verify on the on-prem (RKE2) state",
  () => {
    let baseline: ClusterState;
    let baselineFindings: ReadonlySet<string>;
    let added: VerifyBaseline["added"];
    let crds: VerifyBaseline["crds"];

    beforeAll(async () => {
      const built = await verifyBaseline("onprem-prod");
      ({ state: baseline, findings: baselineFindings, added, crds } = built);
    }, 120_000);

    it("passes every rule", () => {
      expect(baseline.problems).toEqual([]);
      expect([...baselineFindings]).toEqual([]);
    });

    it("models the cluster as RKE2 with Canal and the Artifactory mirror", () => {
      const env = baseline.environment;
      expect(env.distribution).toBe("rke2");
      expect(env.networkPolicyEngine).toBe("post-dnat");
      expect(env.apiEndpointIps).toEqual(["10.61.0.11", "10.61.0.12", "10.61.0.13"]);
      expect(env.apiEndpointPort).toBe(6443);
      expect(env.mirrorRegistry).toBe("artifactory.example.com");
      expect(env.databaseService).toEqual({ namespace: "mlflow", name: "mlflow-postgres-rw" });
      // Every model logs: the monitoring jobs' flows (store, Pushgateway) are checked.
      expect(env.monitoredModels).toBe(true);
      expect(find(baseline, "Service", "kube-system", "rke2-coredns-rke2-coredns")).toBeDefined();
      expect(find(baseline, "IngressClass", undefined, "nginx")).toBeDefined();
      expect(find(baseline, "APIService", undefined, "v1beta1.metrics.k8s.io")).toBeDefined();
      // No EKS CoreDNS Deployment on RKE2.
      expect(baseline.objects.some((o) => o.object.metadata.name === "coredns")).toBe(false);
    });

    it("lists every webhook the platform installs, with the port its Service resolves to (stacks/platform-webhooks.ts)", () => {
      expect(calledWebhooks(baseline).map((w) => w.key)).toEqual(catalogued("rke2"));
      expect(unselectedPods(baseline, "rke2")).toEqual([]);
    });

    it("calls every webhook from the control-plane nodes and their Canal tunnel addresses", () => {
      expect(baseline.environment.apiServerSources?.map((s) => s.ip)).toEqual([
        "10.61.0.11",
        "10.61.0.12",
        "10.61.0.13",
        "10.42.0.0",
        "10.42.128.0",
        "10.42.255.0",
      ]);
      // The cache-deployer's webhook configuration, which no manifest holds, is in the state.
      const cache = baseline.objects.find(
        (o) =>
          o.object.kind === "MutatingWebhookConfiguration" &&
          o.object.metadata.name === "cache-webhook-kubeflow",
      );
      expect(cache?.source).toMatch(/^controller \(Kubeflow Pipelines 2\.17\.0 cache-deployer/);
    });

    it("fails a webhook admitting only node addresses on Canal with one line naming the webhook and the fix", () => {
      const state = structuredClone(baseline);
      admitOnlyNodeAddresses(state);
      const lines = verifyState(
        state,
        RULES.filter((r) => r.name === "network"),
        crds,
      ).findings.map(formatFinding);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^onprem-prod onprem-prod-platform helm_release kserve-resources MutatingWebhookConfiguration inferenceservice\.serving\.kserve\.io \[network\] flow api-server-to-webhook: Service kserve\/kserve-webhook-server-service:443 \(Deployment kserve-controller-manager\)\/TCP \(and \d+ more webhook configurations\) is blocked by ingress into kserve from API server \(control-plane node 10\.61\.0\.11 through its Canal tunnel address 10\.42\.0\.0\)/,
      );
      expect(lines[0]).toContain("failurePolicy Fail");
      expect(lines[0]).toContain("; fix: admit 10.42.0.0/16 on port 9443 into the webhook's pods in kserve");
    });

    it("fails a repo server whose gitconfig no longer points Argo Workflows at the mirror in one line naming the remote bases and the fix", () => {
      const state = structuredClone(baseline);
      const gitconfig = find(state, "ConfigMap", "argocd", "argocd-repo-server-gitconfig");
      expect(gitconfig.data.gitconfig).toContain("insteadOf = https://github.com/argoproj/argo-workflows");
      gitconfig.data.gitconfig = "";
      const lines = verifyState(
        state,
        RULES.filter((r) => r.name === "remote-bases"),
        crds,
      ).findings.map(formatFinding);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^onprem-prod onprem-prod-platform helm_release argo-cd Deployment argocd\/\S*argocd-repo-server \[remote-bases\] cannot fetch the kustomize remote base\(s\) https:\/\/github\.com\/argoproj\/argo-workflows\/manifests\/base\/workflow-controller\?ref=v4\.0\.5 \(Application kubeflow-pipelines\)/,
      );
      expect(lines[0]).toContain(
        "manifests/base/crds/minimal?ref=v4.0.5 (Application kubeflow-pipelines-cluster-scoped)",
      );
      expect(lines[0]).toContain(
        "; fix: map each repository to the organisation's mirror in platform.pipelines.remoteBaseMirrors",
      );
    });

    it("accepts the repo server's proxy in place of the mirror, unless NO_PROXY exempts GitHub", () => {
      const state = structuredClone(baseline);
      find(state, "ConfigMap", "argocd", "argocd-repo-server-gitconfig").data.gitconfig = "";
      const deployment = state.objects.find(
        (o) =>
          o.object.kind === "Deployment" &&
          o.object.metadata.labels?.["app.kubernetes.io/component"] === "repo-server",
      )!.object as Loose;
      const container = deployment.spec.template.spec.containers.find((c: Loose) => c.name === "repo-server");
      container.env.push({ name: "HTTPS_PROXY", value: "http://proxy.example.com:3128" });
      container.env.push({ name: "NO_PROXY", value: ".svc,git.example.com" });
      expect(added(state, "remote-bases")).toEqual([]);
      container.env.find((e: Loose) => e.name === "NO_PROXY").value = ".svc,github.com";
      expect(added(state, "remote-bases")).toHaveLength(1);
    });

    it("declares the hand-made Secrets the environment file names, never outside the platform's namespaces", () => {
      const declared = (baseline.environment.outOfBand ?? []).map((e) => `${e.namespace}/${e.name}`);
      // Made by hand where the stacks read them to copy them, or in each namespace before copies exist.
      for (const name of ["artifactory-pull", "object-store-credentials", "ad-bind", "corp-ca"])
        expect(declared.some((d) => d.endsWith(`/${name}`))).toBe(true);
      expect(declared.filter((d) => d.startsWith("kube-system/") || d.startsWith("default/"))).toEqual([]);
    });

    it("adds CloudNativePG's instances, Services, Secrets and budgets for the Cluster", () => {
      const pods = baseline.objects.filter(
        (o) => o.object.kind === "Pod" && o.object.metadata.labels?.["cnpg.io/cluster"] === "mlflow-postgres",
      );
      expect(pods.map((p) => p.object.metadata.labels?.["cnpg.io/instanceRole"])).toEqual([
        "primary",
        "replica",
        "replica",
      ]);
      const postgres = (pods[0].object.spec as Loose).containers[0];
      expect(postgres.image).toMatch(
        /^artifactory\.example\.com\/ghcr-remote\/cloudnative-pg\/postgresql:17\./,
      );
      expect(postgres.ports.map((p: { containerPort: number }) => p.containerPort)).toEqual([
        5432, 9187, 8000,
      ]);
      expect(postgres.resources.requests).toEqual({ cpu: "250m", memory: "512Mi" });
      // Barman Cloud trusts the object store's internal CA from the environment's bundle.
      expect((pods[0].object.spec as Loose).volumes).toEqual(
        expect.arrayContaining([{ name: "barman-endpoint-ca", secret: { secretName: "corp-ca-bundle" } }]),
      );
      for (const suffix of ["rw", "ro", "r"])
        expect(find(baseline, "Service", "mlflow", `mlflow-postgres-${suffix}`)).toBeDefined();
      expect(find(baseline, "Secret", "mlflow", "mlflow-postgres-replication")).toBeDefined();
      expect(
        find(baseline, "PodDisruptionBudget", "mlflow", "mlflow-postgres-primary").spec.minAvailable,
      ).toBe(1);
      expect(find(baseline, "PodDisruptionBudget", "mlflow", "mlflow-postgres").spec.minAvailable).toBe(1);
      expect(find(baseline, "ServiceAccount", "mlflow", "mlflow-postgres").imagePullSecrets).toEqual([
        { name: "artifactory-pull" },
      ]);
    });

    it("adds the GPU Operator's operands on the GPU nodes only, privileged, from Artifactory", () => {
      const operands = baseline.objects.filter(
        (o) => o.object.kind === "DaemonSet" && o.source.startsWith("operator (GPU Operator"),
      );
      expect(operands.map((o) => o.object.metadata.name).sort()).toEqual([
        "gpu-feature-discovery",
        "nvidia-container-toolkit-daemonset",
        "nvidia-dcgm-exporter",
        "nvidia-device-plugin-daemonset",
        "nvidia-operator-validator",
      ]);
      for (const o of operands) {
        const pod = (o.object.spec as Loose).template.spec;
        expect(o.object.metadata.namespace).toBe("nvidia-gpu");
        expect(pod.imagePullSecrets).toEqual([{ name: "artifactory-pull" }]);
        expect(pod.containers[0].securityContext.privileged).toBe(true);
        expect(pod.containers[0].image).toMatch(/^artifactory\.example\.com\/nvcr-remote\//);
      }
      expect(find(baseline, "ServiceMonitor", "nvidia-gpu", "nvidia-dcgm-exporter")).toBeDefined();
    });

    const DEFECTS: readonly {
      name: string;
      rule: string;
      reported: string;
      apply(state: ClusterState): void;
    }[] = [
      {
        name: "an image not pulled through Artifactory",
        rule: "images",
        reported: "Deployment mlflow/mlflow [images] container",
        apply: (s) =>
          (find(s, "Deployment", "mlflow", "mlflow").spec.template.spec.containers[0].image =
            "ghcr.io/mlflow/mlflow:v3.15.1"),
      },
      {
        name: "a pod pulling from Artifactory without the pull Secret",
        rule: "images",
        reported:
          "Deployment mlflow/mlflow [images] pulls from artifactory.example.com without the pull Secret",
        apply: (s) => delete find(s, "Deployment", "mlflow", "mlflow").spec.template.spec.imagePullSecrets,
      },
      {
        name: "CloudNativePG instances whose ServiceAccount lost the pull Secret",
        rule: "images",
        reported:
          "Pod mlflow/mlflow-postgres-1 [images] pulls from artifactory.example.com without the pull Secret",
        apply: (s) => delete find(s, "ServiceAccount", "mlflow", "mlflow-postgres").imagePullSecrets,
      },
      {
        name: "a GPU Operator operand not pulled through Artifactory",
        rule: "images",
        reported:
          'DaemonSet nvidia-gpu/nvidia-dcgm-exporter [images] container "nvidia-dcgm-exporter" image nvcr.io/',
        apply: (s) =>
          (find(s, "DaemonSet", "nvidia-gpu", "nvidia-dcgm-exporter").spec.template.spec.containers[0].image =
            "nvcr.io/nvidia/k8s/dcgm-exporter:4.6.0-4.8.3-distroless"),
      },
      {
        name: "a namespace without its egress rule to the API server on 6443",
        rule: "network",
        reported: "Pod mlflow/mlflow-postgres-1 [network] flow controller-to-api-server",
        apply: (s) => {
          retain(
            s,
            (o) =>
              !(
                o.object.kind === "NetworkPolicy" &&
                o.object.metadata.namespace === "mlflow" &&
                o.object.metadata.name === "allow-egress-kubernetes-api"
              ),
          );
        },
      },
      {
        name: "an API server rule written for the Service address, which Canal never sees",
        rule: "network",
        reported: "endpoint 10.61.0.12:6443)/TCP is blocked by egress from mlflow",
        apply: (s) => {
          const policy = find(s, "NetworkPolicy", "mlflow", "allow-egress-kubernetes-api");
          policy.spec.egress = [
            { to: [{ ipBlock: { cidr: "10.43.0.1/32" } }], ports: [{ port: 443, protocol: "TCP" }] },
          ];
        },
      },
      {
        name: "a webhook policy admitting only the control-plane node addresses on Canal (issue 17 item 3)",
        rule: "network",
        reported:
          "MutatingWebhookConfiguration inferenceservice.serving.kserve.io [network] flow api-server-to-webhook: Service kserve/kserve-webhook-server-service:443",
        apply: admitOnlyNodeAddresses,
      },
      {
        name: "the Kubeflow Pipelines cache webhook without its ingress rule (issue 17 item 5)",
        rule: "network",
        reported:
          "MutatingWebhookConfiguration cache-webhook-kubeflow [network] flow api-server-to-webhook: Service kubeflow/cache-server:443",
        apply: (s) => {
          retain(
            s,
            (o) =>
              !(
                o.object.kind === "NetworkPolicy" && o.object.metadata.name === "allow-ingress-cache-webhook"
              ),
          );
        },
      },
      {
        name: "MLflow's egress to the database without the CloudNativePG instances",
        rule: "network",
        reported:
          "flow mlflow-to-database: Deployment mlflow/mlflow -> Service mlflow/mlflow-postgres-rw:5432",
        apply: (s) => {
          for (const name of ["allow-egress-database", "allow-egress-same-namespace"]) {
            const policy = find(s, "NetworkPolicy", "mlflow", name);
            policy.spec.egress = [];
          }
        },
      },
      // Every on-prem model logs, so each gets a monitoring job whose flows verify checks.
      {
        name: "a model's monitoring job without its egress to the Pushgateway",
        rule: "network",
        reported:
          "CronJob mlops/monitor-churn-classifier [network] flow model-monitoring-to-pushgateway: CronJob mlops/monitor-churn-classifier",
        apply: (s) => {
          find(s, "NetworkPolicy", "mlops", "allow-egress-pushgateway");
          retain(
            s,
            (o) =>
              !(
                o.object.kind === "NetworkPolicy" &&
                o.object.metadata.namespace === "mlops" &&
                o.object.metadata.name === "allow-egress-pushgateway"
              ),
          );
        },
      },
      {
        name: "a model's monitoring job without its egress to the object store",
        rule: "network",
        reported:
          "CronJob mlops/monitor-demand-forecaster [network] flow model-monitoring-to-object-store: CronJob mlops/monitor-demand-forecaster",
        apply: (s) => {
          find(s, "NetworkPolicy", "mlops", "allow-egress-object-store");
          retain(
            s,
            (o) =>
              !(
                o.object.kind === "NetworkPolicy" &&
                o.object.metadata.namespace === "mlops" &&
                o.object.metadata.name === "allow-egress-object-store"
              ),
          );
        },
      },
    ];

    it.each(DEFECTS.map((d) => [d.name, d] as const))("reports %s", (_name, defect) => {
      const state = structuredClone(baseline);
      defect.apply(state);
      expect(added(state, defect.rule)).toEqual(
        expect.arrayContaining([expect.stringContaining(defect.reported)]),
      );
    });

    it("counts the CloudNativePG instances against the mlflow quota", () => {
      const isInstance = (o: { object: KubernetesObject }) =>
        o.object.kind === "Pod" && o.object.metadata.labels?.["cnpg.io/podRole"] === "instance";
      const withQuota = (state: ClusterState, memory: string) => {
        const quota = state.objects.find(
          (o) => o.object.kind === "ResourceQuota" && o.object.metadata.namespace === "mlflow",
        )!.object as Loose;
        quota.spec.hard["requests.memory"] = memory;
        return state;
      };
      // What mlflow's other workloads request at their maximum scale.
      const others = withQuota(structuredClone(baseline), "1Mi");
      retain(others, (o) => !isInstance(o));
      const message = added(others, "quotas").find((f) => f.includes("requests.memory at maximum scale"));
      const used = /requests\.memory at maximum scale is (\S+),/.exec(message ?? "")?.[1];
      expect(used).toBeDefined();
      // A quota that fits them exactly has no room for the three 512Mi instances.
      const exact = withQuota(structuredClone(baseline), used!);
      expect(added(exact, "quotas")).toEqual(
        expect.arrayContaining([expect.stringContaining("ResourceQuota mlflow/platform-quota [quotas]")]),
      );
      const withoutInstances = withQuota(structuredClone(baseline), used!);
      retain(withoutInstances, (o) => !isInstance(o));
      expect(added(withoutInstances, "quotas")).toEqual([]);
    });
  },
);
