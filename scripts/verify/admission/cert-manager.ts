/**
 * cert-manager v1.21.1's validating webhook (failurePolicy Fail, every cert-manager.io kind) for
 * the kinds the platform creates: Certificate (internal/apis/certmanager/validation/certificate.go,
 * ValidateCertificateSpec, validateIssuerRef, ValidateDuration) and Issuer / ClusterIssuer
 * (issuer.go, ValidateIssuerConfig, ValidateCAIssuerConfig).
 */
import type { Decoded, KubernetesObject } from "../convert";
import type { AdmissionCheck, Refusal } from "./types";

const COMPONENT = "cert-manager v1.21.1";
/** cmapi.MinimumCertificateDuration, MinimumRenewBefore; the default duration is 90 days. */
const HOUR = 3600;
const MINIMUM_RENEW_BEFORE = 300;
const DEFAULT_DURATION = 90 * 24 * HOUR;

/** Seconds of a Go duration (`2160h`, `1h30m`, `90s`); undefined when it does not parse. */
export function goDurationSeconds(text: string): number | undefined {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== text) return undefined;
  return parts.reduce((n, p) => n + Number(p[1]) * units[p[2]], 0);
}

export const certificateAdmission: AdmissionCheck = {
  group: "cert-manager.io",
  resource: "certificates",
  kind: "Certificate",
  component: COMPONENT,
  check(object) {
    const spec = (object.spec ?? {}) as Record<string, Decoded>;
    const out: Refusal[] = [];
    if (!spec.secretName)
      out.push({
        field: "spec.secretName",
        message: "must be specified",
        fix: "name the Secret the certificate goes to",
      });
    const names = ["commonName", "dnsNames", "emailAddresses", "ipAddresses", "uris", "otherNames"];
    if (
      !names.some((n) => (Array.isArray(spec[n]) ? spec[n].length > 0 : Boolean(spec[n]))) &&
      !spec.literalSubject
    )
      out.push({
        field: "spec",
        message:
          "at least one of commonName, dnsNames, emailAddresses, ipAddresses, otherNames or uris must be set",
        fix: "give the certificate the names it is for",
      });
    // validateIssuerRef
    const ref = (spec.issuerRef ?? {}) as { name?: string; kind?: string; group?: string };
    if (!ref.name)
      out.push({
        field: "spec.issuerRef.name",
        message: "must be specified",
        fix: "name the Issuer or ClusterIssuer",
      });
    if (
      (!ref.group || ref.group === "cert-manager.io") &&
      ref.kind &&
      !["Issuer", "ClusterIssuer"].includes(ref.kind)
    )
      out.push({
        field: "spec.issuerRef.kind",
        message: `"${ref.kind}" must be one of Issuer or ClusterIssuer`,
        fix: "use Issuer or ClusterIssuer, or set issuerRef.group for an external issuer",
      });
    // ValidateCertificateSpec: private key algorithm and size
    const key = spec.privateKey as { algorithm?: string; size?: number } | undefined;
    if (key) {
      const size = key.size ?? 0;
      if ((key.algorithm ?? "RSA") === "RSA" && size > 0 && (size < 2048 || size > 8192))
        out.push({
          field: "spec.privateKey.size",
          message: `${size} must be between 2048 and 8192 for RSA`,
          fix: "use 2048, 3072 or 4096",
        });
      else if (key.algorithm === "ECDSA" && size > 0 && ![256, 384, 521].includes(size))
        out.push({
          field: "spec.privateKey.size",
          message: `${size} is not 256, 384 or 521 for ECDSA`,
          fix: "use 256, 384 or 521",
        });
      else if (key.algorithm && !["RSA", "ECDSA", "Ed25519"].includes(key.algorithm))
        out.push({
          field: "spec.privateKey.algorithm",
          message: `"${key.algorithm}" must be empty or one of RSA, ECDSA, Ed25519`,
          fix: "use RSA, ECDSA or Ed25519",
        });
    }
    // ValidateDuration
    const duration = spec.duration ? goDurationSeconds(spec.duration) : DEFAULT_DURATION;
    const renewBefore = spec.renewBefore ? goDurationSeconds(spec.renewBefore) : undefined;
    if (duration !== undefined && duration < HOUR)
      out.push({
        field: "spec.duration",
        message: `${spec.duration} must be greater than 1h`,
        fix: "use a duration of at least 1h",
      });
    if (spec.renewBefore && spec.renewBeforePercentage !== undefined)
      out.push({
        field: "spec.renewBefore",
        message: "renewBefore and renewBeforePercentage are mutually exclusive",
        fix: "set one of them",
      });
    if (renewBefore !== undefined && renewBefore < MINIMUM_RENEW_BEFORE)
      out.push({
        field: "spec.renewBefore",
        message: `${spec.renewBefore} must be greater than 5m`,
        fix: "renew at least 5m before expiry",
      });
    if (renewBefore !== undefined && duration !== undefined && renewBefore >= duration)
      out.push({
        field: "spec.renewBefore",
        message: `${spec.renewBefore} must be less than the duration ${spec.duration ?? "2160h"}`,
        fix: "shorten renewBefore or lengthen duration",
      });
    return out;
  },
};

/** ValidateIssuerConfig: exactly one issuer type; a CA issuer names its Secret. */
function issuerRefusals(object: KubernetesObject): Refusal[] {
  const spec = (object.spec ?? {}) as Record<string, Decoded>;
  const types = ["acme", "ca", "selfSigned", "vault", "venafi"].filter(
    (t) => spec[t] !== undefined && spec[t] !== null,
  );
  const out: Refusal[] = [];
  if (types.length === 0)
    out.push({
      field: "spec",
      message: "at least one issuer must be configured",
      fix: "configure one of acme, ca, selfSigned, vault, venafi",
    });
  if (types.length > 1)
    out.push({
      field: `spec.${types[1]}`,
      message: `may not specify more than one issuer type (${types.join(", ")})`,
      fix: "keep one issuer type per issuer",
    });
  if (spec.ca && !spec.ca.secretName)
    out.push({
      field: "spec.ca.secretName",
      message: "is required",
      fix: "name the Secret holding the CA's key pair",
    });
  return out;
}

export const issuerAdmission: AdmissionCheck = {
  group: "cert-manager.io",
  resource: "issuers",
  kind: "Issuer",
  component: COMPONENT,
  check: issuerRefusals,
};

export const clusterIssuerAdmission: AdmissionCheck = {
  group: "cert-manager.io",
  resource: "clusterissuers",
  kind: "ClusterIssuer",
  component: COMPONENT,
  check: issuerRefusals,
};
