/**
 * The security and reliability baseline every synthesized stack must meet. Each rule reads the
 * Terraform JSON and returns its violations, one readable line each.
 */
import type { Environment } from "../../environments/schema";
import { policyStatements, resourcesOf, type TerraformJson } from "./synth";

export interface PolicyRule {
  readonly name: string;
  readonly check: (json: TerraformJson, environment: Environment) => string[];
}

const entries = (json: TerraformJson, type: string): [string, any][] =>
  Object.entries(resourcesOf(json, type));
const refersTo = (value: unknown, type: string, id: string) =>
  typeof value === "string" && value.startsWith(`\${${type}.${id}.`);

/** Resources of `type` that point at the bucket `bucketId`. */
const bucketCompanions = (json: TerraformJson, type: string, bucketId: string) =>
  entries(json, type).filter(([, r]) => refersTo(r.bucket, "aws_s3_bucket", bucketId));

export const POLICY_RULES: PolicyRule[] = [
  {
    name: "identity policies name every action (no wildcards)",
    check: (json) =>
      entries(json, "aws_iam_role_policy").flatMap(([id, policy]) =>
        policyStatements(json, policy.policy)
          .filter((s) => (s.effect ?? "Allow") === "Allow")
          .flatMap((s) =>
            s.actions
              .filter((a: string) => a.includes("*"))
              .map((a: string) => `${id}: ${s.sid} allows ${a}`),
          ),
      ),
  },
  {
    name: "IRSA roles trust one exact service account and audience",
    check: (json) =>
      entries(json, "aws_iam_role").flatMap(([id, role]) => {
        const statements = policyStatements(json, role.assume_role_policy);
        const federated = statements.filter((s) => s.principals?.some((p: any) => p.type === "Federated"));
        return federated.flatMap((s) => {
          const conditions: any[] = s.condition ?? [];
          const sub = conditions.find((c) => String(c.variable).endsWith(":sub"));
          const aud = conditions.find((c) => String(c.variable).endsWith(":aud"));
          const exact =
            sub?.test === "StringEquals" &&
            sub.values.length === 1 &&
            /^system:serviceaccount:[a-z0-9-]+:[a-z0-9-]+$/.test(sub.values[0]) &&
            aud?.test === "StringEquals" &&
            aud.values.join() === "sts.amazonaws.com";
          return exact ? [] : [`${id}: trust is not pinned to one service account and the STS audience`];
        });
      }),
  },
  {
    name: "data at rest is encrypted with the platform key",
    check: (json) => [
      ...entries(json, "aws_cloudwatch_log_group")
        .filter(([, g]) => !g.kms_key_id)
        .map(([id]) => `${id}: log group without KMS key`),
      ...entries(json, "aws_db_instance")
        .filter(([, db]) => db.storage_encrypted !== true || !db.kms_key_id)
        .map(([id]) => `${id}: database storage not KMS-encrypted`),
      ...entries(json, "aws_ecr_repository")
        .filter(([, r]) => r.encryption_configuration?.[0]?.encryption_type !== "KMS")
        .map(([id]) => `${id}: repository not KMS-encrypted`),
      ...entries(json, "aws_eks_cluster")
        .filter(([, c]) => !c.encryption_config?.resources?.includes("secrets"))
        .map(([id]) => `${id}: Kubernetes secrets not envelope-encrypted`),
      ...entries(json, "aws_s3_bucket")
        .filter(
          ([id]) =>
            !bucketCompanions(json, "aws_s3_bucket_server_side_encryption_configuration", id).some(
              ([, sse]) => sse.rule[0].apply_server_side_encryption_by_default.sse_algorithm === "aws:kms",
            ),
        )
        .map(([id]) => `${id}: bucket without SSE-KMS`),
    ],
  },
  {
    name: "buckets block public access and refuse plain HTTP",
    check: (json) =>
      entries(json, "aws_s3_bucket").flatMap(([id]) => {
        const problems: string[] = [];
        const blocks = bucketCompanions(json, "aws_s3_bucket_public_access_block", id);
        const fullyBlocked = blocks.some(
          ([, b]) =>
            b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets,
        );
        if (!fullyBlocked) problems.push(`${id}: public access not fully blocked`);
        const tlsOnly = bucketCompanions(json, "aws_s3_bucket_policy", id).some(([, p]) =>
          policyStatements(json, p.policy).some(
            (s) =>
              s.effect === "Deny" &&
              s.condition?.some((c: any) => c.variable === "aws:SecureTransport" && c.values[0] === "false"),
          ),
        );
        if (!tlsOnly) problems.push(`${id}: plain-HTTP access not denied`);
        if (bucketCompanions(json, "aws_s3_bucket_versioning", id).length === 0)
          problems.push(`${id}: not versioned`);
        return problems;
      }),
  },
  {
    name: "nothing is reachable from the internet but load balancers",
    check: (json) => [
      ...entries(json, "aws_db_instance")
        .filter(([, db]) => db.publicly_accessible !== false)
        .map(([id]) => `${id}: database publicly accessible`),
      ...entries(json, "aws_vpc_security_group_ingress_rule")
        .filter(([, rule]) => rule.cidr_ipv4 === "0.0.0.0/0" || rule.cidr_ipv6 === "::/0")
        .map(([id]) => `${id}: ingress open to the internet`),
      ...entries(json, "aws_eks_cluster")
        .filter(
          ([, c]) =>
            c.vpc_config.endpoint_public_access === true &&
            (!c.vpc_config.public_access_cidrs?.length ||
              c.vpc_config.public_access_cidrs.includes("0.0.0.0/0")),
        )
        .map(([id]) => `${id}: public API endpoint open to the internet`),
      ...entries(json, "aws_subnet")
        .filter(([, s]) => s.map_public_ip_on_launch === true)
        .map(([id]) => `${id}: subnet hands out public IPs`),
    ],
  },
  {
    name: "instances require IMDSv2",
    check: (json) =>
      entries(json, "aws_launch_template")
        .filter(([, t]) => t.metadata_options?.http_tokens !== "required")
        .map(([id]) => `${id}: IMDSv1 allowed`),
  },
  {
    name: "logs expire",
    check: (json) =>
      entries(json, "aws_cloudwatch_log_group")
        .filter(([, g]) => !(g.retention_in_days > 0))
        .map(([id]) => `${id}: kept forever`),
  },
  {
    name: "versions are pinned",
    check: (json) => [
      ...entries(json, "aws_eks_cluster")
        .filter(([, c]) => !/^\d+\.\d+$/.test(c.version ?? ""))
        .map(([id]) => `${id}: Kubernetes version not pinned`),
      ...entries(json, "aws_eks_addon")
        .filter(([, a]) => !/^v\d+\.\d+\.\d+-eksbuild\.\d+$/.test(a.addon_version ?? ""))
        .map(([id]) => `${id}: add-on version not pinned`),
      ...Object.entries(json.terraform.required_providers ?? {})
        .filter(([, p]: [string, any]) => !/^\d+\.\d+\.\d+$/.test(p.version))
        .map(([name]) => `provider ${name}: version not pinned exactly`),
    ],
  },
  {
    name: "no secret or static credential reaches the Terraform JSON",
    check: (json) => {
      const text = JSON.stringify(json);
      return [
        ...entries(json, "aws_db_instance")
          .filter(([, db]) => db.password !== undefined || db.manage_master_user_password !== true)
          .map(([id]) => `${id}: master password passes through Terraform`),
        ...entries(json, "aws_iam_access_key").map(([id]) => `${id}: static IAM access key`),
        ...(/AKIA[0-9A-Z]{16}/.test(text) ? ["an AWS access key id appears in the stack"] : []),
        ...(/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) ? ["a private key appears in the stack"] : []),
      ];
    },
  },
  {
    name: "no stray Terraform template directive in literal text",
    check: (json) => {
      const found: string[] = [];
      const visit = (value: unknown, path: string) => {
        if (typeof value === "string") {
          // `%{` starts a template directive; a literal one must be written `%%{`.
          if (/(^|[^%])%\{/.test(value)) found.push(`${path}: unescaped %{`);
        } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}[${i}]`));
        else if (value && typeof value === "object") {
          for (const [k, v] of Object.entries(value)) visit(v, path ? `${path}.${k}` : k);
        }
      };
      visit(json.resource, "resource");
      return found;
    },
  },
  {
    name: "protected environments cannot lose state through Terraform",
    check: (json, environment) => {
      if (environment.protection !== "protected") return [];
      const stateful = ["aws_kms_key", "aws_db_instance", "aws_s3_bucket", "aws_ecr_repository"];
      return [
        ...stateful.flatMap((type) =>
          entries(json, type)
            .filter(([, r]) => r.lifecycle?.prevent_destroy !== true)
            .map(([id]) => `${type}.${id}: can be destroyed`),
        ),
        ...entries(json, "aws_db_instance")
          .filter(([, db]) => db.deletion_protection !== true || db.skip_final_snapshot !== false)
          .map(([id]) => `${id}: no deletion protection or final snapshot`),
        ...entries(json, "aws_s3_bucket")
          .filter(([, b]) => b.force_destroy !== false)
          .map(([id]) => `${id}: can be emptied by destroy`),
        ...entries(json, "aws_ecr_repository")
          .filter(([, r]) => r.force_delete !== false || r.image_tag_mutability !== "IMMUTABLE")
          .map(([id]) => `${id}: images can be deleted or overwritten`),
      ];
    },
  },
];
