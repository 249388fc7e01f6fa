import { POLICY_RULES } from "./support/policies";
import { synthesizeEnvironments, type TerraformJson } from "./support/synth";

const synthesized = synthesizeEnvironments();
const stacks = Object.values(synthesized).flatMap((env) => [
  { name: `${env.environment.name}-foundation`, environment: env.environment, json: env.foundation.json },
  { name: `${env.environment.name}-platform`, environment: env.environment, json: env.platform.json },
  { name: `${env.environment.name}-serving`, environment: env.environment, json: env.serving.json },
]);

const first = (json: TerraformJson, type: string): any => Object.values(json.resource[type])[0];
const firstPolicyDocument = (json: TerraformJson, referencedBy: string): any => {
  const reference = first(json, referencedBy).policy as string;
  const id = /aws_iam_policy_document\.([^.]+)\.json/.exec(reference)![1];
  return json.data!.aws_iam_policy_document[id];
};

/** A change to a copy of the prod stack's JSON that each rule must catch. */
const BREAKS: Record<string, (json: any) => void> = {
  "identity policies name every action (no wildcards)": (json) => {
    firstPolicyDocument(json, "aws_iam_role_policy").statement[0].actions = ["s3:*"];
  },
  "IRSA roles trust one exact service account and audience": (json) => {
    const role = Object.values<any>(json.resource.aws_iam_role).find((r) =>
      r.description?.startsWith("IRSA"),
    );
    const id = /aws_iam_policy_document\.([^.]+)\.json/.exec(role.assume_role_policy)![1];
    json.data.aws_iam_policy_document[id].statement[0].condition[0] = {
      test: "StringLike",
      variable: "issuer:sub",
      values: ["system:serviceaccount:*:*"],
    };
  },
  "data at rest is encrypted with the platform key": (json) => {
    delete first(json, "aws_cloudwatch_log_group").kms_key_id;
  },
  "buckets block public access and refuse plain HTTP": (json) => {
    first(json, "aws_s3_bucket_public_access_block").restrict_public_buckets = false;
  },
  "nothing is reachable from the internet but load balancers": (json) => {
    first(json, "aws_vpc_security_group_ingress_rule").cidr_ipv4 = "0.0.0.0/0";
  },
  "instances require IMDSv2": (json) => {
    first(json, "aws_launch_template").metadata_options.http_tokens = "optional";
  },
  "logs expire": (json) => {
    delete first(json, "aws_cloudwatch_log_group").retention_in_days;
  },
  "versions are pinned": (json) => {
    first(json, "aws_eks_addon").addon_version = "latest";
  },
  "no secret or static credential reaches the Terraform JSON": (json) => {
    first(json, "aws_db_instance").password = "hunter2";
  },
  "no stray Terraform template directive in literal text": (json) => {
    first(json, "aws_iam_role").description = "100%{not-a-directive}";
  },
  "protected environments cannot lose state through Terraform": (json) => {
    first(json, "aws_s3_bucket").lifecycle.prevent_destroy = false;
  },
};

describe.each(POLICY_RULES.map((rule) => [rule.name, rule] as const))("policy: %s", (name, rule) => {
  it.each(stacks.map((s) => [s.name, s] as const))("holds for %s", (_stack, { json, environment }) => {
    expect(rule.check(json, environment)).toEqual([]);
  });

  it("catches a stack that breaks it", () => {
    const broken = structuredClone(synthesized.prod.foundation.json);
    const breakIt = BREAKS[name];
    expect(breakIt).toBeDefined();
    breakIt(broken);
    expect(rule.check(broken, synthesized.prod.environment).length).toBeGreaterThan(0);
  });
});
