/**
 * TLS for the platform's UIs from the organisation's internal CA: a cert-manager
 * `ClusterIssuer` of type CA signing with a key pair from an existing Secret, and the Ingress
 * annotation and `tls` section that make cert-manager's ingress-shim issue a certificate.
 */

/** cert-manager's annotation on an Ingress naming the ClusterIssuer to issue its certificate. */
export const CLUSTER_ISSUER_ANNOTATION = "cert-manager.io/cluster-issuer";

export interface CaClusterIssuerProps {
  /** Name of the ClusterIssuer, e.g. `internal-ca`. */
  readonly name: string;
  /**
   * Existing `kubernetes.io/tls` Secret with the CA's certificate (`tls.crt`) and private key
   * (`tls.key`), in cert-manager's cluster resource namespace (by default the namespace
   * cert-manager runs in). Created out of band: the key never passes through Terraform.
   */
  readonly caSecretName: string;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HOST = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

function requireName(owner: string, field: string, value: string, what: string): void {
  if (!DNS_SUBDOMAIN.test(value) || value.length > 253)
    throw new Error(
      `${owner}: ${field} is ${JSON.stringify(value)}; allowed: the name of ${what} (a lowercase DNS subdomain); fix: give the name only`,
    );
}

/**
 * The ClusterIssuer (`cert-manager.io/v1`) of type CA, as an object for the `raw` chart
 * (installed after cert-manager, whose CRDs it needs).
 */
export function caClusterIssuer(props: CaClusterIssuerProps): Record<string, unknown> {
  requireName("caClusterIssuer", "name", props.name, "the ClusterIssuer");
  requireName("caClusterIssuer", "caSecretName", props.caSecretName, "a Secret");
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name: props.name },
    spec: { ca: { secretName: props.caSecretName } },
  };
}

/** What an Ingress needs for a certificate from the issuer. */
export interface IngressTls {
  readonly annotations: Record<string, string>;
  /** The Ingress's `spec.tls`: the hosts and the Secret cert-manager writes the certificate to. */
  readonly tls: { readonly hosts: string[]; readonly secretName: string }[];
}

/**
 * The annotation and `tls` section of an Ingress whose certificate the ClusterIssuer `issuer`
 * issues for `hosts` into the Secret `secretName` (in the Ingress's namespace).
 */
export function ingressTls(issuer: string, hosts: readonly string[], secretName: string): IngressTls {
  requireName("ingressTls", "issuer", issuer, "the ClusterIssuer");
  requireName("ingressTls", "secretName", secretName, "the certificate's Secret");
  if (hosts.length === 0)
    throw new Error(
      "ingressTls: hosts is []; allowed: one or more DNS names; fix: list the hosts the Ingress serves",
    );
  for (const [index, host] of hosts.entries()) {
    if (!HOST.test(host))
      throw new Error(
        `ingressTls: hosts[${index}] is ${JSON.stringify(host)}; allowed: a lowercase fully qualified DNS name without scheme, port or wildcard; fix: use the host only, e.g. mlflow.mlops.example.com`,
      );
  }
  return {
    annotations: { [CLUSTER_ISSUER_ANNOTATION]: issuer },
    tls: [{ hosts: [...hosts], secretName }],
  };
}

/** Where the wildcard certificate of the UIs' and predictors' zone is written. */
export interface WildcardCertificateProps {
  /** The ClusterIssuer that signs it. */
  readonly issuer: string;
  /** The zone: the certificate covers `*.<domain>` and `<domain>`. */
  readonly domain: string;
  readonly namespace: string;
  readonly secretName: string;
}

/**
 * A `Certificate` for `*.<domain>` from the ClusterIssuer. KServe writes the Ingresses of
 * InferenceServices itself, without a `tls` section, so ingress-shim never issues for them; the
 * ingress controller serves them with its default certificate, which this one is meant to be
 * (ingress-nginx: `--default-ssl-certificate=<namespace>/<secretName>`).
 */
export function wildcardCertificate(props: WildcardCertificateProps): Record<string, unknown> {
  requireName("wildcardCertificate", "issuer", props.issuer, "the ClusterIssuer");
  requireName("wildcardCertificate", "secretName", props.secretName, "the certificate's Secret");
  requireName("wildcardCertificate", "namespace", props.namespace, "a namespace");
  if (!HOST.test(props.domain))
    throw new Error(
      `wildcardCertificate: domain is ${JSON.stringify(props.domain)}; allowed: a lowercase DNS zone with at least two labels; fix: give the platform's domain, e.g. mlops.example.com`,
    );
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "Certificate",
    metadata: { name: props.secretName, namespace: props.namespace },
    spec: {
      secretName: props.secretName,
      dnsNames: [`*.${props.domain}`, props.domain],
      issuerRef: { group: "cert-manager.io", kind: "ClusterIssuer", name: props.issuer },
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    },
  };
}
