/**
 * Helm values layering: base file, environment overlay, computed values, merged in that order.
 * Maps merge key by key; lists and scalars are replaced whole (Helm's own rule for `-f` files).
 * The rendered YAML has sorted keys, so the same inputs always give the same text.
 */
import { stringify } from "yaml";

export type HelmValues = { [key: string]: unknown };

function isMap(value: unknown): value is HelmValues {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Merges `layers` left to right into a new object; later layers win. `undefined` leaves a key as it was. */
export function mergeValues(...layers: readonly (HelmValues | undefined)[]): HelmValues {
  const result: HelmValues = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      const current = result[key];
      result[key] =
        isMap(current) && isMap(value) ? mergeValues(current, value) : structuredCloneValue(value);
    }
  }
  return result;
}

function structuredCloneValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(structuredCloneValue);
  if (isMap(value)) return mergeValues(value);
  return value;
}

/** YAML with sorted keys and no line folding (Terraform interpolations stay on one line). */
export function renderValues(values: HelmValues): string {
  return stringify(values, { sortMapEntries: true, lineWidth: 0, minContentWidth: 0 });
}
