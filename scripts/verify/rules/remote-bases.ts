/**
 * remote-bases: on a cluster without internet access (on-prem), Argo CD's repo server can fetch
 * every kustomize remote base of an Application's build. kustomize runs `git fetch` of the base's
 * repository with the repo server's environment (kustomize v5.8.1 `api/internal/git/cloner.go`,
 * argo-cd v3.4.4 `util/kustomize/kustomize.go`): the base is reachable when the gitconfig that
 * GIT_CONFIG_GLOBAL names rewrites its URL to another host (`url.<mirror>.insteadOf`, longest
 * prefix wins), or when HTTPS_PROXY is set and NO_PROXY does not exempt the base's host.
 */
import type { Finding } from "../finding";
import type { ClusterState, StateObject } from "../state";
import { KUBEFLOW_PIPELINES_REMOTE_BASES } from "../../../constructs/platform/kustomize-remote-bases";
import { findingFor, type Rule } from "./rule";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered objects, read by path
type Loose = any;

/** `insteadOf` prefix -> replacement, from gitconfig text (sections `[url "<base>"]`). */
export function insteadOfRules(gitconfig: string): Map<string, string> {
  const rules = new Map<string, string>();
  let section: string | undefined;
  for (const raw of gitconfig.split("\n")) {
    const line = raw.replace(/[#;].*$/, "").trim();
    if (line === "") continue;
    const header = /^\[\s*url\s+"((?:[^"\\]|\\.)*)"\s*\]$/i.exec(line);
    if (header) {
      section = header[1].replace(/\\(.)/g, "$1");
      continue;
    }
    if (line.startsWith("[")) {
      section = undefined;
      continue;
    }
    const entry = /^insteadof\s*=\s*(.+)$/i.exec(line);
    if (section !== undefined && entry) rules.set(entry[1].trim(), section);
  }
  return rules;
}

/** The URL git fetches after `insteadOf` rewriting: the longest matching prefix wins. */
export function rewritten(url: string, rules: ReadonlyMap<string, string>): string {
  let best: [string, string] | undefined;
  for (const [prefix, base] of rules)
    if (url.startsWith(prefix) && (best === undefined || prefix.length > best[0].length))
      best = [prefix, base];
  return best ? best[1] + url.slice(best[0].length) : url;
}

/** Whether NO_PROXY exempts a host (names and .suffixes; `*` exempts everything). */
function exempted(host: string, noProxy: string): boolean {
  return noProxy
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "")
    .some(
      (e) => e === "*" || host === e.replace(/^\./, "") || host.endsWith(e.startsWith(".") ? e : `.${e}`),
    );
}

function envOf(container: Loose, name: string): string | undefined {
  const entries: { name: string; value?: string }[] = container?.env ?? [];
  return (
    entries.find((e) => e.name === name)?.value ?? entries.find((e) => e.name === name.toLowerCase())?.value
  );
}

/** The repo server's gitconfig as mounted, or undefined when GIT_CONFIG_GLOBAL names none. */
function gitconfigOf(state: ClusterState, deployment: StateObject, container: Loose): string | undefined {
  const file = envOf(container, "GIT_CONFIG_GLOBAL");
  if (file === undefined) return undefined;
  const pod = (deployment.object.spec as Loose)?.template?.spec;
  const mount = (container.volumeMounts ?? []).find(
    (m: Loose) => typeof m.mountPath === "string" && file.startsWith(`${m.mountPath.replace(/\/$/, "")}/`),
  );
  const volume = (pod?.volumes ?? []).find((v: Loose) => v.name === mount?.name);
  const name = volume?.configMap?.name;
  if (mount === undefined || name === undefined) return undefined;
  const key = mount.subPath ?? file.slice(mount.mountPath.replace(/\/$/, "").length + 1);
  const map = state.objects.find(
    (o) =>
      o.object.kind === "ConfigMap" &&
      o.object.metadata.name === name &&
      o.object.metadata.namespace === deployment.object.metadata.namespace,
  );
  const data = (map?.object as Loose)?.data?.[key];
  return typeof data === "string" ? data : undefined;
}

export const remoteBasesRule: Rule = {
  name: "remote-bases",
  summary:
    "on-prem, Argo CD's repo server reaches every kustomize remote base of an Application's build through a mirror (gitconfig insteadOf) or its proxy",
  check(state) {
    if (state.environment.distribution !== "rke2") return [];
    const applications = state.objects.filter(
      (o) => o.object.kind === "Application" && o.object.apiVersion.startsWith("argoproj.io/"),
    );
    const needed: { application: string; repository: string; path: string; ref: string }[] = [];
    for (const app of applications) {
      const source = (app.object.spec as Loose)?.source;
      const bases = KUBEFLOW_PIPELINES_REMOTE_BASES[source?.targetRevision ?? ""];
      if (!bases || typeof source?.path !== "string") continue;
      for (const base of bases.filter((b) => b.builds.includes(source.path)))
        needed.push({ application: app.object.metadata.name ?? "", ...base });
    }
    if (needed.length === 0) return [];
    const repoServer = state.objects.find(
      (o) =>
        o.object.kind === "Deployment" &&
        o.object.metadata.labels?.["app.kubernetes.io/component"] === "repo-server",
    );
    if (!repoServer) return [];
    const container = ((repoServer.object.spec as Loose)?.template?.spec?.containers ?? []).find(
      (c: Loose) => c.name === "repo-server",
    );
    const rules = insteadOfRules(gitconfigOf(state, repoServer, container) ?? "");
    const proxy = envOf(container, "HTTPS_PROXY");
    const noProxy = envOf(container, "NO_PROXY") ?? "";
    const unreachable = needed.filter(({ repository }) => {
      const upstreamHost = new URL(repository).hostname;
      const target = rewritten(repository, rules);
      const host = /^[a-z]+:\/\//.test(target) ? new URL(target).hostname : upstreamHost;
      if (host !== upstreamHost) return false;
      return proxy === undefined || exempted(host, noProxy);
    });
    if (unreachable.length === 0) return [];
    const listed = unreachable
      .map((b) => `${b.repository}/${b.path}?ref=${b.ref} (Application ${b.application})`)
      .join(", ");
    const finding: Finding = findingFor(
      state,
      "remote-bases",
      repoServer,
      `cannot fetch the kustomize remote base(s) ${listed} from a cluster without internet access: no insteadOf rule of the gitconfig GIT_CONFIG_GLOBAL names rewrites them to a mirror, and no HTTPS_PROXY covers them`,
      "map each repository to the organisation's mirror in platform.pipelines.remoteBaseMirrors, or set platform.pipelines.remoteBasesProxy",
    );
    return [finding];
  },
};
