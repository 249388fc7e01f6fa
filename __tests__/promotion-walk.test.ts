/**
 * A release walks dev -> staging -> prod with the promotion command; the stacks synthesized from
 * the promoted release files show that every image a target deploys reaches the target's
 * registry by replication (same digest, same tags), and every model artifact path its
 * InferenceServices read reaches the target's artifacts bucket.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Testing, type TerraformStack } from "cdktf";
import { promote } from "../scripts/promote";
import { loadRelease } from "../environments/releases";
import { PROMOTION_PATHS } from "../environments/promotion";
import { loadBuilds } from "../stacks/synthesize";
import { addEnvironmentStacks } from "../stacks/app";
import { isAws } from "../environments/targets";
import type { Environment } from "../environments/schema";
import { MODEL_ARTIFACT_PREFIX } from "../stacks/promotion-topology";
import { AWS_ENVIRONMENT_INPUTS, policyStatements, type TerraformJson } from "./support/synth";
import { fixtureReleases } from "./support/release-files";

// The registry's environments of the first path, running the fixture releases (which differ
// along the path whatever the registry's release files hold today).
const directory = fixtureReleases();
const [path] = PROMOTION_PATHS;
const [producerName, ...consumerNames] = path;
const steps = consumerNames.map((to, index) =>
  promote({ from: path[index], to, dryRun: false, directory, now: new Date("2026-12-01T10:00:00Z") }),
);

const loaded = loadBuilds(
  AWS_ENVIRONMENT_INPUTS.filter((input) => path.includes(input.name)),
  directory,
);
if (!loaded.ok) throw new Error(loaded.problems.join("\n"));
const app = Testing.app();
const sets = addEnvironmentStacks(app, loaded.builds);
app.synth();
const read = (stack: TerraformStack): TerraformJson =>
  JSON.parse(readFileSync(join(app.outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"));
const byName = new Map(
  loaded.builds.map((build, index) => [
    build.environment.name,
    {
      environment: build.environment as Environment,
      release: build.release,
      foundation: read(sets[index].foundation!),
      serving: read(sets[index].serving),
    },
  ]),
);
const producer = byName.get(producerName)!;
const accountOf = (env: Environment) => env.aws.allowedAccountIds![0];
const imageRef = (image: { tag?: string; digest?: string }) =>
  image.digest ? `@${image.digest}` : `:${image.tag}`;

describe("a release promoted from dev to prod", () => {
  it("is promoted one step at a time by the promotion command", () => {
    expect(steps.map((step) => step.exitCode)).toEqual(consumerNames.map(() => 0));
    for (const name of consumerNames) {
      const release = loadRelease(name, directory);
      if (!release.ok) throw new Error(release.problems.join("\n"));
      expect(release.release.current.serving).toEqual(producer.release.serving);
    }
    expect(isAws(producer.environment)).toBe(true);
  });

  describe.each(consumerNames)("in %s", (name) => {
    const target = byName.get(name)!;
    const env = target.environment;
    const images = [
      { repository: env.registry.servingRepository, image: target.release.serving.image },
      { repository: env.registry.trainingRepository, image: target.release.training.image },
    ];

    it("deploys only images of its own registry, which the producer's registry replicates into", () => {
      const servingText = JSON.stringify(target.serving);
      const [replication] = Object.values(
        producer.foundation.resource.aws_ecr_replication_configuration,
      ) as any[];
      const rules = replication.replication_configuration.rule as any[];
      for (const { repository, image } of images) {
        // The serving stack deploys it from the target's repository, by the release's tag or digest.
        expect(servingText).toContain(imageRef(image));
        expect(servingText).toMatch(
          new RegExp(`aws_ecr_repository_${repository.replace(/-/g, "")}|${repository}`, "i"),
        );
        // The producer ran (so built and pushed) the same image.
        expect([producer.release.serving.image, producer.release.training.image]).toContainEqual(image);
        // A rule of the producer's registry replicates that repository into the target's registry.
        const rule = rules.find(
          (r) =>
            r.destination.some((d: any) => d.region === env.aws.region && d.registry_id === accountOf(env)) &&
            r.repository_filter.some(
              (f: any) => f.filter_type === "PREFIX_MATCH" && repository.startsWith(f.filter),
            ),
        );
        expect(rule).toBeDefined();
      }
      // The target's registry lets the producer's account replicate into those repositories, and
      // creates none itself (the foundation made them, encrypted and with their tag rules).
      const [policy] = Object.values(target.foundation.resource.aws_ecr_registry_policy) as any[];
      const [statement] = policyStatements(target.foundation, policy.policy);
      expect(statement.actions).toEqual(["ecr:ReplicateImage"]);
      expect(statement.principals).toEqual([
        {
          type: "AWS",
          identifiers: [expect.stringContaining(`:iam::${accountOf(producer.environment)}:root`)],
        },
      ]);
      expect(statement.resources).toHaveLength(2);
    });

    it("reads every model artifact from its own bucket, where the producer's bucket replicates it", () => {
      const [replication] = Object.values(
        producer.foundation.resource.aws_s3_bucket_replication_configuration,
      ) as any[];
      const rule = (replication.rule as any[]).find((r) =>
        r.destination.bucket.endsWith(`:s3:::${env.storage.artifactsBucket}`),
      );
      expect(rule).toMatchObject({
        status: "Enabled",
        filter: { prefix: MODEL_ARTIFACT_PREFIX },
        destination: {
          account: accountOf(env),
          encryption_configuration: {
            replica_kms_key_id: expect.stringContaining(
              `:kms:${env.aws.region}:${accountOf(env)}:alias/mlops-${name}`,
            ),
          },
        },
        source_selection_criteria: { sse_kms_encrypted_objects: { status: "Enabled" } },
      });
      const services = Object.values(target.serving.resource.kubernetes_manifest ?? {}).filter(
        (m: any) => m.manifest?.kind === "InferenceService",
      ) as any[];
      const uris = JSON.stringify(services.map((s) => s.manifest.spec));
      const buckets = Object.values(target.foundation.resource.aws_s3_bucket).map((b: any) => b.bucket);
      expect(buckets).toContain(env.storage.artifactsBucket);
      const paths = target.release.models.flatMap((m) => [
        m.artifactPath,
        ...(m.canary ? [m.canary.artifactPath] : []),
      ]);
      expect(paths.length).toBeGreaterThan(0);
      for (const artifactPath of paths) {
        expect(artifactPath.startsWith(MODEL_ARTIFACT_PREFIX)).toBe(true);
        // The target's own artifacts bucket (its foundation's output), at the release's path.
        expect(uris).toContain(
          `s3://\${data.terraform_remote_state.cross-stack-reference-input-${name}-foundation.outputs.cross-stack-output-aws_s3_bucketArtifactsBucket`,
        );
        expect(uris).toContain(`bucket}/${artifactPath}"`);
      }
      // The target's bucket and key admit the producer's replication role, and nothing else of its account.
      const bucketPolicy = Object.values(target.foundation.resource.aws_s3_bucket_policy).find((p: any) =>
        String(p.bucket).includes("ArtifactsBucket"),
      ) as any;
      const replicate = policyStatements(target.foundation, bucketPolicy.policy).find(
        (s) => s.sid === "ProducerReplicatesModelArtifacts",
      );
      expect(replicate.condition).toEqual([
        {
          test: "ArnEquals",
          variable: "aws:PrincipalArn",
          values: [
            expect.stringMatching(
              `:iam::${accountOf(producer.environment)}:role/mlops-${producerName}-model-replication$`,
            ),
          ],
        },
      ]);
    });
  });
});
