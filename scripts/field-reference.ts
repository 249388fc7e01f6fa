/**
 * The environment field references of docs/environment-reference.md, generated from the schemas
 * themselves: every field with whether it is required, its default and the rules its validation
 * enforces (the rule part of each message the schema gives). A test fails when the page differs.
 *
 *   npm run docs:fields
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import { environmentSchema } from "../environments/schema";
import { rancherEnvironmentSchema } from "../environments/rancher-schema";

interface FieldRow {
  readonly path: string;
  readonly required: boolean;
  readonly defaultValue?: string;
  readonly rules: readonly string[];
}

/* eslint-disable @typescript-eslint/no-explicit-any -- zod's internals are untyped */
const defOf = (schema: any): any => schema?._zod?.def;

/** The rule of a message `<rule>; fix: <remedy>` (the whole message when it has no fix). */
function ruleOf(message: unknown): string | undefined {
  if (typeof message !== "string" || message === "") return undefined;
  return message.split("; fix: ")[0];
}

function messageOf(error: unknown): string | undefined {
  if (typeof error === "string") return error;
  if (typeof error !== "function") return undefined;
  try {
    const result = (error as (issue: unknown) => unknown)({ input: undefined, code: "custom" });
    return typeof result === "string" ? result : (result as { message?: string } | undefined)?.message;
  } catch {
    return undefined;
  }
}

function describeDefault(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0)
    return "see its fields";
  if (Array.isArray(value) && value.length === 0) return "none";
  return `\`${JSON.stringify(value)}\``;
}

/**
 * Peels optional/default/prefault wrappers, noting whether the field may be left out, its default
 * and the description the schema gives it (for rules written as code, which no message states).
 */
function unwrap(schema: any): {
  inner: any;
  required: boolean;
  defaultValue?: unknown;
  description?: string;
} {
  let current = schema;
  let required = true;
  let defaultValue: unknown;
  let description: string | undefined;
  for (;;) {
    description ??= typeof current?.description === "string" ? current.description : undefined;
    const def = defOf(current);
    if (!def) break;
    if (def.type === "optional" || def.type === "nullable") required = false;
    else if (def.type === "default" || def.type === "prefault") {
      required = false;
      if (defaultValue === undefined)
        defaultValue = typeof def.defaultValue === "function" ? def.defaultValue() : def.defaultValue;
    } else if (def.type === "pipe") {
      current = def.in;
      continue;
    } else break;
    current = def.innerType;
  }
  description ??= typeof current?.description === "string" ? current.description : undefined;
  return { inner: current, required, defaultValue, description };
}

function rulesOf(schema: any): string[] {
  const def = defOf(schema);
  if (!def) return [];
  const rules: string[] = [];
  const add = (rule: string | undefined) => {
    if (rule && !rules.includes(rule)) rules.push(rule);
  };
  if (def.type === "enum")
    add(
      `one of ${Object.values(def.entries)
        .map((v) => `\`${String(v)}\``)
        .join(", ")}`,
    );
  if (def.type === "literal") add(`\`${JSON.stringify(def.values?.[0] ?? def.value)}\``);
  for (const check of def.checks ?? []) add(ruleOf(messageOf(defOf(check)?.error)));
  if (def.type === "array") {
    for (const rule of rulesOf(unwrap(def.element).inner)) add(`each: ${rule}`);
  }
  if (def.type === "record") {
    for (const rule of rulesOf(unwrap(def.keyType).inner)) add(`keys: ${rule}`);
    for (const rule of rulesOf(unwrap(def.valueType).inner)) add(`values: ${rule}`);
  }
  if (rules.length === 0) add(ruleOf(messageOf(def.error)));
  if (rules.length === 0 && def.type === "boolean") add("`true` or `false`");
  return rules;
}

/** Every field of an object schema, depth first, sections before their fields. */
export function fieldRows(schema: z.ZodType, prefix = ""): FieldRow[] {
  const object = defOf(unwrap(schema).inner);
  if (object?.type !== "object") return [];
  return Object.entries(object.shape as Record<string, unknown>).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const { inner, required, defaultValue, description } = unwrap(child);
    const isSection = defOf(inner)?.type === "object";
    const row: FieldRow = {
      path,
      required,
      defaultValue: describeDefault(defaultValue),
      rules: isSection ? [] : [...(description ? [description] : []), ...rulesOf(inner)],
    };
    return isSection ? [row, ...fieldRows(inner, path)] : [row];
  });
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function renderFieldTable(schema: z.ZodType): string {
  return [
    "| field | required | default | rules |",
    "| --- | --- | --- | --- |",
    ...fieldRows(schema).map(
      (row) =>
        `| \`${row.path}\` | ${row.required ? "yes" : "no"} | ${cell(row.defaultValue ?? "")} | ${cell(row.rules.join("; "))} |`,
    ),
  ].join("\n");
}

/** The page the tables live in, relative to the project root. */
export const FIELD_REFERENCE_PAGE = "docs/environment-reference.md";

/** The generated tables and the page's markers around each. */
export const FIELD_TABLES = [
  { marker: "aws-environment-fields", schema: environmentSchema as z.ZodType },
  { marker: "onprem-environment-fields", schema: rancherEnvironmentSchema as z.ZodType },
] as const;

/** The page with every generated table replaced by its current content. */
export function withCurrentTables(page: string): string {
  let text = page;
  for (const { marker, schema } of FIELD_TABLES) {
    const start = `<!-- generated: ${marker} -->`;
    const end = `<!-- end: ${marker} -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from)
      throw new Error(
        `${FIELD_REFERENCE_PAGE} has no ${start} ... ${end} section; fix: add the two markers where the table goes`,
      );
    text = `${text.slice(0, from + start.length)}\n\n${renderFieldTable(schema)}\n\n${text.slice(to)}`;
  }
  return text;
}

if (require.main === module) {
  const path = join(__dirname, "..", FIELD_REFERENCE_PAGE);
  writeFileSync(path, withCurrentTables(readFileSync(path, "utf8")));
}
