/**
 * Active Directory login of the registry's on-prem environments: one Dex LDAP connector in
 * Argo CD, the OIDC provider of Argo CD, Grafana, MLflow and the Kubeflow Pipelines UI. Secrets
 * are referenced by name only; AD groups get the roles the environment file gives them; prod
 * keeps no local admin login. Argo CD, Grafana and MLflow rendered from the pinned charts with
 * the synthesized values are checked in __tests__/integration/onprem-login.test.ts.
 */
import { parse } from "yaml";
import { ENVIRONMENTS } from "../environments";
import { isOnPremInput } from "../environments/targets";
import { resourcesOf } from "./support/synth";
import type { KubernetesObject } from "./support/upstream";
import { names, platformOf, synthesized, valuesOf } from "./support/onprem-login";

const dexConfigOf = (name: string) => parse(valuesOf(platformOf(name), "argo-cd").configs.cm["dex.config"]);
const grafanaOf = (name: string) => valuesOf(platformOf(name), "kube-prometheus-stack").grafana;

describe("on-prem directory login", () => {
  it("covers every on-prem environment of the registry", () => {
    expect(names).toEqual(ENVIRONMENTS.filter(isOnPremInput).map((input) => input.name));
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
