/**
 * The Kubeflow Pipelines manifests' kustomize remote bases on-prem: the list the project keeps
 * matches the pinned manifests, an environment that reaches them neither through a mirror nor a
 * proxy is refused, and the repo server gets the gitconfig or the proxy it needs.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { parse } from "yaml";
import { formatIssue } from "../environments/load";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";
import { rancherClusterTarget } from "../stacks/targets/rancher-target";
import { repoServerValues, REPO_SERVER_GITCONFIG } from "../constructs/platform/argocd";
import {
  KUBEFLOW_PIPELINES_REMOTE_BASES,
  remoteBasesOf,
  repoServerGitConfig,
} from "../constructs/platform/kustomize-remote-bases";
import { onPremTest } from "../environments/onprem-test";
import { onPremTestInput } from "./support/onprem-fixture";
import { UPSTREAM_DIR } from "./support/upstream";

const ARGO = "https://github.com/argoproj/argo-workflows";
const ARGO_MIRROR = "https://git.example.com/mirrors/argo-workflows.git";

function withPipelines(pipelines: Record<string, unknown>): unknown {
  const input = structuredClone(onPremTestInput) as any;
  input.platform.pipelines = pipelines;
  return input;
}

function problemsOf(input: unknown): string[] {
  const parsed = rancherEnvironmentSchema.safeParse(input, { reportInput: true });
  return parsed.success ? [] : parsed.error.issues.flatMap((i) => formatIssue("onprem-test", input, i));
}

const KFP = UPSTREAM_DIR && join(UPSTREAM_DIR, "kubeflow-pipelines-2.17.0");
const pinned = KFP !== undefined && existsSync(join(KFP, "manifests")) ? it : it.skip;
if (pinned === it.skip)
  process.stdout.write(
    "SKIPPED __tests__/onprem-remote-bases.test.ts (remote bases from the pinned manifests): set MLOPS_UPSTREAM_DIR\n",
  );

/**
 * The pinned copy replaced each remote base by a local copy under `argo-workflows-v4.0.5/`
 * (its README's table gives the remote URL each replaced): the kustomizations reached from an
 * Application's path whose resources leave `manifests/` are the remote bases.
 */
function pinnedRemoteBases(root: string, applicationPath: string): { kustomization: string; url: string }[] {
  const table = readFileSync(join(root, "..", "README.md"), "utf8");
  const remoteOf = new Map<string, string>();
  for (const row of table.matchAll(
    /^\| (third-party\/\S+) \| `(https:\/\/github\.com\/[^`]+)` \| `([^`]+)` \|$/gm,
  ))
    remoteOf.set(`${row[1]}\u0000${row[3]}`, row[2]);
  const found: { kustomization: string; url: string }[] = [];
  const seen = new Set<string>();
  const walk = (dir: string) => {
    if (seen.has(dir)) return;
    seen.add(dir);
    const file = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
      .map((n) => join(dir, n))
      .find(existsSync);
    if (!file) return;
    const k = parse(readFileSync(file, "utf8")) as {
      resources?: string[];
      components?: string[];
      bases?: string[];
    };
    for (const entry of [...(k.resources ?? []), ...(k.components ?? []), ...(k.bases ?? [])]) {
      const target = resolve(dir, entry);
      if (relative(join(root, "manifests"), target).startsWith("..")) {
        const kustomization = relative(join(root, "manifests", "kustomize"), dir);
        const url = remoteOf.get(`${kustomization}\u0000${entry}`);
        expect({ kustomization, entry, url }).toEqual({ kustomization, entry, url: expect.any(String) });
        found.push({ kustomization, url: url! });
      } else if (existsSync(target) && !/\.ya?ml$|\.json$/.test(target)) walk(target);
    }
  };
  walk(join(root, applicationPath));
  return found.sort((a, b) => a.kustomization.localeCompare(b.kustomization));
}

describe("the remote bases of the Kubeflow Pipelines manifests", () => {
  pinned.each(["manifests/kustomize/cluster-scoped-resources", "manifests/kustomize/env/platform-agnostic"])(
    "2.17.0 %s: the project's list equals the remote bases its build reaches in the pinned manifests",
    (path) => {
      const listed = remoteBasesOf("2.17.0", path)
        .map((b) => ({ kustomization: b.kustomization, url: `${b.repository}/${b.path}?ref=${b.ref}` }))
        .sort((a, b) => a.kustomization.localeCompare(b.kustomization));
      const found = pinnedRemoteBases(KFP!, path).map((b) => ({
        kustomization: b.kustomization,
        // kustomize's own query parameters (timeout) do not change what git fetches.
        url: b.url.replace(/&timeout=\d+s$/, ""),
      }));
      expect(listed.length).toBeGreaterThan(0);
      expect(listed).toEqual(found);
    },
  );

  it("refuses a release whose remote bases were not read, naming where to list them", () => {
    expect(() => remoteBasesOf("2.99.0")).toThrow(
      /remote bases of 2\.99\.0 are unknown .*Fix: list the remote bases .* in constructs\/platform\/kustomize-remote-bases\.ts|constructs\/platform\/kustomize-remote-bases\.ts/,
    );
    expect(Object.keys(KUBEFLOW_PIPELINES_REMOTE_BASES)).toContain("2.17.0");
  });
});

describe("an on-prem environment's way to the remote bases", () => {
  it("refuses an environment with neither a mirror nor a proxy in one line naming the field and the fix", () => {
    const problems = problemsOf(withPipelines({}));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^onprem-test: platform\.pipelines\.remoteBaseMirrors = \{\}: has no mirror for https:\/\/github\.com\/argoproj\/argo-workflows, .*remoteBasesProxy is unset.*; fix: map each to the organisation's mirror of it, or set platform\.pipelines\.remoteBasesProxy/,
    );
  });

  it("accepts a mirror, a proxy, or both", () => {
    expect(problemsOf(withPipelines({ remoteBaseMirrors: { [ARGO]: ARGO_MIRROR } }))).toEqual([]);
    expect(problemsOf(withPipelines({ remoteBasesProxy: "http://proxy.example.com:3128" }))).toEqual([]);
  });

  it("refuses a mirror of a repository no remote base comes from, and a proxy with a password", () => {
    const unknown = problemsOf(
      withPipelines({
        remoteBaseMirrors: { [ARGO]: ARGO_MIRROR, "https://github.com/argoproj/argo-cd": ARGO_MIRROR },
      }),
    );
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatch(
      /remoteBaseMirrors = .*: maps https:\/\/github\.com\/argoproj\/argo-cd, which no remote base .*; fix: remove the entry/,
    );
    const secret = problemsOf(
      withPipelines({ remoteBasesProxy: "http://user:secret@proxy.example.com:3128" }),
    );
    expect(secret).toHaveLength(1);
    expect(secret[0]).toMatch(
      /remoteBasesProxy = .*: must be the http:\/\/ or https:\/\/ URL of an HTTP proxy without user or password.*; fix: /,
    );
  });

  it("gives the repo server a gitconfig rewriting Argo Workflows to the mirror (onprem-test)", () => {
    const env = rancherEnvironmentSchema.parse(onPremTest);
    const access = rancherClusterTarget(env).remoteBases!;
    expect(access.proxy).toBeUndefined();
    const { values } = repoServerValues(access, {});
    const gitconfig = (values.extraObjects as any[])[0];
    expect(gitconfig.metadata.name).toBe(REPO_SERVER_GITCONFIG.configMap);
    expect(gitconfig.data.gitconfig).toBe(`[url "${ARGO_MIRROR}"]\n\tinsteadOf = ${ARGO}\n`);
    const repoServer = values.repoServer as any;
    expect(repoServer.env).toEqual([{ name: "GIT_CONFIG_GLOBAL", value: "/app/config/gitconfig/gitconfig" }]);
    expect(repoServer.volumeMounts).toEqual([
      { name: "gitconfig", mountPath: "/app/config/gitconfig", readOnly: true },
    ]);
    expect(repoServer.volumes).toEqual([
      { name: "gitconfig", configMap: { name: "argocd-repo-server-gitconfig" } },
    ]);
  });

  it("gives the repo server the proxy and bypasses it for the cluster, the API server and the Git mirrors", () => {
    const env = rancherEnvironmentSchema.parse(
      withPipelines({
        manifestsRepository: "https://git.example.com/mirrors/kubeflow-pipelines.git",
        remoteBasesProxy: "http://proxy.example.com:3128",
      }),
    );
    const { values } = repoServerValues(rancherClusterTarget(env).remoteBases, {});
    const envVars = Object.fromEntries((values.repoServer as any).env.map((e: any) => [e.name, e.value]));
    expect(envVars.HTTPS_PROXY).toBe("http://proxy.example.com:3128");
    expect(envVars.GIT_CONFIG_GLOBAL).toBeUndefined();
    const noProxy = envVars.NO_PROXY.split(",");
    for (const entry of [
      env.cluster.podCidr,
      env.cluster.serviceCidr,
      ...env.cluster.apiServerCidrs,
      ".svc",
      "git.example.com",
    ])
      expect(noProxy).toContain(entry);
    expect(noProxy).not.toContain("github.com");
  });

  it("trusts a mirror's own CA for its host, and inside every other host's CA file git may be given instead", () => {
    const mirror = {
      upstream: ARGO,
      mirror: "https://mirror.example.com/argo-workflows.git",
      caCertificate: "MIRROR-CA\n",
    };
    expect(repoServerGitConfig([mirror])).toBe(
      `[url "https://mirror.example.com/argo-workflows.git"]\n\tinsteadOf = ${ARGO}\n[http "https://mirror.example.com/argo-workflows.git"]\n\tsslCAInfo = /app/config/tls/mirror.example.com\n`,
    );
    const { certificates } = repoServerValues({ mirrors: [mirror] }, { "git.example.com": "KFP-CA\n" });
    expect(certificates).toEqual({
      "git.example.com": "KFP-CA\nMIRROR-CA\n",
      "mirror.example.com": "MIRROR-CA\n",
    });
  });
});
