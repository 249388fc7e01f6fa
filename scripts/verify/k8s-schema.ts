/**
 * Structural schemas of the built-in Kubernetes kinds, read from the type declarations of the
 * npm package `kubernetes-models` (generated from the Kubernetes OpenAPI spec; see
 * KUBERNETES_SCHEMA_VERSION). They drive two things: validation of built-in objects (unknown
 * fields, required fields, types, enums) and the conversion of the Terraform provider's
 * snake_case resources into Kubernetes objects.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { createRequire } from "node:module";
import type * as TypeScript from "typescript";
import { CACHE_ROOT, PROJECT_ROOT } from "./tools";

/** The Kubernetes version `kubernetes-models` 4.5.1 was generated from (its changelog: v1.33.0). */
export const KUBERNETES_SCHEMA_VERSION = "1.33";

export type SchemaNode =
  | { readonly type: "object"; readonly ref: string }
  | { readonly type: "map"; readonly values: SchemaNode }
  | { readonly type: "array"; readonly items: SchemaNode }
  | { readonly type: "string"; readonly enum?: readonly string[] }
  | { readonly type: "number" }
  | { readonly type: "boolean" }
  /** IntOrString and Quantity: a number or a string. */
  | { readonly type: "int-or-string" }
  | { readonly type: "any" };

export interface ObjectDefinition {
  readonly properties: Readonly<Record<string, { readonly schema: SchemaNode; readonly required: boolean }>>;
}

export interface KindSchemas {
  /** Root definition per `apiVersion/kind`. */
  readonly kinds: Readonly<Record<string, string>>;
  readonly definitions: Readonly<Record<string, ObjectDefinition>>;
}

function modelsRoot(): string {
  return dirname(require.resolve("kubernetes-models/package.json", { paths: [PROJECT_ROOT] }));
}

function modelsVersion(): string {
  return JSON.parse(readFileSync(join(modelsRoot(), "package.json"), "utf8")).version;
}

/** Folder of an apiVersion in kubernetes-models: `v1`, `apps/v1`, `networking.k8s.io/v1`. */
function declarationFile(apiVersion: string, kind: string): string {
  return join(modelsRoot(), ...apiVersion.split("/"), `${kind}.d.ts`);
}

/** Every `apiVersion/kind` pair the package declares, found from its folder layout. */
export function declaredKind(apiVersion: string, kind: string): boolean {
  return /^[A-Za-z0-9]+$/.test(kind) && existsSync(declarationFile(apiVersion, kind));
}

/** The TypeScript compiler, loaded only when schemas are read (not from the cache): it is large. */
function typescript(): typeof TypeScript {
  return createRequire(__filename)("typescript") as typeof TypeScript;
}

class SchemaReader {
  readonly definitions: Record<string, ObjectDefinition> = {};
  private readonly checker: TypeScript.TypeChecker;
  private readonly ts = typescript();

  constructor(private readonly program: TypeScript.Program) {
    this.checker = program.getTypeChecker();
  }

  root(file: string, kind: string): string | undefined {
    const source = this.program.getSourceFile(file);
    if (!source) return undefined;
    const symbol = this.checker.getSymbolAtLocation(source);
    const exported = symbol && this.checker.getExportsOfModule(symbol).find((s) => s.name === `I${kind}`);
    if (!exported) return undefined;
    const type = this.checker.getDeclaredTypeOfSymbol(exported);
    const node = this.node(type);
    return node.type === "object" ? node.ref : undefined;
  }

  private node(type: TypeScript.Type): SchemaNode {
    const ts = this.ts;
    const flags = type.flags;
    if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return { type: "any" };
    if (flags & ts.TypeFlags.StringLiteral)
      return { type: "string", enum: [(type as TypeScript.StringLiteralType).value] };
    if (flags & ts.TypeFlags.String) return { type: "string" };
    if (flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral)) return { type: "number" };
    if (flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { type: "boolean" };
    if (type.isUnion()) {
      const parts = type.types.filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
      if (parts.every((t) => t.flags & ts.TypeFlags.StringLiteral)) {
        return { type: "string", enum: parts.map((t) => (t as TypeScript.StringLiteralType).value) };
      }
      if (parts.every((t) => t.flags & ts.TypeFlags.BooleanLiteral)) return { type: "boolean" };
      if (parts.length === 1) return this.node(parts[0]);
      if (
        parts.some((t) => t.flags & ts.TypeFlags.NumberLike) &&
        parts.some((t) => t.flags & ts.TypeFlags.StringLike)
      ) {
        return { type: "int-or-string" };
      }
      return { type: "any" };
    }
    if (this.checker.isArrayType(type)) {
      const [item] = this.checker.getTypeArguments(type as TypeScript.TypeReference);
      return { type: "array", items: item ? this.node(item) : { type: "any" } };
    }
    if (flags & ts.TypeFlags.Object) {
      const properties = this.checker.getPropertiesOfType(type);
      const index = this.checker.getIndexInfoOfType(type, ts.IndexKind.String);
      if (properties.length === 0)
        return index ? { type: "map", values: this.node(index.type) } : { type: "any" };
      const declaration = type.getSymbol()?.declarations?.[0];
      const name = this.checker.typeToString(type);
      // Short names repeat across API groups (autoscaling/v1 and v2 both have HorizontalPodAutoscalerSpec).
      const ref =
        declaration && !name.startsWith("{")
          ? `${relative(PROJECT_ROOT, declaration.getSourceFile().fileName)}#${name}`
          : `anonymous:${properties.map((p) => `${p.name}:${this.checker.typeToString(this.checker.getTypeOfSymbol(p))}`).join(",")}`;
      if (this.definitions[ref]) return { type: "object", ref };
      const definition: { properties: Record<string, { schema: SchemaNode; required: boolean }> } = {
        properties: {},
      };
      this.definitions[ref] = definition;
      for (const property of properties) {
        const declaration = property.valueDeclaration ?? property.declarations?.[0];
        if (!declaration) continue;
        const propertyType = this.checker.getTypeOfSymbolAtLocation(property, declaration);
        definition.properties[property.name] = {
          schema: this.node(this.checker.getNonNullableType(propertyType)),
          required: !(property.flags & ts.SymbolFlags.Optional),
        };
      }
      return { type: "object", ref };
    }
    return { type: "any" };
  }
}

let loaded:
  | {
      cacheFile: string;
      schemas: { kinds: Record<string, string>; definitions: Record<string, ObjectDefinition> };
    }
  | undefined;

function cacheFile(): string {
  return join(CACHE_ROOT, "schemas", `kubernetes-models-${modelsVersion()}-v2.json`);
}

function load() {
  if (loaded) return loaded;
  const file = cacheFile();
  const schemas = existsSync(file)
    ? JSON.parse(readFileSync(file, "utf8"))
    : { kinds: {} as Record<string, string>, definitions: {} as Record<string, ObjectDefinition> };
  loaded = { cacheFile: file, schemas };
  return loaded;
}

/**
 * Schemas of the given `apiVersion/kind` pairs (those kubernetes-models declares), read once
 * and cached under node_modules/.cache.
 */
export function kindSchemas(wanted: readonly { apiVersion: string; kind: string }[]): KindSchemas {
  const state = load();
  const missing = wanted.filter(
    (w) =>
      state.schemas.kinds[`${w.apiVersion}/${w.kind}`] === undefined && declaredKind(w.apiVersion, w.kind),
  );
  const unique = [...new Map(missing.map((m) => [`${m.apiVersion}/${m.kind}`, m])).values()];
  if (unique.length > 0) {
    const files = unique.map((m) => declarationFile(m.apiVersion, m.kind));
    const ts = typescript();
    const program = ts.createProgram(files, {
      noEmit: true,
      skipLibCheck: true,
      types: [],
      module: ts.ModuleKind.CommonJS,
      moduleResolution: ts.ModuleResolutionKind.Node10,
    });
    const reader = new SchemaReader(program);
    unique.forEach((m, i) => {
      const ref = reader.root(files[i], m.kind);
      if (ref) state.schemas.kinds[`${m.apiVersion}/${m.kind}`] = ref;
    });
    Object.assign(state.schemas.definitions, reader.definitions);
    mkdirSync(dirname(state.cacheFile), { recursive: true });
    writeFileSync(state.cacheFile, JSON.stringify(state.schemas));
  }
  return state.schemas;
}

export interface SchemaViolation {
  readonly path: string;
  readonly message: string;
}

function describe(node: SchemaNode): string {
  switch (node.type) {
    case "object":
      return "an object";
    case "map":
      return "a map";
    case "array":
      return "a list";
    case "int-or-string":
      return "a number or a string";
    case "any":
      return "any value";
    default:
      return `a ${node.type}`;
  }
}

/** Checks a value against a structural schema as the API server decodes it (unknown fields are errors). */
export function validateAgainst(
  schemas: KindSchemas,
  node: SchemaNode,
  value: unknown,
  path: string,
  out: SchemaViolation[] = [],
): SchemaViolation[] {
  if (value === null || value === undefined) return out;
  const wrong = () =>
    out.push({ path, message: `must be ${describe(node)}, found ${JSON.stringify(value)}` });
  switch (node.type) {
    case "any":
      return out;
    case "string":
      if (typeof value !== "string") wrong();
      else if (node.enum && !node.enum.includes(value)) {
        out.push({ path, message: `"${value}" is not one of ${node.enum.map((e) => `"${e}"`).join(", ")}` });
      }
      return out;
    case "number":
      if (typeof value !== "number") wrong();
      return out;
    case "boolean":
      if (typeof value !== "boolean") wrong();
      return out;
    case "int-or-string":
      if (typeof value !== "number" && typeof value !== "string") wrong();
      return out;
    case "array":
      if (!Array.isArray(value)) wrong();
      else value.forEach((item, i) => validateAgainst(schemas, node.items, item, `${path}[${i}]`, out));
      return out;
    case "map":
      if (typeof value !== "object" || Array.isArray(value)) wrong();
      else {
        for (const [key, child] of Object.entries(value)) {
          validateAgainst(schemas, node.values, child, `${path}.${key}`, out);
        }
      }
      return out;
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) {
        wrong();
        return out;
      }
      const definition = schemas.definitions[node.ref];
      const record = value as Record<string, unknown>;
      for (const [key, child] of Object.entries(record)) {
        const property = definition.properties[key];
        if (!property) {
          const known = Object.keys(definition.properties).sort();
          out.push({
            path: `${path}.${key}`,
            message: `unknown field "${key}" (known: ${known.join(", ")})`,
          });
        } else {
          validateAgainst(schemas, property.schema, child, `${path}.${key}`, out);
        }
      }
      for (const [key, property] of Object.entries(definition.properties)) {
        if (property.required && (record[key] === undefined || record[key] === null)) {
          out.push({ path: `${path}.${key}`, message: `required field "${key}" is missing` });
        }
      }
      return out;
    }
  }
}
