/**
 * The internal-CA ClusterIssuer and the Ingress TLS helpers: the objects, the validation of
 * their inputs, and an Ingress carrying the helpers' output against the Kubernetes schema. The
 * ClusterIssuer against the pinned cert-manager v1.21.1 CRD and through the `raw` 2.0.2 chart,
 * and where cert-manager reads the CA Secret from, are checked in
 * __tests__/integration/ca-issuer.test.ts.
 */
import {
  CLUSTER_ISSUER_ANNOTATION,
  caClusterIssuer,
  ingressTls,
  wildcardCertificate,
} from "../../constructs/platform/ca-issuer";
import { kindSchemas, validateAgainst } from "../../scripts/verify/k8s-schema";
import { issuer } from "../support/ca-issuer";

describe("caClusterIssuer", () => {
  it("is a ClusterIssuer of type CA signing with the existing Secret", () => {
    expect(issuer).toEqual({
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "internal-ca" },
      spec: { ca: { secretName: "internal-ca-key-pair" } },
    });
  });

  it("refuses names that are not Kubernetes names, naming the field, the value and the fix", () => {
    expect(() => caClusterIssuer({ name: "Internal CA", caSecretName: "internal-ca-key-pair" })).toThrow(
      'caClusterIssuer: name is "Internal CA"; allowed: the name of the ClusterIssuer (a lowercase DNS subdomain); fix: give the name only',
    );
    expect(() =>
      caClusterIssuer({ name: "internal-ca", caSecretName: "-----BEGIN CERTIFICATE-----" }),
    ).toThrow(
      /caClusterIssuer: caSecretName is "-----BEGIN CERTIFICATE-----"; allowed: the name of a Secret/,
    );
  });
});

describe("wildcardCertificate", () => {
  it("refuses a domain with a wildcard or scheme, naming the field, the value and the fix", () => {
    expect(() =>
      wildcardCertificate({
        issuer: "ca",
        domain: "*.example.com",
        namespace: "cert-manager",
        secretName: "wild",
      }),
    ).toThrow(
      'wildcardCertificate: domain is "*.example.com"; allowed: a lowercase DNS zone with at least two labels; fix:',
    );
  });
});

describe("ingressTls", () => {
  const tls = ingressTls("internal-ca", ["mlflow.mlops.example.com"], "mlflow-tls");

  it("gives the ClusterIssuer annotation and the tls section", () => {
    expect(tls).toEqual({
      annotations: { "cert-manager.io/cluster-issuer": "internal-ca" },
      tls: [{ hosts: ["mlflow.mlops.example.com"], secretName: "mlflow-tls" }],
    });
    expect(CLUSTER_ISSUER_ANNOTATION).toBe("cert-manager.io/cluster-issuer");
  });

  it.each([
    [[], /ingressTls: hosts is \[\]; allowed: one or more DNS names; fix:/],
    [
      ["https://mlflow.mlops.example.com"],
      /hosts\[0\] is "https:\/\/mlflow.mlops.example.com"; allowed:.*fix: use the host only/,
    ],
    [["mlflow"], /hosts\[0\] is "mlflow"/],
    [["*.mlops.example.com"], /hosts\[0\] is "\*.mlops.example.com"/],
    [["MLflow.mlops.example.com"], /hosts\[0\] is "MLflow.mlops.example.com"/],
  ])("refuses hosts %j", (hosts, message) => {
    expect(() => ingressTls("internal-ca", hosts as string[], "mlflow-tls")).toThrow(message);
  });

  it("refuses a certificate Secret that is not a Secret name", () => {
    expect(() => ingressTls("internal-ca", ["mlflow.mlops.example.com"], "MLflow TLS")).toThrow(
      /ingressTls: secretName is "MLflow TLS"/,
    );
  });

  it("an Ingress carrying it matches the Kubernetes schema", () => {
    const ingress = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "mlflow", namespace: "mlflow", annotations: tls.annotations },
      spec: {
        ingressClassName: "nginx",
        tls: tls.tls,
        rules: [
          {
            host: "mlflow.mlops.example.com",
            http: {
              paths: [
                {
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "mlflow", port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    };
    const schemas = kindSchemas([{ apiVersion: ingress.apiVersion, kind: ingress.kind }]);
    const root = schemas.kinds["networking.k8s.io/v1/Ingress"];
    expect(root).toBeDefined();
    expect(validateAgainst(schemas, { type: "object", ref: root }, ingress, "Ingress")).toEqual([]);
  });
});
