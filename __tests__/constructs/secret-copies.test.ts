/**
 * Hand-made Secrets reach the namespaces the platform creates: read once from the namespace the
 * platform team made them in, written into each namespace that needs them, with their type and
 * data as Terraform references (no value in the configuration).
 */
import { TerraformStack, Testing } from "cdktf";
import { SecretCopies } from "../../constructs/platform/secret-copies";

function synth(build: (stack: TerraformStack) => void): any {
  const stack = new TerraformStack(Testing.app(), "copies");
  build(stack);
  return JSON.parse(Testing.synth(stack));
}

describe("SecretCopies", () => {
  const json = synth(
    (stack) =>
      new SecretCopies(stack, "Copies", {
        sourceNamespace: "terraform-state",
        copies: [
          {
            name: "artifactory-pull",
            namespaces: ["mlflow", "mlops", "mlflow", "terraform-state"],
            purpose: "image pulls through Artifactory",
          },
          {
            name: "ad-bind",
            namespaces: ["argocd"],
            labels: { "app.kubernetes.io/part-of": "argocd" },
            purpose: "Dex's bind password",
          },
        ],
      }),
  );
  const secrets = Object.values<any>(json.resource.kubernetes_secret_v1);
  const sources = json.data.kubernetes_secret_v1;

  it("reads each source once from the source namespace", () => {
    const read = Object.values<any>(sources).map((s) => `${s.metadata.namespace}/${s.metadata.name}`);
    expect(read.sort()).toEqual(["terraform-state/ad-bind", "terraform-state/artifactory-pull"]);
  });

  it("writes one copy per namespace that needs it, never into the source namespace", () => {
    expect(secrets.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual([
      "argocd/ad-bind",
      "mlflow/artifactory-pull",
      "mlops/artifactory-pull",
    ]);
  });

  it("copies type and data by reference to the source, so no value is in the configuration", () => {
    for (const secret of secrets) {
      const sourceId = Object.keys(sources).find((id) => sources[id].metadata.name === secret.metadata.name);
      expect(secret.data).toBe(`\${data.kubernetes_secret_v1.${sourceId}.data}`);
      expect(secret.type).toBe(`\${data.kubernetes_secret_v1.${sourceId}.type}`);
    }
  });

  it("labels copies as asked (Argo CD reads only Secrets labelled part-of argocd)", () => {
    const bind = secrets.find((s) => s.metadata.name === "ad-bind");
    expect(bind.metadata.labels["app.kubernetes.io/part-of"]).toBe("argocd");
    expect(bind.metadata.annotations["mlops-platform/copied-from"]).toBe("terraform-state/ad-bind");
  });

  it("adds public keys to the copy in the namespace named, after the source's keys", () => {
    const merged = synth(
      (stack) =>
        new SecretCopies(stack, "Copies", {
          sourceNamespace: "terraform-state",
          copies: [
            {
              name: "mirror-read",
              namespaces: ["argocd", "kubeflow"],
              dataIn: { argocd: { url: "https://git.example.com/kfp.git", type: "git" } },
              purpose: "Argo CD's credentials for the mirror",
            },
          ],
        }),
    );
    const copies = Object.values<any>(merged.resource.kubernetes_secret_v1);
    const sourceId = Object.keys(merged.data.kubernetes_secret_v1)[0];
    const inArgo = copies.find((s) => s.metadata.namespace === "argocd");
    expect(inArgo.data).toBe(
      `\${merge(data.kubernetes_secret_v1.${sourceId}.data, {"url" = "https://git.example.com/kfp.git", "type" = "git"})}`,
    );
    const elsewhere = copies.find((s) => s.metadata.namespace === "kubeflow");
    expect(elsewhere.data).toBe(`\${data.kubernetes_secret_v1.${sourceId}.data}`);
  });

  it("refuses a Secret listed twice", () => {
    expect(() =>
      synth(
        (stack) =>
          new SecretCopies(stack, "Copies", {
            sourceNamespace: "terraform-state",
            copies: [
              { name: "x", namespaces: ["a"], purpose: "p" },
              { name: "x", namespaces: ["b"], purpose: "p" },
            ],
          }),
      ),
    ).toThrow("SecretCopies: x is listed twice; fix: list every namespace that needs it in one entry");
  });
});
