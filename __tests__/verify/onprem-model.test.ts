/**
 * Pieces of the on-prem model that need no rendering: Argo CD's image overrides as kustomize
 * reads them, the nulls the API server prunes from custom resources, CloudNativePG's budgets,
 * the pull Secret check, and the Service-address rule Canal never matches.
 */
import type { KubernetesObject } from "../../scripts/verify/convert";
import { withoutPrunedNulls } from "../../scripts/verify/crds";
import { cloudNativePgObjects, releasedByOperator } from "../../scripts/verify/operands";
import { kustomizeImage } from "../../scripts/verify/render";
import { imagesRule } from "../../scripts/verify/rules/images";
import { referencesRule } from "../../scripts/verify/rules/references";
import { deployment, namespace, restrictedContainer, stateOf } from "./fixtures";

const cluster = (instances: number): KubernetesObject => ({
  apiVersion: "postgresql.cnpg.io/v1",
  kind: "Cluster",
  metadata: { name: "db", namespace: "data" },
  spec: {
    instances,
    imageName: "registry.example.com/postgresql:17.6-system-trixie",
    imagePullSecrets: [{ name: "pull" }],
    resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    enablePDB: true,
    bootstrap: { initdb: { database: "app", owner: "app", secret: { name: "app-credentials" } } },
  },
});

describe("the on-prem model", () => {
  it("reads Argo CD kustomize image overrides as kustomize images entries", () => {
    expect(kustomizeImage("mysql=artifactory.example.com/docker-remote/library/mysql")).toEqual({
      name: "mysql",
      newName: "artifactory.example.com/docker-remote/library/mysql",
    });
    expect(kustomizeImage("ghcr.io/a/b=mirror.example.com:8443/r/a/b:2.0")).toEqual({
      name: "ghcr.io/a/b",
      newName: "mirror.example.com:8443/r/a/b",
      newTag: "2.0",
    });
    expect(kustomizeImage("ghcr.io/a/b:3.1")).toEqual({ name: "ghcr.io/a/b", newTag: "3.1" });
  });

  it("drops nulls of non-nullable fields as the API server does, and keeps nullable ones", () => {
    const schema = {
      type: "object",
      properties: {
        spec: {
          type: "object",
          properties: {
            postgresql: { type: "object" },
            note: { type: "string", nullable: true },
          },
        },
      },
    };
    expect(withoutPrunedNulls({ spec: { postgresql: null, note: null } }, schema)).toEqual({
      spec: { note: null },
    });
  });

  it("creates CloudNativePG's primary budget always and the replicas' from three instances", () => {
    const names = (n: number) =>
      cloudNativePgObjects(cluster(n), [])
        .filter((o) => o.object.kind === "PodDisruptionBudget")
        .map((o) => o.object.metadata.name);
    expect(names(1)).toEqual(["db-primary"]);
    expect(names(3)).toEqual(["db-primary", "db"]);
    const secrets = cloudNativePgObjects(cluster(1), [])
      .filter((o) => o.object.kind === "Secret")
      .map((o) => o.object.metadata.name);
    // initdb names its Secret, so no `-app`; superuser access is off, so no `-superuser`.
    expect(secrets).toEqual(["db-ca", "db-server", "db-replication"]);
  });

  it("accepts the primary budget only where a switchover can release it", () => {
    for (const [instances, released] of [
      [3, true],
      [1, false],
    ] as const) {
      const objects = cloudNativePgObjects(cluster(instances), []).map((o) => o.object);
      const pdb = objects.find((o) => o.metadata.name === "db-primary")!;
      expect(releasedByOperator(pdb, [cluster(instances), ...objects]) !== undefined).toBe(released);
      const state = stateOf([namespace("data"), cluster(instances), ...objects]);
      const blocked = referencesRule([])
        .check(state, {})
        .filter(
          (f) => f.object === "PodDisruptionBudget data/db-primary" && /allows no eviction/.test(f.message),
        );
      expect(blocked.length).toBe(released ? 0 : 1);
    }
  });

  it("finds pods that pull from the mirror without its pull Secret, on the pod or the ServiceAccount", () => {
    const image = "artifactory.example.com/docker-remote/library/app:1.2.3";
    const app = deployment("apps", "app", { containers: [restrictedContainer("app", { image })] });
    const facts = { mirrorRegistry: "artifactory.example.com", pullSecretName: "artifactory-pull" };
    const without = imagesRule.check(stateOf([namespace("apps"), app], facts), {});
    expect(without.map((f) => f.message)).toEqual([
      "pulls from artifactory.example.com without the pull Secret artifactory-pull (neither the pod nor its ServiceAccount apps/default lists it)",
    ]);
    const account: KubernetesObject = {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace: "apps" },
      imagePullSecrets: [{ name: "artifactory-pull" }],
    } as KubernetesObject;
    expect(imagesRule.check(stateOf([namespace("apps"), app, account], facts), {})).toEqual([]);
  });
});
