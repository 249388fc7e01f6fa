/** Field paths of a zod object schema, for checking that documentation covers every field. */
import type { z } from "zod";

function unwrap(schema: any): any {
  let current = schema;
  for (;;) {
    const def = current?._zod?.def;
    if (!def) return current;
    if (["optional", "default", "prefault", "nullable", "readonly"].includes(def.type))
      current = def.innerType;
    else if (def.type === "pipe") current = def.in;
    else return current;
  }
}

export function schemaFieldPaths(schema: z.ZodType, prefix = ""): string[] {
  const inner = unwrap(schema);
  const def = inner?._zod?.def;
  if (def?.type !== "object") return prefix ? [prefix] : [];
  return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([key, child]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const childDef = unwrap(child)?._zod?.def;
    return childDef?.type === "object" ? [path, ...schemaFieldPaths(child, path)] : [path];
  });
}
