/**
 * Alert receivers and the heartbeat: what Alertmanager is told about each receiver, and where
 * its credential comes from (never the environment file).
 */
import { z } from "zod";
import { notificationUrlProblem } from "../../constructs/platform/monitoring";
import { credentialShape, fix } from "./common";

/** Alert severities the platform's and the monitoring chart's rules use. */
export const ALERT_SEVERITIES = ["critical", "warning", "info"] as const;
export const SECRETS_MANAGER_SECRET =
  /^(arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+|[A-Za-z0-9/_+=.@-]{1,512})$/;

/** The refusal of a credential written where the Secrets Manager secret's name belongs. */
function credentialInSecretName(value: unknown): string | undefined {
  const shape = typeof value === "string" ? credentialShape(value) : undefined;
  return shape === undefined
    ? undefined
    : fix(
        `looks like ${shape}, a credential written into the environment file where the name of the Secrets Manager secret holding it belongs`,
        "store the credential in Secrets Manager (e.g. as mlops/<env>/alerting/<receiver>), give that name here, and rotate the credential: the file is in Git",
      );
}

/**
 * The URL of an HTTP proxy or relay Alertmanager calls: http or https, with a host, without user
 * or password (those would sit in Helm values and the state; a relay's credential goes in the
 * receiver's Secret).
 */
export const notificationUrl = (what: string, example: string) =>
  credentialFreeUrl(what, `use e.g. ${example}; a credential goes in the receiver's Secret, not in the URL`);

/** An http(s) URL of `what` that carries no user or password; `remedy` is the refusal's fix. */
export const credentialFreeUrl = (what: string, remedy: string) =>
  z.string().superRefine((text, ctx) => {
    const problem = notificationUrlProblem(text);
    if (problem)
      ctx.addIssue({
        code: "custom",
        input: text,
        message: fix(
          `must be the http:// or https:// URL of ${what} without user or password (this one ${problem})`,
          remedy,
        ),
      });
  });

/** Minutes between heartbeat pings. */
export const heartbeatInterval = z
  .number({ error: fix("must be a whole number of minutes", "use e.g. 5") })
  .int({ error: fix("must be a whole number of minutes", "use e.g. 5") })
  .min(1, { error: fix("must be at least 1", "ping every 1 to 60 minutes") })
  .max(60, { error: fix("must be at most 60", "ping at least hourly") })
  .optional();

export const receiverCommon = {
  /** Receiver name in Alertmanager and in its Secret's name (`alert-receiver-<name>`). */
  name: z.string().regex(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/, {
    error: fix(
      "must be 2 to 40 lower-case letters, digits or hyphens, starting with a letter",
      "use a name like platform-team or on-call",
    ),
  }),
  /** Severities this receiver gets. */
  severities: z
    .array(
      z.enum(ALERT_SEVERITIES, {
        error: fix(
          `must be one of ${ALERT_SEVERITIES.join(", ")}`,
          "list the severities this receiver takes",
        ),
      }),
    )
    .min(1, {
      error: fix("must list at least one severity", 'list e.g. ["critical", "warning"]'),
    })
    .refine((list) => new Set(list).size === list.length, {
      error: fix("must not list a severity twice", "remove the duplicate"),
    }),
  /**
   * The Secrets Manager secret holding the credential (Slack webhook URL, PagerDuty routing
   * key, webhook URL), by name or ARN, never the credential itself. External Secrets copies it
   * into the monitoring namespace.
   */
  secret: z.strictObject({
    remoteKey: z
      .string()
      .regex(SECRETS_MANAGER_SECRET, {
        error: (issue) =>
          credentialInSecretName(issue.input) ??
          fix(
            "must be a Secrets Manager secret name or ARN",
            "create the secret in Secrets Manager and give its name, e.g. mlops/prod/alerting/slack",
          ),
      })
      .superRefine((name, ctx) => {
        const message = SECRETS_MANAGER_SECRET.test(name) ? credentialInSecretName(name) : undefined;
        if (message) ctx.addIssue({ code: "custom", input: name, message });
      }),
    /** Key inside a JSON secret; unset: the secret's whole string value. */
    property: z
      .string()
      .min(1, { error: fix("must not be empty", "remove it to use the whole secret value") })
      .optional(),
  }),
};

export const alertReceiverSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("slack"),
      ...receiverCommon,
      /** Channel the messages go to (the webhook's own channel when the app allows overriding it). */
      channel: z.string().regex(/^#[a-z0-9][a-z0-9._-]{0,79}$/, {
        error: fix("must be a Slack channel such as #mlops-alerts", "start it with # and use lower case"),
      }),
    }),
    z.strictObject({ kind: z.literal("pagerduty"), ...receiverCommon }),
    z.strictObject({ kind: z.literal("webhook"), ...receiverCommon }),
  ],
  { error: fix("kind must be slack, pagerduty or webhook", "set kind to one of the three") },
);

/** The AWS alerting section: receivers whose credentials Secrets Manager holds, and the heartbeat. */
export const awsAlertingSchema = z
  .strictObject({
    receivers: z.array(alertReceiverSchema).default([]),
    /**
     * Dead man's switch: the always-firing `Watchdog` alert is posted every `intervalMinutes`
     * to a healthchecks-style URL (the service alerts when the pings stop). The URL is read
     * from this Secrets Manager secret, copied into `alert-receiver-heartbeat` (key `url`).
     * @default none (Watchdog goes nowhere)
     */
    heartbeat: z
      .strictObject({
        secret: receiverCommon.secret,
        /** Minutes between pings; the checking service's period must be longer. @default 5 */
        intervalMinutes: heartbeatInterval,
      })
      .optional(),
  })
  .prefault({});

const receiverName = (example: string) =>
  z.string().regex(/^[a-z][a-z0-9-]{0,38}[a-z0-9]$/, {
    error: fix("must be 2 to 40 lower-case letters, digits or hyphens", `use a name like ${example}`),
  });
const receiverSeverities = (example: string) =>
  z.array(z.enum(ALERT_SEVERITIES)).min(1, {
    error: fix("must list at least one severity", `list e.g. ${example}`),
  });
/**
 * HTTP proxy Alertmanager sends this receiver's notifications through (`http_config.proxy_url`),
 * where the cluster reaches the internet only through one. @default none (direct)
 */
const proxyUrl = notificationUrl("an HTTP proxy", "http://proxy.example.com:3128").optional();

/**
 * An alert receiver. Its credential is the Secret `alert-receiver-<name>` the platform team
 * creates in the state namespace: key `api-url` (Slack: the incoming-webhook URL, or the URL of
 * an internal relay that forwards to Slack), `routing-key` (PagerDuty: the Events API v2
 * integration key) or `url` (webhook). The plan fails when the key is missing.
 */
export const onPremReceiverSchema = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("slack"),
      name: receiverName("platform-team"),
      severities: receiverSeverities('["critical", "warning"]'),
      channel: z.string().regex(/^#[a-z0-9][a-z0-9._-]{0,79}$/, {
        error: fix("must be a Slack channel such as #mlops-alerts", "start it with # and use lower case"),
      }),
      proxyUrl,
    }),
    z.strictObject({
      kind: z.literal("pagerduty"),
      name: receiverName("on-call"),
      severities: receiverSeverities('["critical"]'),
      proxyUrl,
      /**
       * Events API v2 endpoint Alertmanager posts to, e.g. an internal relay that forwards to
       * PagerDuty (`pagerduty_configs[].url`). @default https://events.pagerduty.com/v2/enqueue
       */
      url: notificationUrl(
        "the Events API v2 endpoint or a relay",
        "https://pagerduty-relay.example.com/v2/enqueue",
      )
        .superRefine((text, ctx) => {
          if (notificationUrlProblem(text) !== undefined) return;
          const url = new URL(text);
          if (
            url.search !== "" ||
            url.hash !== "" ||
            credentialShape(url.pathname.split("/").pop() ?? "") !== undefined
          )
            ctx.addIssue({
              code: "custom",
              input: text,
              message: fix(
                "carries a query or a key in the URL; Alertmanager sends the routing key in the event body, read from the receiver's Secret",
                `use ${url.origin}${url.pathname.replace(/\/[A-Za-z0-9]{32}$/, "")} and put the routing key in the Secret alert-receiver-<name> (key routing-key)`,
              ),
            });
        })
        .optional(),
    }),
    z.strictObject({
      kind: z.literal("webhook"),
      name: receiverName("on-call"),
      severities: receiverSeverities('["critical"]'),
      proxyUrl,
    }),
  ],
  { error: fix("kind must be slack, pagerduty or webhook", "set kind to one of the three") },
);

/**
 * Where Alertmanager sends alerts. Each receiver reads its credential from the Secret
 * `alert-receiver-<name>` made by hand in the state namespace, under the key its kind
 * reads: `api-url` (slack), `routing-key` (pagerduty), `url` (webhook).
 */
export const onPremAlertingSchema = z
  .strictObject({
    receivers: z.array(onPremReceiverSchema).default([]),
    /**
     * Dead man's switch: the always-firing `Watchdog` alert is posted every
     * `intervalMinutes` to a healthchecks-style URL, read from the hand-made Secret
     * `alert-receiver-heartbeat` (key `url`); the service alerts when the pings stop.
     * @default none (Watchdog goes nowhere)
     */
    heartbeat: z
      .strictObject({
        /** HTTP proxy the pings go through. @default none (direct) */
        proxyUrl,
        /** Minutes between pings; the checking service's period must be longer. @default 5 */
        intervalMinutes: heartbeatInterval,
      })
      .optional(),
  })
  .prefault({});

/**
 * Receiver names are unique within an environment (Alertmanager refuses a configuration with
 * two receivers of one name), and neither the dropping receiver's nor the heartbeat's.
 */
export function receiverNameProblems(
  alerting: { readonly receivers: readonly { readonly name: string }[]; readonly heartbeat?: unknown },
  ctx: z.RefinementCtx<unknown>,
  uniqueReason: string,
): void {
  const receiverNames = new Set<string>(alerting.heartbeat ? ["heartbeat"] : []);
  alerting.receivers.forEach((receiver, index) => {
    if (receiverNames.has(receiver.name) || receiver.name === "null")
      ctx.addIssue({
        code: "custom",
        path: ["platform", "alerting", "receivers", index, "name"],
        input: receiver.name,
        message: fix(
          receiver.name === "null"
            ? "is the name of the receiver that drops alerts"
            : receiver.name === "heartbeat" && alerting.heartbeat
              ? "is the name of the heartbeat's receiver (platform.alerting.heartbeat is set)"
              : `must be unique among the receivers${uniqueReason}`,
          "give every receiver its own name",
        ),
      });
    receiverNames.add(receiver.name);
  });
}

/** A Secrets Manager secret named by name or ARN, as one key (an ARN's random suffix dropped). */
function secretIdentity(secret: { readonly remoteKey: string; readonly property?: string }): string {
  const arn = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+?)(?:-[A-Za-z0-9]{6})?$/.exec(
    secret.remoteKey,
  );
  return `${arn?.[1] ?? secret.remoteKey}#${secret.property ?? ""}`;
}

type AwsReceiver = z.output<typeof alertReceiverSchema>;

/**
 * Two receivers reading one secret post to one webhook (or page through one integration): every
 * route sets `continue`, so an alert both take is delivered twice. Receivers of one secret
 * that share no severity are a real use (one webhook, one receiver per severity), and so are
 * Slack receivers of one webhook that name different channels (a webhook that lets the message
 * choose its channel). The heartbeat reading a receiver's secret would ping Watchdog into it.
 */
export function sharedReceiverSecretProblems(
  alerting: {
    readonly receivers: readonly AwsReceiver[];
    readonly heartbeat?: { readonly secret: AwsReceiver["secret"] };
  },
  ctx: z.RefinementCtx<unknown>,
): void {
  const where = (index: number) => `platform.alerting.receivers[${index}]`;
  const issue = (index: number, input: unknown, message: string) =>
    ctx.addIssue({
      code: "custom",
      path: ["platform", "alerting", "receivers", index, "secret", "remoteKey"],
      input,
      message,
    });
  alerting.receivers.forEach((receiver, index) => {
    const key = secretIdentity(receiver.secret);
    const first = alerting.receivers.findIndex((other) => secretIdentity(other.secret) === key);
    const other = alerting.receivers[first];
    // A copy of a receiver under the same name is refused once, for its name.
    if (first < index && other.name !== receiver.name) {
      const shared = receiver.severities.filter((severity) => other.severities.includes(severity));
      const ownChannels =
        receiver.kind === "slack" && other.kind === "slack" && receiver.channel !== other.channel;
      if (receiver.kind !== other.kind)
        issue(
          index,
          receiver.secret.remoteKey,
          fix(
            `is the secret ${where(first)} (${other.name}, ${other.kind}) reads too, but this receiver (${receiver.name}) is a ${receiver.kind} receiver: one credential cannot be both a ${other.kind} and a ${receiver.kind} one`,
            `give ${receiver.name} the secret holding its own ${receiver.kind === "pagerduty" ? "routing key" : "webhook URL"}`,
          ),
        );
      else if (shared.length > 0 && !ownChannels)
        issue(
          index,
          receiver.secret.remoteKey,
          fix(
            `is the secret ${where(first)} (${other.name}) reads too, and ${other.name} and ${receiver.name} both take ${shared.join(", ")} alerts: every such alert would be posted twice to the same ${receiver.kind === "pagerduty" ? "integration" : "webhook"}`,
            `merge ${other.name} and ${receiver.name} into one receiver listing the severities of both, or give ${receiver.name} a secret of its own`,
          ),
        );
    }
  });
  const heartbeat = alerting.heartbeat;
  if (heartbeat === undefined) return;
  const taken = alerting.receivers.findIndex(
    (receiver) => secretIdentity(receiver.secret) === secretIdentity(heartbeat.secret),
  );
  if (taken >= 0)
    ctx.addIssue({
      code: "custom",
      path: ["platform", "alerting", "heartbeat", "secret", "remoteKey"],
      input: heartbeat.secret.remoteKey,
      message: fix(
        `is the secret ${where(taken)} (${alerting.receivers[taken].name}) reads: Watchdog would be posted there every few minutes, and the heartbeat service would get no ping`,
        "give the heartbeat the secret holding the heartbeat service's ping URL, e.g. mlops/<env>/alerting/heartbeat",
      ),
    });
}
