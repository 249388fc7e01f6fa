/**
 * Directory login: every UI of the platform signs users in against Active Directory through
 * one connector. Dex, which the Argo CD chart runs, binds to the directory over LDAPS and is the
 * OIDC provider (issuer `https://<argocd host>/api/dex`) of Argo CD, Grafana (generic OAuth),
 * MLflow (the chart's `oidcAuth` mode, the mlflow-oidc-auth plugin) and the Kubeflow Pipelines
 * UI (oauth2-proxy in front of `ml-pipeline-ui`, which has no login of its own). AD groups map to
 * three roles (admins, editors, viewers) in each of them.
 *
 * Pure functions: they return Helm values and Kubernetes objects, the stacks install them. No
 * password or client secret is ever part of them:
 * - Dex reads the bind password as `$<secret>:<key>`, which Argo CD resolves only from Secrets in
 *   its own namespace labelled `app.kubernetes.io/part-of: argocd` (the bind Secret must carry
 *   that label). The directory's CA is mounted from a Secret as a file.
 * - The OIDC client secrets are generated in the cluster (`loginClientSecrets`), read by Dex
 *   from its environment (`secretEnv`) and copied to the namespace of each UI.
 */
import { stringify } from "yaml";
import type { HelmValues } from "../lib/values";
import { parseImageReference } from "./image-mirror";
import type { GeneratedCredential } from "./platform-secrets";

export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface LdapDirectory {
  /** `ldaps://ad.example.com:636` (LDAP over TLS; the port defaults to 636). */
  readonly url: string;
  /** Service account Dex binds as, e.g. `CN=svc-dex,OU=Service Accounts,DC=example,DC=com`. */
  readonly bindDn: string;
  /**
   * Existing Secret in the Argo CD namespace holding the bind password. It must be labelled
   * `app.kubernetes.io/part-of: argocd`: Argo CD resolves `$<secret>:<key>` only from those.
   */
  readonly bindPasswordSecret: SecretKeyRef;
  /** Existing Secret in the Argo CD namespace with the PEM CA bundle of the directory's certificate. Unset: the image's trust store. */
  readonly caSecret?: SecretKeyRef;
  readonly userSearch: {
    readonly baseDn: string;
    /** @default `(&(objectCategory=person)(objectClass=user))` (people, not computers) */
    readonly filter?: string;
    /** Attribute the typed user name is matched against. @default `sAMAccountName` */
    readonly usernameAttribute?: string;
    /** Attribute of the e-mail claim; every AD user has `userPrincipalName`, not always `mail`. @default `userPrincipalName` */
    readonly emailAttribute?: string;
  };
  readonly groupSearch: {
    readonly baseDn: string;
    /** @default `(objectClass=group)` */
    readonly filter?: string;
    /** Also count groups the user is in through other groups. @default false */
    readonly nested?: boolean;
  };
}

/** AD group names (their `cn`), as they appear in the `groups` claim. */
export interface DirectoryRoles {
  readonly admins: readonly string[];
  readonly editors: readonly string[];
  readonly viewers: readonly string[];
}

export interface DirectoryLoginProps {
  readonly directory: LdapDirectory;
  readonly roles: DirectoryRoles;
  /** Public host names of the UIs; Argo CD's is the issuer's (`https://<argocd>/api/dex`). */
  readonly hosts: {
    readonly argocd: string;
    readonly grafana: string;
    readonly mlflow: string;
    readonly pipelines: string;
  };
  readonly namespaces: {
    readonly argocd: string;
    readonly monitoring: string;
    readonly mlflow: string;
    readonly pipelines: string;
  };
  /** Turn off Argo CD's `admin` user and Grafana's login form (prod). */
  readonly disableLocalAdmins: boolean;
  /**
   * Secret with the PEM CA bundle that signed the UIs' ingress certificate, present under this
   * name in the monitoring, MLflow and pipelines namespaces: their servers fetch Dex's keys and
   * tokens from `https://<argocd host>/api/dex`. Unset: the certificate is publicly trusted.
   */
  readonly issuerCaSecret?: SecretKeyRef;
}

export interface MlflowLoginProps extends DirectoryLoginProps {
  /**
   * PostgreSQL database of the plugin's users and permissions, owned by the user of `secret`
   * (`username`/`password`). Its own database: basic auth's tables have the same names.
   */
  readonly mlflowUsersDatabase: {
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly secret: string;
  };
}

export interface PipelinesLoginProps extends DirectoryLoginProps {
  /** oauth2-proxy image, e.g. `quay.io/oauth2-proxy/oauth2-proxy:v7.15.4` (the mlflow chart's pin). */
  readonly image: string;
  readonly replicas: number;
  readonly ingressClassName: string;
  readonly ingressAnnotations: Readonly<Record<string, string>>;
  /** Secret the Ingress keeps its certificate in, where TLS ends at the ingress controller. @default none */
  readonly ingressTlsSecret?: string;
  /** Pull Secrets of the pod, where the image comes through a registry mirror. @default none */
  readonly imagePullSecrets?: readonly string[];
}

/** The OIDC clients Dex knows beside Argo CD's own. */
export type LoginClient = "grafana" | "mlflow" | "pipelines";

/** Client id, the Secret (same name in Argo CD's namespace and the UI's) and Dex's variable. */
export const LOGIN_CLIENTS: Readonly<
  Record<LoginClient, { readonly id: string; readonly secretName: string; readonly env: string }>
> = {
  grafana: { id: "grafana", secretName: "oidc-client-grafana", env: "OIDC_CLIENT_SECRET_GRAFANA" },
  mlflow: { id: "mlflow", secretName: "oidc-client-mlflow", env: "OIDC_CLIENT_SECRET_MLFLOW" },
  pipelines: {
    id: "kubeflow-pipelines",
    secretName: "oidc-client-kubeflow-pipelines",
    env: "OIDC_CLIENT_SECRET_KUBEFLOW_PIPELINES",
  },
};

/** Keys of a client Secret: the client id (not secret) and the generated client secret. */
export const CLIENT_ID_KEY = "client-id";
export const CLIENT_SECRET_KEY = "client-secret";

/** Argo CD role of the editors: sync and run actions on applications, read everything else. */
export const ARGOCD_EDITOR_ROLE = "role:platform-editor";

/** Dex connector id; users' subjects are `<DN>` of this connector. */
export const DIRECTORY_CONNECTOR_ID = "active-directory";

/** Name of the Kubeflow Pipelines login proxy (Deployment, Service, Ingress). */
export const PIPELINES_LOGIN_NAME = "ml-pipeline-login";
const PIPELINES_LOGIN_PORT = 4180;
/** The KFP UI's Service (manifests/kustomize/base/pipeline/ml-pipeline-ui-service.yaml). */
const PIPELINES_UI_SERVICE = { name: "ml-pipeline-ui", port: 80, podLabels: { app: "ml-pipeline-ui" } };
/** Cookie secret of oauth2-proxy, generated beside it. */
export const PIPELINES_COOKIE_SECRET = "ml-pipeline-login-cookie";
/** uid and gid of `nonroot` in the distroless image oauth2-proxy is built on. */
const OAUTH2_PROXY_UID = 65532;

const DIRECTORY_CA_DIR = "/etc/dex/directory-ca";
const ISSUER_CA_DIR = "/etc/ssl/issuer-ca";

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function fail(field: string, value: unknown, allowed: string, fix: string): never {
  throw new Error(`DirectoryLogin: ${field} is ${JSON.stringify(value)}; ${allowed}. Fix: ${fix}`);
}

const DNS_LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
/** At least two labels, the last not all digits (an address is not a name certificates are checked against). */
const DNS_NAME = new RegExp(`^(?=.{1,253}$)(?:${DNS_LABEL}\\.)+(?![0-9]+$)${DNS_LABEL}$`);
const K8S_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]{1,253}$/;
const ATTRIBUTE = /^[A-Za-z][A-Za-z0-9-]*$/;
/** Characters that survive Argo CD's policy CSV, Grafana's JMESPath and Helm's `tpl` unquoted. */
const GROUP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9 _.-]*[A-Za-z0-9_.-])?$/;

function checkDnsName(field: string, value: string): void {
  if (!DNS_NAME.test(value)) {
    fail(
      field,
      value,
      "allowed is a lowercase DNS name with at least two labels (letters, digits, '-'), no scheme, port or path",
      `set it to the host only, e.g. "argocd.mlops.example.com"`,
    );
  }
}

function checkSecretRef(field: string, ref: SecretKeyRef): void {
  if (!K8S_NAME.test(ref.name)) {
    fail(
      `${field}.name`,
      ref.name,
      "allowed is a Kubernetes Secret name (lowercase letters, digits, '-' and '.')",
      "name the existing Secret exactly as it is in the cluster",
    );
  }
  if (!SECRET_KEY.test(ref.key)) {
    fail(
      `${field}.key`,
      ref.key,
      "allowed is a Secret data key (letters, digits, '-', '_' and '.')",
      "name the key of the Secret that holds the value",
    );
  }
}

/** Splits a DN at the commas that are not escaped. */
function relativeNames(dn: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i];
    if (c === "\\" && i + 1 < dn.length) {
      current += c + dn[i + 1];
      i++;
    } else if (c === ",") {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** An RFC 4514 distinguished name: `attr=value` pairs separated by commas, special characters escaped. */
export function isDistinguishedName(dn: string): boolean {
  if (dn.trim() !== dn || dn === "" || /[\r\n\0]/.test(dn)) return false;
  return relativeNames(dn).every((rdn) =>
    rdn.split(/(?<!\\)\+/).every((pair) => {
      const match = /^\s*([A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)\s*=(.*)$/.exec(pair);
      if (!match) return false;
      const value = match[2].trim();
      if (value === "") return false;
      // Unescaped special characters are not allowed inside a value.
      const unescaped = value.replace(/\\(?:[0-9A-Fa-f]{2}|[ ",#+;<=>\\])/g, "");
      return !/[",+;<>\\]/.test(unescaped);
    }),
  );
}

function checkDn(field: string, value: string): void {
  if (!isDistinguishedName(value)) {
    fail(
      field,
      value,
      "allowed is a distinguished name of comma-separated attr=value pairs with special characters escaped (RFC 4514)",
      `write it as AD shows it in distinguishedName, e.g. "OU=People,DC=example,DC=com"`,
    );
  }
}

/** An LDAP search filter: one parenthesized expression with balanced parentheses. */
export function isLdapFilter(filter: string): boolean {
  if (!filter.startsWith("(") || !filter.endsWith(")") || /[\r\n\0]/.test(filter)) return false;
  let depth = 0;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i];
    if (c === "\\") {
      i += 2;
      continue;
    }
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (depth < 0 || (depth === 0 && i !== filter.length - 1)) return false;
  }
  return depth === 0;
}

function checkFilter(field: string, value: string | undefined): void {
  if (value !== undefined && !isLdapFilter(value)) {
    fail(
      field,
      value,
      "allowed is one parenthesized LDAP filter with balanced parentheses",
      `wrap it in parentheses, e.g. "(objectClass=group)" or "(&(objectClass=user)(memberOf=CN=...))"`,
    );
  }
}

function checkAttribute(field: string, value: string | undefined): void {
  if (value !== undefined && !ATTRIBUTE.test(value)) {
    fail(
      field,
      value,
      "allowed is an LDAP attribute name (a letter, then letters, digits or '-')",
      `e.g. "sAMAccountName"`,
    );
  }
}

const isIpv4Address = (host: string): boolean =>
  /^\d{1,3}(\.\d{1,3}){3}$/.test(host) &&
  host.split(".").every((part) => Number(part) <= 255 && !/^0\d/.test(part));

/**
 * Host and port of an `ldaps://host[:port][/]` URL as Dex's LDAP connector takes them
 * (connector/ldap, v2.45.1 in the pinned Argo CD chart): `host` there is `host:port` alone, no
 * scheme or path, the port 636 when none is given. A trailing `/` (an empty path) is dropped.
 * The host is lowered: DNS names compare case-insensitively, and the connector sets the TLS
 * ServerName to the host, which Go's certificate check lowers before comparing, so an address
 * is verified against the certificate's IP SANs as a name is against its DNS SANs. Undefined
 * for anything else (another scheme, a path such as an RFC 4516 base DN, a port out of range).
 */
export function ldapsEndpoint(url: string): { host: string; port: number } | undefined {
  const match = /^ldaps:\/\/([^/:?#@]+)(?::(\d{1,5}))?\/?$/i.exec(url);
  if (!match) return undefined;
  const host = match[1].toLowerCase();
  const port = match[2] === undefined ? 636 : Number(match[2]);
  if (!(DNS_NAME.test(host) || isIpv4Address(host)) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** `ldapsEndpoint`, or the refusal naming `directory.url`. */
export function parseLdapsUrl(url: string): { host: string; port: number } {
  const endpoint = ldapsEndpoint(url);
  if (endpoint === undefined)
    fail(
      "directory.url",
      url,
      "allowed is ldaps://<DNS name>[:<port 1-65535>] with no path but an optional trailing / (or an IPv4 address its certificate lists as an IP SAN); plain ldap:// and StartTLS are refused (the bind password would cross the network in clear or be downgradable)",
      `use the directory's LDAPS endpoint, e.g. "ldaps://ad.example.com:636", with the name (or address) its certificate is issued for`,
    );
  return endpoint;
}

function validate(props: DirectoryLoginProps): { host: string; port: number } {
  const { directory, roles } = props;
  const endpoint = parseLdapsUrl(directory.url);
  checkDn("directory.bindDn", directory.bindDn);
  checkSecretRef("directory.bindPasswordSecret", directory.bindPasswordSecret);
  if (directory.caSecret) checkSecretRef("directory.caSecret", directory.caSecret);
  checkDn("directory.userSearch.baseDn", directory.userSearch.baseDn);
  checkFilter("directory.userSearch.filter", directory.userSearch.filter);
  checkAttribute("directory.userSearch.usernameAttribute", directory.userSearch.usernameAttribute);
  checkAttribute("directory.userSearch.emailAttribute", directory.userSearch.emailAttribute);
  checkDn("directory.groupSearch.baseDn", directory.groupSearch.baseDn);
  checkFilter("directory.groupSearch.filter", directory.groupSearch.filter);
  if (props.issuerCaSecret) checkSecretRef("issuerCaSecret", props.issuerCaSecret);

  if (roles.admins.length === 0) {
    fail(
      "roles.admins",
      roles.admins,
      "at least one AD group must hold the admin role (with local admins off nobody could administer the platform)",
      "name the AD group of the platform's administrators",
    );
  }
  const seen = new Map<string, string>();
  for (const role of ["admins", "editors", "viewers"] as const) {
    roles[role].forEach((group, index) => {
      const field = `roles.${role}[${index}]`;
      if (!GROUP_NAME.test(group)) {
        fail(
          field,
          group,
          "allowed is an AD group name (its cn) of letters, digits, spaces, '_', '.' and '-', not starting or ending with a space",
          "use the group's cn as it appears in the groups claim, or rename the group",
        );
      }
      const other = seen.get(group.toLowerCase());
      if (other) {
        fail(
          field,
          group,
          `the group already holds ${other}; a group has one role`,
          "keep the group in one list only",
        );
      }
      seen.set(group.toLowerCase(), field);
    });
  }
  for (const [name, host] of Object.entries(props.hosts)) checkDnsName(`hosts.${name}`, host);
  for (const [name, namespace] of Object.entries(props.namespaces)) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
      fail(
        `namespaces.${name}`,
        namespace,
        "allowed is a namespace name (DNS label)",
        "use the namespace the component is installed in",
      );
    }
  }
  return endpoint;
}

// ---------------------------------------------------------------------------------------------
// Dex and Argo CD
// ---------------------------------------------------------------------------------------------

/** The Dex issuer: Argo CD serves Dex under `/api/dex` of its own URL (`url` in argocd-cm). */
export function dexIssuer(props: Pick<DirectoryLoginProps, "hosts">): string {
  return `https://${props.hosts.argocd}/api/dex`;
}

/** Where each client's users come back after login, as the client sends it to Dex. */
export function redirectUris(props: Pick<DirectoryLoginProps, "hosts">): Record<LoginClient, string> {
  return {
    // Grafana: /login/<provider> of root_url.
    grafana: `https://${props.hosts.grafana}/login/generic_oauth`,
    // mlflow-oidc-auth 7.6.0: routers/auth.py CALLBACK = "/callback".
    mlflow: `https://${props.hosts.mlflow}/callback`,
    // oauth2-proxy: <proxy-prefix>/callback, prefix /oauth2.
    pipelines: `https://${props.hosts.pipelines}/oauth2/callback`,
  };
}

/** The `dex.config` of argocd-cm: the LDAP connector and the UIs' static clients. */
export function dexConfig(props: DirectoryLoginProps): Record<string, unknown> {
  const { host, port } = validate(props);
  const { directory } = props;
  const redirects = redirectUris(props);
  const bind = directory.bindPasswordSecret;
  return {
    connectors: [
      {
        type: "ldap",
        id: DIRECTORY_CONNECTOR_ID,
        name: "Active Directory",
        config: {
          host: `${host}:${port}`,
          ...(directory.caSecret ? { rootCA: `${DIRECTORY_CA_DIR}/${directory.caSecret.key}` } : {}),
          bindDN: directory.bindDn,
          // Resolved by Argo CD from the labelled Secret; never a literal.
          bindPW: `$${bind.name}:${bind.key}`,
          usernamePrompt: "Active Directory user name",
          userSearch: {
            baseDN: directory.userSearch.baseDn,
            filter: directory.userSearch.filter ?? "(&(objectCategory=person)(objectClass=user))",
            username: directory.userSearch.usernameAttribute ?? "sAMAccountName",
            idAttr: "DN",
            emailAttr: directory.userSearch.emailAttribute ?? "userPrincipalName",
            nameAttr: "cn",
            preferredUsernameAttr: directory.userSearch.usernameAttribute ?? "sAMAccountName",
          },
          groupSearch: {
            baseDN: directory.groupSearch.baseDn,
            filter: directory.groupSearch.filter ?? "(objectClass=group)",
            userMatchers: [
              {
                userAttr: "DN",
                groupAttr: "member",
                ...(directory.groupSearch.nested ? { recursionGroupAttr: "member" } : {}),
              },
            ],
            nameAttr: "cn",
          },
        },
      },
    ],
    staticClients: (Object.keys(LOGIN_CLIENTS) as LoginClient[]).map((client) => ({
      id: LOGIN_CLIENTS[client].id,
      name: client === "pipelines" ? "Kubeflow Pipelines" : client === "mlflow" ? "MLflow" : "Grafana",
      // Dex reads it from its environment (dex.env, from the generated Secret).
      secretEnv: LOGIN_CLIENTS[client].env,
      redirectURIs: [redirects[client]],
    })),
  };
}

/** Argo CD's `policy.csv`: admins, editors (sync and actions) and viewers by AD group. */
export function argoCdPolicy(roles: DirectoryRoles): string {
  const lines = [
    `p, ${ARGOCD_EDITOR_ROLE}, applications, sync, */*, allow`,
    `p, ${ARGOCD_EDITOR_ROLE}, applications, action/*, */*, allow`,
    `g, ${ARGOCD_EDITOR_ROLE}, role:readonly`,
    ...roles.admins.map((group) => `g, ${group}, role:admin`),
    ...roles.editors.map((group) => `g, ${group}, ${ARGOCD_EDITOR_ROLE}`),
    ...roles.viewers.map((group) => `g, ${group}, role:readonly`),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Values of the argo-cd chart: Dex with the directory connector and the UIs' clients, the RBAC
 * policy by group (nobody else gets a role), and the local `admin` off when asked.
 */
export function argoCdLoginValues(props: DirectoryLoginProps): HelmValues {
  const config = dexConfig(props);
  const ca = props.directory.caSecret;
  return {
    configs: {
      cm: {
        "admin.enabled": !props.disableLocalAdmins,
        "dex.config": stringify(config, { lineWidth: 0 }),
      },
      rbac: {
        "policy.default": "",
        "policy.csv": argoCdPolicy(props.roles),
        scopes: "[groups]",
      },
    },
    dex: {
      enabled: true,
      env: (Object.keys(LOGIN_CLIENTS) as LoginClient[]).map((client) => ({
        name: LOGIN_CLIENTS[client].env,
        valueFrom: { secretKeyRef: { name: LOGIN_CLIENTS[client].secretName, key: CLIENT_SECRET_KEY } },
      })),
      ...(ca
        ? {
            volumes: [
              {
                name: "directory-ca",
                secret: { secretName: ca.name, items: [{ key: ca.key, path: ca.key }] },
              },
            ],
            volumeMounts: [{ name: "directory-ca", mountPath: DIRECTORY_CA_DIR, readOnly: true }],
          }
        : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Grafana
// ---------------------------------------------------------------------------------------------

/** Grafana's JMESPath from the `groups` claim to its role; no group, no login. */
export function grafanaRolePath(roles: DirectoryRoles): string {
  const term = (groups: readonly string[], role: string) =>
    groups.length === 0
      ? []
      : [`(${groups.map((g) => `contains(groups[*], '${g}')`).join(" || ")}) && '${role}'`];
  return [
    ...term(roles.admins, "Admin"),
    ...term(roles.editors, "Editor"),
    ...term(roles.viewers, "Viewer"),
  ].join(" || ");
}

/** Environment variable Grafana reads the client secret from (`$__env{...}` in grafana.ini). */
const GRAFANA_CLIENT_SECRET_ENV = "GRAFANA_OIDC_CLIENT_SECRET";

/** Values of kube-prometheus-stack (under `grafana:`): generic OAuth against Dex, roles from groups. */
export function grafanaLoginValues(props: DirectoryLoginProps): HelmValues {
  validate(props);
  const issuer = dexIssuer(props);
  const client = LOGIN_CLIENTS.grafana;
  const ca = props.issuerCaSecret;
  return {
    grafana: {
      "grafana.ini": {
        server: { root_url: `https://${props.hosts.grafana}` },
        // The login form is the local users' (the admin's); the API keeps basic auth for the
        // chart's sidecars, which reload provisioning as the admin from its Secret.
        auth: { disable_login_form: props.disableLocalAdmins },
        "auth.generic_oauth": {
          enabled: true,
          name: "Active Directory",
          client_id: client.id,
          client_secret: `$__env{${GRAFANA_CLIENT_SECRET_ENV}}`,
          scopes: "openid profile email groups",
          auth_url: `${issuer}/auth`,
          token_url: `${issuer}/token`,
          api_url: `${issuer}/userinfo`,
          use_pkce: true,
          allow_sign_up: true,
          auto_login: props.disableLocalAdmins,
          login_attribute_path: "preferred_username",
          name_attribute_path: "name",
          email_attribute_path: "email",
          groups_attribute_path: "groups",
          role_attribute_path: grafanaRolePath(props.roles),
          role_attribute_strict: true,
          allow_assign_grafana_admin: false,
          ...(ca ? { tls_client_ca: `${ISSUER_CA_DIR}/${ca.key}` } : {}),
        },
      },
      envValueFrom: {
        [GRAFANA_CLIENT_SECRET_ENV]: { secretKeyRef: { name: client.secretName, key: CLIENT_SECRET_KEY } },
      },
      ...(ca
        ? {
            extraSecretMounts: [
              {
                name: "issuer-ca",
                secretName: ca.name,
                mountPath: ISSUER_CA_DIR,
                readOnly: true,
                defaultMode: 0o444,
              },
            ],
          }
        : {}),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MLflow
// ---------------------------------------------------------------------------------------------

/**
 * Values of the mlflow chart: its `oidcAuth` mode (the mlflow-oidc-auth plugin, which the
 * chart's default image `burakince/mlflow` installs) instead of basic auth. Members of the role
 * groups may log in, admins manage everything, the others read by default and get more through
 * the plugin's group permissions. Basic auth and oidcAuth cannot both be on (the chart fails).
 *
 * Creating is restricted (mlflow-oidc-auth 7.6.0, RESTRICT_RESOURCE_CREATION): a new experiment
 * or registered model needs EDIT on its name from a name-regex or group-regex grant, else the
 * default permission, READ, which cannot create. Viewers therefore create nothing; admins pass
 * every check (before_request_hook returns before the validators); the editors' groups and the
 * workloads' user get their EDIT grants from the MLflow construct's service-accounts Job.
 */
export function mlflowLoginValues(props: MlflowLoginProps): HelmValues {
  validate(props);
  const db = props.mlflowUsersDatabase;
  if (!K8S_NAME.test(db.secret)) {
    fail(
      "mlflowUsersDatabase.secret",
      db.secret,
      "allowed is a Kubernetes Secret name",
      "name the Secret with username/password",
    );
  }
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db.database)) {
    fail(
      "mlflowUsersDatabase.database",
      db.database,
      "allowed is a PostgreSQL database name of lowercase letters, digits and '_'",
      `e.g. "mlflow_oidc_auth"`,
    );
  }
  const issuer = dexIssuer(props);
  const client = LOGIN_CLIENTS.mlflow;
  const { admins, editors, viewers } = props.roles;
  return {
    auth: { enabled: false },
    ldapAuth: { enabled: false },
    oidcAuth: {
      enabled: true,
      discoveryUrl: `${issuer}/.well-known/openid-configuration`,
      clientId: client.id,
      existingSecret: { name: client.secretName, clientSecretKey: CLIENT_SECRET_KEY },
      redirectUri: redirectUris(props).mlflow,
      scope: "openid,email,profile,groups",
      providerDisplayName: "Log in with Active Directory",
      groupsAttribute: "groups",
      groupName: [...admins, ...editors, ...viewers],
      adminGroupName: [...admins],
      defaultPermission: "READ",
      sessionCookieSecure: true,
      sessionCookieSamesite: "lax",
      database: {
        postgres: {
          enabled: true,
          host: db.host,
          port: db.port,
          database: db.database,
          existingSecret: { name: db.secret, usernameKey: "username", passwordKey: "password" },
        },
      },
    },
    // Tokens must come from this issuer.
    extraEnvVars: {
      OIDC_ISSUER: issuer,
      // Off by default in the plugin (anyone logged in creates); "true" is what its get_bool reads.
      RESTRICT_RESOURCE_CREATION: "true",
      ...(props.issuerCaSecret
        ? {
            REQUESTS_CA_BUNDLE: `${ISSUER_CA_DIR}/${props.issuerCaSecret.key}`,
            SSL_CERT_FILE: `${ISSUER_CA_DIR}/${props.issuerCaSecret.key}`,
          }
        : {}),
    },
  };
}

/**
 * The issuer CA as a volume of the MLflow pod. Lists replace each other when values merge:
 * append these to the server's own `extraVolumes` and `extraVolumeMounts`.
 */
export function mlflowIssuerCaMounts(props: DirectoryLoginProps): {
  extraVolumes: Record<string, unknown>[];
  extraVolumeMounts: Record<string, unknown>[];
} {
  const ca = props.issuerCaSecret;
  if (!ca) return { extraVolumes: [], extraVolumeMounts: [] };
  checkSecretRef("issuerCaSecret", ca);
  return {
    extraVolumes: [
      { name: "issuer-ca", secret: { secretName: ca.name, items: [{ key: ca.key, path: ca.key }] } },
    ],
    extraVolumeMounts: [{ name: "issuer-ca", mountPath: ISSUER_CA_DIR, readOnly: true }],
  };
}

// ---------------------------------------------------------------------------------------------
// Kubeflow Pipelines
// ---------------------------------------------------------------------------------------------

/** An image reference as container runtimes read it (a registry may carry a port), with a tag or digest. */
function isPinnedImage(image: string): boolean {
  try {
    const parsed = parseImageReference(image);
    return parsed.tag !== undefined || parsed.digest !== undefined;
  } catch {
    return false;
  }
}

/**
 * oauth2-proxy in front of the KFP UI, which has no login of its own: a Deployment
 * (Pod Security restricted, resources set), its Service and the Ingress of the pipelines host.
 * Only admins and editors get in. Kubeflow Pipelines 2.17.0 standalone has no read-only access:
 * its API server authorizes nothing unless MULTIUSER is set (ResourceManager.IsAuthorized), which
 * the standalone manifests leave unset and which needs Kubeflow's profiles, and the UI's only
 * authorization switch (ENABLE_AUTHZ) is for that multi-user mode. Whoever reaches the UI can
 * upload and delete pipelines and start and delete runs, so viewers are not let in.
 */
export function pipelinesLogin(props: PipelinesLoginProps): { objects: Record<string, unknown>[] } {
  validate(props);
  if (!isPinnedImage(props.image)) {
    fail(
      "image",
      props.image,
      "allowed is an image reference pinned by tag or digest",
      `e.g. "quay.io/oauth2-proxy/oauth2-proxy:v7.15.4"`,
    );
  }
  if (!Number.isInteger(props.replicas) || props.replicas < 1) {
    fail("replicas", props.replicas, "allowed is a whole number >= 1", "set 1, or 2 for high availability");
  }
  const namespace = props.namespaces.pipelines;
  const client = LOGIN_CLIENTS.pipelines;
  const labels = {
    "app.kubernetes.io/name": PIPELINES_LOGIN_NAME,
    "app.kubernetes.io/part-of": "kubeflow-pipelines",
  };
  const { admins, editors } = props.roles;
  const ca = props.issuerCaSecret;
  const fromSecret = (name: string, secret: string, key: string) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key } },
  });
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: PIPELINES_LOGIN_NAME, namespace, labels },
    spec: {
      replicas: props.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          ...(props.imagePullSecrets && props.imagePullSecrets.length > 0
            ? { imagePullSecrets: props.imagePullSecrets.map((name) => ({ name })) }
            : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: OAUTH2_PROXY_UID,
            runAsGroup: OAUTH2_PROXY_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "oauth2-proxy",
              image: props.image,
              args: [
                "--provider=oidc",
                "--provider-display-name=Active Directory",
                `--oidc-issuer-url=${dexIssuer(props)}`,
                `--redirect-url=${redirectUris(props).pipelines}`,
                `--upstream=http://${PIPELINES_UI_SERVICE.name}.${namespace}.svc.cluster.local:${PIPELINES_UI_SERVICE.port}/`,
                `--http-address=0.0.0.0:${PIPELINES_LOGIN_PORT}`,
                "--scope=openid profile email groups",
                "--oidc-groups-claim=groups",
                ...[...admins, ...editors].map((group) => `--allowed-group=${group}`),
                "--email-domain=*",
                "--code-challenge-method=S256",
                "--cookie-secure=true",
                "--cookie-samesite=lax",
                "--reverse-proxy=true",
                "--skip-provider-button=true",
                ...(ca ? [`--provider-ca-file=${ISSUER_CA_DIR}/${ca.key}`] : []),
              ],
              env: [
                fromSecret("OAUTH2_PROXY_CLIENT_ID", client.secretName, CLIENT_ID_KEY),
                fromSecret("OAUTH2_PROXY_CLIENT_SECRET", client.secretName, CLIENT_SECRET_KEY),
                fromSecret("OAUTH2_PROXY_COOKIE_SECRET", PIPELINES_COOKIE_SECRET, "cookie-secret"),
              ],
              ports: [{ name: "http", containerPort: PIPELINES_LOGIN_PORT, protocol: "TCP" }],
              readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 10 },
              livenessProbe: { httpGet: { path: "/ping", port: "http" }, periodSeconds: 20 },
              resources: {
                requests: { cpu: "20m", memory: "32Mi" },
                limits: { memory: "128Mi" },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              ...(ca
                ? { volumeMounts: [{ name: "issuer-ca", mountPath: ISSUER_CA_DIR, readOnly: true }] }
                : {}),
            },
          ],
          ...(ca
            ? {
                volumes: [
                  {
                    name: "issuer-ca",
                    secret: { secretName: ca.name, items: [{ key: ca.key, path: ca.key }] },
                  },
                ],
              }
            : {}),
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: PIPELINES_LOGIN_NAME, namespace, labels },
    spec: {
      selector: labels,
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
  const ingress = {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: PIPELINES_LOGIN_NAME, namespace, labels, annotations: { ...props.ingressAnnotations } },
    spec: {
      ingressClassName: props.ingressClassName,
      ...(props.ingressTlsSecret
        ? { tls: [{ hosts: [props.hosts.pipelines], secretName: props.ingressTlsSecret }] }
        : {}),
      rules: [
        {
          host: props.hosts.pipelines,
          http: {
            paths: [
              {
                path: "/",
                pathType: "Prefix",
                backend: { service: { name: PIPELINES_LOGIN_NAME, port: { name: "http" } } },
              },
            ],
          },
        },
      ],
    },
  };
  return { objects: [deployment, service, ingress] };
}

// ---------------------------------------------------------------------------------------------
// Secrets and traffic
// ---------------------------------------------------------------------------------------------

/**
 * The Secrets the login needs, in the shape of `PlatformSecretsProps`: each client's id and
 * generated secret (letters and digits) in Argo CD's namespace, where Dex reads it, copied to the
 * UI's namespace; and oauth2-proxy's cookie secret (32 characters: a valid AES key) beside it.
 */
export function loginClientSecrets(props: DirectoryLoginProps): {
  readonly generated: GeneratedCredential[];
  readonly shared: { readonly credential: GeneratedCredential; readonly consumerNamespace: string }[];
} {
  validate(props);
  const consumers: Record<LoginClient, string> = {
    grafana: props.namespaces.monitoring,
    mlflow: props.namespaces.mlflow,
    pipelines: props.namespaces.pipelines,
  };
  return {
    generated: [
      {
        namespace: props.namespaces.pipelines,
        secretName: PIPELINES_COOKIE_SECRET,
        userKey: "cookie-name",
        userName: "_oauth2_proxy",
        passwordKey: "cookie-secret",
      },
    ],
    shared: (Object.keys(LOGIN_CLIENTS) as LoginClient[]).map((client) => ({
      credential: {
        namespace: props.namespaces.argocd,
        secretName: LOGIN_CLIENTS[client].secretName,
        userKey: CLIENT_ID_KEY,
        userName: LOGIN_CLIENTS[client].id,
        passwordKey: CLIENT_SECRET_KEY,
      },
      consumerNamespace: consumers[client],
    })),
  };
}

/** A network flow the login needs, for the namespaces' isolation rules. */
export interface LoginFlow {
  readonly namespace: string;
  readonly direction: "egress" | "ingress";
  /** Pods of `namespace` the rule is for. */
  readonly podLabels: Readonly<Record<string, string>>;
  readonly peer:
    | { readonly kind: "directory"; readonly host: string }
    | { readonly kind: "issuer"; readonly host: string }
    | { readonly kind: "ingress-controller" }
    | {
        readonly kind: "pods";
        readonly namespace: string;
        readonly podLabels: Readonly<Record<string, string>>;
      };
  readonly port: number;
  readonly reason: string;
}

/** The traffic the login adds; `issuer` is the Argo CD host as the pods resolve it (the ingress). */
export function loginFlows(props: DirectoryLoginProps): LoginFlow[] {
  const { host, port } = validate(props);
  const issuerHost = props.hosts.argocd;
  const dex = { "app.kubernetes.io/name": "argocd-dex-server" };
  const proxy = {
    "app.kubernetes.io/name": PIPELINES_LOGIN_NAME,
    "app.kubernetes.io/part-of": "kubeflow-pipelines",
  };
  return [
    {
      namespace: props.namespaces.argocd,
      direction: "egress",
      podLabels: dex,
      peer: { kind: "directory", host },
      port,
      reason: "Dex binds to and searches Active Directory over LDAPS",
    },
    {
      namespace: props.namespaces.monitoring,
      direction: "egress",
      podLabels: { "app.kubernetes.io/name": "grafana" },
      peer: { kind: "issuer", host: issuerHost },
      port: 443,
      reason: "Grafana exchanges the code for tokens at Dex",
    },
    {
      namespace: props.namespaces.mlflow,
      direction: "egress",
      podLabels: { "app.kubernetes.io/name": "mlflow" },
      peer: { kind: "issuer", host: issuerHost },
      port: 443,
      reason: "MLflow reads Dex's discovery document and keys and exchanges codes",
    },
    {
      namespace: props.namespaces.pipelines,
      direction: "egress",
      podLabels: proxy,
      peer: { kind: "issuer", host: issuerHost },
      port: 443,
      reason: "oauth2-proxy reads Dex's discovery document and keys and exchanges codes",
    },
    {
      namespace: props.namespaces.pipelines,
      direction: "egress",
      podLabels: proxy,
      peer: {
        kind: "pods",
        namespace: props.namespaces.pipelines,
        podLabels: PIPELINES_UI_SERVICE.podLabels,
      },
      port: 3000,
      reason: "oauth2-proxy forwards signed-in requests to the KFP UI",
    },
    {
      namespace: props.namespaces.pipelines,
      direction: "ingress",
      podLabels: PIPELINES_UI_SERVICE.podLabels,
      peer: { kind: "pods", namespace: props.namespaces.pipelines, podLabels: proxy },
      port: 3000,
      reason: "the KFP UI accepts requests from its login proxy",
    },
    {
      namespace: props.namespaces.pipelines,
      direction: "ingress",
      podLabels: proxy,
      peer: { kind: "ingress-controller" },
      port: PIPELINES_LOGIN_PORT,
      reason: "the ingress controller sends the pipelines host to oauth2-proxy",
    },
  ];
}
