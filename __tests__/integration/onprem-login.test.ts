/**
 * Active Directory login of the registry's on-prem environments as rendered: Argo CD, Grafana and
 * MLflow rendered from the pinned charts with the synthesized values. Skipped, with the reason
 * printed, when the pinned charts or helm are not on this machine.
 */
import { parse } from "yaml";
import { describeWithUpstream, HELM, renderChart, renderPinnedChart } from "../support/upstream";
import { names, platformOf, releaseOf, synthesized, valuesOf } from "../support/onprem-login";

describeWithUpstream("__tests__/integration/onprem-login.test.ts", "rendered login charts")(
  "rendered on-prem login",
  () => {
    const render = (name: string, release: string, chartDir: string, namespace: string) =>
      renderChart(release, chartDir, namespace, releaseOf(platformOf(name), release).values);
    const runnable = HELM ? it.each(names) : it.skip.each(names);

    runnable(
      "%s: argocd-cm carries the LDAP connector and Dex its client secrets from Secrets",
      async (name) => {
        // Argo CD's CRDs overflow a synchronous pipe: rendered as the verify tool renders it.
        const objects = await renderPinnedChart({
          name: "argo-cd",
          chart: "argo-cd",
          version: "10.1.1",
          namespace: "argocd",
          values: valuesOf(platformOf(name), "argo-cd"),
        });
        const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "argocd-cm")!;
        const dex = parse(cm.data["dex.config"]);
        expect(dex.connectors[0].config.bindPW).toBe("$ad-bind:password");
        expect(cm.data.url).toBe(`https://argocd.${synthesized[name].environment.platform.domain}`);
        expect(cm.data["admin.enabled"]).toBe(name === "onprem-prod" ? "false" : "true");
        const rbac = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "argocd-rbac-cm")!;
        expect(rbac.data["policy.csv"]).toContain("g, mlops-admins, role:admin");
        expect(rbac.data.scopes).toBe("[groups]");
        const dexServer = objects.find(
          (o) => o.kind === "Deployment" && o.metadata.name.endsWith("dex-server"),
        )!;
        const container = dexServer.spec.template.spec.containers[0];
        expect(container.env).toEqual(
          expect.arrayContaining([
            {
              name: "OIDC_CLIENT_SECRET_GRAFANA",
              valueFrom: { secretKeyRef: { name: "oidc-client-grafana", key: "client-secret" } },
            },
          ]),
        );
        expect(container.volumeMounts).toContainEqual(expect.objectContaining({ name: "directory-ca" }));
        const secret = objects.find((o) => o.kind === "Secret" && o.metadata.name === "argocd-secret");
        expect(JSON.stringify(secret ?? {})).not.toMatch(/ad-bind|bindPW/);
      },
    );

    runnable("%s: grafana.ini holds generic OAuth with the secret from the environment", (name) => {
      const objects = render(name, "kube-prometheus-stack", "kube-prometheus-stack-88.5.3", "monitoring");
      const ini: string = objects.find(
        (o) => o.kind === "ConfigMap" && o.metadata.name === "kube-prometheus-stack-grafana",
      )!.data["grafana.ini"];
      expect(ini).toContain("[auth.generic_oauth]");
      expect(ini).toMatch(/client_secret = \$__env\{GRAFANA_OIDC_CLIENT_SECRET\}/);
      expect(ini).toMatch(new RegExp(`disable_login_form = ${name === "onprem-prod"}`));
      const deployment = objects.find(
        (o) => o.kind === "Deployment" && o.metadata.name === "kube-prometheus-stack-grafana",
      )!;
      const grafana = deployment.spec.template.spec.containers.find((c: any) => c.name === "grafana");
      expect(grafana.env).toContainEqual({
        name: "GRAFANA_OIDC_CLIENT_SECRET",
        valueFrom: { secretKeyRef: { name: "oidc-client-grafana", key: "client-secret" } },
      });
      const ingress = objects.find((o) => o.kind === "Ingress")!;
      expect(ingress.spec.tls[0].hosts).toEqual([`grafana.${synthesized[name].environment.platform.domain}`]);
      expect(ingress.spec.ingressClassName).toBe("nginx");
    });

    runnable("%s: the MLflow server runs the oidc-auth app against its users database", (name) => {
      const objects = render(name, "mlflow", "mlflow-1.11.5", "mlflow");
      const server = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "mlflow")!.spec
        .template.spec.containers[0];
      expect(server.args).toContain("--app-name=oidc-auth");
      const env = Object.fromEntries(server.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
      expect(env.OIDC_USERS_DB_URI).toBe(
        "postgresql://$(OIDC_DB_USER):$(OIDC_DB_PASSWORD)@mlflow-postgres-rw.mlflow.svc:5432/mlflow_oidc_auth",
      );
      expect(env.OIDC_CLIENT_SECRET).toEqual({
        secretKeyRef: { name: "oidc-client-mlflow", key: "client-secret" },
      });
      // Creating needs an EDIT grant on the name; the fallback for everyone else reads only.
      expect(env.RESTRICT_RESOURCE_CREATION).toBe("true");
      expect(env.DEFAULT_MLFLOW_PERMISSION).toBe("READ");
      expect(server.env.filter((e: any) => e.name === "RESTRICT_RESOURCE_CREATION")).toHaveLength(1);
    });
  },
);
