import { readFileSync } from "node:fs";
import { join } from "node:path";
import { currentIdentityTable, IDENTITY_TABLE_PAGE, replaceTable } from "../scripts/identity-table";
import { environmentSchema } from "../environments/schema";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";
import { FIELD_REFERENCE_PAGE, withCurrentTables } from "../scripts/field-reference";
import { schemaFieldPaths } from "./support/schema-paths";

const root = join(__dirname, "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const readme = read("README.md");

describe("the generated tables", () => {
  it("docs/security.md carries the identity table the code generates (npm run docs:identities)", () => {
    const page = read(IDENTITY_TABLE_PAGE);
    expect(replaceTable(page, currentIdentityTable())).toBe(page);
  });

  it("docs/environment-reference.md carries the field references the schemas generate (npm run docs:fields)", () => {
    const page = read(FIELD_REFERENCE_PAGE);
    expect(withCurrentTables(page)).toBe(page);
  });

  it.each([
    ["AWS", environmentSchema],
    ["on-prem", rancherEnvironmentSchema],
  ] as const)("docs/environment-reference.md documents every %s environment field", (_kind, schema) => {
    const page = read(FIELD_REFERENCE_PAGE);
    const documented = schemaFieldPaths(schema);
    const missing = documented.filter(
      (path) => !new RegExp(`^\\| \`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\` +\\|`, "m").test(page),
    );
    expect(missing).toEqual([]);
  });
});

describe("README.md", () => {
  it("shows the install-and-synth and the test commands", () => {
    expect(readme).toContain("npm ci && npm run synth");
    expect(readme).toContain("npm test");
  });
});
