/** Kubernetes resource quantities (`100m`, `1.5`, `128Mi`, `1G`) as numbers. */
const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(value: string | number): number {
  if (typeof value === "number") return value;
  const match = /^([+-]?\d+(?:\.\d+)?)(?:[eE]([+-]?\d+))?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(
    value.trim(),
  );
  if (!match) throw new Error(`"${value}" is not a Kubernetes quantity`);
  const [, number, exponent, suffix] = match;
  return Number(number) * (exponent ? 10 ** Number(exponent) : 1) * SUFFIXES[suffix ?? ""];
}

/** A quantity for people: cores with up to 3 decimals, memory in Mi/Gi. */
export function formatQuantity(resource: string, value: number): string {
  if (/memory|storage/.test(resource)) {
    return value >= 2 ** 30 ? `${+(value / 2 ** 30).toFixed(2)}Gi` : `${+(value / 2 ** 20).toFixed(1)}Mi`;
  }
  return `${+value.toFixed(3)}`;
}
