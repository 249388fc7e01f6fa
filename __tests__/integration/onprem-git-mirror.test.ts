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
