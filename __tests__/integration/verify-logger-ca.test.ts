/**
 * verify's model of KServe v0.20.0's logger agent where the object store has a private CA, on
 * the onprem-test state built from the pinned sources: the agent mounts the `logger` entry's
 * `caBundle` ConfigMap at /etc/tls/logger (pod/agent_injector.go InjectAgent) and gets the
 * credential builder's AWS_CA_BUNDLE; the `references` rule reports an AWS_CA_BUNDLE no volume
 * provides. Defects are planted in copies of the state, and what KServe derives from its
 * InferenceServices is derived again from the changed copy.
 */
import type { ClusterState } from "../../scripts/verify/state";
import { kserveObjects } from "../../scripts/verify/controllers/kserve";
import { describeWithPinnedState, verifyBaseline, type VerifyBaseline } from "../support/pinned-state";

type Loose = any;

const KSERVE_SOURCE = /^controller \(KServe v0\.20\.0, /;

/** What KServe derives from the InferenceServices, derived again from the state as it is now. */
function rederiveKserve(state: ClusterState): void {
  const kept = state.objects.filter((o) => !KSERVE_SOURCE.test(o.source));
  const objects = kept.map((o) => o.object);
  const derived = kept
    .filter((o) => o.object.kind === "InferenceService")
    .flatMap((o) => kserveObjects(o.object, objects));
  state.objects.splice(0, state.objects.length, ...kept, ...derived);
}

function only(state: ClusterState, kind: string, namespace: string, name: string): Loose {
  const found = state.objects.filter(
    (o) =>
      o.object.kind === kind && o.object.metadata.namespace === namespace && o.object.metadata.name === name,
  );
  if (found.length !== 1)
    throw new Error(`the onprem-test state has ${found.length} ${kind} ${namespace}/${name}`);
  return found[0].object;
}

const agents = (state: ClusterState): { name: string; spec: Loose; agent: Loose }[] =>
  state.objects
    .filter((o) => KSERVE_SOURCE.test(o.source) && o.object.kind === "Deployment")
    .map((o) => {
      const spec = (o.object.spec as Loose).template.spec;
      return {
        name: o.object.metadata.name!,
        spec,
        agent: spec.containers.find((c: Loose) => c.name === "agent"),
      };
    });

describeWithPinnedState("__tests__/integration/verify-logger-ca.test.ts")(
  "verify: KServe's logger agent and the store's private CA",
  () => {
    let built: VerifyBaseline;

    beforeAll(async () => {
      built = await verifyBaseline("onprem-test");
    }, 120_000);

    it("reads the live logger entry: the chart's, with the platform's caBundle written over it", () => {
      expect(built.state.problems).toEqual([]);
      const config = only(built.state, "ConfigMap", "kserve", "inferenceservice-config");
      expect(JSON.parse(config.data.logger).caBundle).toBe("kserve-object-store-ca");
      expect(JSON.parse(config.data.logger).defaultUrl).toBe("http://default-broker");
    });

    it("gives every predictor's agent the CA ConfigMap at /etc/tls/logger and the AWS_CA_BUNDLE in it", () => {
      const all = agents(built.state);
      expect(all.length).toBeGreaterThanOrEqual(2);
      for (const { name, spec, agent } of all) {
        expect({ name, env: agent.env }).toEqual({
          name,
          env: [{ name: "AWS_CA_BUNDLE", value: "/etc/tls/logger/cabundle.crt" }],
        });
        expect(agent.volumeMounts).toEqual([
          { name: "agent-ca-bundle", mountPath: "/etc/tls/logger", readOnly: true },
        ]);
        expect(spec.volumes).toContainEqual({
          name: "agent-ca-bundle",
          configMap: { name: "kserve-object-store-ca", optional: true },
        });
      }
      expect(Object.keys(only(built.state, "ConfigMap", "mlops", "kserve-object-store-ca").data)).toEqual([
        "cabundle.crt",
      ]);
      expect([...built.findings].filter((f) => f.includes("AWS_CA_BUNDLE"))).toEqual([]);
    });

    it("reports every agent when the platform's logger entry is gone (the chart's entry, after a Helm upgrade)", () => {
      const state = structuredClone(built.state);
      const config = only(state, "ConfigMap", "kserve", "inferenceservice-config");
      const { caBundle: _dropped, ...chart } = JSON.parse(config.data.logger);
      config.data.logger = JSON.stringify(chart);
      rederiveKserve(state);
      const lines = built.added(state, "references");
      expect(lines).toHaveLength(agents(state).length);
      for (const line of lines) {
        expect(line).toMatch(
          /^Deployment mlops\/\S+-predictor \[references\] container "agent" gets AWS_CA_BUNDLE=\/etc\/tls\/logger\/cabundle\.crt, which no volume mount of the container contains \(mounts: none\): the AWS SDK fails to load it/,
        );
      }
    });

    it("reports every agent when the store Secret's s3-cabundle points outside the logger's mount", () => {
      const state = structuredClone(built.state);
      const secret = only(state, "Secret", "mlops", "object-store-credentials");
      secret.metadata.annotations["serving.kserve.io/s3-cabundle"] = "/etc/ssl/custom-certs/cabundle.crt";
      rederiveKserve(state);
      const lines = built.added(state, "references");
      expect(lines).toHaveLength(agents(state).length);
      expect(lines[0]).toContain(
        'container "agent" gets AWS_CA_BUNDLE=/etc/ssl/custom-certs/cabundle.crt, which no volume mount of the container contains (mounts: /etc/tls/logger)',
      );
    });

    it("reports the file name the CA ConfigMap does not hold", () => {
      const state = structuredClone(built.state);
      const secret = only(state, "Secret", "mlops", "object-store-credentials");
      secret.metadata.annotations["serving.kserve.io/s3-cabundle"] = "/etc/tls/logger/ca.pem";
      rederiveKserve(state);
      const lines = built.added(state, "references");
      expect(lines.length).toBeGreaterThan(0);
      expect(lines[0]).toContain(
        'volume "agent-ca-bundle" does not hold: ConfigMap mlops/kserve-object-store-ca has no key "ca.pem" (keys: cabundle.crt)',
      );
    });
  },
);
