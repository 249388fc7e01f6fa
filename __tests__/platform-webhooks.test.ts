/**
 * Webhooks behind the platform's default-deny policies admit every address the API server calls
 * from on each target: the VPC (EKS control-plane interfaces) on EKS; on RKE2 with Canal the
 * control-plane nodes and the pod range, where the nodes' tunnel addresses are.
 */
import { rke2WebhookSourceCidrs } from "../stacks/targets/rancher-target";
import {
  resourcesOf,
  synthesizeEnvironments,
  synthesizeOnPremEnvironments,
  type TerraformJson,
} from "./support/synth";

const aws = synthesizeEnvironments();
const onPrem = synthesizeOnPremEnvironments();

/** The ingress policy `name` of a namespace (namespaces are referenced by their resource). */
function ingressPolicy(json: TerraformJson, construct: string, name: string): any {
  const found = Object.values<any>(resourcesOf(json, "kubernetes_network_policy_v1")).filter(
    (p) => p.metadata.name === name && String(p.metadata.namespace).includes(`.${construct}Namespace_`),
  );
  if (found.length !== 1)
    throw new Error(`expected one NetworkPolicy ${name} in ${construct}Namespace, found ${found.length}`);
  return found[0];
}

const sources = (policy: any): string[] => policy.spec.ingress[0].from.map((p: any) => p.ip_block.cidr);
const ports = (policy: any): string[] =>
  policy.spec.ingress[0].ports.map((p: any) => `${p.port}/${p.protocol}`);

describe("webhooks behind default-deny policies", () => {
  const cases = [
    [
      "kserve",
      "Kserve",
      "allow-ingress-webhooks",
      "9443/TCP",
      { "control-plane": "kserve-controller-manager" },
    ],
    ["kubeflow", "Kubeflow", "allow-ingress-cache-webhook", "8443/TCP", { app: "cache-server" }],
  ] as const;

  it.each(Object.keys(onPrem))(
    "%s: admits the control-plane nodes and the pod range (Canal tunnel addresses) on each webhook's port",
    (name) => {
      const { environment, platform } = onPrem[name];
      const expected = [...environment.cluster.apiServerCidrs, environment.cluster.podCidr];
      expect(expected).toContain("10.42.0.0/16");
      for (const [, namespace, policyName, port, labels] of cases) {
        const policy = ingressPolicy(platform.json, namespace, policyName);
        expect(sources(policy)).toEqual(expected);
        expect(ports(policy)).toEqual([port]);
        expect(policy.spec.pod_selector.match_labels).toEqual(labels);
      }
    },
  );

  it.each(Object.keys(aws))(
    "%s: admits the VPC, where EKS puts the control-plane interfaces, on each webhook's port",
    (name) => {
      const { environment, platform } = aws[name];
      for (const [, namespace, policyName, port] of cases) {
        const policy = ingressPolicy(platform.json, namespace, policyName);
        expect(sources(policy)).toEqual([environment.network.vpcCidr]);
        expect(ports(policy)).toEqual([port]);
      }
    },
  );

  it("derives RKE2's webhook sources from the nodes and the cluster CIDR the file gives", () => {
    const cluster = onPrem["onprem-prod"].environment.cluster;
    expect(rke2WebhookSourceCidrs({ ...cluster, podCidr: "10.100.0.0/16" })).toEqual([
      "10.61.0.11/32",
      "10.61.0.12/32",
      "10.61.0.13/32",
      "10.100.0.0/16",
    ]);
  });
});
