import { Testing, TerraformStack } from "cdktf";
import { PlatformNamespace, type PlatformNamespaceProps } from "../../constructs/platform/platform-namespace";

function namespace(overrides: Partial<PlatformNamespaceProps> = {}) {
  const stack = new TerraformStack(Testing.app(), "unit");
  new PlatformNamespace(stack, "Namespace", { name: "team", podSecurity: "restricted", ...overrides });
  return JSON.parse(Testing.synth(stack));
}

describe("PlatformNamespace", () => {
  it("labels the namespace with the Pod Security level for enforce, warn and audit", () => {
    const [ns] = Object.values<any>(namespace().resource.kubernetes_namespace_v1);
    expect(ns.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
    });
  });

  it("creates no NetworkPolicy unless isolated", () => {
    expect(namespace().resource.kubernetes_network_policy_v1).toBeUndefined();
  });

  it("names policies by direction so an ingress and an egress rule may share a name", () => {
    const json = namespace({
      isolation: {
        ingress: [{ name: "same-namespace", peers: [{ sameNamespace: true }] }],
        egress: [
          {
            name: "same-namespace",
            peers: [{ sameNamespace: true }],
            ports: [{ port: 53, protocol: "UDP" }],
          },
        ],
      },
    });
    const names = Object.values<any>(json.resource.kubernetes_network_policy_v1).map((p) => p.metadata.name);
    expect(names.sort()).toEqual([
      "allow-dns",
      "allow-egress-same-namespace",
      "allow-ingress-same-namespace",
      "default-deny",
    ]);
  });

  it("fails on a level below restricted without a reason", () => {
    expect(() => namespace({ podSecurity: "baseline" })).toThrow(
      'PlatformNamespace team: podSecurity "baseline" needs podSecurityException',
    );
  });

  it("fails on a malformed quota", () => {
    expect(() => namespace({ quota: { cpu: "lots", memory: "1Gi", gpus: 1 } })).toThrow(
      'quota.cpu "lots" must be a Kubernetes quantity',
    );
    expect(() => namespace({ quota: { cpu: "1", memory: "1Gi", gpus: -1 } })).toThrow(
      "quota.gpus (-1) must be a whole number >= 0",
    );
  });

  it("fails on two rules of the same direction and name", () => {
    const rule = { name: "twice", peers: [{ sameNamespace: true as const }] };
    expect(() => namespace({ isolation: { ingress: [rule, rule], egress: [] } })).toThrow(
      "two ingress rules are named twice",
    );
  });

  it("fails on a name that is not a DNS label", () => {
    expect(() => namespace({ name: "Team_A" })).toThrow("PlatformNamespace Team_A: name must be a DNS label");
  });
});
