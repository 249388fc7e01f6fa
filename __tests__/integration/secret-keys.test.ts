/**
 * The plan-time check of a hand-made Secret's keys, run by Terraform itself: the postcondition
 * SecretCopies writes on the Secret's data source, evaluated on a `terraform_data` whose input
 * stands for the Secret's data (sensitive, as the kubernetes provider marks it). A Secret without
 * the key fails the plan with the message naming it; one with the key plans. Skipped, with the
 * reason printed, when terraform is not on this machine.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TerraformStack, Testing } from "cdktf";
import { SecretCopies } from "../../constructs/platform/secret-copies";
import { TERRAFORM } from "../support/upstream";

if (TERRAFORM === undefined) {
  process.stdout.write(
    "SKIPPED __tests__/integration/secret-keys.test.ts: terraform not found (TERRAFORM or PATH)\n",
  );
}
const suite = TERRAFORM === undefined ? describe.skip : describe;

/** The postcondition SecretCopies puts on the source of `alert-receiver-on-call`. */
function postcondition(): { condition: string; error_message: string } {
  const stack = new TerraformStack(Testing.app(), "copies");
  new SecretCopies(stack, "Copies", {
    sourceNamespace: "terraform-state",
    copies: [
      {
        name: "alert-receiver-on-call",
        namespaces: ["monitoring"],
        purpose: "credential of alert receiver on-call",
        requiredKeys: ["routing-key"],
      },
    ],
  });
  const json = JSON.parse(Testing.synth(stack));
  const [source] = Object.values<any>(json.data.kubernetes_secret_v1);
  return source.lifecycle.postcondition[0];
}

/** `terraform plan` of a terraform_data holding `data` (sensitive) under the postcondition. */
function plan(data: Record<string, string>): { ok: boolean; output: string } {
  const check = postcondition();
  const work = mkdtempSync(join(tmpdir(), "secret-keys-"));
  try {
    writeFileSync(
      join(work, "main.tf.json"),
      JSON.stringify({
        resource: {
          terraform_data: {
            secret: {
              input: `\${sensitive(${JSON.stringify(data)})}`,
              lifecycle: {
                postcondition: [
                  {
                    condition: check.condition.replace("self.data", "self.input"),
                    error_message: check.error_message,
                  },
                ],
              },
            },
          },
        },
      }),
    );
    const env = { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1" };
    const init = spawnSync(TERRAFORM as string, ["init", "-input=false", "-no-color"], {
      cwd: work,
      encoding: "utf8",
      env,
    });
    if (init.status !== 0) throw new Error(`terraform init: ${init.stderr}`);
    const result = spawnSync(TERRAFORM as string, ["plan", "-input=false", "-no-color"], {
      cwd: work,
      encoding: "utf8",
      env,
    });
    return { ok: result.status === 0, output: `${result.stdout}${result.stderr}`.replace(/\s+/g, " ") };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

suite("the key check of a hand-made Secret, as Terraform evaluates it", () => {
  it("fails the plan when the Secret holds another key, naming the key and the fix", () => {
    const result = plan({ "api-url": "https://relay.example.com" });
    expect(result.ok).toBe(false);
    expect(result.output).toContain("Resource postcondition failed");
    expect(result.output).toContain(
      "Secret terraform-state/alert-receiver-on-call (credential of alert receiver on-call) must hold the key routing-key; fix:",
    );
  }, 60_000);

  it("plans when the Secret holds the key", () => {
    const result = plan({ "routing-key": "R0123" });
    expect(result.output).not.toContain("postcondition failed");
    expect(result.ok).toBe(true);
  }, 60_000);
});
