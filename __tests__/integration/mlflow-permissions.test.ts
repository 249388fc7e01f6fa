/**
 * The MLflow service-accounts Job's script run for real (python3) against a stand-in for the
 * mlflow-oidc-auth 7.6.0 store it imports: the methods it calls, with their parameter names at
 * that tag (mlflow_oidc_auth/sqlalchemy_store.py), so a misnamed argument fails as it would in
 * the cluster. With RESTRICT_RESOURCE_CREATION on, creating needs EDIT on the new name from a
 * name-regex or group-regex grant (validators/experiment.py validate_can_create_experiment,
 * utils/permissions.py effective_new_experiment_permission): the script must give the editors'
 * groups and the workloads' user exactly those, and nothing to viewers or the metrics user.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { synthesizeOnPremEnvironments, resourcesOf } from "../support/synth";

const onPrem = synthesizeOnPremEnvironments();

/** The store as the script sees it, its state kept in a JSON file between runs. */
const STAND_IN_STORE = `
import json, os
from types import SimpleNamespace

STATE = os.environ["STAND_IN_STATE"]

def _load():
    with open(STATE) as f:
        return json.load(f)

def _save(state):
    with open(STATE, "w") as f:
        json.dump(state, f, indent=1, sort_keys=True)

def _grants(kind, owner):
    return [SimpleNamespace(**g) for g in _load()["grants"] if g["kind"] == kind and g["owner"] == owner]

def _grant(kind, owner, regex, priority, permission):
    state = _load()
    if kind.startswith("group-") and owner not in state["groups"]:
        raise Exception("Group with name=" + owner + " not found")
    if not kind.startswith("group-") and owner not in state["users"]:
        raise Exception("User " + owner + " not found")
    state["next"] += 1
    state["grants"].append(dict(id=state["next"], kind=kind, owner=owner, regex=regex, priority=priority, permission=permission))
    _save(state)

def _update(kind, owner, id, regex, priority, permission):
    state = _load()
    for g in state["grants"]:
        if g["id"] == id and g["kind"] == kind and g["owner"] == owner:
            g.update(regex=regex, priority=priority, permission=permission)
    _save(state)

def _delete(kind, owner, id):
    state = _load()
    state["grants"] = [g for g in state["grants"] if not (g["id"] == id and g["kind"] == kind and g["owner"] == owner)]
    _save(state)

class _Store:
    def has_user(self, username):
        return username in _load()["users"]
    def create_user(self, username, password, display_name, is_admin=False, is_service_account=False):
        state = _load()
        state["users"][username] = dict(is_admin=is_admin, is_service_account=is_service_account)
        _save(state)
    def update_user(self, username, password=None, password_expiration=None, is_admin=None, is_service_account=None):
        state = _load()
        state["users"][username] = dict(is_admin=is_admin, is_service_account=is_service_account)
        _save(state)
    def populate_groups(self, group_names):
        state = _load()
        state["groups"] = sorted(set(state["groups"]) | set(group_names))
        _save(state)
    def get_groups(self):
        return list(_load()["groups"])
    def list_experiment_regex_permissions(self, username):
        return _grants("experiment", username)
    def create_experiment_regex_permission(self, regex, priority, permission, username):
        _grant("experiment", username, regex, priority, permission)
    def update_experiment_regex_permission(self, regex, priority, permission, username, id):
        _update("experiment", username, id, regex, priority, permission)
    def list_registered_model_regex_permissions(self, username):
        return _grants("model", username)
    def create_registered_model_regex_permission(self, regex, priority, permission, username):
        _grant("model", username, regex, priority, permission)
    def update_registered_model_regex_permission(self, id, regex, priority, permission, username):
        _update("model", username, id, regex, priority, permission)
    def list_group_experiment_regex_permissions(self, group_name):
        return _grants("group-experiment", group_name)
    def create_group_experiment_regex_permission(self, group_name, regex, priority, permission):
        _grant("group-experiment", group_name, regex, priority, permission)
    def update_group_experiment_regex_permission(self, id, group_name, regex, priority, permission):
        _update("group-experiment", group_name, id, regex, priority, permission)
    def delete_group_experiment_regex_permission(self, group_name, id):
        _delete("group-experiment", group_name, id)
    def list_group_registered_model_regex_permissions(self, group_name):
        return _grants("group-model", group_name)
    def create_group_registered_model_regex_permission(self, group_name, regex, priority, permission):
        _grant("group-model", group_name, regex, priority, permission)
    def update_group_registered_model_regex_permission(self, id, group_name, regex, priority, permission):
        _update("group-model", group_name, id, regex, priority, permission)
    def delete_group_registered_model_regex_permission(self, group_name, id):
        _delete("group-model", group_name, id)

store = _Store()
`;

interface Grant {
  id: number;
  kind: string;
  owner: string;
  regex: string;
  priority: number;
  permission: string;
}
interface State {
  users: Record<string, unknown>;
  groups: string[];
  grants: Grant[];
  next: number;
}

const job = (name: string): any =>
  Object.values<any>(resourcesOf(onPrem[name].platform.json, "kubernetes_job_v1")).find(
    (j) => j.metadata.name === "mlflow-service-accounts",
  );

/** Each test starts python3 one or more times; a loaded machine needs more than jest's 5 s. */
const PYTHON_TIMEOUT_MS = 30_000;

describe.each(Object.keys(onPrem))("%s: the MLflow service-accounts Job's grants", (name) => {
  const container = job(name).spec.template.spec.container[0];
  const script: string = container.command[2];
  const literal: Record<string, string> = Object.fromEntries(
    container.env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]),
  );
  // The accounts' names come from their Secrets; the stand-ins name them as the platform does.
  const fromSecrets: Record<string, string> = Object.fromEntries(
    container.env
      .filter((e: any) => e.value_from !== undefined)
      .map((e: any) => {
        const ref = e.value_from.secret_key_ref;
        const value = e.name.startsWith("USER_") ? `user-of-${ref.name}` : `password-of-${ref.name}`;
        return [e.name, value];
      }),
  );
  const roles = onPrem[name].environment.directory.roles;
  let dir: string;
  let statePath: string;
  const state = (): State => JSON.parse(readFileSync(statePath, "utf8"));
  const run = async (env: Record<string, string> = {}) => {
    const { stdout } = await promisify(execFile)("python3", ["-c", script], {
      env: {
        PATH: process.env.PATH,
        PYTHONPATH: dir,
        STAND_IN_STATE: statePath,
        ...literal,
        ...fromSecrets,
        ...env,
      },
    });
    return stdout;
  };
  const managed = (grants: Grant[]) =>
    grants
      .filter((g) => g.regex === ".*" && g.priority === 100)
      .map((g) => `${g.kind} ${g.owner} ${g.permission}`)
      .sort();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "mlflow-oidc-auth-"));
    mkdirSync(join(dir, "mlflow_oidc_auth"));
    writeFileSync(join(dir, "mlflow_oidc_auth", "__init__.py"), "");
    writeFileSync(join(dir, "mlflow_oidc_auth", "store.py"), STAND_IN_STORE);
    statePath = join(dir, "state.json");
    writeFileSync(statePath, JSON.stringify({ users: {}, groups: [], grants: [], next: 0 }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    "gives the editors' groups and the workloads' user EDIT on every name, nobody else",
    async () => {
      await run();
      const expected = [
        ...roles.editors.flatMap((group) => [`group-experiment ${group} EDIT`, `group-model ${group} EDIT`]),
        "experiment user-of-mlflow-client EDIT",
        "model user-of-mlflow-client EDIT",
      ].sort();
      expect(managed(state().grants)).toEqual(expected);
      expect(state().grants).toHaveLength(expected.length);
      // The metrics user is a service account too, and creates nothing.
      expect(Object.keys(state().users).sort()).toEqual(["user-of-mlflow-client", "user-of-mlflow-metrics"]);
      for (const viewers of roles.viewers) expect(JSON.stringify(state().grants)).not.toContain(viewers);
    },
    PYTHON_TIMEOUT_MS,
  );

  it(
    "changes nothing when it runs again",
    async () => {
      const before = state().grants;
      const stdout = await run();
      expect(stdout).not.toMatch(/granted|revoked/);
      expect(state().grants).toEqual(before);
    },
    PYTHON_TIMEOUT_MS,
  );

  it(
    "takes the grants of its form from a group no longer among the editors, and leaves an admin's own",
    async () => {
      const [dropped, ...kept] = roles.editors;
      const withAdminGrant = state();
      withAdminGrant.next += 1;
      withAdminGrant.grants.push({
        id: withAdminGrant.next,
        kind: "group-experiment",
        owner: dropped,
        regex: "^shared/.*",
        priority: 5,
        permission: "READ",
      });
      writeFileSync(statePath, JSON.stringify(withAdminGrant));
      const stdout = await run({ EDITOR_GROUPS: JSON.stringify(kept) });
      expect(stdout).toContain(`revoked experiments from group ${dropped}`);
      const left = state().grants.filter((g) => g.owner === dropped);
      expect(left.map((g) => `${g.regex} ${g.priority} ${g.permission}`)).toEqual(["^shared/.* 5 READ"]);
    },
    PYTHON_TIMEOUT_MS,
  );
});
