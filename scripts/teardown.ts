/**
 * Taking an environment down: the order, what protection must be lifted first, what Terraform
 * does not own, and (with --check) a read-only look for anything billable left behind.
 *
 *   npm run teardown -- --env dev [--out cdktf.out]     print the steps, from the synthesized stacks
 *   npm run teardown -- --env dev --check               after the destroy: is anything left?
 *
 * The steps are printed, never run: a destroy is a decision for a person, stack by stack.
 */
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import {
  DEFAULT_OUT,
  awsProviderOf,
  hasStack,
  readStack,
  resourcesOfType,
  type StackJson,
} from "./lib/synthesized";

/** A resource Terraform will refuse to destroy, or destroy leaving something behind. */
export interface Protection {
  readonly resource: string;
  readonly reason: string;
}

/** What the foundation protects: `prevent_destroy`, deletion protection, final snapshots. */
export function protections(foundation: StackJson): Protection[] {
  const found: Protection[] = [];
  for (const [type, resources] of Object.entries(foundation.resource ?? {})) {
    for (const [id, args] of Object.entries(resources)) {
      const name = String(args.bucket ?? args.identifier ?? args.name ?? id);
      const reasons: string[] = [];
      if ((args.lifecycle as { prevent_destroy?: boolean } | undefined)?.prevent_destroy === true)
        reasons.push("prevent_destroy");
      if (args.deletion_protection === true) reasons.push("deletion protection");
      if (args.force_destroy === false) reasons.push("refuses to delete a bucket that holds objects");
      if (args.force_delete === false) reasons.push("refuses to delete a repository that holds images");
      if (args.skip_final_snapshot === false && typeof args.final_snapshot_identifier === "string")
        reasons.push(`leaves the final snapshot ${args.final_snapshot_identifier}`);
      if (reasons.length > 0) found.push({ resource: `${type} ${name}`, reason: reasons.join(", ") });
    }
  }
  return found;
}

function backendOf(stack: StackJson): string {
  const backend = (stack.terraform?.backend ?? {}) as Record<string, Record<string, unknown>>;
  if (backend.local) return `the local file ${String(backend.local.path).replace(/^(\.\.\/)+/, "")}`;
  if (backend.s3) return `s3://${backend.s3.bucket}/${backend.s3.key}`;
  if (backend.kubernetes)
    return `the Secret tfstate-default-${backend.kubernetes.secret_suffix} in namespace ${backend.kubernetes.namespace}`;
  return "its backend";
}

export function teardownSteps(
  env: string,
  stacks: { foundation?: StackJson; platform: StackJson; serving: StackJson },
): string {
  const lines: string[] = [];
  const step = (text: string) => lines.push(`${lines.filter((l) => /^\d+\. /.test(l)).length + 1}. ${text}`);
  const foundation = stacks.foundation;
  const context = foundation ? env : String(stacks.platform.provider?.kubernetes?.[0]?.config_context ?? env);
  const kubectl = `kubectl --context ${context}`;
  lines.push(`Taking ${env} down, in this order (each destroy asks for confirmation):`, "");
  const guarded = foundation ? protections(foundation) : [];
  if (guarded.length > 0) {
    step(
      `Lift the protection first: in environments/${env}.ts set protection: "disposable" and database.deletionProtection: false, run npm test, and deploy ${env}-foundation (a pull request when the pipeline deploys it). Until then Terraform refuses to destroy:`,
    );
    guarded.forEach((p) => lines.push(`     ${p.resource}: ${p.reason}`));
    lines.push("   Take a database snapshot by hand first if the data must outlive the environment.");
  }
  step(`npm run cdktf -- destroy ${env}-serving`);
  step(
    `Delete what controllers created from the platform's objects while the controllers still run: ${kubectl} delete ingress --all --all-namespaces ${foundation ? "(the load balancer controller removes their load balancers and security groups; once it is gone, nothing would)" : "(the ingress controller stops routing to them)"}, then ${kubectl} get pvc --all-namespaces lists the volumes the workloads claimed (Prometheus, Alertmanager${foundation ? "" : ", PostgreSQL"} and the others listed): they go with their namespaces in the next step, ${foundation ? "and the encrypted gp3 StorageClass deletes their EBS volumes (reclaimPolicy Delete) while the EBS CSI driver, a foundation add-on, still runs" : "and the cluster's storage class decides whether their volumes are deleted or kept"}.`,
  );
  step(`npm run cdktf -- destroy ${env}-platform`);
  if (foundation) step(`npm run cdktf -- destroy ${env}-foundation`);
  lines.push("", "Not owned by Terraform, removed by hand when no longer needed:");
  const state = [foundation, stacks.platform, stacks.serving].filter((s): s is StackJson => s !== undefined);
  state.forEach((s, i) =>
    lines.push(
      `  - state of ${[`${env}-foundation`, `${env}-platform`, `${env}-serving`].slice(foundation ? 0 : 1)[i]}: ${backendOf(s)}`,
    ),
  );
  if (foundation) {
    const replicated =
      Object.keys(resourcesOfType(foundation, "aws_ecr_replication_configuration")).length > 0;
    if (replicated)
      lines.push(
        "  - images and model files this environment replicated into the consuming environments' registries and buckets: they belong to those environments and stay",
      );
    lines.push(
      "  - snapshots: the final database snapshot of a protected environment, and any taken by hand",
      "  - the account's bootstrap stack (state bucket, OIDC provider, deploy and diff roles): shared by every environment of the account; destroy it last, after its state bucket is emptied",
      "  - the KMS key is only scheduled for deletion (its deletion window), not deleted at once",
      "",
      `Then check that nothing billable is left: npm run teardown -- --env ${env} --check`,
    );
  } else {
    lines.push(
      "  - the Secrets the platform team made by hand in the state namespace, and the state namespace itself",
      "  - PostgreSQL's backups and the models under the object store's buckets; images in Artifactory",
      "",
      `Then check that the platform's namespaces are gone: npm run teardown -- --env ${env} --check`,
    );
  }
  return `${lines.join("\n")}\n`;
}

export interface CommandResult {
  readonly code: number | undefined;
  readonly stdout: string;
  readonly stderr: string;
}
export type Runner = (command: string, args: readonly string[]) => CommandResult;

/** One line per thing looked for: `ok` when it is gone, `left` when it is still there. */
export function checkLeftovers(
  env: string,
  stacks: { foundation?: StackJson; platform: StackJson },
  run: Runner,
): { lines: string[]; exitCode: 0 | 1 } {
  const lines: string[] = [];
  let left = false;
  const report = (found: string[], what: string, fix: string) => {
    if (found.length === 0) lines.push(`ok   no ${what}`);
    else {
      left = true;
      lines.push(`left ${what}: ${found.join(", ")}; fix: ${fix}`);
    }
  };
  const json = (result: CommandResult, what: string): Record<string, unknown> => {
    if (result.code === undefined) throw new Error(`${what}: the command is not installed`);
    if (result.code !== 0)
      throw new Error(`${what}: ${result.stderr.trim().split("\n")[0] || `exit ${result.code}`}`);
    return JSON.parse(result.stdout || "{}") as Record<string, unknown>;
  };
  try {
    if (stacks.foundation) {
      const provider = awsProviderOf(stacks.foundation);
      const cluster = Object.values(resourcesOfType(stacks.foundation, "aws_eks_cluster"))[0]?.name as string;
      const database = Object.values(resourcesOfType(stacks.foundation, "aws_db_instance"))[0]
        ?.identifier as string;
      const region = provider?.region ?? "";
      const tagged = (key: string, value: string) =>
        (
          (json(
            run("aws", [
              "resourcegroupstaggingapi",
              "get-resources",
              "--region",
              region,
              "--tag-filters",
              `Key=${key},Values=${value}`,
              "--output",
              "json",
            ]),
            `resources tagged ${key}=${value}`,
          ).ResourceTagMappingList ?? []) as { ResourceARN: string }[]
        ).map((r) => r.ResourceARN);
      report(
        tagged("environment", env),
        `resource tagged environment=${env}`,
        `destroy the stack that owns it, or delete it by hand`,
      );
      report(
        tagged("elbv2.k8s.aws/cluster", cluster),
        `load balancer or target group of ${cluster}'s load balancer controller`,
        "aws elbv2 delete-load-balancer --load-balancer-arn <arn> (and its target groups and k8s-* security groups)",
      );
      const volumes = (json(
        run("aws", [
          "ec2",
          "describe-volumes",
          "--region",
          region,
          "--filters",
          "Name=tag-key,Values=kubernetes.io/created-for/pvc/name",
          "Name=status,Values=available",
          "--output",
          "json",
        ]),
        "volumes",
      ).Volumes ?? []) as { VolumeId: string }[];
      report(
        volumes.map((v) => v.VolumeId),
        "unattached EBS volume made for a PersistentVolumeClaim",
        "aws ec2 delete-volume --volume-id <id> once you are sure it is this environment's",
      );
      if (database) {
        const snapshots = (json(
          run("aws", [
            "rds",
            "describe-db-snapshots",
            "--region",
            region,
            "--db-instance-identifier",
            database,
            "--output",
            "json",
          ]),
          "database snapshots",
        ).DBSnapshots ?? []) as { DBSnapshotIdentifier: string }[];
        report(
          snapshots.map((s) => s.DBSnapshotIdentifier),
          `snapshot of ${database}`,
          "aws rds delete-db-snapshot --db-snapshot-identifier <id> when the data is no longer needed",
        );
      }
    } else {
      const context = String(stacks.platform.provider?.kubernetes?.[0]?.config_context);
      const namespaces = Object.values(resourcesOfType(stacks.platform, "kubernetes_namespace_v1")).map(
        (ns) => (ns.metadata as { name: string }).name,
      );
      const found = namespaces.filter(
        (ns) => run("kubectl", ["--context", context, "get", "namespace", ns, "-o", "name"]).code === 0,
      );
      report(
        found,
        "namespace of the platform",
        `${"kubectl"} --context ${context} delete namespace <name>, after npm run cdktf -- destroy ${env}-platform`,
      );
    }
  } catch (error) {
    return {
      lines: [
        ...lines,
        `fail ${(error as Error).message}; fix: run it with credentials that may read the account (or cluster)`,
      ],
      exitCode: 1,
    };
  }
  return { lines, exitCode: left ? 1 : 0 };
}

const USAGE = "usage: npm run teardown -- --env <environment> [--check] [--out <cdktf.out>]";

export function runTeardown(
  args: readonly string[],
  cwd: string,
  run: Runner,
): { exitCode: 0 | 1; stdout: string; stderr: string } {
  try {
    const { values } = parseArgs({
      args: [...args],
      options: { env: { type: "string" }, out: { type: "string" }, check: { type: "boolean" } },
      strict: true,
    });
    if (values.env === undefined) throw new Error(`--env is required; fix: ${USAGE}`);
    const env = values.env;
    const out = values.out ?? DEFAULT_OUT;
    const foundation = hasStack(cwd, out, `${env}-foundation`)
      ? readStack(cwd, out, `${env}-foundation`)
      : undefined;
    const platform = readStack(cwd, out, `${env}-platform`);
    if (values.check) {
      const { lines, exitCode } = checkLeftovers(env, { foundation, platform }, run);
      return { exitCode, stdout: `${lines.join("\n")}\n`, stderr: "" };
    }
    const serving = readStack(cwd, out, `${env}-serving`);
    return { exitCode: 0, stdout: teardownSteps(env, { foundation, platform, serving }), stderr: "" };
  } catch (error) {
    const message = (error as Error).message;
    return {
      exitCode: 1,
      stdout: "",
      stderr: `teardown: ${message}${message.includes("fix:") ? "" : `; fix: ${USAGE}`}\n`,
    };
  }
}

function runCommand(command: string, args: readonly string[]): CommandResult {
  const result = spawnSync(command, args, { encoding: "utf8", timeout: 60_000 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === "ENOENT")
    return { code: undefined, stdout: "", stderr: "" };
  return { code: result.status ?? 1, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

if (require.main === module) {
  const result = runTeardown(process.argv.slice(2), process.cwd(), runCommand);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  process.exitCode = result.exitCode;
}
