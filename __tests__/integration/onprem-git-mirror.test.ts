/**
 * The on-prem Git mirror as Argo CD receives it: argo-cd and argocd-apps rendered from the pinned
 * charts with the registry's on-prem values. The repo server must find the mirror's CA where
 * Argo CD v3.4.4 looks for it: a file named after the Application's repository host in
 * argocd-tls-certs-cm, mounted at /app/config/tls (`util/cert/cert.go`, GetCertificateForConnect).
 * Skipped, with the reason printed, when the pinned charts or helm are not on this machine.
 */
import { describeWithUpstream, HELM, renderPinnedChart } from "../support/upstream";
import { names, platformOf, releaseOf, synthesized, valuesOf } from "../support/onprem-login";
import { resourcesOf } from "../support/synth";
import { parseCaBundle } from "../../constructs/lib/certificates";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoServerGitConfig } from "../../constructs/platform/kustomize-remote-bases";

describeWithUpstream("__tests__/integration/onprem-git-mirror.test.ts", "rendered Argo CD")(
  "the on-prem Git mirror in the rendered Argo CD",
  () => {
    const runnable = HELM ? it.each(names) : it.skip.each(names);
    const render = (name: string, chart: "argo-cd" | "argocd-apps") =>
      renderPinnedChart({
        name: chart,
        chart,
        version: chart === "argo-cd" ? "10.1.1" : "2.0.5",
        namespace: "argocd",
        values: valuesOf(platformOf(name), chart),
      });

    runnable(
      "%s: the repo server reads the mirror's CA from a file named after the Applications' repository host",
      async (name) => {
        const pipelines = synthesized[name].environment.platform.pipelines as {
          manifestsRepository: string;
          manifestsRepositoryCaCertificate?: string;
        };
        expect(pipelines.manifestsRepositoryCaCertificate).toBeDefined();
        const objects = await render(name, "argo-cd");
        const certs = objects.find(
          (o) => o.kind === "ConfigMap" && o.metadata.name === "argocd-tls-certs-cm",
        )!;
        const applications = (await render(name, "argocd-apps")).filter((o) => o.kind === "Application");
        const hosts = new Set(applications.map((app) => new URL(app.spec.source.repoURL).host.split(":")[0]));
        expect([...hosts]).toEqual([new URL(pipelines.manifestsRepository).hostname]);
        const [host] = hosts;
        expect(Object.keys(certs.data)).toEqual([host]);
        const parsed = parseCaBundle(pipelines.manifestsRepositoryCaCertificate!);
        expect(certs.data[host]).toBe("bundle" in parsed ? parsed.bundle.pem : parsed.problem);
        // Every line a marker or base64: what Argo CD's line scanner takes as a certificate.
        expect(certs.data[host].split("\n").filter((l: string) => /^\s/.test(l))).toEqual([]);

        const repoServer = objects.find(
          (o) => o.kind === "Deployment" && o.metadata.name === "argo-cd-argocd-repo-server",
        )!;
        const spec = repoServer.spec.template.spec;
        const volume = spec.volumes.find((v: any) => v.configMap?.name === "argocd-tls-certs-cm");
        expect(volume).toBeDefined();
        const container = spec.containers.find((c: any) => c.name === "repo-server");
        expect(container.volumeMounts).toContainEqual(
          expect.objectContaining({ name: volume.name, mountPath: "/app/config/tls" }),
        );
        // No ARGOCD_TLS_DATA_PATH moves the place the repo server reads from.
        expect((container.env ?? []).map((e: any) => e.name)).not.toContain("ARGOCD_TLS_DATA_PATH");
      },
    );

    runnable(
      "%s: the repo server's git reads the gitconfig rewriting Argo Workflows to the mirror",
      async (name) => {
        const objects = await render(name, "argo-cd");
        const repoServer = objects.find(
          (o) => o.kind === "Deployment" && o.metadata.name === "argo-cd-argocd-repo-server",
        )!;
        const spec = repoServer.spec.template.spec;
        const container = spec.containers.find((c: any) => c.name === "repo-server");
        const file = container.env.find((e: any) => e.name === "GIT_CONFIG_GLOBAL")?.value;
        expect(file).toBe("/app/config/gitconfig/gitconfig");
        const mount = container.volumeMounts.find((m: any) => m.mountPath === "/app/config/gitconfig");
        const volume = spec.volumes.find((v: any) => v.name === mount.name);
        const map = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === volume.configMap.name)!;
        expect(map.metadata.namespace ?? "argocd").toBe("argocd");
        expect(map.data.gitconfig).toContain(
          '[url "https://git.example.com/mirrors/argo-workflows.git"]\n\tinsteadOf = https://github.com/argoproj/argo-workflows\n',
        );
      },
    );

    it("git fetches a remote base from the mirror the gitconfig names, as kustomize runs it, without the network", () => {
      const work = mkdtempSync(join(tmpdir(), "mlops-remote-base-"));
      try {
        const git = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
          execFileSync("git", args, {
            cwd,
            env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", ...env },
            stdio: "pipe",
          });
        const mirror = join(work, "argo-workflows");
        git(work, ["init", "-q", mirror]);
        writeFileSync(join(mirror, "marker"), "mirror\n");
        git(mirror, ["add", "marker"]);
        git(mirror, ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "m"]);
        git(mirror, ["tag", "v4.0.5"]);
        const config = join(work, "gitconfig");
        writeFileSync(
          config,
          repoServerGitConfig([
            { upstream: "https://github.com/argoproj/argo-workflows", mirror: `file://${mirror}` },
          ]),
        );
        const clone = join(work, "clone");
        git(work, ["init", "-q", clone]);
        // kustomize v5.8.1 (api/internal/git/cloner.go): fetch --depth=1 <clone spec> <ref>, checkout FETCH_HEAD.
        const env = { GIT_CONFIG_GLOBAL: config, HTTPS_PROXY: "http://127.0.0.1:9" };
        git(clone, ["fetch", "-q", "--depth=1", "https://github.com/argoproj/argo-workflows", "v4.0.5"], env);
        git(clone, ["checkout", "-q", "FETCH_HEAD"], env);
        expect(execFileSync("cat", [join(clone, "marker")]).toString()).toBe("mirror\n");
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });

    it("onprem-prod: the mirror's credentials reach argocd as a repository Secret for the Applications' URL", () => {
      const platform = platformOf("onprem-prod");
      const copy = Object.values<any>(resourcesOf(platform, "kubernetes_secret_v1")).find(
        (s) => s.metadata.name === "kfp-mirror-read",
      );
      expect(copy.metadata.namespace).toBe("argocd");
      expect(copy.metadata.labels["argocd.argoproj.io/secret-type"]).toBe("repository");
      const url = (
        synthesized["onprem-prod"].environment.platform.pipelines as { manifestsRepository: string }
      ).manifestsRepository;
      expect(copy.data).toContain(`"url" = "${url}"`);
      const apps = valuesOf(platform, "argocd-apps");
      const repoUrls = Object.values<any>(apps.applications).map((app) => app.source.repoURL);
      expect(new Set(repoUrls)).toEqual(new Set([url]));
      expect(releaseOf(platform, "argo-cd").values.join("\n")).not.toContain("kfp-mirror-read");
    });
  },
);
