/**
 * Directory login: validation of the inputs, and the values and objects as the pinned charts
 * render them (argo-cd 10.1.1, kube-prometheus-stack 88.5.3, mlflow 1.11.5) and as the
 * Kubeflow Pipelines 2.17.0 manifests expect them. The chart renders are skipped, with the
 * reason printed, when the pinned sources or helm are not on this machine.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { mergeValues } from "../../constructs/lib/values";
import {
  ARGOCD_EDITOR_ROLE,
  CLIENT_ID_KEY,
  CLIENT_SECRET_KEY,
  LOGIN_CLIENTS,
  PIPELINES_COOKIE_SECRET,
  PIPELINES_LOGIN_NAME,
  argoCdLoginValues,
  dexConfig,
  dexIssuer,
  grafanaLoginValues,
  grafanaRolePath,
  isDistinguishedName,
  isLdapFilter,
  loginClientSecrets,
  loginFlows,
  mlflowLoginValues,
  parseLdapsUrl,
  pipelinesLogin,
  type DirectoryLoginProps,
  type MlflowLoginProps,
  type PipelinesLoginProps,
} from "../../constructs/platform/directory-login";
import { renderRelease } from "../../scripts/verify/render";
import { ensureTools } from "../../scripts/verify/tools";
import { kindSchemas, validateAgainst } from "../../scripts/verify/k8s-schema";
import { podSecurityViolations } from "../../scripts/verify/rules/pod-security";
import type { PodSpec } from "../../scripts/verify/workloads";
import type { HelmValues } from "../../constructs/lib/values";
import { UPSTREAM_DIR, type KubernetesObject } from "../support/upstream";

const props: DirectoryLoginProps = {
  directory: {
    url: "ldaps://ad.corp.example.com:636",
    bindDn: "CN=svc-dex,OU=Service Accounts,DC=corp,DC=example,DC=com",
    bindPasswordSecret: { name: "directory-bind", key: "password" },
    caSecret: { name: "directory-ca", key: "ca.crt" },
    userSearch: { baseDn: "OU=People,DC=corp,DC=example,DC=com" },
    groupSearch: { baseDn: "OU=Groups,DC=corp,DC=example,DC=com", nested: true },
  },
  roles: {
    admins: ["MLOps Admins"],
    editors: ["MLOps Engineers", "Data Scientists"],
    viewers: ["MLOps Viewers"],
  },
  hosts: {
    argocd: "argocd.mlops.example.com",
    grafana: "grafana.mlops.example.com",
    mlflow: "mlflow.mlops.example.com",
    pipelines: "pipelines.mlops.example.com",
  },
  namespaces: { argocd: "argocd", monitoring: "monitoring", mlflow: "mlflow", pipelines: "kubeflow" },
  disableLocalAdmins: true,
  issuerCaSecret: { name: "ingress-ca", key: "ca.crt" },
};

const mlflowProps: MlflowLoginProps = {
  ...props,
  mlflowUsersDatabase: {
    host: "db.mlops.example.com",
    port: 5432,
    database: "mlflow_oidc_auth",
    secret: "mlflow-database",
  },
};

const pipelinesProps: PipelinesLoginProps = {
  ...props,
  image: "quay.io/oauth2-proxy/oauth2-proxy:v7.15.4",
  replicas: 2,
  ingressClassName: "nginx",
  ingressAnnotations: { "nginx.ingress.kubernetes.io/proxy-buffer-size": "16k" },
};

const issuer = "https://argocd.mlops.example.com/api/dex";

/** Props with one field changed, for the validation tests. */
function withDirectory(change: Partial<DirectoryLoginProps["directory"]>): DirectoryLoginProps {
  return { ...props, directory: { ...props.directory, ...change } };
}

describe("validation", () => {
  it.each([
    ["ldap://ad.corp.example.com:389", "plain LDAP"],
    ["ldaps://ad.corp.example.com:636/DC=corp", "a path"],
    ["ldaps://ad.corp.example.com:0", "port 0"],
    ["ldaps://ad.corp.example.com:70000", "a port above 65535"],
    ["ldaps://10.0.0.5:636", "an address instead of the certificate's name"],
    ["ad.corp.example.com:636", "no scheme"],
    ["ldaps://AD.corp.example.com", "upper case"],
  ])("refuses directory.url %s (%s), naming the field, the value and the fix", (url) => {
    expect(() => dexConfig(withDirectory({ url }))).toThrow(
      new RegExp(
        `directory\\.url is "${url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}".*ldaps://<DNS name>.*Fix: use`,
      ),
    );
  });

  it("takes host and port from an ldaps URL, 636 by default", () => {
    expect(parseLdapsUrl("ldaps://ad.corp.example.com:3269")).toEqual({
      host: "ad.corp.example.com",
      port: 3269,
    });
    expect(parseLdapsUrl("ldaps://ad.corp.example.com")).toEqual({ host: "ad.corp.example.com", port: 636 });
  });

  it.each([
    ["CN=svc-dex,OU=Service Accounts,DC=corp,DC=com", true],
    ["CN=Smith\\, John,OU=People,DC=corp,DC=com", true],
    ["CN=a+UID=b,DC=corp", true],
    ["CN=x=y,DC=corp", true],
    ["svc-dex@corp.example.com", false],
    ["CN=svc-dex,,DC=corp", false],
    ["CN=,DC=corp", false],
    ["CN=Smith, John,DC=corp", false],
    [" CN=svc,DC=corp", false],
    ["CN=a;b,DC=corp", false],
  ])("distinguished name %s is well-formed: %s", (dn, ok) => {
    expect(isDistinguishedName(dn)).toBe(ok);
  });

  it.each([
    ["bindDn", { bindDn: "svc-dex@corp.example.com" }, "directory.bindDn"],
    ["userSearch.baseDn", { userSearch: { baseDn: "people" } }, "directory.userSearch.baseDn"],
    ["groupSearch.baseDn", { groupSearch: { baseDn: "DC=corp,DC=" } }, "directory.groupSearch.baseDn"],
  ])("refuses a malformed %s", (_name, change, field) => {
    expect(() => dexConfig(withDirectory(change as Partial<DirectoryLoginProps["directory"]>))).toThrow(
      new RegExp(`${field.replace(/\./g, "\\.")} is .*distinguished name.*Fix:`),
    );
  });

  it.each([
    ["(objectClass=group)", true],
    ["(&(objectClass=user)(memberOf=CN=A\\28x\\29,DC=corp))", true],
    ["objectClass=group", false],
    ["(objectClass=group))", false],
    ["(a=b)(c=d)", false],
  ])("LDAP filter %s is one balanced expression: %s", (filter, ok) => {
    expect(isLdapFilter(filter)).toBe(ok);
  });

  it("refuses an unbalanced user filter, naming it", () => {
    expect(() =>
      dexConfig(withDirectory({ userSearch: { baseDn: "DC=corp,DC=com", filter: "(objectClass=user" } })),
    ).toThrow(/directory\.userSearch\.filter is "\(objectClass=user".*balanced.*Fix:/);
  });

  it("needs at least one admin group", () => {
    expect(() => argoCdLoginValues({ ...props, roles: { ...props.roles, admins: [] } })).toThrow(
      /roles\.admins is \[\]; at least one AD group must hold the admin role.*Fix:/,
    );
  });

  it("refuses group names that would break the policy CSV or the role expression, and a group in two roles", () => {
    expect(() => grafanaLoginValues({ ...props, roles: { ...props.roles, viewers: ["it's"] } })).toThrow(
      /roles\.viewers\[0\] is "it's"/,
    );
    expect(() => argoCdLoginValues({ ...props, roles: { ...props.roles, editors: ["a,b"] } })).toThrow(
      /roles\.editors\[0\] is "a,b"/,
    );
    expect(() =>
      argoCdLoginValues({ ...props, roles: { ...props.roles, viewers: ["mlops admins"] } }),
    ).toThrow(/roles\.viewers\[0\] is "mlops admins"; the group already holds roles\.admins\[0\]/);
  });

  it.each([
    ["https://grafana.mlops.example.com"],
    ["grafana.mlops.example.com/"],
    ["grafana"],
    ["Grafana.mlops.example.com"],
    ["grafana.mlops.example.com:443"],
  ])("refuses host %s", (grafana) => {
    expect(() => grafanaLoginValues({ ...props, hosts: { ...props.hosts, grafana } })).toThrow(
      /hosts\.grafana is .*lowercase DNS name.*Fix: set it to the host only/,
    );
  });

  it("refuses a bind password Secret that is not a Secret name", () => {
    expect(() =>
      dexConfig(withDirectory({ bindPasswordSecret: { name: "Bind_Secret", key: "password" } })),
    ).toThrow(/directory\.bindPasswordSecret\.name is "Bind_Secret"/);
  });

  it("refuses an image without a tag or digest and zero replicas", () => {
    expect(() => pipelinesLogin({ ...pipelinesProps, image: "quay.io/oauth2-proxy/oauth2-proxy" })).toThrow(
      /image is .*pinned by tag or digest/,
    );
    expect(() => pipelinesLogin({ ...pipelinesProps, replicas: 0 })).toThrow(/replicas is 0/);
  });
});

describe("values and objects", () => {
  it("holds no secret value: the bind password by reference, client secrets from Secrets", () => {
    const text = JSON.stringify([
      argoCdLoginValues(props),
      grafanaLoginValues(props),
      mlflowLoginValues(mlflowProps),
      pipelinesLogin(pipelinesProps),
    ]);
    expect(text).not.toMatch(/"(bindPW|clientSecret|client_secret|secret|cookieSecret)":"(?!\$)/);
    expect(dexConfig(props).connectors).toEqual([
      expect.objectContaining({ config: expect.objectContaining({ bindPW: "$directory-bind:password" }) }),
    ]);
  });

  it("maps AD groups to Grafana roles, most privileged first, and nothing else", () => {
    expect(grafanaRolePath(props.roles)).toBe(
      "(contains(groups[*], 'MLOps Admins')) && 'Admin' || " +
        "(contains(groups[*], 'MLOps Engineers') || contains(groups[*], 'Data Scientists')) && 'Editor' || " +
        "(contains(groups[*], 'MLOps Viewers')) && 'Viewer'",
    );
    expect(grafanaRolePath({ admins: ["A"], editors: [], viewers: [] })).toBe(
      "(contains(groups[*], 'A')) && 'Admin'",
    );
  });

  it("generates one client Secret per UI beside Dex, copied to the UI's namespace, and the proxy's cookie secret", () => {
    const { generated, shared } = loginClientSecrets(props);
    expect(shared).toEqual([
      {
        consumerNamespace: "monitoring",
        credential: {
          namespace: "argocd",
          secretName: "oidc-client-grafana",
          userKey: CLIENT_ID_KEY,
          userName: "grafana",
          passwordKey: CLIENT_SECRET_KEY,
        },
      },
      {
        consumerNamespace: "mlflow",
        credential: {
          namespace: "argocd",
          secretName: "oidc-client-mlflow",
          userKey: CLIENT_ID_KEY,
          userName: "mlflow",
          passwordKey: CLIENT_SECRET_KEY,
        },
      },
      {
        consumerNamespace: "kubeflow",
        credential: {
          namespace: "argocd",
          secretName: "oidc-client-kubeflow-pipelines",
          userKey: CLIENT_ID_KEY,
          userName: "kubeflow-pipelines",
          passwordKey: CLIENT_SECRET_KEY,
        },
      },
    ]);
    expect(generated).toEqual([
      expect.objectContaining({
        namespace: "kubeflow",
        secretName: PIPELINES_COOKIE_SECRET,
        passwordKey: "cookie-secret",
      }),
    ]);
  });

  it("lists the flows the login needs: Dex to the directory, the UIs to the issuer, the proxy to the KFP UI", () => {
    const flows = loginFlows(props);
    expect(flows).toContainEqual(
      expect.objectContaining({
        namespace: "argocd",
        direction: "egress",
        podLabels: { "app.kubernetes.io/name": "argocd-dex-server" },
        peer: { kind: "directory", host: "ad.corp.example.com" },
        port: 636,
      }),
    );
    for (const namespace of ["monitoring", "mlflow", "kubeflow"]) {
      expect(flows).toContainEqual(
        expect.objectContaining({
          namespace,
          direction: "egress",
          peer: { kind: "issuer", host: "argocd.mlops.example.com" },
          port: 443,
        }),
      );
    }
    expect(flows.filter((f) => f.port === 3000).map((f) => f.direction)).toEqual(["egress", "ingress"]);
  });
});

/** Kubeflow Pipelines 2.17.0 manifests (the UI's Service and Deployment), when present. */
const kfpBase =
  UPSTREAM_DIR &&
  join(UPSTREAM_DIR, "kubeflow-pipelines-2.17.0", "manifests", "kustomize", "base", "pipeline");

describe("Kubeflow Pipelines login proxy", () => {
  const { objects } = pipelinesLogin(pipelinesProps);
  const deployment = objects.find((o) => o.kind === "Deployment") as any;
  const service = objects.find((o) => o.kind === "Service") as any;
  const ingress = objects.find((o) => o.kind === "Ingress") as any;
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;

  it("objects match the Kubernetes schema, unknown fields being errors", () => {
    const schemas = kindSchemas(
      objects.map((o) => ({ apiVersion: String(o.apiVersion), kind: String(o.kind) })),
    );
    for (const object of objects) {
      const root = schemas.kinds[`${object.apiVersion}/${object.kind}`];
      expect(root).toBeDefined();
      expect(validateAgainst(schemas, { type: "object", ref: root }, object, String(object.kind))).toEqual(
        [],
      );
    }
  });

  it("runs as Pod Security restricted admits it, with resources", () => {
    expect(podSecurityViolations(pod as PodSpec, "restricted")).toEqual([]);
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
    for (const field of ["hostNetwork", "hostPID", "hostIPC"]) expect(pod[field]).toBeUndefined();
  });

  it("is reached through its Service and Ingress on a named port the container listens on", () => {
    expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
    expect(service.metadata.name).toBe(PIPELINES_LOGIN_NAME);
    expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
    const [port] = service.spec.ports;
    const containerPort = container.ports.find((p: any) => p.name === port.targetPort);
    expect(containerPort).toBeDefined();
    expect(container.args).toContain(`--http-address=0.0.0.0:${containerPort.containerPort}`);
    expect(container.readinessProbe.httpGet.port).toBe(port.targetPort);
    const [rule] = ingress.spec.rules;
    expect(rule.host).toBe("pipelines.mlops.example.com");
    expect(rule.http.paths[0].backend.service).toEqual({
      name: service.metadata.name,
      port: { name: port.name },
    });
    expect(ingress.spec.ingressClassName).toBe("nginx");
    expect(ingress.metadata.annotations).toEqual(pipelinesProps.ingressAnnotations);
    for (const object of objects) expect((object as any).metadata.namespace).toBe("kubeflow");
  });

  it("signs in at Dex as its own client and lets only the role groups in", () => {
    expect(container.image).toBe("quay.io/oauth2-proxy/oauth2-proxy:v7.15.4");
    expect(container.args).toEqual(
      expect.arrayContaining([
        "--provider=oidc",
        `--oidc-issuer-url=${issuer}`,
        "--redirect-url=https://pipelines.mlops.example.com/oauth2/callback",
        "--scope=openid profile email groups",
        "--allowed-group=MLOps Admins",
        "--allowed-group=MLOps Engineers",
        "--allowed-group=Data Scientists",
        "--allowed-group=MLOps Viewers",
        "--cookie-secure=true",
        "--provider-ca-file=/etc/ssl/issuer-ca/ca.crt",
      ]),
    );
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.valueFrom.secretKeyRef]));
    expect(env).toEqual({
      OAUTH2_PROXY_CLIENT_ID: { name: LOGIN_CLIENTS.pipelines.secretName, key: CLIENT_ID_KEY },
      OAUTH2_PROXY_CLIENT_SECRET: { name: LOGIN_CLIENTS.pipelines.secretName, key: CLIENT_SECRET_KEY },
      OAUTH2_PROXY_COOKIE_SECRET: { name: PIPELINES_COOKIE_SECRET, key: "cookie-secret" },
    });
    const mount = container.volumeMounts.find((m: any) => m.mountPath === "/etc/ssl/issuer-ca");
    expect(pod.volumes.find((v: any) => v.name === mount.name).secret.secretName).toBe("ingress-ca");
    // The secret env names are the ones the mlflow chart's own oauth2-proxy sidecar uses.
    if (UPSTREAM_DIR) {
      const template = readFileSync(
        join(UPSTREAM_DIR, "charts", "mlflow-1.11.5", "templates", "deployment.yaml"),
        "utf8",
      );
      for (const name of Object.keys(env)) expect(template).toContain(`- name: ${name}`);
    }
  });

  const kfp = kfpBase && existsSync(kfpBase) ? it : it.skip;
  if (!kfpBase || !existsSync(kfpBase)) {
    process.stdout.write(
      "SKIPPED __tests__/constructs/directory-login.test.ts (KFP upstream): Kubeflow Pipelines 2.17.0 manifests not found; set MLOPS_UPSTREAM_DIR\n",
    );
  }
  kfp(
    "forwards to the ml-pipeline-ui Service of KFP 2.17.0, and the flows name the UI's pods and port",
    () => {
      const uiService = parse(readFileSync(join(kfpBase!, "ml-pipeline-ui-service.yaml"), "utf8"));
      const uiDeployment = parse(readFileSync(join(kfpBase!, "ml-pipeline-ui-deployment.yaml"), "utf8"));
      const [uiPort] = uiService.spec.ports;
      expect(container.args).toContain(
        `--upstream=http://${uiService.metadata.name}.kubeflow.svc.cluster.local:${uiPort.port}/`,
      );
      const uiContainerPorts = uiDeployment.spec.template.spec.containers.flatMap((c: any) =>
        (c.ports ?? []).map((p: any) => p.containerPort),
      );
      expect(uiContainerPorts).toContain(uiPort.targetPort);
      for (const flow of loginFlows(props).filter((f) => f.port === uiPort.targetPort)) {
        const uiLabels = flow.direction === "ingress" ? flow.podLabels : (flow.peer as any).podLabels;
        expect(uiService.spec.selector).toEqual(uiLabels);
        expect(uiDeployment.spec.template.metadata.labels).toMatchObject(uiLabels);
      }
    },
  );
});

const rendering = UPSTREAM_DIR !== undefined;
if (!rendering) {
  process.stdout.write(
    "SKIPPED __tests__/constructs/directory-login.test.ts (chart renders): pinned charts or helm not found; set MLOPS_UPSTREAM_DIR or place them at ../shared/upstream\n",
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
