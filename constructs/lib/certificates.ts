/**
 * PEM certificates the platform hands to components as text (a CA certificate is public). Argo CD
 * v3.4.4 reads such a bundle line by line (`util/cert/cert.go`, ParseTLSCertificatesFromStream):
 * a certificate starts at a line beginning with `-----BEGIN CERTIFICATE-----`, ends at one
 * beginning with `-----END CERTIFICATE-----`, has at most 128 lines, and anything else is
 * skipped silently. So the bundle is checked here, where a mistake can still be named.
 */
import { X509Certificate } from "node:crypto";

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";
/** Argo CD's CertificateMaxLines. */
const MAX_LINES = 128;

export interface CaBundle {
  /** The certificates, one PEM block each, every line unindented, ending in a newline. */
  readonly pem: string;
  readonly subjects: readonly string[];
}

/**
 * Parses a PEM bundle of CA certificates. Returns the normalized bundle, or what is wrong with
 * it (a sentence naming the problem, without the text itself).
 */
export function parseCaBundle(text: string): { bundle: CaBundle } | { problem: string } {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) {
    return { problem: "holds a private key, which must never be in the repository" };
  }
  const lines = text.split(/\r?\n/).map((line) => line.trim());
  const blocks: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (current === undefined) {
      if (line === "") continue;
      if (line !== BEGIN) return { problem: `has text outside a ${BEGIN} block` };
      current = [line];
    } else {
      current.push(line);
      if (line === END) {
        blocks.push(current);
        current = undefined;
      } else if (line.startsWith("-----")) {
        return { problem: `has a PEM block that is not a certificate (${line})` };
      }
    }
  }
  if (current !== undefined) return { problem: `has a certificate without its ${END} line` };
  if (blocks.length === 0) return { problem: "holds no PEM certificate" };
  const subjects: string[] = [];
  for (const [index, block] of blocks.entries()) {
    const which = blocks.length === 1 ? "the certificate" : `certificate ${index + 1}`;
    if (block.length > MAX_LINES) {
      return { problem: `${which} has ${block.length} lines; Argo CD reads at most ${MAX_LINES}` };
    }
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(block.join("\n"));
    } catch {
      return { problem: `${which} does not parse as an X.509 certificate` };
    }
    const subject = certificate.subject.replace(/\n/g, ", ");
    if (!certificate.ca) {
      return {
        problem: `${which} (${subject}) is not a CA certificate (basicConstraints CA:TRUE), so it can sign nothing`,
      };
    }
    subjects.push(subject);
  }
  return { bundle: { pem: blocks.map((block) => `${block.join("\n")}\n`).join(""), subjects } };
}
