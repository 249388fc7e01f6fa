/**
 * Directory login as the pinned charts render it: argo-cd 10.1.1, kube-prometheus-stack 88.5.3
 * and mlflow 1.11.5 with the login values. Skipped, with the reason printed, when the pinned
 * sources or helm are not on this machine.
 */
import { join } from "node:path";
import { parse } from "yaml";
import { mergeValues, type HelmValues } from "../../constructs/lib/values";
import {
  ARGOCD_EDITOR_ROLE,
  CLIENT_SECRET_KEY,
  LOGIN_CLIENTS,
  argoCdLoginValues,
  dexIssuer,
  grafanaLoginValues,
  grafanaRolePath,
  mlflowLoginValues,
} from "../../constructs/platform/directory-login";
import { renderRelease } from "../../scripts/verify/render";
import { ensureTools } from "../../scripts/verify/tools";
import { UPSTREAM_DIR, type KubernetesObject } from "../support/upstream";
import { issuer, mlflowProps, props } from "../support/directory-login";

const rendering = UPSTREAM_DIR !== undefined;
if (!rendering) {
  process.stdout.write(
    "SKIPPED __tests__/integration/directory-login.test.ts (chart renders): pinned charts or helm not found; run npm run fetch-sources or set MLOPS_UPSTREAM_DIR\n",
  );
}
const rendered = rendering ? describe : describe.skip;

/** `helm template` of a pinned chart with these values, as the verify tool renders releases. */
async function renderChart(
  name: string,
  chart: string,
  version: string,
  namespace: string,
  values: HelmValues,
): Promise<KubernetesObject[]> {
  const result = await renderRelease(
    ensureTools(),
    { name, namespace, chart, version, values: [values] },
    { chartsDir: join(UPSTREAM_DIR!, "charts"), pull: false },
    { kubeVersion: "1.34.0", apiVersions: [] },
  );
  if (!result.ok) throw new Error(`${result.problem} (${result.fix})`);
  return result.objects as KubernetesObject[];
}

const byKind = (objects: KubernetesObject[], kind: string, name: string) => {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`,
    );
  return found as any;
};

/** Fields of Dex v2.45.1's LDAP connector (connector/ldap/ldap.go, `Config` json tags). */
const DEX_LDAP_FIELDS = {
  config: [
    "host",
    "insecureNoSSL",
    "insecureSkipVerify",
    "startTLS",
    "rootCA",
    "clientCert",
    "clientKey",
    "rootCAData",
    "bindDN",
    "bindPW",
    "usernamePrompt",
    "userSearch",
    "groupSearch",
  ],
  userSearch: [
    "baseDN",
    "filter",
    "username",
    "scope",
    "idAttr",
    "emailAttr",
    "nameAttr",
    "preferredUsernameAttr",
    "emailSuffix",
  ],
  groupSearch: [
    "baseDN",
    "filter",
    "scope",
    "userAttr",
    "groupAttr",
    "recursionGroupAttr",
    "userMatchers",
    "nameAttr",
  ],
  userMatcher: ["userAttr", "groupAttr", "recursionGroupAttr"],
};
/** Fields of a Dex v2.45.1 static client (storage/storage.go, `Client`). */
const DEX_CLIENT_FIELDS = [
  "id",
  "idEnv",
  "secret",
  "secretEnv",
  "redirectURIs",
  "trustedPeers",
  "public",
  "name",
  "logoURL",
];

rendered("argo-cd 10.1.1 with the login values", () => {
  let objects: KubernetesObject[];
  beforeAll(async () => {
    // The Argo CD construct sets the domain; argocd-cm's `url`, and so Dex's issuer, derive from it.
    const values = mergeValues({ global: { domain: props.hosts.argocd } }, argoCdLoginValues(props));
    objects = await renderChart("argocd", "argo-cd", "10.1.1", "argocd", values);
  }, 120_000);

  it("argocd-cm holds Dex's LDAPS connector, reading the bind password by reference", () => {
    const cm = byKind(objects, "ConfigMap", "argocd-cm");
    expect(cm.data.url).toBe("https://argocd.mlops.example.com");
    expect(`${cm.data.url}/api/dex`).toBe(dexIssuer(props));
    const dex = parse(cm.data["dex.config"]);
    expect(dex.connectors).toHaveLength(1);
    const [connector] = dex.connectors;
    expect(connector.type).toBe("ldap");
    const config = connector.config;
    expect(config.host).toBe("ad.corp.example.com:636");
    expect(config.insecureNoSSL).toBeUndefined();
    expect(config.insecureSkipVerify).toBeUndefined();
    expect(config.startTLS).toBeUndefined();
    expect(config.bindDN).toBe(props.directory.bindDn);
    // Argo CD replaces a value that is exactly `$<secret>:<key>` from a labelled Secret.
    expect(config.bindPW).toBe("$directory-bind:password");
    expect(config.rootCA).toBe("/etc/dex/directory-ca/ca.crt");
    expect(config.userSearch).toEqual({
      baseDN: "OU=People,DC=corp,DC=example,DC=com",
      filter: "(&(objectCategory=person)(objectClass=user))",
      username: "sAMAccountName",
      idAttr: "DN",
      emailAttr: "userPrincipalName",
      nameAttr: "cn",
      preferredUsernameAttr: "sAMAccountName",
    });
    expect(config.groupSearch).toEqual({
      baseDN: "OU=Groups,DC=corp,DC=example,DC=com",
      filter: "(objectClass=group)",
      userMatchers: [{ userAttr: "DN", groupAttr: "member", recursionGroupAttr: "member" }],
      nameAttr: "cn",
    });
    // Only fields Dex knows.
    expect(DEX_LDAP_FIELDS.config).toEqual(expect.arrayContaining(Object.keys(config)));
    expect(DEX_LDAP_FIELDS.userSearch).toEqual(expect.arrayContaining(Object.keys(config.userSearch)));
    expect(DEX_LDAP_FIELDS.groupSearch).toEqual(expect.arrayContaining(Object.keys(config.groupSearch)));
    expect(DEX_LDAP_FIELDS.userMatcher).toEqual(
      expect.arrayContaining(Object.keys(config.groupSearch.userMatchers[0])),
    );
  });

  it("Dex has a client per UI with its redirect URI and its secret from the environment", () => {
    const cm = byKind(objects, "ConfigMap", "argocd-cm");
    const dex = parse(cm.data["dex.config"]);
    const clients = Object.fromEntries(dex.staticClients.map((c: any) => [c.id, c]));
    expect(Object.keys(clients).sort()).toEqual(["grafana", "kubeflow-pipelines", "mlflow"]);
    expect(clients.grafana.redirectURIs).toEqual(["https://grafana.mlops.example.com/login/generic_oauth"]);
    expect(clients.mlflow.redirectURIs).toEqual(["https://mlflow.mlops.example.com/callback"]);
    expect(clients["kubeflow-pipelines"].redirectURIs).toEqual([
      "https://pipelines.mlops.example.com/oauth2/callback",
    ]);
    const deployment = byKind(objects, "Deployment", "argocd-dex-server");
    const container = deployment.spec.template.spec.containers.find((c: any) => c.name === "dex-server");
    for (const client of Object.values(clients) as any[]) {
      expect(DEX_CLIENT_FIELDS).toEqual(expect.arrayContaining(Object.keys(client)));
      expect(client.secret).toBeUndefined();
      const env = container.env.find((e: any) => e.name === client.secretEnv);
      expect(env.valueFrom.secretKeyRef).toEqual({
        name: Object.values(LOGIN_CLIENTS).find((c) => c.id === client.id)!.secretName,
        key: CLIENT_SECRET_KEY,
      });
    }
    // The directory CA is a file where rootCA points.
    const mount = container.volumeMounts.find((m: any) => m.mountPath === "/etc/dex/directory-ca");
    const volume = deployment.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
    expect(volume.secret).toEqual({ secretName: "directory-ca", items: [{ key: "ca.crt", path: "ca.crt" }] });
    expect(deployment.spec.template.metadata.labels["app.kubernetes.io/name"]).toBe("argocd-dex-server");
  });

  it("the local admin is off and the RBAC maps the AD groups, with no default role", () => {
    const cm = byKind(objects, "ConfigMap", "argocd-cm");
    expect(cm.data["admin.enabled"]).toBe("false");
    const rbac = byKind(objects, "ConfigMap", "argocd-rbac-cm");
    const lines = String(rbac.data["policy.csv"]).trim().split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "g, MLOps Admins, role:admin",
        `g, MLOps Engineers, ${ARGOCD_EDITOR_ROLE}`,
        `g, Data Scientists, ${ARGOCD_EDITOR_ROLE}`,
        "g, MLOps Viewers, role:readonly",
        `g, ${ARGOCD_EDITOR_ROLE}, role:readonly`,
        `p, ${ARGOCD_EDITOR_ROLE}, applications, sync, */*, allow`,
      ]),
    );
    // Empty: users outside the mapped groups get no role at all.
    expect(rbac.data["policy.default"]).toBe("");
    expect(rbac.data.scopes).toBe("[groups]");
  });

  it("keeps the local admin when not asked to disable it", async () => {
    const values = mergeValues(
      { global: { domain: props.hosts.argocd } },
      argoCdLoginValues({ ...props, disableLocalAdmins: false }),
    );
    const cm = byKind(
      await renderChart("argocd", "argo-cd", "10.1.1", "argocd", values),
      "ConfigMap",
      "argocd-cm",
    );
    expect(cm.data["admin.enabled"]).toBe("true");
  }, 120_000);
});

/** Sections of a rendered grafana.ini. */
function parseIni(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = { "": {} };
  let current = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1];
      sections[current] = {};
    } else if (line.includes("=")) {
      const index = line.indexOf("=");
      sections[current][line.slice(0, index).trim()] = line.slice(index + 1).trim();
    }
  }
  return sections;
}

rendered("kube-prometheus-stack 88.5.3 with Grafana's login values", () => {
  let objects: KubernetesObject[];
  beforeAll(async () => {
    const values = mergeValues(
      {
        grafana: {
          admin: { existingSecret: "grafana-admin", userKey: "admin-user", passwordKey: "admin-password" },
        },
      },
      grafanaLoginValues(props),
    );
    objects = await renderChart(
      "kube-prometheus-stack",
      "kube-prometheus-stack",
      "88.5.3",
      "monitoring",
      values,
    );
  }, 180_000);

  const ini = () =>
    parseIni(byKind(objects, "ConfigMap", "kube-prometheus-stack-grafana").data["grafana.ini"]);

  it("generic OAuth points at the Dex issuer and takes the client secret from a Secret", () => {
    const oauth = ini()["auth.generic_oauth"];
    expect(oauth.enabled).toBe("true");
    expect(oauth.client_id).toBe("grafana");
    expect(oauth.auth_url).toBe(`${issuer}/auth`);
    expect(oauth.token_url).toBe(`${issuer}/token`);
    expect(oauth.api_url).toBe(`${issuer}/userinfo`);
    expect(oauth.scopes).toBe("openid profile email groups");
    expect(oauth.client_secret).toBe("$__env{GRAFANA_OIDC_CLIENT_SECRET}");
    expect(oauth.tls_client_ca).toBe("/etc/ssl/issuer-ca/ca.crt");
    const deployment = byKind(objects, "Deployment", "kube-prometheus-stack-grafana");
    const pod = deployment.spec.template.spec;
    const grafana = pod.containers.find((c: any) => c.name === "grafana");
    const env = grafana.env.find((e: any) => e.name === "GRAFANA_OIDC_CLIENT_SECRET");
    expect(env.valueFrom.secretKeyRef).toEqual({ name: "oidc-client-grafana", key: CLIENT_SECRET_KEY });
    const mount = grafana.volumeMounts.find((m: any) => m.mountPath === "/etc/ssl/issuer-ca");
    expect(pod.volumes.find((v: any) => v.name === mount.name).secret.secretName).toBe("ingress-ca");
  });

  it("maps roles from the groups claim, refuses users without a role, and hides the login form", () => {
    const sections = ini();
    const oauth = sections["auth.generic_oauth"];
    expect(oauth.groups_attribute_path).toBe("groups");
    expect(oauth.role_attribute_path).toBe(grafanaRolePath(props.roles));
    expect(oauth.role_attribute_strict).toBe("true");
    expect(oauth.allow_assign_grafana_admin).toBe("false");
    expect(oauth.use_pkce).toBe("true");
    expect(oauth.auto_login).toBe("true");
    expect(sections.auth.disable_login_form).toBe("true");
    expect(sections.server.root_url).toBe("https://grafana.mlops.example.com");
  });

  it("keeps the login form when local admins stay", async () => {
    const rendered = await renderChart(
      "kube-prometheus-stack",
      "kube-prometheus-stack",
      "88.5.3",
      "monitoring",
      grafanaLoginValues({ ...props, disableLocalAdmins: false }),
    );
    const sections = parseIni(
      byKind(rendered, "ConfigMap", "kube-prometheus-stack-grafana").data["grafana.ini"],
    );
    expect(sections.auth.disable_login_form).toBe("false");
    expect(sections["auth.generic_oauth"].auto_login).toBe("false");
  }, 180_000);
});

rendered("mlflow 1.11.5 with MLflow's login values", () => {
  let objects: KubernetesObject[];
  beforeAll(async () => {
    // The server's own values turn basic auth on; the login values, merged after, turn it off.
    const values = mergeValues(
      { auth: { enabled: true, existingAdminSecret: { name: "mlflow-admin" } } },
      mlflowLoginValues(mlflowProps),
    );
    objects = await renderChart("mlflow", "mlflow", "1.11.5", "mlflow", values);
  }, 120_000);

  const server = () => {
    const deployment = byKind(objects, "Deployment", "mlflow");
    return deployment.spec.template.spec.containers.find((c: any) => c.name === "mlflow");
  };
  const env = (name: string) => server().env.find((e: any) => e.name === name);

  it("runs the chart's default image with the OIDC auth app", () => {
    expect(server().image).toBe("burakince/mlflow:3.15.1");
    expect(server().args).toContain("--app-name=oidc-auth");
    expect(server().args).not.toContain("--app-name=basic-auth");
  });

  it("discovers Dex, authenticates as its client with the secret from a Secret, and checks the issuer", () => {
    expect(env("OIDC_DISCOVERY_URL").value).toBe(`${issuer}/.well-known/openid-configuration`);
    expect(env("OIDC_CLIENT_ID").value).toBe("mlflow");
    expect(env("OIDC_CLIENT_SECRET").valueFrom.secretKeyRef).toEqual({
      name: "oidc-client-mlflow",
      key: CLIENT_SECRET_KEY,
    });
    expect(env("OIDC_REDIRECT_URI").value).toBe("https://mlflow.mlops.example.com/callback");
    expect(env("OIDC_SCOPE").value).toBe("openid,email,profile,groups");
    expect(env("OIDC_ISSUER").value).toBe(issuer);
    expect(env("REQUESTS_CA_BUNDLE").value).toBe("/etc/ssl/issuer-ca/ca.crt");
    // With an existing Secret the chart makes none of its own.
    expect(objects.filter((o) => o.kind === "Secret").map((o) => o.metadata.name)).not.toContain(
      "mlflow-oidc-auth-secret",
    );
  });

  it("lets the role groups in, admins as admins, and keeps users in PostgreSQL", () => {
    expect(env("OIDC_GROUPS_ATTRIBUTE").value).toBe("groups");
    expect(env("OIDC_GROUP_NAME").value).toBe("MLOps Admins,MLOps Engineers,Data Scientists,MLOps Viewers");
    expect(env("OIDC_ADMIN_GROUP_NAME").value).toBe("MLOps Admins");
    expect(env("DEFAULT_MLFLOW_PERMISSION").value).toBe("READ");
    expect(env("SESSION_COOKIE_SECURE").value).toBe("true");
    expect(env("OIDC_USERS_DB_URI").value).toBe(
      "postgresql://$(OIDC_DB_USER):$(OIDC_DB_PASSWORD)@db.mlops.example.com:5432/mlflow_oidc_auth",
    );
    expect(env("OIDC_DB_PASSWORD").valueFrom.secretKeyRef).toEqual({
      name: "mlflow-database",
      key: "password",
    });
  });
});
