/**
 * Argo CD fetches the Kubeflow Pipelines manifests from the organisation's Git mirror: the CA of
 * the mirror's certificate reaches argocd-tls-certs-cm under the mirror's host name, and the
 * mirror's credentials reach Argo CD as its repository Secret, copied from a hand-made Secret and
 * never written into values.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing } from "cdktf";
import { parse } from "yaml";
import { formatIssue } from "../environments/load";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";
import { releaseFileSchema } from "../environments/release-schema";
import { PlatformStack } from "../stacks/platform-stack";
import { rancherClusterTarget } from "../stacks/targets/rancher-target";
import { loadChartValues } from "../stacks/helm-values";
import { parseCaBundle } from "../constructs/lib/certificates";
import { repositoryTlsCertificates } from "../constructs/platform/argocd";
import { onPremTestInput } from "./support/onprem-fixture";

/** A self-signed CA (basicConstraints CA:TRUE), valid until 2056. */
const CA = `-----BEGIN CERTIFICATE-----
MIIB8zCCAZmgAwIBAgIUXP/DeT2autmRWuZ3+f58Eyrs+2UwCgYIKoZIzj0EAwIw
RjEdMBsGA1UECgwURXhhbXBsZSBPcmdhbmlzYXRpb24xJTAjBgNVBAMMHEV4YW1w
bGUgT3JnYW5pc2F0aW9uIFJvb3QgQ0EwIBcNMjYxMjA3MDIwNDQ2WhgPMjA1NjEx
MjkwMjA0NDZaMEYxHTAbBgNVBAoMFEV4YW1wbGUgT3JnYW5pc2F0aW9uMSUwIwYD
VQQDDBxFeGFtcGxlIE9yZ2FuaXNhdGlvbiBSb290IENBMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEJX439yQ1yqq+31jw8hF5nBv4sLX2U7IxNwkqpJ2ox6xLgA/l
nMtHzRydTRqfaCBnYm0UAVaMnpkK/ABaa7EqsaNjMGEwHQYDVR0OBBYEFMRRpjJO
XdTh+gdQVkBLkNZpe6mnMB8GA1UdIwQYMBaAFMRRpjJOXdTh+gdQVkBLkNZpe6mn
MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49BAMCA0gA
MEUCIHPUfJ/j3pSI7cgTpHcTftIgoJXydqX7ldh61iAkv9RpAiEA2jfepdfT5djf
K/5ekzVARe6cnQvJgywgarS/dBMWHAM=
-----END CERTIFICATE-----
`;

/** A server certificate for git.example.com (basicConstraints CA:FALSE), valid until 2056. */
const LEAF = `-----BEGIN CERTIFICATE-----
MIIBozCCAUqgAwIBAgIUOeiwGEoXjRUydH27NZQT0rDQQxIwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPZ2l0LmV4YW1wbGUuY29tMCAXDTI2MTIwNzAyMDQ0OFoYDzIw
NTYxMTI5MDIwNDQ4WjAaMRgwFgYDVQQDDA9naXQuZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAATkPEa84cGYKICct5Nj5Z26FsdUwmi/ce6Yk1ty
+a2AAWDdhw29QnO747FCjxf4HiG0nRIOnIbcuBdivrjxe5KLo2wwajAdBgNVHQ4E
FgQUhabAVZdRqkXoO235JnPNwxpkthAwHwYDVR0jBBgwFoAUhabAVZdRqkXoO235
JnPNwxpkthAwDAYDVR0TAQH/BAIwADAaBgNVHREEEzARgg9naXQuZXhhbXBsZS5j
b20wCgYIKoZIzj0EAwIDRwAwRAIgSI8R5ulJLvGgOWMQXbuV5ucgTOO7oEmwQUaH
gWIDZ94CIHkXut8VdocwMdELhJGtERU+9p/epph3gxLCVL+d3V4U
-----END CERTIFICATE-----
`;

const MIRROR = "https://git.example.com/mirrors/kubeflow-pipelines.git";
const FIELD = "platform.pipelines.manifestsRepositoryCaCertificate";

function withMirror(pipelines: Record<string, unknown>): unknown {
  const input = structuredClone(onPremTestInput) as any;
  input.platform.pipelines = {
    manifestsRepository: MIRROR,
    remoteBaseMirrors: {
      "https://github.com/argoproj/argo-workflows": "https://git.example.com/mirrors/argo-workflows.git",
    },
    ...pipelines,
  };
  return input;
}

function problemsOf(input: unknown): string[] {
  const parsed = rancherEnvironmentSchema.safeParse(input, { reportInput: true });
  return parsed.success
    ? []
    : parsed.error.issues.flatMap((issue) => formatIssue("onprem-test", input, issue));
}

describe("the mirror's CA certificate in an on-prem environment", () => {
  it("accepts a CA certificate, indented or not", () => {
    expect(problemsOf(withMirror({ manifestsRepositoryCaCertificate: CA }))).toEqual([]);
    const indented = CA.split("\n")
      .map((line) => `    ${line}`)
      .join("\n");
    expect(problemsOf(withMirror({ manifestsRepositoryCaCertificate: indented }))).toEqual([]);
    // Argo CD skips lines that do not start with the markers: the bundle handed on is unindented.
    const parsed = parseCaBundle(indented);
    expect(parsed).toEqual({
      bundle: { pem: CA, subjects: ["O=Example Organisation, CN=Example Organisation Root CA"] },
    });
  });

  it.each([
    ["a server certificate", LEAF, /is not a CA certificate \(basicConstraints CA:TRUE\)/],
    [
      "a private key",
      `${CA}-----BEGIN PRIVATE KEY-----\nMC4CAQ==\n-----END PRIVATE KEY-----\n`,
      /private key/,
    ],
    [
      "text that is no certificate",
      "organisation-ca.crt",
      /has text outside a -----BEGIN CERTIFICATE----- block/,
    ],
    [
      "a certificate cut short",
      CA.replace("-----END CERTIFICATE-----\n", ""),
      /without its -----END CERTIFICATE----- line/,
    ],
    [
      "a corrupted certificate",
      CA.replace("MIIB8zCCAZmgAwIBAgIU", "MIIB8zCCAZmgAwIBAgIX"),
      /does not parse as an X\.509 certificate/,
    ],
    ["an empty text", "", /holds no PEM certificate/],
  ])("refuses %s with one line naming the field and the fix", (_what, pem, rule) => {
    const problems = problemsOf(withMirror({ manifestsRepositoryCaCertificate: pem }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^onprem-test: ${FIELD.replace(/\./g, "\\.")} = `));
    expect(problems[0]).toMatch(rule);
    expect(problems[0]).toMatch(/; fix: paste the organisation CA's certificate/);
  });

  it("refuses a credentials Secret that is not an object name", () => {
    const problems = problemsOf(withMirror({ manifestsRepositoryCredentialsSecret: "Mirror Token" }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^onprem-test: platform\.pipelines\.manifestsRepositoryCredentialsSecret = "Mirror Token": must be a Kubernetes object name.*; fix: /,
    );
  });
});

describe("argocd-tls-certs-cm's certificates", () => {
  it("are keyed by the repository's host as written, without port or user", () => {
    expect(
      repositoryTlsCertificates([
        { url: "https://git.example.com:8443/mirrors/kfp.git", caCertificate: CA },
        { url: "https://reader@Git.Example.org/kfp.git", caCertificate: CA },
        { url: "https://github.com/kubeflow/pipelines.git" },
      ]),
    ).toEqual({ "git.example.com": CA, "Git.Example.org": CA });
  });

  it("hold every distinct CA of repositories on one host, each once", () => {
    const other = CA.replace("K/5ekzVARe6cnQvJgywgarS/dBMWHAM=", "K/5ekzVARe6cnQvJgywgarS/dBMWHAN=");
    expect(
      repositoryTlsCertificates([
        { url: "https://git.example.com/a.git", caCertificate: CA },
        { url: "https://git.example.com/b.git", caCertificate: CA },
        { url: "https://git.example.com/c.git", caCertificate: other },
      ]),
    ).toEqual({ "git.example.com": CA + other });
  });

  it("refuses a host Argo CD cannot name a file after", () => {
    expect(() =>
      repositoryTlsCertificates([{ url: "https://[fd00::1]/kfp.git", caCertificate: CA }]),
    ).toThrow(
      /ArgoCd: repository "https:\/\/\[fd00::1\]\/kfp\.git" has no host name Argo CD can key its CA by; .*Fix: name the repository by its DNS name/,
    );
  });
});

describe("the platform stack with a Git mirror", () => {
  const staging = releaseFileSchema.parse(
    JSON.parse(readFileSync(join(__dirname, "..", "environments", "releases", "staging.json"), "utf8")),
  );
  const release = {
    ...staging.current,
    charts: {
      ...staging.current.charts,
      "cloudnative-pg": "0.29.0",
      "postgres-cluster": "0.8.1",
      "gpu-operator": "v26.7.0",
    },
  };
  const synth = (pipelines: Record<string, unknown>) => {
    const environment = rancherEnvironmentSchema.parse(withMirror(pipelines));
    const stack = new PlatformStack(Testing.app(), "onprem-test-platform", {
      environment,
      target: rancherClusterTarget(environment),
      release,
      chartValues: loadChartValues("onprem-test"),
    });
    const json = JSON.parse(Testing.synth(stack));
    const argocd = Object.values<any>(json.resource.helm_release).find((r) => r.name === "argo-cd");
    const values = Object.assign({}, ...argocd.values.map((text: string) => parse(text)));
    const secrets = Object.values<any>(json.resource.kubernetes_secret_v1 ?? {});
    return { json, values, secrets };
  };

  const withBoth = synth({
    manifestsRepositoryCaCertificate: CA,
    manifestsRepositoryCredentialsSecret: "kfp-mirror-read",
  });

  it("hands Argo CD the CA under the mirror's host", () => {
    expect(withBoth.values.configs.tls.certificates).toEqual({ "git.example.com": CA });
  });

  it("copies the credentials into argocd as Argo CD's repository Secret for the mirror's URL", () => {
    const copies = withBoth.secrets.filter((s) => s.metadata.name === "kfp-mirror-read");
    expect(copies).toHaveLength(1);
    const [copy] = copies;
    expect(copy.metadata.namespace).toBe("argocd");
    expect(copy.metadata.labels["argocd.argoproj.io/secret-type"]).toBe("repository");
    expect(copy.metadata.annotations["mlops-platform/copied-from"]).toBe("terraform-state/kfp-mirror-read");
    // The source's keys by reference, the repository's URL and type added (and winning) as literals.
    expect(copy.data).toMatch(/^\$\{merge\(data\.kubernetes_secret_v1\.[\w-]+\.data, \{/);
    expect(copy.data).toContain(`"url" = "${MIRROR}"`);
    expect(copy.data).toContain(`"type" = "git"`);
    expect(copy.data).not.toMatch(/username|password/);
    const source = Object.values<any>(withBoth.json.data.kubernetes_secret_v1).find(
      (s) => s.metadata.name === "kfp-mirror-read",
    );
    expect(source.metadata.namespace).toBe("terraform-state");
  });

  it("puts no credential into the Application or Argo CD's values", () => {
    const apps = Object.values<any>(withBoth.json.resource.helm_release).find(
      (r) => r.name === "argocd-apps",
    );
    expect(JSON.stringify(apps.values)).toContain(MIRROR);
    // The chart's own repository Secrets (configs.repositories, credentialTemplates) stay unused.
    expect(withBoth.values.configs.repositories).toBeUndefined();
    expect(withBoth.values.configs.credentialTemplates).toBeUndefined();
    expect(JSON.stringify(withBoth.values)).not.toContain("kfp-mirror-read");
  });

  it("adds nothing where the mirror is publicly trusted and open", () => {
    const plain = synth({});
    expect(plain.values.configs.tls).toBeUndefined();
    expect(
      plain.secrets.filter((s) => s.metadata.labels?.["argocd.argoproj.io/secret-type"] !== undefined),
    ).toEqual([]);
  });
});
