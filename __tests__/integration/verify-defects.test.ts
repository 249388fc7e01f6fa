/**
 * Reintroduces, one at a time, defects of the kinds the platform has had into a copy of the dev
 * environment's real cluster state, and shows verify reports each. Needs the pinned charts,
 * CRDs and Kubeflow Pipelines manifests; without them the test says so and skips.
 */
import { join } from "node:path";
import type { KubernetesObject } from "../../scripts/verify/convert";
import { renderKustomize } from "../../scripts/verify/render";
import { ensureTools } from "../../scripts/verify/tools";
import { UPSTREAM_DIR } from "../support/upstream";
import { RULES } from "../../scripts/verify/rules";
import { CLUSTER_SCOPED_KINDS, type ClusterState } from "../../scripts/verify/state";
import { calledWebhooks, catalogued, unselectedPods } from "../support/webhook-catalog";
import { verifyState } from "../../scripts/verify/verify";
import {
  describeWithPinnedState,
  findingLine,
  verifyBaseline,
  type VerifyBaseline,
} from "../support/pinned-state";

interface Defect {
  readonly name: string;
  readonly rule: string;
  /** Text the finding must contain. */
  readonly reported: string;
  apply(state: ClusterState): void | Promise<void>;
}

function find(
  state: ClusterState,
  kind: string,
  namespace: string | undefined,
  name: string,
): KubernetesObject {
  const found = state.objects.find(
    (o) =>
      o.object.kind === kind && o.object.metadata.namespace === namespace && o.object.metadata.name === name,
  );
  if (!found)
    throw new Error(
      `the dev state has no ${kind} ${namespace}/${name}; update the defect to the current stacks`,
    );
  return found.object;
}

type Loose = any;

/**
 * Replaces what an Argo CD Application built in the state by a build of the same source with
 * changed kustomize patches, as verify's collector builds it.
 */
async function rebuildApplication(
  state: ClusterState,
  name: string,
  change: (patches: readonly unknown[]) => unknown[],
): Promise<void> {
  const application = find(state, "Application", "argocd", name) as Loose;
  const source = application.spec.source;
  const built = state.objects.filter((o) => o.source.includes(` Application ${name} (`));
  if (built.length === 0) throw new Error(`nothing in the dev state comes from Application ${name}`);
  const where = built[0].source;
  const result = await renderKustomize(ensureTools(), {
    root: join(UPSTREAM_DIR!, `kubeflow-pipelines-${source.targetRevision}`),
    path: source.path,
    patches: change(source.kustomize?.patches ?? []),
    images: source.kustomize?.images ?? [],
  });
  if (!result.ok) throw new Error(result.problem);
  for (const object of built) state.objects.splice(state.objects.indexOf(object), 1);
  for (const object of result.objects) {
    const namespaced = !CLUSTER_SCOPED_KINDS.has(object.kind);
    state.objects.push({
      object: namespaced
        ? { ...object, metadata: { ...object.metadata, namespace: object.metadata.namespace ?? "kubeflow" } }
        : object,
      source: where,
    });
  }
}

const servingPod = (state: ClusterState): Loose =>
  (find(state, "Deployment", "mlops", "mlops-serving").spec as Loose).template.spec;

const DEFECTS: readonly Defect[] = [
  {
    name: "a ServiceMonitor scraping a port the Service does not name",
    rule: "references",
    reported: 'ServiceMonitor mlflow/mlflow [references] endpoint port "http-metrics" is not a port name',
    apply: (s) =>
      ((find(s, "ServiceMonitor", "mlflow", "mlflow").spec as Loose).endpoints[0].port = "http-metrics"),
  },
  {
    name: "a PodMonitor on a port the pods do not name",
    rule: "references",
    reported: 'PodMonitor monitoring/mlops-serving [references] endpoint port "metrics-typo"',
    apply: (s) =>
      ((find(s, "PodMonitor", "monitoring", "mlops-serving").spec as Loose).podMetricsEndpoints[0].port =
        "metrics-typo"),
  },
  {
    name: "an InferenceService missing a field its CRD requires",
    rule: "schema",
    reported:
      'InferenceService mlops/churn-classifier [schema] spec.predictor.model.modelFormat.name: required field "name" is missing',
    apply: (s) =>
      delete (find(s, "InferenceService", "mlops", "churn-classifier").spec as Loose).predictor.model
        .modelFormat.name,
  },
  {
    name: "a typo'd field in a built-in object",
    rule: "schema",
    reported:
      'Deployment mlops/mlops-serving [schema] spec.template.spec.containers[0].livenesProbe: unknown field "livenesProbe"',
    apply: (s) => (servingPod(s).containers[0].livenesProbe = { tcpSocket: { port: 8000 } }),
  },
  {
    name: "a namespace over its quota",
    rule: "quotas",
    reported: "ResourceQuota mlops/platform-quota [quotas] requests.cpu at maximum scale is",
    apply: (s) =>
      ((find(s, "ResourceQuota", "mlops", "platform-quota").spec as Loose).hard["requests.cpu"] = "1"),
  },
  {
    name: "LimitRange defaults that push a namespace over quota (containers without resources)",
    rule: "quotas",
    reported: "ResourceQuota monitoring/platform-quota [quotas] limits.memory at maximum scale is",
    apply: (s) => {
      (find(s, "LimitRange", "monitoring", "container-defaults").spec as Loose).limits[0].default = {
        memory: "8Gi",
      };
      const exporter = find(s, "DaemonSet", "monitoring", "kube-prometheus-stack-prometheus-node-exporter")
        .spec as Loose;
      for (const c of exporter.template.spec.containers) delete c.resources;
    },
  },
  {
    name: "a node group whose maximum makes a DaemonSet exceed its namespace's quota",
    rule: "quotas",
    reported: "ResourceQuota monitoring/platform-quota [quotas]",
    apply: (s) => {
      const groups = s.environment.nodeGroups as unknown as { maxSize: number }[];
      groups.forEach((g) => (g.maxSize = 1000));
    },
  },
  {
    // The patch the platform once shipped: it names the Namespace as the finished build does,
    // but Argo CD runs it inside the upstream kustomization, where the name is still a
    // placeholder, so the build still emits the Namespace.
    name: "a Namespace the Kubeflow Pipelines build still emits (a delete patch targeting it by name)",
    rule: "ownership",
    reported:
      "Namespace kubeflow [ownership] is emitted by the Argo CD Application's build and also created by dev-platform kubernetes_namespace_v1",
    apply: (s) =>
      rebuildApplication(s, "kubeflow-pipelines-cluster-scoped", (patches) => [
        ...patches.filter((p) => (p as Loose).target?.kind !== "Namespace"),
        {
          target: { kind: "Namespace", name: "kubeflow" },
          patch: "$patch: delete\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: kubeflow",
        },
      ]),
  },
  {
    name: "a restricted-PSA violation (no seccomp profile)",
    rule: "pod-security",
    reported:
      'Deployment mlops/mlops-serving [pod-security] container "server" must set securityContext.seccompProfile.type',
    apply: (s) => {
      const pod = servingPod(s);
      delete pod.securityContext.seccompProfile;
      for (const c of pod.containers) delete c.securityContext.seccompProfile;
    },
  },
  {
    name: "API egress allowed only by an ipBlock of the VPC (pre-DNAT engine sees the Service IP)",
    rule: "network",
    reported: "Deployment kserve/kserve-controller-manager [network] flow controller-to-api-server",
    apply: (s) => {
      const index = s.objects.findIndex(
        (o) =>
          o.object.kind === "NetworkPolicy" &&
          o.object.metadata.namespace === "kserve" &&
          o.object.metadata.name === "allow-egress-kubernetes-api-service",
      );
      if (index < 0)
        throw new Error("no kserve allow-egress-kubernetes-api-service policy; update the defect");
      s.objects.splice(index, 1);
    },
  },
  {
    name: "a model's monitoring job without its egress to the Pushgateway",
    rule: "network",
    reported:
      "CronJob mlops/monitor-churn-classifier [network] flow model-monitoring-to-pushgateway: CronJob mlops/monitor-churn-classifier",
    apply: (s) => {
      const index = s.objects.findIndex(
        (o) =>
          o.object.kind === "NetworkPolicy" &&
          o.object.metadata.namespace === "mlops" &&
          o.object.metadata.name === "allow-egress-pushgateway",
      );
      if (index < 0) throw new Error("the dev state has no NetworkPolicy mlops/allow-egress-pushgateway");
      s.objects.splice(index, 1);
    },
  },
  {
    name: "a Pushgateway ServiceMonitor scraping a port its Service does not name",
    rule: "references",
    reported: 'ServiceMonitor monitoring/prometheus-pushgateway [references] endpoint port "metrics"',
    apply: (s) =>
      ((find(s, "ServiceMonitor", "monitoring", "prometheus-pushgateway").spec as Loose).endpoints[0].port =
        "metrics"),
  },
  {
    name: "a PDB that allows no eviction",
    rule: "references",
    reported: "PodDisruptionBudget mlops/mlops-serving [references] allows no eviction",
    apply: (s) => {
      const spec = find(s, "PodDisruptionBudget", "mlops", "mlops-serving").spec as Loose;
      delete spec.maxUnavailable;
      spec.minAvailable = "100%";
    },
  },
  {
    name: "a Secret the pods need that nothing creates",
    rule: "references",
    reported:
      'Deployment mlops/mlops-serving [references] loads the environment of "server" from Secret mlops/mlflow-client-typo',
    apply: (s) => (servingPod(s).containers[0].envFrom[0].secretRef.name = "mlflow-client-typo"),
  },
  {
    name: "an HPA whose target does not exist",
    rule: "references",
    reported:
      "HorizontalPodAutoscaler mlops/mlops-serving [references] scale target Deployment mlops/mlops-serving-typo does not exist",
    apply: (s) =>
      ((find(s, "HorizontalPodAutoscaler", "mlops", "mlops-serving").spec as Loose).scaleTargetRef.name =
        "mlops-serving-typo"),
  },
  {
    name: "an Ingress backend on a port its Service does not have",
    rule: "references",
    reported: "Ingress mlflow/mlflow [references] backend port",
    apply: (s) => {
      const backend = (find(s, "Ingress", "mlflow", "mlflow").spec as Loose).rules[0].http.paths[0].backend
        .service;
      backend.port = { number: 8081 };
    },
  },
  {
    name: "the Kubeflow Pipelines cache webhook unreachable from the API server (issue 17 item 5)",
    rule: "network",
    reported:
      "MutatingWebhookConfiguration cache-webhook-kubeflow [network] flow api-server-to-webhook: Service kubeflow/cache-server:443 (Deployment cache-server)/TCP is blocked by ingress into kubeflow from API server (EKS control-plane network interface",
    apply: (s) => {
      const index = s.objects.findIndex(
        (o) => o.object.kind === "NetworkPolicy" && o.object.metadata.name === "allow-ingress-cache-webhook",
      );
      if (index < 0) throw new Error("the dev state has no NetworkPolicy allow-ingress-cache-webhook");
      s.objects.splice(index, 1);
    },
  },
  {
    name: "a primary predictor that names its model (KServe's webhook refuses it)",
    rule: "admission",
    reported:
      "InferenceService mlops/churn-classifier [admission] spec.predictor.model.name: \"kserve-container\": the 'name' field is not allowed in standard predictor",
    apply: (s) =>
      ((find(s, "InferenceService", "mlops", "churn-classifier").spec as Loose).predictor.model.name =
        "kserve-container"),
  },
  {
    name: "a canary no route sends traffic to",
    rule: "routing",
    reported:
      "InferenceService mlops/churn-classifier [routing] canary v99 has trafficPercent 10 but no route sends traffic to its Service churn-classifier-v99-predictor",
    apply: (s) => {
      const spec = find(s, "InferenceService", "mlops", "churn-classifier").spec as Loose;
      spec.canary = [
        {
          predictor: {
            ...structuredClone(spec.predictor),
            name: "v99",
            minReplicas: 1,
            maxReplicas: undefined,
          },
          trafficPercent: 10,
        },
      ];
      spec.canary[0].predictor.model.name = "kserve-container";
      delete spec.canary[0].predictor.maxReplicas;
    },
  },
  {
    name: "an unpinned image",
    rule: "images",
    reported: 'Deployment mlops/mlops-serving [images] container "server" image',
    apply: (s) => (servingPod(s).containers[0].image = "python:latest"),
  },
];

describeWithPinnedState("__tests__/integration/verify-defects.test.ts")(
  "verify reports reintroduced defects in the dev state",
  () => {
    let baseline: ClusterState;
    let added: VerifyBaseline["added"];
    let crds: VerifyBaseline["crds"];
    let findings: VerifyBaseline["findings"];

    beforeAll(async () => {
      ({ state: baseline, added, crds, findings } = await verifyBaseline("dev"));
    }, 120_000);

    it("has no render or collection problems in the baseline", () => {
      expect(baseline.problems).toEqual([]);
      expect(baseline.objects.length).toBeGreaterThan(300);
    });

    it("lists every webhook the platform installs, with the port its Service resolves to (stacks/platform-webhooks.ts)", () => {
      expect(calledWebhooks(baseline).map((w) => w.key)).toEqual(catalogued("eks"));
      expect(unselectedPods(baseline, "eks")).toEqual([]);
    });

    it.each(DEFECTS.map((d) => [d.name, d] as const))("reports %s", async (_name, defect) => {
      const state = structuredClone(baseline);
      await defect.apply(state);
      expect(added(state, defect.rule)).toEqual(
        expect.arrayContaining([expect.stringContaining(defect.reported)]),
      );
    });

    // Items 1 and 2 of the serving defects: every rule runs, and the defect adds exactly one line.
    it.each(
      DEFECTS.filter((d) => d.rule === "admission" || d.rule === "routing").map((d) => [d.name, d] as const),
    )("reports %s in exactly one line naming the object and the fix", (_name, defect) => {
      const state = structuredClone(baseline);
      defect.apply(state);
      const lines = verifyState(state, RULES, crds)
        .findings.filter((f) => !findings.has(findingLine(f)))
        .map((f) => `${findingLine(f)}; fix: ${f.fix}`);
      expect(lines).toEqual([expect.stringContaining(defect.reported)]);
      expect(lines[0]).toMatch(/; fix: \S/);
    });

    it("covers at least ten defect classes across every rule", () => {
      expect(DEFECTS.length).toBeGreaterThanOrEqual(10);
      // remote-bases checks only clusters without internet access: its defect is planted in the
      // on-prem state (verify-onprem-defects.test.ts).
      const onPremOnly = new Set(["remote-bases"]);
      expect(new Set(DEFECTS.map((d) => d.rule))).toEqual(
        new Set(RULES.map((r) => r.name).filter((name) => !onPremOnly.has(name))),
      );
    });
  },
);
