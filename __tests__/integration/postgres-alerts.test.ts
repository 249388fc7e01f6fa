/**
 * The alerts of MLflow's PostgreSQL on-prem, as promtool evaluates them: the chart `cluster`
 * 0.8.1 rendered from the pinned sources with each on-prem environment's values, on series of a
 * healthy Cluster of that environment (1 instance in onprem-test, 3 on three nodes in
 * onprem-prod, nodes without a zone label as kube-state-metrics exports them):
 * - with the chart's full rule set, CNPGClusterHACritical and CNPGClusterHAWarning fire forever
 *   in onprem-test and CNPGClusterZoneSpreadWarning in onprem-prod (the defect);
 * - with the platform's values those are left out, and every rule that remains is quiet on the
 *   healthy series that feed it (it can clear);
 * - the platform's own WAL archiving and backup alerts fire on a failing archiver or an overdue
 *   or failed backup, and clear when archiving or a backup succeeds again.
 * Skipped, with the reason printed, without the pinned sources or promtool.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { postgresBackupRuleGroup } from "../../constructs/platform/postgres-cluster";
import { promtoolFor, release, valuesOf } from "../support/alerting";
import { synthesizeOnPremEnvironments } from "../support/synth";
import { describeWithUpstream, renderPinnedChart, type KubernetesObject } from "../support/upstream";

const FOUND = promtoolFor("__tests__/integration/postgres-alerts.test.ts");
const PROMTOOL = FOUND ?? "promtool";
const withUpstream = describeWithUpstream("__tests__/integration/postgres-alerts.test.ts", "chart rules");
const suite = FOUND ? withUpstream : describe.skip;
const promtoolOnly = FOUND ? describe : describe.skip;

const NS = "mlflow";
const CLUSTER = "mlflow-postgres";
const JOB = `${NS}/${CLUSTER}`;

type Rule = { alert?: string; expr: string; for?: string; labels?: Record<string, string> };
type Group = { name: string; rules: Rule[] };
interface Series {
  readonly series: string;
  readonly values: string;
}
interface Expectation {
  readonly evalTime: string;
  readonly alert: string;
  readonly fires: Record<string, string>[];
}

const labels = (set: Record<string, string>) =>
  `{${Object.entries(set)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;
/** A constant series over 2 hours and a half, one sample a minute. */
const steady = (name: string, set: Record<string, string>, value: number): Series => ({
  series: `${name}${labels(set)}`,
  values: `${value}+0x150`,
});

/**
 * A healthy Cluster of `instances` instances, `mlflow-postgres-1` the primary, each on its own
 * node: every series the chart's remaining rules read, at healthy values.
 */
function healthyCluster(instances: number): Series[] {
  const pods = Array.from({ length: instances }, (_, i) => `${CLUSTER}-${i + 1}`);
  return pods.flatMap((pod, index) => {
    const primary = index === 0;
    const at = { namespace: NS, pod, job: JOB };
    const node = `node-${index + 1}`;
    const pvc = { namespace: NS, persistentvolumeclaim: pod };
    return [
      steady("cnpg_pg_replication_streaming_replicas", at, primary ? instances - 1 : 0),
      steady("cnpg_pg_replication_is_wal_receiver_up", at, primary ? 0 : 1),
      steady("cnpg_pg_replication_lag", at, 0),
      steady("cnpg_backends_total", { ...at, datname: "mlflow", state: "idle" }, 12),
      steady("cnpg_pg_settings_setting", { ...at, name: "max_connections" }, 100),
      steady("cnpg_collector_up", { ...at, cluster: CLUSTER }, 1),
      steady("up", at, 1),
      steady("kube_pod_info", { namespace: NS, pod, node, instance: "ksm:8080" }, 1),
      // kube-state-metrics' node labels without an allow-list: no label_topology_kubernetes_io_zone.
      steady("kube_node_labels", { node, instance: "ksm:8080" }, 1),
      steady("kubelet_volume_stats_available_bytes", pvc, 15e9),
      steady("kubelet_volume_stats_capacity_bytes", pvc, 20e9),
      steady("kubelet_volume_stats_used_bytes", pvc, 5e9),
      ...(primary
        ? [
            // Archiving succeeds every minute; it never failed.
            { series: `cnpg_pg_stat_archiver_last_archived_time${labels(at)}`, values: "60+60x150" },
            steady("cnpg_pg_stat_archiver_last_failed_time", at, -1),
            // A backup a few minutes in; none failed.
            steady("cnpg_collector_last_available_backup_timestamp", at, 300),
            steady("cnpg_collector_last_failed_backup_timestamp", at, 0),
          ]
        : [
            // Only the primary sets the backup timestamps: the others export the gauge's zero.
            steady("cnpg_collector_last_available_backup_timestamp", at, 0),
            steady("cnpg_collector_last_failed_backup_timestamp", at, 0),
          ]),
    ];
  });
}

/**
 * `promtool test rules` of `groups` on `series`: the failures, empty when every expectation
 * holds. Annotations are left out of the rule file: they do not decide when an alert fires,
 * and the test states only the labels.
 */
function promtoolTest(groups: Group[], series: Series[], expectations: Expectation[]): string {
  const work = mkdtempSync(join(tmpdir(), "pg-alerts-"));
  try {
    const bare = groups.map((g) => ({
      name: g.name,
      rules: g.rules.map(({ alert, expr, for: holdFor, labels: ruleLabels }) => ({
        alert,
        expr,
        ...(holdFor ? { for: holdFor } : {}),
        ...(ruleLabels ? { labels: ruleLabels } : {}),
      })),
    }));
    writeFileSync(join(work, "rules.yaml"), stringify({ groups: bare }));
    writeFileSync(
      join(work, "tests.yaml"),
      stringify({
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: series,
            alert_rule_test: expectations.map((e) => ({
              eval_time: e.evalTime,
              alertname: e.alert,
              exp_alerts: e.fires.map((set) => ({ exp_labels: set })),
            })),
          },
        ],
      }),
    );
    const result = spawnSync(PROMTOOL, ["test", "rules", "tests.yaml"], { cwd: work, encoding: "utf8" });
    return result.status === 0 ? "" : `${result.stdout}${result.stderr}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const onPrem = synthesizeOnPremEnvironments();
const clusterValues = (env: string) => valuesOf(release(onPrem[env].platform.json, "cluster", CLUSTER));
const INSTANCES: Record<string, number> = { "onprem-test": 1, "onprem-prod": 3 };

async function chartGroups(values: object): Promise<Group[]> {
  const objects: KubernetesObject[] = await renderPinnedChart({
    name: CLUSTER,
    chart: "cluster",
    version: "0.8.1",
    namespace: NS,
    values,
  });
  return objects.filter((o) => o.kind === "PrometheusRule").flatMap((o) => o.spec.groups as Group[]);
}
const alertsOf = (groups: Group[]) => groups.flatMap((g) => g.rules.map((r) => r.alert!));
const chartLabels = (severity: string) => ({ severity, namespace: NS, cnpg_cluster: CLUSTER });

suite("cluster 0.8.1's alerts on a healthy on-prem Cluster (promtool)", () => {
  const full: Record<string, Group[]> = {};
  const platform: Record<string, Group[]> = {};
  beforeAll(async () => {
    for (const env of Object.keys(INSTANCES)) {
      const values = clusterValues(env);
      platform[env] = await chartGroups(values);
      const all = structuredClone(values);
      all.cluster.monitoring.prometheusRule.excludeRules = [];
      full[env] = await chartGroups(all);
    }
  }, 120_000);

  it("the environments' Clusters have the instances this test assumes", () => {
    for (const [env, instances] of Object.entries(INSTANCES))
      expect(clusterValues(env).cluster.instances).toBe(instances);
  });

  it("onprem-test, chart's full rules: CNPGClusterHACritical and HAWarning fire forever on one healthy instance", () => {
    const fires = [{ job: JOB }];
    expect(
      promtoolTest(full["onprem-test"], healthyCluster(1), [
        {
          evalTime: "2h",
          alert: "CNPGClusterHACritical",
          fires: fires.map((f) => ({ ...f, ...chartLabels("critical") })),
        },
        {
          evalTime: "2h",
          alert: "CNPGClusterHAWarning",
          fires: fires.map((f) => ({ ...f, ...chartLabels("warning") })),
        },
      ]),
    ).toBe("");
  });

  it("onprem-prod, chart's full rules: CNPGClusterZoneSpreadWarning fires forever on three healthy instances on three nodes", () => {
    expect(
      promtoolTest(full["onprem-prod"], healthyCluster(3), [
        { evalTime: "2h", alert: "CNPGClusterZoneSpreadWarning", fires: [chartLabels("warning")] },
        // Three instances stream to two standbys: the HA alerts are true there, and quiet.
        { evalTime: "2h", alert: "CNPGClusterHACritical", fires: [] },
        { evalTime: "2h", alert: "CNPGClusterHAWarning", fires: [] },
      ]),
    ).toBe("");
  });

  it("the platform's values leave out exactly what cannot be true in each environment", () => {
    const logical = alertsOf(full["onprem-test"]).filter((a) => a.includes("LogicalReplication"));
    expect(logical).toHaveLength(6);
    const left = (env: string) =>
      alertsOf(full[env])
        .filter((alert) => !alertsOf(platform[env]).includes(alert))
        .sort();
    expect(left("onprem-test")).toEqual(
      ["CNPGClusterHACritical", "CNPGClusterHAWarning", "CNPGClusterZoneSpreadWarning", ...logical].sort(),
    );
    expect(left("onprem-prod")).toEqual(["CNPGClusterZoneSpreadWarning", ...logical].sort());
  });

  it.each(Object.keys(INSTANCES))(
    "%s: every remaining rule of the chart is quiet on a healthy Cluster",
    (env) => {
      const remaining = alertsOf(platform[env]);
      expect(remaining.length).toBeGreaterThanOrEqual(10);
      expect(
        promtoolTest(
          platform[env],
          healthyCluster(INSTANCES[env]),
          remaining.map((alert) => ({ evalTime: "2h", alert, fires: [] })),
        ),
      ).toBe("");
    },
  );

  it.each(Object.keys(INSTANCES))(
    "%s: the healthy series feed every remaining rule (the quiet is not absence)",
    (env) => {
      const names = new Set(healthyCluster(INSTANCES[env]).map((s) => s.series.split("{")[0]));
      for (const rule of platform[env].flatMap((g) => g.rules)) {
        const metrics = [...rule.expr.matchAll(/\b(cnpg_[a-z_]+|kube_[a-z_]+|kubelet_[a-z_]+|up)\{/g)].map(
          (m) => m[1],
        );
        // The tablespace arm of the disk alerts reads volumes the Cluster does not have.
        const fed = metrics.filter((m) => m !== "kube_pod_spec_volumes_persistentvolumeclaims_info");
        expect({ alert: rule.alert, unfed: fed.filter((m) => !names.has(m)) }).toEqual({
          alert: rule.alert,
          unfed: [],
        });
      }
    },
  );

  it("onprem-test: one instance down fires CNPGClusterOffline, which clears when it is back (a remaining rule can fire)", () => {
    const series = healthyCluster(1).map((s) =>
      s.series.startsWith("cnpg_collector_up") ? { ...s, values: "1x20 _x30 1x100" } : s,
    );
    expect(
      promtoolTest(platform["onprem-test"], series, [
        { evalTime: "45m", alert: "CNPGClusterOffline", fires: [chartLabels("critical")] },
        { evalTime: "1h30m", alert: "CNPGClusterOffline", fires: [] },
      ]),
    ).toBe("");
  });
});

promtoolOnly("the platform's WAL archiving and backup alerts (promtool)", () => {
  const groups = [postgresBackupRuleGroup(NS, CLUSTER) as unknown as Group];
  const own = (severity: string, extra: Record<string, string> = {}) => ({
    ...extra,
    severity,
    namespace: NS,
    cnpg_cluster: CLUSTER,
    platform: "mlops",
  });
  const replace = (series: Series[], name: string, values: string, pod = `${CLUSTER}-1`) =>
    series.map((s) =>
      s.series.startsWith(`${name}{`) && s.series.includes(`pod="${pod}"`) ? { ...s, values } : s,
    );

  it.each([1, 3])(
    "all quiet on a healthy Cluster of %i instance(s), replicas exporting zero timestamps",
    (n) => {
      expect(
        promtoolTest(
          groups,
          healthyCluster(n),
          ["CNPGWALArchivingFailing", "CNPGBackupTooOld", "CNPGBackupFailed"].map((alert) => ({
            evalTime: "2h",
            alert,
            fires: [],
          })),
        ),
      ).toBe("");
    },
  );

  it("CNPGWALArchivingFailing fires after 15 minutes of failures and clears at the next archival", () => {
    // Archived until minute 20, then every attempt fails until minute 80, then archiving resumes.
    let series = replace(
      healthyCluster(3),
      "cnpg_pg_stat_archiver_last_archived_time",
      "60+60x19 1200x60 4860+60x70",
    );
    series = replace(series, "cnpg_pg_stat_archiver_last_failed_time", "-1x20 1260+60x60 4800x70");
    expect(
      promtoolTest(groups, series, [
        { evalTime: "30m", alert: "CNPGWALArchivingFailing", fires: [] },
        {
          evalTime: "40m",
          alert: "CNPGWALArchivingFailing",
          fires: [own("critical", { pod: `${CLUSTER}-1` })],
        },
        { evalTime: "90m", alert: "CNPGWALArchivingFailing", fires: [] },
      ]),
    ).toBe("");
  });

  it("CNPGWALArchivingFailing fires for a new Cluster that never archived (archive prefix not empty)", () => {
    let series = replace(healthyCluster(1), "cnpg_pg_stat_archiver_last_archived_time", "-1x150");
    series = replace(series, "cnpg_pg_stat_archiver_last_failed_time", "60+60x150");
    expect(
      promtoolTest(groups, series, [
        {
          evalTime: "30m",
          alert: "CNPGWALArchivingFailing",
          fires: [own("critical", { pod: `${CLUSTER}-1` })],
        },
      ]),
    ).toBe("");
  });

  it("CNPGBackupTooOld fires an hour after the last backup is 26 hours old, and clears at the next", () => {
    // Minute 0: backup at t=300s; 28 hours later a new one (t=100800s).
    const hours = (h: number) => h * 60;
    const series = [
      {
        series: `cnpg_collector_last_available_backup_timestamp${labels({ namespace: NS, pod: `${CLUSTER}-1`, job: JOB })}`,
        values: `300x${hours(28)} 100800x${hours(2)}`,
      },
      {
        series: `cnpg_collector_last_failed_backup_timestamp${labels({ namespace: NS, pod: `${CLUSTER}-1`, job: JOB })}`,
        values: `0x${hours(30)}`,
      },
    ];
    const fires = [own("warning")];
    expect(
      promtoolTest(groups, series, [
        { evalTime: "26h30m", alert: "CNPGBackupTooOld", fires: [] },
        { evalTime: "27h30m", alert: "CNPGBackupTooOld", fires },
        { evalTime: "28h30m", alert: "CNPGBackupTooOld", fires: [] },
      ]),
    ).toBe("");
  });

  it("CNPGBackupFailed fires when the last backup failed after the last success, and clears at the next success", () => {
    let series = replace(healthyCluster(3), "cnpg_collector_last_failed_backup_timestamp", "0x30 2000x120");
    series = replace(series, "cnpg_collector_last_available_backup_timestamp", "300x90 5000x60");
    expect(
      promtoolTest(groups, series, [
        { evalTime: "40m", alert: "CNPGBackupFailed", fires: [own("warning")] },
        { evalTime: "100m", alert: "CNPGBackupFailed", fires: [] },
      ]),
    ).toBe("");
  });

  it("promtool check rules accepts the group", () => {
    const work = mkdtempSync(join(tmpdir(), "pg-rules-"));
    try {
      writeFileSync(join(work, "rules.yaml"), stringify({ groups }));
      const result = spawnSync(PROMTOOL, ["check", "rules", "rules.yaml"], { cwd: work, encoding: "utf8" });
      expect(`${result.stdout}${result.stderr}`).toContain("SUCCESS: 3 rules found");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
