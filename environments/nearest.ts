/**
 * The known word a misspelt one was probably meant as: for flags, environment names and the
 * fields of environment and release files.
 */

/** Edit distance with adjacent transpositions (optimal string alignment), for naming the nearest known word. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/** The known word `word` was probably meant as: same letters in another case, or one or two typos. */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const ranked = known
    .map((k) => ({ k, d: distance(lower, k.toLowerCase()) }))
    .filter(({ k, d }) => d <= Math.min(2, Math.max(1, Math.floor(k.length / 3))))
    .sort((a, b) => a.d - b.d);
  return ranked.length > 0 && (ranked.length === 1 || ranked[0].d < ranked[1].d) ? ranked[0].k : undefined;
}
