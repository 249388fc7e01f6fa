/**
 * Where the API server's webhook calls come from, per target, and the network rule's check that
 * every webhook behind a default-deny policy admits them.
 */
import type { KubernetesObject } from "../../scripts/verify/convert";
import { eksApiServerSources, rke2ApiServerSources } from "../../scripts/verify/api-server-sources";
import { kubeflowCacheWebhooks } from "../../scripts/verify/kfp-cache-webhook";
import { networkRule } from "../../scripts/verify/rules/network";
import type { TerraformJson } from "../../scripts/verify/terraform";
import { deployment, namespace, networkPolicy, restrictedContainer, service, stateOf } from "./fixtures";

const NODES = ["10.61.0.11/32", "10.61.0.12/32", "10.61.0.13/32"];
const RKE2 = {
  distribution: "rke2" as const,
  networkPolicyEngine: "post-dnat" as const,
  podCidr: "10.42.0.0/16",
  serviceCidr: "10.43.0.0/16",
  apiServiceIp: "10.43.0.1",
  apiEndpointIp: "10.61.0.11",
  apiEndpointIps: ["10.61.0.11", "10.61.0.12", "10.61.0.13"],
  apiEndpointPort: 6443,
  apiServerSources: rke2ApiServerSources(NODES, "10.42.0.0/16"),
};

describe("where the API server's webhook calls come from", () => {
  it("on RKE2 with Canal: each control-plane node's address and a tunnel address per node, spread over the pod range", () => {
    expect(rke2ApiServerSources(NODES, "10.42.0.0/16").map((s) => [s.ip, s.admitWith])).toEqual([
      ["10.61.0.11", "10.61.0.11/32"],
      ["10.61.0.12", "10.61.0.12/32"],
      ["10.61.0.13", "10.61.0.13/32"],
      // flannel.1 holds the first address of the node's /24 podCIDR (RKE2's cisnetworkpolicy).
      ["10.42.0.0", "10.42.0.0/16"],
      ["10.42.128.0", "10.42.0.0/16"],
      ["10.42.255.0", "10.42.0.0/16"],
    ]);
    // One node: its podCIDR is not assumed to be the first.
    expect(rke2ApiServerSources(["10.60.0.11/32"], "10.42.0.0/16").map((s) => s.ip)).toEqual([
      "10.60.0.11",
      "10.42.255.0",
    ]);
  });

  it("on EKS: a control-plane interface in each subnet the cluster is given, admitted by the VPC", () => {
    const foundation = {
      resource: {
        aws_eks_cluster: {
          Cluster: {
            vpc_config: {
              subnet_ids: ["${aws_subnet.PrivateSubnet0.id}", "${aws_subnet.PrivateSubnet1.id}"],
            },
          },
        },
        aws_subnet: {
          PrivateSubnet0: { cidr_block: "10.20.0.0/19" },
          PrivateSubnet1: { cidr_block: "10.20.32.0/19" },
          PublicSubnet0: { cidr_block: "10.20.224.0/22" },
        },
      },
    } as unknown as TerraformJson;
    expect(eksApiServerSources("10.20.0.0/16", foundation).map((s) => [s.ip, s.admitWith])).toEqual([
      ["10.20.0.10", "10.20.0.0/16"],
      ["10.20.32.10", "10.20.0.0/16"],
    ]);
    expect(eksApiServerSources("10.20.0.0/16", undefined).map((s) => s.ip)).toEqual(["10.20.0.10"]);
  });
});

describe("the Kubeflow Pipelines cache webhook", () => {
  it("is created for each cache-deployer, for its own namespace's cache-server, failing open after 5 s", () => {
    const deployer = deployment("kubeflow", "cache-deployer-deployment", {
      containers: [restrictedContainer("main", { image: "ghcr.io/kubeflow/kfp-cache-deployer:2.17.0" })],
    });
    const [created] = kubeflowCacheWebhooks([deployer, deployment("kubeflow", "other")]);
    expect(created.source).toContain("Kubeflow Pipelines 2.17.0 cache-deployer");
    const hook = (created.object as KubernetesObject & { webhooks: any[] }).webhooks[0];
    expect(created.object.metadata.name).toBe("cache-webhook-kubeflow");
    expect(hook.clientConfig.service).toEqual({
      name: "cache-server",
      namespace: "kubeflow",
      path: "/mutate",
    });
    expect(hook.failurePolicy).toBe("Ignore");
    expect(hook.timeoutSeconds).toBe(5);
  });
});

describe("network: webhooks behind a default-deny policy", () => {
  const labels = { "control-plane": "kserve-controller-manager" };
  const webhookConfig = (name: string, failurePolicy?: string): KubernetesObject =>
    ({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata: { name },
      webhooks: [
        {
          name: `${name}.validator`,
          clientConfig: { service: { name: "kserve-webhook-server-service", namespace: "kserve" } },
          ...(failurePolicy ? { failurePolicy, timeoutSeconds: 5 } : {}),
        },
      ],
    }) as KubernetesObject;
  const webhookPolicy = (cidrs: string[]) =>
    networkPolicy("kserve", "allow-ingress-webhooks", {
      podSelector: { matchLabels: labels },
      policyTypes: ["Ingress"],
      ingress: [
        { from: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ port: "9443", protocol: "TCP" }] },
      ],
    });
  const cluster = (policy: KubernetesObject, ...configs: KubernetesObject[]) => [
    namespace("kserve"),
    networkPolicy("kserve", "default-deny", { podSelector: {}, policyTypes: ["Ingress"] }),
    deployment("kserve", "kserve-controller-manager", {
      labels,
      containers: [
        restrictedContainer("manager", { ports: [{ name: "webhook-server", containerPort: 9443 }] }),
      ],
    }),
    service("kserve", "kserve-webhook-server-service", labels, [{ port: 443, targetPort: "webhook-server" }]),
    policy,
    ...configs,
  ];

  it("reports, in one line per webhook Service, a policy admitting only the node addresses on Canal", () => {
    const objects = cluster(
      webhookPolicy(NODES),
      webhookConfig("inferenceservice.serving.kserve.io"),
      webhookConfig("servingruntime.serving.kserve.io"),
    );
    const findings = networkRule([]).check(stateOf(objects, RKE2), {});
    expect(findings).toHaveLength(1);
    const [finding] = findings;
    expect(finding.object).toBe("ValidatingWebhookConfiguration inferenceservice.serving.kserve.io");
    expect(finding.message).toContain(
      "flow api-server-to-webhook: Service kserve/kserve-webhook-server-service:443 (Deployment kserve-controller-manager)/TCP (and 1 more webhook configurations) is blocked by ingress into kserve",
    );
    expect(finding.message).toContain(
      "control-plane node 10.61.0.12 through its Canal tunnel address 10.42.128.0",
    );
    expect(finding.message).not.toMatch(/from API server \(control-plane node 10\.61\.0\.11\)[,;]/);
    expect(finding.message).toContain(
      "failurePolicy Fail: the API server refuses every request the webhook covers",
    );
    expect(finding.fix).toMatch(/^admit 10\.42\.0\.0\/16 on port 9443 into the webhook's pods in kserve/);
  });

  it("passes once the pod range is admitted, and says what a failing-open webhook costs", () => {
    const config = webhookConfig("inferenceservice.serving.kserve.io");
    expect(
      networkRule([]).check(stateOf(cluster(webhookPolicy([...NODES, "10.42.0.0/16"]), config), RKE2), {}),
    ).toEqual([]);
    const ignoring = networkRule([]).check(
      stateOf(cluster(webhookPolicy(NODES), webhookConfig("cache-webhook-kubeflow", "Ignore")), RKE2),
      {},
    );
    expect(ignoring.map((f) => f.message)).toEqual([
      expect.stringContaining(
        "failurePolicy Ignore: every request it covers waits 5 s, then passes without the webhook",
      ),
    ]);
  });

  it("admits node addresses alone where the model has only the API server's endpoints", () => {
    const { apiServerSources: _sources, ...withoutModel } = RKE2;
    const config = webhookConfig("inferenceservice.serving.kserve.io");
    expect(networkRule([]).check(stateOf(cluster(webhookPolicy(NODES), config), withoutModel), {})).toEqual(
      [],
    );
  });
});
