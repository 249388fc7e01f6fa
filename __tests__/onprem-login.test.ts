/**
 * Active Directory login of the registry's on-prem environments: one Dex LDAP connector in
 * Argo CD, the OIDC provider of Argo CD, Grafana, MLflow and the Kubeflow Pipelines UI. Secrets
 * are referenced by name only; AD groups get the roles the environment file gives them; prod
 * keeps no local admin login. Where the pinned charts are present, Argo CD and Grafana are
 * rendered with the synthesized values.
 */
import { parse } from "yaml";
import { resourcesOf, synthesizeOnPremEnvironments, type TerraformJson } from "./support/synth";
import {
  describeWithUpstream,
  HELM,
  renderChart,
  renderPinnedChart,
  type KubernetesObject,
} from "./support/upstream";

const synthesized = synthesizeOnPremEnvironments();
const names = Object.keys(synthesized);

const releaseOf = (json: TerraformJson, name: string): any => {
  const found = Object.values<any>(resourcesOf(json, "helm_release")).find((r) => r.name === name);
  if (!found) throw new Error(`no helm_release ${name}`);
  return found;
};
const valuesOf = (json: TerraformJson, name: string): any =>
  Object.assign({}, ...releaseOf(json, name).values.map((text: string) => parse(text)));
const platformOf = (name: string) => synthesized[name].platform.json;
const dexConfigOf = (name: string) => parse(valuesOf(platformOf(name), "argo-cd").configs.cm["dex.config"]);
const grafanaOf = (name: string) => valuesOf(platformOf(name), "kube-prometheus-stack").grafana;

describe("on-prem directory login", () => {
  it("covers both registry environments", () => {
    expect(names.sort()).toEqual(["onprem-prod", "onprem-test"]);
  });

  it.each(names)("%s: Dex binds to the directory with the password from the Secret ad-bind", (name) => {
    const { directory } = synthesized[name].environment;
    const [connector] = dexConfigOf(name).connectors;
    expect(connector).toMatchObject({
      type: "ldap",
      config: {
        host: "ad.example.com:636",
        bindDN: directory.bindDn,
        bindPW: "$ad-bind:password",
        userSearch: { baseDN: directory.userBaseDn },
        groupSearch: { baseDN: directory.groupBaseDn },
      },
    });
    // Dex reads the clients' secrets from its environment, filled from generated Secrets.
    const values = valuesOf(platformOf(name), "argo-cd");
    expect(values.dex.enabled).toBe(true);
    for (const variable of values.dex.env) {
      expect(variable).toEqual({
        name: expect.stringMatching(/^OIDC_CLIENT_SECRET_/),
        valueFrom: { secretKeyRef: { name: expect.stringMatching(/^oidc-client-/), key: "client-secret" } },
      });
    }
    for (const client of dexConfigOf(name).staticClients) {
      expect(client.secret).toBeUndefined();
      expect(client.secretEnv).toMatch(/^OIDC_CLIENT_SECRET_/);
    }
  });

  it.each(names)("%s: no stack holds a password or client secret literal", (name) => {
    for (const stack of [synthesized[name].platform, synthesized[name].serving]) {
      const text = stack.text;
      expect(text).not.toMatch(/"bindPW":\s*"(?!\$)/);
      expect(text).not.toMatch(/client_secret:(?!\s*\$__(?:env|file)\{)/);
      expect(text).not.toMatch(
        /(?:clientSecret|client-secret|password|cookie-secret)["\\]*:\s*["\\]+[A-Za-z0-9]{16,}/,
      );
      expect(text).not.toMatch(/--(?:client-secret|cookie-secret)=/);
    }
  });

  it.each(names)("%s: Grafana reads its client secret from the Secret oidc-client-grafana", (name) => {
    const grafana = grafanaOf(name);
    const oauth = grafana["grafana.ini"]["auth.generic_oauth"];
    expect(oauth.client_secret).toBe("$__env{GRAFANA_OIDC_CLIENT_SECRET}");
    expect(grafana.envValueFrom.GRAFANA_OIDC_CLIENT_SECRET).toEqual({
      secretKeyRef: { name: "oidc-client-grafana", key: "client-secret" },
    });
    expect(oauth.auth_url).toBe(
      `https://argocd.${synthesized[name].environment.platform.domain}/api/dex/auth`,
    );
    expect(grafana.ingress).toMatchObject({
      enabled: true,
      ingressClassName: "nginx",
      hosts: [`grafana.${synthesized[name].environment.platform.domain}`],
    });
  });

  it.each(names)("%s: AD groups hold the roles the environment file gives them", (name) => {
    const { roles } = synthesized[name].environment.directory;
    const policy: string = valuesOf(platformOf(name), "argo-cd").configs.rbac["policy.csv"];
    for (const group of roles.admins) expect(policy).toContain(`g, ${group}, role:admin`);
    for (const group of roles.editors) expect(policy).toContain(`g, ${group}, role:platform-editor`);
    for (const group of roles.viewers) expect(policy).toContain(`g, ${group}, role:readonly`);
    const rolePath: string = grafanaOf(name)["grafana.ini"]["auth.generic_oauth"].role_attribute_path;
    for (const group of roles.admins) expect(rolePath).toMatch(new RegExp(`'${group}'\\)[^|]*&& 'Admin'`));
    for (const group of roles.viewers) expect(rolePath).toContain(`contains(groups[*], '${group}')`);
    const mlflow = valuesOf(platformOf(name), "mlflow").oidcAuth;
    expect(mlflow.adminGroupName).toEqual(roles.admins);
    expect(mlflow.groupName.sort()).toEqual([...roles.admins, ...roles.editors, ...roles.viewers].sort());
  });

  it("prod turns off Argo CD's admin and Grafana's login form; test keeps them", () => {
    const settings = (name: string) => ({
      argocdAdmin: valuesOf(platformOf(name), "argo-cd").configs.cm["admin.enabled"],
      grafanaLoginForm: !grafanaOf(name)["grafana.ini"].auth.disable_login_form,
    });
    expect(settings("onprem-prod")).toEqual({ argocdAdmin: false, grafanaLoginForm: false });
    expect(settings("onprem-test")).toEqual({ argocdAdmin: true, grafanaLoginForm: true });
  });

  it.each(names)("%s: MLflow runs the OIDC auth mode with its own users database", (name) => {
    const values = valuesOf(platformOf(name), "mlflow");
    expect(values.auth?.enabled ?? false).toBe(false);
    expect(values.oidcAuth).toMatchObject({
      enabled: true,
      existingSecret: { name: "oidc-client-mlflow", clientSecretKey: "client-secret" },
      database: {
        postgres: {
          enabled: true,
          host: "mlflow-postgres-rw.mlflow.svc",
          database: "mlflow_oidc_auth",
          existingSecret: { name: "mlflow-database" },
        },
      },
    });
    const cluster = valuesOf(platformOf(name), "mlflow-postgres");
    expect(cluster.databases).toContainEqual({
      name: "mlflow_oidc_auth",
      owner: "mlflow",
      ensure: "present",
    });
    // The workloads' users become the plugin's service accounts, from their Secrets.
    const jobs = Object.values<any>(resourcesOf(platformOf(name), "kubernetes_job_v1"));
    const accounts = jobs.find(
      (job) =>
        job.metadata[0]?.name === "mlflow-service-accounts" ||
        job.metadata?.name === "mlflow-service-accounts",
    );
    expect(accounts).toBeDefined();
    expect(jobs.find((job) => JSON.stringify(job.metadata).includes("mlflow-create-users"))).toBeUndefined();
  });

  it.each(names)("%s: the KFP UI is reached only through oauth2-proxy", (name) => {
    const json = platformOf(name);
    const objects: KubernetesObject[] = valuesOf(json, "pipelines-login").resources;
    const ingress = objects.find((o) => o.kind === "Ingress")!;
    expect(ingress.spec.rules[0].host).toBe(`pipelines.${synthesized[name].environment.platform.domain}`);
    expect(ingress.spec.rules[0].http.paths[0].backend.service.name).toBe("ml-pipeline-login");
    const proxy = objects.find((o) => o.kind === "Deployment")!.spec.template.spec;
    expect(proxy.containers[0].image).toMatch(
      /^artifactory\.example\.com\/quay-remote\/oauth2-proxy\/oauth2-proxy:/,
    );
    expect(proxy.imagePullSecrets).toEqual([{ name: "artifactory-pull" }]);
    // No other Ingress leads to the UI, and the entry no longer reaches its port.
    const text = JSON.stringify(json);
    expect(text).not.toMatch(/"name":\s*"ml-pipeline-ui"[^}]*"port"/);
    const policies = Object.values<any>(resourcesOf(json, "kubernetes_network_policy_v1")).filter((p) =>
      /kubeflow/i.test(JSON.stringify(p.metadata.namespace)),
    );
    const entry = policies.find((p) => p.metadata.name === "allow-ingress-load-balancer");
    expect(JSON.stringify(entry.spec)).not.toContain('"3000"');
    const proxyIngress = policies.find(
      (p) => p.metadata.name === "allow-ingress-login-ingress-controller-4180",
    );
    expect(proxyIngress.spec.pod_selector.match_labels).toMatchObject({
      "app.kubernetes.io/name": "ml-pipeline-login",
    });
  });

  it.each(names)("%s: Dex may reach the directory on 636 and nothing else outside", (name) => {
    const json = platformOf(name);
    const dex = Object.values<any>(resourcesOf(json, "kubernetes_network_policy_v1")).find(
      (p) => p.metadata.name === "dex-egress",
    );
    const cidrs = synthesized[name].environment.directory.cidrs;
    expect(dex.spec.egress).toContainEqual({
      to: cidrs.map((cidr) => ({ ip_block: { cidr } })),
      ports: [{ port: "636", protocol: "TCP" }],
    });
  });
});

describeWithUpstream("onprem-login.test.ts", "rendered login charts")("rendered on-prem login", () => {
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
    const server = objects.find((o) => o.kind === "Deployment" && o.metadata.name === "mlflow")!.spec.template
      .spec.containers[0];
    expect(server.args).toContain("--app-name=oidc-auth");
    const env = Object.fromEntries(server.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.OIDC_USERS_DB_URI).toBe(
      "postgresql://$(OIDC_DB_USER):$(OIDC_DB_PASSWORD)@mlflow-postgres-rw.mlflow.svc:5432/mlflow_oidc_auth",
    );
    expect(env.OIDC_CLIENT_SECRET).toEqual({
      secretKeyRef: { name: "oidc-client-mlflow", key: "client-secret" },
    });
  });
});
