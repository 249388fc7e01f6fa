/**
 * Alerts that leave a cluster without internet, and a path that is watched itself: per receiver
 * an HTTP proxy or an internal relay (PagerDuty's Events API URL), the heartbeat that posts the
 * always-firing Watchdog to a healthchecks-style URL, and the plan refusing a hand-made receiver
 * Secret without the key Alertmanager reads. In process on the configuration, the schemas and the
 * synthesized on-prem stacks; amtool checks the same configuration in integration/alerts.test.ts.
 */
import { loadEnvironments } from "../../environments/load";
import type { AnyEnvironmentInput } from "../../environments/targets";
import { prod } from "../../environments/prod";
import { onPremProd } from "../../environments/onprem-prod";
import {
  alertmanagerConfig,
  notificationUrlProblem,
  type AlertReceiver,
} from "../../constructs/platform/monitoring";
import { onPremTestInput } from "../support/onprem-fixture";
import { monitoringValues } from "../support/alerting";
import { synthesizeOnPremEnvironments } from "../support/synth";

const PROXY = "http://proxy.example.com:3128";
const RELAY = "https://pagerduty-relay.example.com/v2/enqueue";

const problemsOf = (base: AnyEnvironmentInput, change: (env: any) => void): readonly string[] => {
  const input = structuredClone(base) as any;
  change(input);
  const result = loadEnvironments([input as AnyEnvironmentInput]);
  return result.ok ? [] : result.problems;
};

describe("proxies and relays per receiver", () => {
  const receivers: AlertReceiver[] = [
    { kind: "slack", name: "team", channel: "#alerts", severities: ["warning"], proxyUrl: PROXY },
    { kind: "pagerduty", name: "pager", severities: ["critical"], url: RELAY },
    { kind: "webhook", name: "hook", severities: ["info"] },
  ];
  const config = alertmanagerConfig(receivers) as any;
  const receiver = (name: string) => config.receivers.find((r: any) => r.name === name);

  it("sends a receiver's notifications through its proxy (http_config.proxy_url)", () => {
    expect(receiver("team").slack_configs).toEqual([
      {
        api_url_file: "/etc/alertmanager/secrets/alert-receiver-team/api-url",
        channel: "#alerts",
        send_resolved: true,
        http_config: { proxy_url: PROXY },
      },
    ]);
  });

  it("posts PagerDuty events to the relay's URL, the routing key still from the Secret", () => {
    expect(receiver("pager").pagerduty_configs).toEqual([
      {
        routing_key_file: "/etc/alertmanager/secrets/alert-receiver-pager/routing-key",
        url: RELAY,
        send_resolved: true,
      },
    ]);
  });

  it("leaves a receiver without proxy or relay as it was (direct, Alertmanager's default URL)", () => {
    expect(receiver("hook").webhook_configs).toEqual([
      { url_file: "/etc/alertmanager/secrets/alert-receiver-hook/url", send_resolved: true },
    ]);
  });

  it.each([
    ["not a url", "is not a URL"],
    ["socks5://proxy.example.com:1080", "uses socks5, not http or https"],
    ["http://user:secret@proxy.example.com:3128", "carries a user or password"],
    ["http://:secret@proxy.example.com:3128", "carries a user or password"],
  ])("refuses %s as a proxy or relay URL", (value, problem) => {
    expect(notificationUrlProblem(value)).toBe(problem);
  });

  it("accepts http and https URLs with a port and path", () => {
    expect(notificationUrlProblem(PROXY)).toBeUndefined();
    expect(notificationUrlProblem(RELAY)).toBeUndefined();
  });

  it("on-prem: the schema names the field, the value, the rule and the fix", () => {
    expect(
      problemsOf(onPremProd, (e) => (e.platform.alerting.receivers[0].proxyUrl = "http://u:***@proxy:3128")),
    ).toEqual([
      `onprem-prod: platform.alerting.receivers[0].proxyUrl = "http://u:***@proxy:3128": must be the http:// or https:// URL of an HTTP proxy without user or password (this one carries a user or password); fix: use e.g. http://proxy.example.com:3128; a credential goes in the receiver's Secret, not in the URL`,
    ]);
    expect(problemsOf(onPremProd, (e) => (e.platform.alerting.receivers[0].url = "ftp://relay"))).toEqual([
      `onprem-prod: platform.alerting.receivers[0].url = "ftp://relay": must be the http:// or https:// URL of the Events API v2 endpoint or a relay without user or password (this one uses ftp, not http or https); fix: use e.g. https://pagerduty-relay.example.com/v2/enqueue; a credential goes in the receiver's Secret, not in the URL`,
    ]);
    // Slack's relay is the URL in its Secret (api-url): there is no second field for it.
    expect(problemsOf(onPremProd, (e) => (e.platform.alerting.receivers[1].url = RELAY))).toEqual([
      "onprem-prod: platform.alerting.receivers[1].url: unknown field; fix: remove it or correct its spelling",
    ]);
  });
});

describe("the heartbeat (dead man's switch)", () => {
  const receivers: AlertReceiver[] = [{ kind: "pagerduty", name: "on-call", severities: ["critical"] }];

  it("without it, Watchdog goes to the null receiver", () => {
    const config = alertmanagerConfig(receivers) as any;
    expect(config.route.routes[0]).toEqual({ receiver: "null", matchers: ['alertname = "Watchdog"'] });
    expect(config.receivers.map((r: any) => r.name)).toEqual(["null", "on-call"]);
  });

  it("routes Watchdog to the heartbeat's webhook every interval, never sending its resolution", () => {
    const config = alertmanagerConfig(receivers, { proxyUrl: PROXY, intervalMinutes: 2 }) as any;
    expect(config.route.routes[0]).toEqual({
      receiver: "heartbeat",
      matchers: ['alertname = "Watchdog"'],
      group_wait: "0s",
      group_interval: "1m",
      repeat_interval: "2m",
    });
    // First route without `continue`: Watchdog reaches no other receiver.
    expect(config.route.routes[0].continue).toBeUndefined();
    expect(config.receivers.find((r: any) => r.name === "heartbeat")).toEqual({
      name: "heartbeat",
      webhook_configs: [
        {
          url_file: "/etc/alertmanager/secrets/alert-receiver-heartbeat/url",
          send_resolved: false,
          http_config: { proxy_url: PROXY },
        },
      ],
    });
  });

  it("pings every 5 minutes unless told otherwise", () => {
    const config = alertmanagerConfig(receivers, {}) as any;
    expect(config.route.routes[0].repeat_interval).toBe("5m");
  });

  it("AWS and on-prem schemas refuse a receiver named heartbeat beside it, and a bad interval", () => {
    expect(
      problemsOf(onPremProd, (e) => {
        e.platform.alerting.receivers[0].name = "heartbeat";
      }),
    ).toEqual([
      `onprem-prod: platform.alerting.receivers[0].name = "heartbeat": is the name of the heartbeat's receiver (platform.alerting.heartbeat is set); fix: give every receiver its own name`,
    ]);
    expect(problemsOf(onPremProd, (e) => (e.platform.alerting.heartbeat.intervalMinutes = 0))).toEqual([
      "onprem-prod: platform.alerting.heartbeat.intervalMinutes = 0: must be at least 1; fix: ping every 1 to 60 minutes",
    ]);
    expect(
      problemsOf(prod, (e) => {
        e.platform.alerting.heartbeat = { secret: { remoteKey: "mlops/prod/heartbeat" } };
        e.platform.alerting.receivers[0].name = "heartbeat";
      }),
    ).toEqual([
      `prod: platform.alerting.receivers[0].name = "heartbeat": is the name of the heartbeat's receiver (platform.alerting.heartbeat is set); fix: give every receiver its own name`,
    ]);
    expect(
      problemsOf(
        prod,
        (e) => (e.platform.alerting.heartbeat = { secret: { remoteKey: "https://hc-ping.com/x" } }),
      ),
    ).toEqual([
      'prod: platform.alerting.heartbeat.secret.remoteKey = "https://hc-ping.com/x": looks like a URL, a credential written into the environment file where the name of the Secrets Manager secret holding it belongs; fix: store the credential in Secrets Manager (e.g. as mlops/<env>/alerting/<receiver>), give that name here, and rotate the credential: the file is in Git',
    ]);
  });

  it("the on-prem fixture without alerting still validates (receivers and heartbeat are optional)", () => {
    expect(problemsOf(onPremTestInput, () => undefined)).toEqual([]);
  });
});

describe("on-prem stacks: the receivers' hand-made Secrets", () => {
  const envs = synthesizeOnPremEnvironments();
  const sources = (env: string): any[] =>
    Object.values<any>((envs[env].platform.json as any).data?.kubernetes_secret_v1 ?? {});
  const source = (env: string, name: string) => {
    const found = sources(env).find((s) => s.metadata.name === name);
    if (!found) throw new Error(`${env}: no data source reading ${name}`);
    return found;
  };

  it.each([
    ["onprem-prod", "alert-receiver-on-call", "routing-key"],
    ["onprem-prod", "alert-receiver-platform-team", "api-url"],
    ["onprem-prod", "alert-receiver-heartbeat", "url"],
    ["onprem-test", "alert-receiver-platform-team", "api-url"],
    ["onprem-test", "alert-receiver-heartbeat", "url"],
  ])("%s: the plan fails unless %s holds the key %s", (env, name, key) => {
    const [check] = source(env, name).lifecycle.postcondition;
    expect(check.condition).toBe(
      `\${alltrue([for key in ${JSON.stringify([key])} : contains(keys(self.data), key)])}`,
    );
    expect(check.error_message).toContain(`Secret terraform-state/${name}`);
    expect(check.error_message).toContain(`must hold the key ${key}; fix:`);
  });

  it("the other hand-made Secrets are read without a key check (their consumers name their keys)", () => {
    expect(source("onprem-prod", "artifactory-pull").lifecycle).toBeUndefined();
  });

  it("onprem-prod: Alertmanager mounts the heartbeat's Secret and pings through the proxy", () => {
    const values = monitoringValues(envs["onprem-prod"].platform.json);
    expect(values.alertmanager.alertmanagerSpec.secrets).toEqual([
      "alert-receiver-on-call",
      "alert-receiver-platform-team",
      "alert-receiver-heartbeat",
    ]);
    const config = values.alertmanager.config;
    expect(config.route.routes[0].receiver).toBe("heartbeat");
    for (const receiver of config.receivers.filter((r: any) => r.name !== "null")) {
      const [settings] = Object.entries(receiver).find(([key]) => key.endsWith("_configs"))![1] as any[];
      expect({ receiver: receiver.name, proxy: settings.http_config }).toEqual({
        receiver: receiver.name,
        proxy: { proxy_url: PROXY },
      });
    }
  });
});
