/**
 * Directory login: validation of the inputs, and the values and objects as the Kubeflow
 * Pipelines 2.17.0 manifests expect them. The values as the pinned charts render them (argo-cd
 * 10.1.1, kube-prometheus-stack 88.5.3, mlflow 1.11.5) are checked in
 * __tests__/integration/directory-login.test.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  CLIENT_ID_KEY,
  CLIENT_SECRET_KEY,
  LOGIN_CLIENTS,
  PIPELINES_COOKIE_SECRET,
  PIPELINES_LOGIN_NAME,
  argoCdLoginValues,
  dexConfig,
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
  type PipelinesLoginProps,
} from "../../constructs/platform/directory-login";
import { kindSchemas, validateAgainst } from "../../scripts/verify/k8s-schema";
import { podSecurityViolations } from "../../scripts/verify/rules/pod-security";
import type { PodSpec } from "../../scripts/verify/workloads";
import { UPSTREAM_DIR } from "../support/upstream";
import { issuer, mlflowProps, props } from "../support/directory-login";

const pipelinesProps: PipelinesLoginProps = {
  ...props,
  image: "quay.io/oauth2-proxy/oauth2-proxy:v7.15.4",
  replicas: 2,
  ingressClassName: "nginx",
  ingressAnnotations: { "nginx.ingress.kubernetes.io/proxy-buffer-size": "16k" },
};

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
    ["ldaps://10.0.0.256:636", "an address out of range"],
    ["ad.corp.example.com:636", "no scheme"],
    ["ldaps://svc:pw@ad.corp.example.com", "a user in the URL"],
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

  it("hands Dex host:port alone, lowered, from a URL with a trailing slash or an upper-case host", () => {
    // Dex's connector/ldap (v2.45.1) takes `host` as host[:port], no scheme or path; the TLS
    // check lowers the name before comparing it with the certificate's SANs.
    expect(parseLdapsUrl("ldaps://ad.corp.example.com:636/")).toEqual({
      host: "ad.corp.example.com",
      port: 636,
    });
    expect(parseLdapsUrl("ldaps://AD.Corp.Example.com")).toEqual({ host: "ad.corp.example.com", port: 636 });
    const config = JSON.stringify(dexConfig(withDirectory({ url: "ldaps://AD.Corp.Example.com:3269/" })));
    expect(config).toContain('"host":"ad.corp.example.com:3269"');
  });

  it("takes an IPv4 address as the host: Dex (connector/ldap, v2.45.1) verifies it against the certificate's IP SANs", () => {
    expect(parseLdapsUrl("ldaps://10.0.0.5:636")).toEqual({ host: "10.0.0.5", port: 636 });
    const config = JSON.stringify(dexConfig(withDirectory({ url: "ldaps://10.0.0.5" })));
    expect(config).toContain('"host":"10.0.0.5:636"');
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

  it("takes an image from a registry on its own port, as Docker references and RKE2's registries.yaml name it", () => {
    const image = "artifactory.example.com:8443/quay-remote/oauth2-proxy/oauth2-proxy:v7.15.4";
    const { objects } = pipelinesLogin({ ...pipelinesProps, image });
    expect(JSON.stringify(objects)).toContain(JSON.stringify(image));
    expect(() =>
      pipelinesLogin({
        ...pipelinesProps,
        image: "artifactory.example.com:8443/quay-remote/oauth2-proxy/oauth2-proxy",
      }),
    ).toThrow(/image is .*pinned by tag or digest/);
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

  it("MLflow: every role group logs in, only admins administer, and creating needs a grant", () => {
    const values = mlflowLoginValues(mlflowProps) as any;
    expect(values.oidcAuth.groupName).toEqual([
      "MLOps Admins",
      "MLOps Engineers",
      "Data Scientists",
      "MLOps Viewers",
    ]);
    expect(values.oidcAuth.adminGroupName).toEqual(["MLOps Admins"]);
    // mlflow-oidc-auth 7.6.0: with creation restricted, a name no regex grant matches falls back
    // to the default permission, which must not reach EDIT (READ: viewers read, create nothing).
    expect(values.extraEnvVars.RESTRICT_RESOURCE_CREATION).toBe("true");
    expect(values.oidcAuth.defaultPermission).toBe("READ");
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

  it("signs in at Dex as its own client and lets only admins and editors in", () => {
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
        "--cookie-secure=true",
        "--provider-ca-file=/etc/ssl/issuer-ca/ca.crt",
      ]),
    );
    // KFP 2.17.0 standalone authorizes nothing: whoever reaches the UI can write, so viewers stay out.
    const allowed = container.args.filter((arg: string) => arg.startsWith("--allowed-group="));
    expect(allowed).toEqual([
      "--allowed-group=MLOps Admins",
      "--allowed-group=MLOps Engineers",
      "--allowed-group=Data Scientists",
    ]);
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
