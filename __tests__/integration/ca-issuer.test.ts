/**
 * The internal-CA ClusterIssuer against the pinned cert-manager v1.21.1: the ClusterIssuer and
 * the wildcard Certificate against the pinned CRDs, the ClusterIssuer through the `raw` 2.0.2
 * chart that installs it, and where cert-manager v1.21.1 reads the CA Secret from. Skipped, with
 * the reason printed, when the pinned sources are not on this machine.
 */
import { wildcardCertificate } from "../../constructs/platform/ca-issuer";
import { crdSchema, describeWithUpstream, renderPinnedChart, schemaValidator } from "../support/upstream";
import { issuer } from "../support/ca-issuer";

const withUpstream = describeWithUpstream("__tests__/integration/ca-issuer.test.ts", "upstream");
const render = (name: string, chart: string, version: string, namespace: string, values: object) =>
  renderPinnedChart({ name, chart, version, namespace, values });

withUpstream("cert-manager v1.21.1", () => {
  it("the ClusterIssuer matches the pinned CRD, unknown fields refused", () => {
    const validate = schemaValidator(
      crdSchema("cert-manager-v1.21.1", "cert-manager.io", "ClusterIssuer", "v1"),
    );
    expect(validate(issuer)).toEqual([]);
    // The schema is strict enough to notice a misplaced field.
    expect(validate({ ...issuer, spec: { ca: { secret: "internal-ca-key-pair" } } })).not.toEqual([]);
  });

  it("the wildcard Certificate matches the pinned CRD and covers the zone and its hosts", () => {
    const certificate = wildcardCertificate({
      issuer: "organisation-ca",
      domain: "mlops.test.example.com",
      namespace: "cert-manager",
      secretName: "platform-wildcard-tls",
    });
    const validate = schemaValidator(
      crdSchema("cert-manager-v1.21.1", "cert-manager.io", "Certificate", "v1"),
    );
    expect(validate(certificate)).toEqual([]);
    expect((certificate as any).spec.dnsNames).toEqual([
      "*.mlops.test.example.com",
      "mlops.test.example.com",
    ]);
    expect((certificate as any).spec.issuerRef).toEqual({
      group: "cert-manager.io",
      kind: "ClusterIssuer",
      name: "organisation-ca",
    });
  });

  it("the raw chart installs it unchanged", async () => {
    const objects = await render("platform-issuers", "raw", "2.0.2", "cert-manager", { resources: [issuer] });
    expect(objects).toHaveLength(1);
    expect(objects[0]).toMatchObject(issuer);
    expect(objects[0].metadata.namespace).toBeUndefined();
  }, 120_000);

  it("the controller reads a ClusterIssuer's Secret from its own namespace", async () => {
    const objects = await render("cert-manager", "cert-manager", "v1.21.1", "cert-manager", {});
    const controller = objects.find(
      (o) => o.kind === "Deployment" && o.metadata.name === "cert-manager",
    ) as any;
    const [container] = controller.spec.template.spec.containers;
    expect(container.args).toContain("--cluster-resource-namespace=$(POD_NAMESPACE)");
    expect(container.env).toContainEqual({
      name: "POD_NAMESPACE",
      valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } },
    });
  }, 120_000);
});
