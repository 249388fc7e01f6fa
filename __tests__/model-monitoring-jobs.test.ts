/**
 * The drift and performance jobs: the release's and the environment's monitoring fields and their
 * refusals, the CronJob `monitor-<model>` each logging model gets, its identity (list and read of
 * its own data only), its network flow to the Pushgateway, and the Pushgateway itself.
 */
import { releaseContentSchema } from "../environments/release-schema";
import { parseRelease } from "../environments/releases";
import { loadEnvironments } from "../environments/load";
import { capacityProblems, instanceCapacity } from "../environments/capacity";
import { ENVIRONMENTS } from "../environments";
import { releaseReplicationProblems } from "../stacks/promotion-topology";
import { longestIntervalMinutes, parseCron, shortestIntervalMinutes } from "../constructs/lib/cron";
import { monitoringScheduleProblem } from "../environments/fields/monitoring";
import { MODEL_MONITORING_JOB } from "../constructs/serving/model-monitoring";
import { fixtureReleaseText, releasesWith } from "./support/release-files";
import { Testing } from "cdktf";
import { loadBuilds } from "../stacks/synthesize";
import { addEnvironmentStacks } from "../stacks/app";
import { variant } from "./support/environment-variant";
import { policyStatements, resourcesOf, synthesizeWithFixtureReleases } from "./support/synth";
import { parse } from "yaml";

const content = (): any => {
  const { promotedAt: _at, promotedFrom: _from, ...rest } = JSON.parse(fixtureReleaseText("dev")).current;
  return rest;
};
/** The fixture's first model with its monitoring section changed. */
const withMonitoring = (change: (monitoring: any) => void): any => {
  const release = content();
  change(release.models[0].monitoring);
  return release;
};
const issues = (release: unknown) => {
  const parsed = releaseContentSchema.safeParse(release);
  return parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
};
const byName = (name: string): any => ENVIRONMENTS.find((input) => input.name === name)!;

describe("five-field cron expressions", () => {
  it("reads lists, ranges, steps and names, and how close two runs can come", () => {
    const parsed = parseCron("15 * * * *");
    expect(parsed.ok && shortestIntervalMinutes(parsed.fields)).toBe(60);
    const twice = parseCron("0,40 6-8 * jan-mar mon-fri");
    expect(twice.ok && shortestIntervalMinutes(twice.fields)).toBe(20);
    const nightly = parseCron("30 2 * * *");
    expect(nightly.ok && shortestIntervalMinutes(nightly.fields)).toBe(24 * 60);
    const stepped = parseCron("*/10 * * * *");
    expect(stepped.ok && shortestIntervalMinutes(stepped.fields)).toBe(10);
  });

  it.each([
    ["hourly", "15 * * * *", 60],
    ["3-hourly", "0 */3 * * *", 3 * 60],
    ["daily", "30 2 * * *", 24 * 60],
    ["irregular hours (6, 7, 8, then 22)", "0 6-8,22 * * *", 14 * 60],
    ["weekdays only (Friday to Monday)", "0 2 * * mon-fri", 3 * 24 * 60],
    ["weekly", "0 4 * * mon", 7 * 24 * 60],
    ["monthly (January 31st to March 1st)", "0 3 1 * *", 31 * 24 * 60],
    ["the 31st (skips the 30-day months: Aug 31 to Oct 31)", "0 3 31 * *", 61 * 24 * 60],
    ["a day of month or a weekday, when both are given", "0 3 1 * sun", 7 * 24 * 60],
    ["a list holding * in day of month: the weekday alone decides", "0 3 *,1 * sun", 7 * 24 * 60],
    ["29 February (a leap year to the next)", "0 0 29 2 *", (4 * 365 + 1) * 24 * 60],
  ])("longestIntervalMinutes: %s (%s) is %d minutes", (_title, expression, minutes) => {
    const parsed = parseCron(expression);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(longestIntervalMinutes(parsed)).toBe(minutes);
  });

  it("longestIntervalMinutes: undefined for a day that never comes (30 February)", () => {
    const parsed = parseCron("0 3 30 2 *");
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(longestIntervalMinutes(parsed)).toBeUndefined();
  });

  it("names the field that is wrong", () => {
    expect(parseCron("15 * * *")).toEqual({ ok: false, reason: expect.stringContaining("has 4 fields") });
    expect(parseCron("60 * * * *")).toEqual({
      ok: false,
      reason: expect.stringContaining('minute field "60" is outside 0-59'),
    });
    expect(parseCron("0 5-2 * * *")).toEqual({
      ok: false,
      reason: expect.stringContaining("runs backwards"),
    });
    expect(parseCron("@hourly ")).toEqual({ ok: false, reason: expect.stringContaining("not a shorthand") });
  });

  it("takes day of week 0-6 as Kubernetes' robfig/cron v3 does, refusing 7 with the fix", () => {
    expect(parseCron("0 3 * * 6").ok).toBe(true);
    for (const expression of ["0 3 * * 7", "0 3 * * 5-7", "0 3 * * 1,7"]) {
      expect(parseCron(expression)).toEqual({
        ok: false,
        reason: expect.stringContaining("day of week field"),
        fix: expect.stringContaining("use 0 for Sunday"),
      });
    }
    expect(monitoringScheduleProblem("15 2 * * 7")).toBe(
      'must be a five-field cron expression (UTC), but its day of week field "7" is outside 0-6 (or a three-letter name); fix: use 0 for Sunday (Kubernetes\' cron library takes day of week 0-6)',
    );
  });

  it("accepts the shorthands Kubernetes accepts, as their five fields, and refuses @every", () => {
    const asFields = (expression: string): unknown => {
      const parsed = parseCron(expression);
      return parsed.ok ? parsed.fields : parsed.reason;
    };
    expect(asFields("@hourly")).toEqual(asFields("0 * * * *"));
    expect(asFields("@daily")).toEqual(asFields("0 0 * * *"));
    expect(asFields("@midnight")).toEqual(asFields("0 0 * * *"));
    expect(asFields("@weekly")).toEqual(asFields("0 0 * * 0"));
    expect(asFields("@monthly")).toEqual(asFields("0 0 1 * *"));
    expect(asFields("@yearly")).toEqual(asFields("0 0 1 1 *"));
    expect(asFields("@annually")).toEqual(asFields("0 0 1 1 *"));
    const hourly = parseCron("@hourly");
    expect(hourly.ok && shortestIntervalMinutes(hourly.fields)).toBe(60);
    expect(monitoringScheduleProblem("@daily")).toBeUndefined();
    expect(parseCron("@every 1h")).toEqual({
      ok: false,
      reason: expect.stringContaining("@every"),
      fix: expect.stringContaining("five fields"),
    });
  });

  it("words a refusal as one clause about the expression and one fix", () => {
    const problem = monitoringScheduleProblem("60 * * * *")!;
    expect(problem).toBe(
      'must be a five-field cron expression (UTC), but its minute field "60" is outside 0-59; fix: write minute hour day-of-month month day-of-week, e.g. "15 * * * *" for hourly at :15',
    );
    expect(monitoringScheduleProblem("15 * * *")).toContain("but it has 4 fields, not five");
  });
});

describe("release monitoring fields", () => {
  it("accept the fixture's settings and leave schedule and drift threshold to the environment", () => {
    const parsed = releaseContentSchema.parse(content());
    expect(parsed.monitoring?.image.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parsed.models[0].monitoring).toMatchObject({
      referenceData: expect.stringMatching(/^mlflow\/1\/\w+\/artifacts\/reference$/),
      groundTruth: "ground-truth/churn-classifier",
      performance: { metric: "auc", threshold: 0.8 },
    });
    expect(parsed.models[0].monitoring.schedule).toBeUndefined();
    expect(parsed.models[0].monitoring.driftThreshold).toBeUndefined();
  });

  it.each([
    ["s3://other-bucket/reference", "must be a path inside the environment's artifacts bucket"],
    ["/mlflow/1/run/artifacts/reference", "must be a path inside the environment's artifacts bucket"],
    ["mlflow/1/../../other/reference", "must not contain .., . or an empty segment"],
    ["mlflow//reference", "must not contain .., . or an empty segment"],
  ])("refuses a reference data set outside the artifacts bucket: %s", (path, rule) => {
    expect(issues(withMonitoring((m) => (m.referenceData = path)))).toEqual([
      {
        path: "models.0.monitoring.referenceData",
        message: expect.stringMatching(new RegExp(`^${rule.replace(/\./g, "\\.")}.*; fix: `)),
      },
    ]);
  });

  it("requires a reference data set of a model that logs, not of one that logs nothing", () => {
    expect(issues(withMonitoring((m) => delete m.referenceData))).toEqual([
      {
        path: "models.0.monitoring.referenceData",
        message: expect.stringMatching(
          /^is required for a model that logs .*; fix: name the reference data set/,
        ),
      },
    ]);
    expect(
      issues(
        withMonitoring((m) => {
          for (const field of ["referenceData", "groundTruth", "driftThreshold", "performance", "schedule"])
            delete m[field];
          m.logging = { mode: "off" };
        }),
      ),
    ).toEqual([]);
  });

  it("refuses monitoring settings of a model that logs nothing, since it has no monitoring job", () => {
    const found = issues(
      withMonitoring((m) => {
        m.logging = { mode: "off" };
        m.referenceData = "mlflow/1/abc/artifacts/reference";
        m.groundTruth = "ground-truth/churn";
        m.driftThreshold = 0.3;
        m.performance = { metric: "accuracy", threshold: 0.8 };
        m.schedule = "15 * * * *";
      }),
    );
    expect(found.map((issue) => issue.path)).toEqual(
      ["referenceData", "groundTruth", "driftThreshold", "performance", "schedule"].map(
        (field) => `models.0.monitoring.${field}`,
      ),
    );
    expect(found[3].message).toBe(
      'has no effect: a model that logs nothing (monitoring.logging.mode = "off") has no monitoring job; fix: remove monitoring.performance, or log responses (monitoring.logging.mode = "response") so the job runs',
    );
  });

  it("refuses ground truth outside the data bucket or among the logged predictions", () => {
    expect(issues(withMonitoring((m) => (m.groundTruth = "s3://labels/churn")))[0].path).toBe(
      "models.0.monitoring.groundTruth",
    );
    expect(issues(withMonitoring((m) => (m.groundTruth = "predictions/churn-classifier/labels")))).toEqual([
      {
        path: "models.0.monitoring.groundTruth",
        message: expect.stringMatching(/^must not be under predictions\/.*; fix: use a prefix of its own/),
      },
    ]);
  });

  it.each([
    ["accuracy", 1.2, "must be between 0 and 1 for accuracy"],
    ["auc", -0.1, "must be between 0 and 1 for auc"],
    ["rmse", -3, "must be 0 or more for rmse"],
  ])("refuses a %s threshold of %s", (metric, threshold, rule) => {
    expect(issues(withMonitoring((m) => (m.performance = { metric, threshold })))).toEqual([
      { path: "models.0.monitoring.performance.threshold", message: expect.stringContaining(`${rule}, `) },
    ]);
  });

  it("accepts an error metric above 1, and refuses a metric the contract does not name", () => {
    expect(issues(withMonitoring((m) => (m.performance = { metric: "mae", threshold: 12.5 })))).toEqual([]);
    expect(
      issues(withMonitoring((m) => (m.performance = { metric: "precision", threshold: 0.5 })))[0],
    ).toEqual({
      path: "models.0.monitoring.performance.metric",
      message: expect.stringContaining("must be one of accuracy, f1, auc, rmse, mae"),
    });
  });

  it("refuses performance without ground truth", () => {
    expect(issues(withMonitoring((m) => delete m.groundTruth))).toEqual([
      {
        path: "models.0.monitoring.performance",
        message: expect.stringMatching(
          /^needs monitoring.groundTruth.*; fix: name where the labelled outcomes land/,
        ),
      },
    ]);
  });

  it.each([0, 1.5, -0.2])("refuses a drift threshold of %s", (threshold) => {
    expect(issues(withMonitoring((m) => (m.driftThreshold = threshold)))).toEqual([
      {
        path: "models.0.monitoring.driftThreshold",
        message: expect.stringContaining("must be above 0 and at most 1"),
      },
    ]);
  });

  it("refuses a schedule that is not five-field cron, or that runs more often than a run may last", () => {
    expect(issues(withMonitoring((m) => (m.schedule = "hourly")))).toEqual([
      {
        path: "models.0.monitoring.schedule",
        message: expect.stringMatching(
          /^must be a five-field cron expression \(UTC\), but it has 1 fields.*; fix: /,
        ),
      },
    ]);
    expect(issues(withMonitoring((m) => (m.schedule = "*/15 * * * *")))).toEqual([
      {
        path: "models.0.monitoring.schedule",
        message: expect.stringMatching(
          new RegExp(
            `^runs every 15 minutes at its closest, more often than the monitoring job's ${MODEL_MONITORING_JOB.deadlineSeconds / 60}-minute deadline allows.*; fix: leave at least`,
          ),
        ),
      },
    ]);
    expect(issues(withMonitoring((m) => (m.schedule = "0 */2 * * *")))).toEqual([]);
  });

  it("refuses a monitoring image named by tag, and a release whose logging models name no image", () => {
    const tagged = content();
    tagged.monitoring.image = { tag: "1.5.0" };
    expect(issues(tagged)).toContainEqual({
      path: "monitoring.image.tag",
      message: expect.stringMatching(
        /^the monitoring image is named by digest only.*; fix: replace tag with "digest"/,
      ),
    });
    const file = JSON.parse(fixtureReleaseText("dev"));
    delete file.current.monitoring;
    const result = parseRelease("releases/dev.json", JSON.stringify(file, null, 2));
    expect(result.ok ? [] : result.problems).toEqual([
      expect.stringMatching(
        /^releases\/dev\.json:2: current\.monitoring is missing: churn-classifier, demand-forecaster log predictions, .*; fix: add "monitoring": \{ "image": \{ "digest": "sha256:<64 hex>" \} \}/,
      ),
    ]);
  });

  it("refuses, on an environment that receives models by replication, a reference data set outside the replicated prefix", () => {
    const release = releaseContentSchema.parse(
      withMonitoring((m) => (m.referenceData = "datasets/churn/reference")),
    );
    const producer = {
      environment: "dev",
      accountId: "111111111111",
      region: "eu-west-1",
      replicateImages: false,
    };
    expect(releaseReplicationProblems("staging", release, { producer, consumers: [] } as any)).toEqual([
      expect.stringMatching(
        /^releases\/staging\.json: current\.models\[0\]\.monitoring\.referenceData = "datasets\/churn\/reference": is outside mlflow\/, the only prefix replicated from dev; fix: /,
      ),
    ]);
  });
});

describe("environment monitoring defaults", () => {
  it("default to hourly at :15, a drift threshold of 0.25 and a 120-minute stall", () => {
    const loaded = loadEnvironments([byName("dev"), byName("onprem-test")]);
    if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
    for (const env of loaded.environments)
      expect(env.monitoring).toEqual({
        schedule: "15 * * * *",
        driftThreshold: 0.25,
        predictionLogStallMinutes: 120,
      });
  });

  it.each(["dev", "onprem-test"])("refuse bad values in %s with one line each", (name) => {
    const loaded = loadEnvironments([
      variant(byName(name), (env) => {
        env.monitoring = { schedule: "*/5 * * * *", driftThreshold: 2, predictionLogStallMinutes: 1 };
      }),
    ]);
    expect(loaded.ok ? [] : loaded.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${name}: monitoring\\.schedule = "\\*/5 \\* \\* \\* \\*": runs every 5 minutes .*; fix: `,
        ),
      ),
      expect.stringMatching(
        new RegExp(`^${name}: monitoring\\.driftThreshold = 2: must be above 0 and at most 1; fix: `),
      ),
      expect.stringMatching(
        new RegExp(
          `^${name}: monitoring\\.predictionLogStallMinutes = 1: must be between 10 and 10080; fix: `,
        ),
      ),
    ]);
  });
});

describe("training nodes a monitoring run must fit", () => {
  it("knows the sizes of the general, compute, memory and burstable classes", () => {
    expect(instanceCapacity("c5.2xlarge")).toEqual({ vcpus: 8, memoryGib: 16 });
    expect(instanceCapacity("t3.small")).toEqual({ vcpus: 2, memoryGib: 2 });
    expect(instanceCapacity("r6i.large")).toEqual({ vcpus: 2, memoryGib: 16 });
    expect(instanceCapacity("g5.xlarge")).toBeUndefined();
  });

  it("refuses a training instance type too small for the job, and accepts the registry's", () => {
    const release = releaseContentSchema.parse(content());
    const load = (input: unknown) => {
      const loaded = loadEnvironments([input]);
      if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
      return loaded.environments[0];
    };
    expect(capacityProblems(load(byName("dev")), release, "releases/dev.json")).toEqual([]);
    const small = load(
      variant(byName("dev"), (env) => {
        env.nodeGroups.training = { ...env.nodeGroups.training, instanceTypes: ["c5.large", "c5a.large"] };
      }),
    );
    expect(capacityProblems(small, release, "releases/dev.json")).toEqual([
      expect.stringMatching(
        /^dev: nodeGroups\.training\.instanceTypes\[0\] = "c5\.large": leaves about \d+m CPU and \d+Mi memory to pods, less than a monitoring job needs \(1 CPU requested, 4Gi memory at its limit\) for churn-classifier, demand-forecaster in releases\/dev\.json; fix: /,
      ),
      expect.stringMatching(/^dev: nodeGroups\.training\.instanceTypes\[1\] = "c5a\.large": /),
    ]);
  });
});

describe("a stall window the monitoring runs can keep", () => {
  const load = (input: unknown) => {
    const loaded = loadEnvironments([input]);
    if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
    return loaded.environments[0];
  };
  const release = (change: (monitoring: any) => void) => releaseContentSchema.parse(withMonitoring(change));

  it("accepts the registry's hourly default against the 120-minute default, on AWS and on-prem", () => {
    for (const name of ["dev", "onprem-test"])
      expect(
        capacityProblems(
          load(byName(name)),
          release(() => undefined),
          "releases/x.json",
        ),
      ).toEqual([]);
  });

  it("refuses a 3-hourly model under a 120-minute window, naming both fields and the minimum", () => {
    expect(
      capacityProblems(
        load(byName("dev")),
        release((m) => (m.schedule = "0 */3 * * *")),
        "releases/dev.json",
      ),
    ).toEqual([
      `dev: monitoring.predictionLogStallMinutes = 120: must be above the longest gap between churn-classifier's monitoring runs (180 minutes on "0 */3 * * *", models[0].monitoring.schedule in releases/dev.json) plus the run's 45-minute deadline, or PredictionLoggingStalled fires while its logging works; fix: raise monitoring.predictionLogStallMinutes to at least 226, or run churn-classifier's monitoring more often (models[0].monitoring.schedule in releases/dev.json)`,
    ]);
  });

  it("counts the batch interval, and takes the environment's schedule where the release names none", () => {
    const env = load(
      variant(byName("onprem-test"), (e) => {
        e.monitoring = { schedule: "0 */2 * * *", predictionLogStallMinutes: 170 };
      }),
    );
    // 120 + 45 = 165 < 170, but a 10-minute batch interval brings it to 175.
    expect(
      capacityProblems(
        env,
        release(() => undefined),
        "releases/onprem-test.json",
      ),
    ).toEqual([]);
    expect(
      capacityProblems(
        env,
        release((m) => (m.logging = { mode: "all", batchSize: 50, batchInterval: "10m" })),
        "releases/onprem-test.json",
      ),
    ).toEqual([
      expect.stringMatching(
        /^onprem-test: monitoring\.predictionLogStallMinutes = 170: must be above the longest gap between churn-classifier's monitoring runs \(120 minutes on "0 \*\/2 \* \* \*", the environment's monitoring\.schedule\) plus the run's 45-minute deadline plus its batchInterval 10m, .*; fix: raise monitoring\.predictionLogStallMinutes to at least 176, /,
      ),
    ]);
  });

  it("says a weekly model cannot be watched within the window's maximum", () => {
    const [problem] = capacityProblems(
      load(byName("dev")),
      release((m) => (m.schedule = "0 4 * * mon")),
      "releases/dev.json",
    );
    expect(problem).toContain("to at least 10126 (above its 10080 maximum, so schedule the runs more often)");
  });

  it("refuses a schedule that never runs (30 February)", () => {
    expect(issues(withMonitoring((m) => (m.schedule = "0 3 30 2 *")))).toEqual([
      {
        path: "models.0.monitoring.schedule",
        message: expect.stringMatching(/^never runs: .*; fix: name a day that exists/),
      },
    ]);
  });
});

describe("monitoring jobs in the AWS environments", () => {
  // The fixture releases, which never move (staging's holds a canary).
  const synthesized = synthesizeWithFixtureReleases();
  const cronJobs = (name: string) =>
    Object.values<any>(resourcesOf(synthesized[name].serving.json, "kubernetes_cron_job_v1"));
  const monitorJobs = (name: string) =>
    cronJobs(name).filter((job) => job.metadata.labels["app.kubernetes.io/name"] === "model-monitoring");
  const envOf = (job: any) =>
    Object.fromEntries(
      job.spec.job_template.spec.template.spec.container[0].env.map((e: any) => [e.name, e.value]),
    );

  it("gives every model that logs its own CronJob on the training nodes, labelled by the contract", () => {
    const jobs = monitorJobs("dev");
    expect(jobs.map((job) => job.metadata.name).sort()).toEqual([
      "monitor-churn-classifier",
      "monitor-demand-forecaster",
    ]);
    for (const job of jobs) {
      const model = job.metadata.name.replace(/^monitor-/, "");
      expect(job.metadata.labels).toEqual({
        "app.kubernetes.io/name": "model-monitoring",
        "mlops-platform/model": model,
      });
      expect(job.metadata.namespace).toBe("mlops");
      expect(job.spec.schedule).toBe("15 * * * *");
      expect(job.spec.concurrency_policy).toBe("Forbid");
      const template = job.spec.job_template.spec.template;
      expect(template.metadata.labels).toEqual(job.metadata.labels);
      expect(job.spec.job_template.spec.active_deadline_seconds).toBe(MODEL_MONITORING_JOB.deadlineSeconds);
      expect(template.spec.node_selector).toEqual({ workload: "training" });
      expect(template.spec.toleration).toEqual([
        expect.objectContaining({ key: "workload", value: "training" }),
      ]);
      expect(template.spec.service_account_name).toMatch(
        /^\$\{kubernetes_service_account_v1\.ModelMonitoringAccount\.metadata\[0\]\.name\}$/,
      );
      const container = template.spec.container[0];
      expect(container.image).toMatch(/\/mlops-training@sha256:[0-9a-f]{64}$|@sha256:[0-9a-f]{64}$/);
      expect(container.image).toContain(
        `@${JSON.parse(fixtureReleaseText("dev")).current.monitoring.image.digest}`,
      );
      expect(container.resources.requests).toEqual(MODEL_MONITORING_JOB.resources.requests);
      expect(container.resources.limits).toEqual(MODEL_MONITORING_JOB.resources.limits);
    }
  });

  it("tells the image where predictions, reference data, ground truth and the Pushgateway are", () => {
    const churn = monitorJobs("dev").find((job) => job.metadata.name === "monitor-churn-classifier");
    const env = envOf(churn);
    const release = JSON.parse(fixtureReleaseText("dev")).current;
    const model = release.models.find((m: any) => m.name === "churn-classifier");
    expect(env).toMatchObject({
      MODEL_NAME: "churn-classifier",
      MODEL_VERSIONS: `v${model.version}`,
      PUSHGATEWAY_URL: "http://prometheus-pushgateway.monitoring.svc:9091",
      PUSHGATEWAY_JOB: "model-monitoring",
      PERFORMANCE_METRIC: "auc",
    });
    expect(env.PREDICTIONS_URI).toMatch(
      /^s3:\/\/\$\{[^}]*DataBucket[^}]*\}\/predictions\/churn-classifier\/$/,
    );
    expect(env.REFERENCE_DATA_URI).toMatch(
      new RegExp(`^s3://\\$\\{[^}]*ArtifactsBucket[^}]*\\}/${model.monitoring.referenceData}$`),
    );
    expect(env.GROUND_TRUTH_URI).toMatch(
      /^s3:\/\/\$\{[^}]*DataBucket[^}]*\}\/ground-truth\/churn-classifier$/,
    );
  });

  it("names the canary's version beside the stable one", () => {
    const churn = monitorJobs("staging").find((job) => job.metadata.name === "monitor-churn-classifier");
    const model = JSON.parse(fixtureReleaseText("staging")).current.models.find(
      (m: any) => m.name === "churn-classifier",
    );
    expect(envOf(churn).MODEL_VERSIONS).toBe(`v${model.version},v${model.canary.version}`);
  });

  it("lets the monitoring role list and read only its models' predictions, reference data and ground truth", () => {
    const foundation = synthesized.dev.foundation.json;
    const [policy] = Object.entries<any>(resourcesOf(foundation, "aws_iam_role_policy"))
      .filter(([id]) => id.startsWith("ModelMonitoringIdentity"))
      .map(([, resource]) => resource);
    const statements = policyStatements(foundation, policy.policy);
    const actions = statements.flatMap((s: any) => s.actions).sort();
    expect(actions).toEqual([
      "kms:Decrypt",
      "kms:DescribeKey",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListBucket",
    ]);
    const list = (sid: string) => statements.find((s: any) => s.sid === sid);
    expect(list("ListPredictionsAndGroundTruth").condition).toEqual([
      {
        test: "StringLike",
        variable: "s3:prefix",
        values: [
          "predictions/churn-classifier",
          "predictions/churn-classifier/*",
          "ground-truth/churn-classifier",
          "ground-truth/churn-classifier/*",
          "predictions/demand-forecaster",
          "predictions/demand-forecaster/*",
          "ground-truth/demand-forecaster",
          "ground-truth/demand-forecaster/*",
        ],
      },
    ]);
    expect(list("ListReferenceData").condition[0].values).toEqual(
      expect.arrayContaining([expect.stringMatching(/^mlflow\/1\/\w+\/artifacts\/reference\/\*$/)]),
    );
    const read = statements.find((s: any) => s.sid === "ReadObjectsUnderPrefixes");
    expect(
      read.resources.every((r: string) =>
        /\/(predictions|ground-truth)\/[\w-]+(\/\*)?$|\/mlflow\/\d\/\w+\/artifacts\/reference(\/\*)?$/.test(
          r,
        ),
      ),
    ).toBe(true);
    const kms = statements.find((s: any) => s.sid === "UseBucketKeyThroughS3");
    expect(kms.condition).toEqual([expect.objectContaining({ variable: "kms:ViaService" })]);
  });

  it("admits the monitoring pods' egress to the Pushgateway's port in the monitoring namespace only", () => {
    const policies = Object.values<any>(
      resourcesOf(synthesized.dev.platform.json, "kubernetes_network_policy_v1"),
    );
    const rule = policies.find((p) => p.metadata.name === "allow-egress-pushgateway");
    expect(rule.metadata.namespace).toMatch(
      /^\$\{kubernetes_namespace_v1\.ServingNamespace_\w+\.metadata\[0\]\.name\}$/,
    );
    expect(rule.spec.pod_selector.match_labels).toEqual({ "app.kubernetes.io/name": "model-monitoring" });
    expect(rule.spec.egress).toEqual([
      {
        to: [
          {
            namespace_selector: { match_labels: { "kubernetes.io/metadata.name": "monitoring" } },
            pod_selector: {
              match_labels: {
                "app.kubernetes.io/name": "prometheus-pushgateway",
                "app.kubernetes.io/instance": "prometheus-pushgateway",
              },
            },
          },
        ],
        ports: [{ port: "9091", protocol: "TCP" }],
      },
    ]);
  });

  const pushgatewayOf = (platform: any, type: string): any => {
    const found = Object.values<any>(resourcesOf(platform, type)).filter(
      (r) => r.metadata.name === "prometheus-pushgateway",
    );
    expect(found).toHaveLength(1);
    return found[0];
  };
  const monitoringNamespace = /^\$\{kubernetes_namespace_v1\.MonitoringNamespace_\w+\.metadata\[0\]\.name\}$/;

  it("runs the Pushgateway as the platform's own one-replica Deployment, restricted and in memory only", () => {
    const platform = synthesized.dev.platform.json;
    const deployment = pushgatewayOf(platform, "kubernetes_deployment_v1");
    expect(deployment.metadata.namespace).toMatch(monitoringNamespace);
    expect(deployment.spec.replicas).toBe("1");
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
    const pod = deployment.spec.template.spec;
    expect(pod.automount_service_account_token).toBe(false);
    expect(pod.security_context).toMatchObject({
      run_as_non_root: true,
      run_as_user: "65534",
      seccomp_profile: { type: "RuntimeDefault" },
    });
    expect(pod.container).toHaveLength(1);
    const [container] = pod.container;
    expect(container.image).toBe("quay.io/prometheus/pushgateway:v1.11.3");
    expect(container.args).toBeUndefined();
    expect(container.security_context).toEqual({
      allow_privilege_escalation: false,
      read_only_root_filesystem: true,
      run_as_non_root: true,
      capabilities: { drop: ["ALL"] },
      seccomp_profile: { type: "RuntimeDefault" },
    });
    expect(container.resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { memory: "256Mi" },
    });
    expect(container.port).toEqual([{ name: "http", container_port: 9091, protocol: "TCP" }]);
    expect(container.liveness_probe.http_get).toEqual({ path: "/-/healthy", port: "http" });
    expect(container.readiness_probe.http_get).toEqual({ path: "/-/ready", port: "http" });
    // No volume, no claim: pushed groups live in memory.
    expect(pod.volume).toBeUndefined();
    expect(container.volume_mount).toBeUndefined();
    expect(Object.keys(resourcesOf(platform, "helm_release")).some((id) => /Pushgateway/.test(id))).toBe(
      false,
    );
  });

  it("serves the jobs' URL from a Service selecting the Deployment's pods", () => {
    const platform = synthesized.dev.platform.json;
    const service = pushgatewayOf(platform, "kubernetes_service_v1");
    const deployment = pushgatewayOf(platform, "kubernetes_deployment_v1");
    expect(service.metadata.namespace).toMatch(monitoringNamespace);
    expect(service.spec.port).toEqual([{ name: "http", port: 9091, target_port: "http", protocol: "TCP" }]);
    expect(service.spec.selector).toEqual(deployment.spec.selector.match_labels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    // The egress rule of the jobs selects the same pods.
    const rule = Object.values<any>(resourcesOf(platform, "kubernetes_network_policy_v1")).find(
      (p) => p.metadata.name === "allow-egress-pushgateway",
    );
    expect(deployment.spec.template.metadata.labels).toMatchObject(
      rule.spec.egress[0].to[0].pod_selector.match_labels,
    );
  });

  it("is scraped through kube-prometheus-stack's additionalServiceMonitors on the Service's port, keeping pushed labels", () => {
    const platform = synthesized.dev.platform.json;
    const stack = Object.values<any>(resourcesOf(platform, "helm_release")).find(
      (r) => r.chart === "kube-prometheus-stack",
    );
    const monitors = stack.values
      .map((text: string) => parse(text))
      .flatMap((v: any) => v?.prometheus?.additionalServiceMonitors ?? []);
    const monitor = monitors.find((m: any) => m.name === "prometheus-pushgateway");
    expect(monitor).toEqual({
      name: "prometheus-pushgateway",
      selector: {
        matchLabels: {
          "app.kubernetes.io/name": "prometheus-pushgateway",
          "app.kubernetes.io/instance": "prometheus-pushgateway",
        },
      },
      endpoints: [{ port: "http", path: "/metrics", interval: "30s", honorLabels: true }],
    });
    // No namespaceSelector: the chart puts it in its own namespace, which is the Pushgateway's.
    const service = pushgatewayOf(platform, "kubernetes_service_v1");
    expect(service.metadata.namespace).toBe(stack.namespace);
    expect(service.spec.port.map((p: any) => p.name)).toContain(monitor.endpoints[0].port);
    expect(service.metadata.labels).toMatchObject(monitor.selector.matchLabels);
  });
});

describe("a monitoring job on-prem", () => {
  // onprem-prod with a store of a public CA, so its models may log; the job gets the store's keys.
  const text = fixtureReleaseText("onprem-prod").replace(/"mode": "off"/g, '"mode": "all"');
  const publicStore = variant(byName("onprem-prod"), (env) => delete env.objectStore.caBundleSecret);
  const loaded = loadBuilds([publicStore], releasesWith("onprem-prod", text));
  if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
  const [stacks] = addEnvironmentStacks(Testing.app(), loaded.builds);
  const serving = JSON.parse(Testing.synth(stacks.serving));
  const environment = loaded.builds[0].environment as any;

  it("reads the store with its credentials Secret and pulls the image from the training repository", () => {
    const job = Object.values<any>(serving.resource.kubernetes_cron_job_v1).find(
      (j) => j.metadata.name === "monitor-churn-classifier",
    );
    const pod = job.spec.job_template.spec.template.spec;
    const env = pod.container[0].env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: "AWS_ENDPOINT_URL", value: environment.objectStore.endpoint },
        {
          name: "AWS_ACCESS_KEY_ID",
          value_from: {
            secret_key_ref: { name: environment.objectStore.credentialsSecret, key: "AWS_ACCESS_KEY_ID" },
          },
        },
        {
          name: "AWS_SECRET_ACCESS_KEY",
          value_from: {
            secret_key_ref: { name: environment.objectStore.credentialsSecret, key: "AWS_SECRET_ACCESS_KEY" },
          },
        },
        {
          name: "PREDICTIONS_URI",
          value: `s3://${environment.objectStore.dataBucket}/predictions/churn-classifier/`,
        },
      ]),
    );
    expect(pod.container[0].image).toBe(
      `${environment.registry.host}/${environment.registry.trainingRepository}@${JSON.parse(text).current.monitoring.image.digest}`,
    );
    expect(pod.image_pull_secrets).toEqual([{ name: environment.registry.pullSecretName }]);
  });

  it("pulls the Pushgateway through the registry's quay.io remote with its pull Secret", () => {
    const platform = JSON.parse(Testing.synth(stacks.platform));
    const deployment = Object.values<any>(platform.resource.kubernetes_deployment_v1).find(
      (d) => d.metadata.name === "prometheus-pushgateway",
    );
    const pod = deployment.spec.template.spec;
    expect(pod.container[0].image).toBe(
      `${environment.registry.host}/${environment.registry.remotes["quay.io"]}/prometheus/pushgateway:v1.11.3`,
    );
    expect(pod.image_pull_secrets).toEqual([{ name: environment.registry.pullSecretName }]);
  });
});

describe("release paths that repeat the environment's bucket name", () => {
  it("are refused for referenceData and groundTruth, naming the bucket and the path without it (AWS and on-prem)", () => {
    const dev = fixtureReleaseText("dev")
      .replace(
        '"referenceData": "mlflow/1/2b7d9e4f6a1c4e8b9d0f3a5c7e9b1d2f/artifacts/reference"',
        '"referenceData": "acme-mlops-dev-artifacts/mlflow/1/2b7d9e4f6a1c4e8b9d0f3a5c7e9b1d2f/artifacts/reference"',
      )
      .replace(
        '"groundTruth": "ground-truth/demand-forecaster"',
        '"groundTruth": "acme-mlops-dev-data/labels"',
      );
    const loaded = loadBuilds([byName("dev")], releasesWith("dev", dev));
    expect(loaded.ok ? [] : loaded.problems).toEqual([
      'releases/dev.json: current.models[0].monitoring.referenceData = "acme-mlops-dev-artifacts/mlflow/1/2b7d9e4f6a1c4e8b9d0f3a5c7e9b1d2f/artifacts/reference": starts with "acme-mlops-dev-artifacts", dev\'s bucket (storage.artifactsBucket), which the platform already puts in front (it would read s3://acme-mlops-dev-artifacts/acme-mlops-dev-artifacts/mlflow/1/2b7d9e4f6a1c4e8b9d0f3a5c7e9b1d2f/artifacts/reference); fix: drop the bucket name and write "mlflow/1/2b7d9e4f6a1c4e8b9d0f3a5c7e9b1d2f/artifacts/reference"',
      'releases/dev.json: current.models[1].monitoring.groundTruth = "acme-mlops-dev-data/labels": starts with "acme-mlops-dev-data", dev\'s bucket (storage.dataBucket), which the platform already puts in front (it would read s3://acme-mlops-dev-data/acme-mlops-dev-data/labels); fix: drop the bucket name and write "labels"',
    ]);
    const onprem = fixtureReleaseText("onprem-test").replace(
      /"groundTruth": "[^"]*"/,
      '"groundTruth": "mlops-test-data/ground-truth/churn"',
    );
    const onpremLoaded = loadBuilds([byName("onprem-test")], releasesWith("onprem-test", onprem));
    expect(onpremLoaded.ok ? [] : onpremLoaded.problems).toEqual([
      expect.stringMatching(
        /^releases\/onprem-test\.json: current\.models\[0\]\.monitoring\.groundTruth = "mlops-test-data\/ground-truth\/churn": starts with "mlops-test-data", onprem-test's bucket \(objectStore\.dataBucket\),.*; fix: drop the bucket name and write "ground-truth\/churn"$/,
      ),
    ]);
  });

  it("leave a path that only starts like a bucket name alone", () => {
    const dev = fixtureReleaseText("dev").replace(
      '"groundTruth": "ground-truth/demand-forecaster"',
      '"groundTruth": "acme-mlops-dev-data-labels/demand"',
    );
    expect(loadBuilds([byName("dev")], releasesWith("dev", dev)).ok).toBe(true);
  });
});
