import { readFileSync } from "node:fs";
import { join } from "node:path";
import { currentIdentityTable, replaceTable } from "../scripts/identity-table";
import { environmentSchema } from "../environments/schema";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";
import { withCurrentTables } from "../scripts/field-reference";
import { schemaFieldPaths } from "./support/schema-paths";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");

describe("README.md", () => {
  it("carries the identity table the code generates", () => {
    expect(replaceTable(readme, currentIdentityTable())).toBe(readme);
  });

  it("carries the field references the schemas generate (npm run docs:fields)", () => {
    expect(withCurrentTables(readme)).toBe(readme);
  });

  it.each([
    ["AWS", environmentSchema],
    ["on-prem", rancherEnvironmentSchema],
  ] as const)("documents every %s environment field", (_kind, schema) => {
    const documented = schemaFieldPaths(schema);
    const missing = documented.filter(
      (path) => !new RegExp(`^\\| \`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` +\\|`, "m").test(readme),
    );
    expect(missing).toEqual([]);
  });

  it("shows the install-and-synth and the test commands", () => {
    expect(readme).toContain("npm ci && npm run synth");
    expect(readme).toContain("npm test");
  });
});
