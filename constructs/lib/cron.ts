/**
 * Five-field cron expressions as a Kubernetes CronJob takes them (minute, hour, day of month,
 * month, day of week; lists, ranges, steps, `*`, and month and weekday names, and the `@hourly`
 * ... `@yearly` shorthands), read far enough to say whether an expression is valid and how close
 * together two runs can come. Kubernetes validates a schedule with robfig/cron v3's
 * `ParseStandard`, whose day of week runs 0-6 (Sunday is 0 only).
 */

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly CronField[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  {
    name: "month",
    min: 1,
    max: 12,
    names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
  },
  // 0-6: robfig/cron v3, which the API server validates schedules with, refuses 7.
  { name: "day of week", min: 0, max: 6, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] },
];

/**
 * The shorthands `ParseStandard` takes, as the five fields they stand for. It matches them
 * exactly (no surrounding spaces, lower case).
 */
const SHORTHANDS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

export type CronParse =
  | {
      readonly ok: true;
      readonly fields: readonly (readonly number[])[];
      /**
       * Per field, whether it was written as every value (`*` or `?`, without a step above 1).
       * The CronJob controller's parser (robfig/cron v3) matches a day when its day of month AND
       * its day of week match if either day field is such a wildcard, and when either matches
       * (OR) if both are restricted.
       */
      readonly wildcard: readonly boolean[];
    }
  | { readonly ok: false; readonly reason: string; readonly fix?: string };

function valueOf(text: string, field: CronField): number | undefined {
  const named = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (field.name === "month" ? 1 : 0);
  if (!/^\d{1,2}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= field.min && value <= field.max ? value : undefined;
}

function parseField(text: string, field: CronField): number[] | string {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText, extra] = part.split("/");
    if (extra !== undefined) return `"${part}" has two steps`;
    const step = stepText === undefined ? 1 : /^[1-9]\d{0,1}$/.test(stepText) ? Number(stepText) : NaN;
    if (Number.isNaN(step)) return `"${part}" has a step that is not a whole number from 1 to 99`;
    let low: number | undefined;
    let high: number | undefined;
    if (range === "*" || range === "?") [low, high] = [field.min, field.max];
    else {
      const [from, to, more] = range.split("-");
      if (more !== undefined) return `"${part}" is not a range a-b`;
      low = valueOf(from, field);
      high = to === undefined ? (stepText === undefined ? low : field.max) : valueOf(to, field);
    }
    if (low === undefined || high === undefined) {
      return `"${part}" is outside ${field.min}-${field.max}${field.names ? " (or a three-letter name)" : ""}`;
    }
    if (low > high) return `"${part}" runs backwards`;
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * Parses a five-field expression or a shorthand (as its five fields); the reason, a clause
 * about the expression ("it has ...", "its minute field ..."), names the field that is wrong.
 */
export function parseCron(expression: string): CronParse {
  if (expression.startsWith("@")) {
    const fiveFields = SHORTHANDS[expression];
    if (fiveFields !== undefined) return parseCron(fiveFields);
    if (expression.startsWith("@every"))
      return {
        ok: false,
        reason:
          "it is an interval (@every), which Kubernetes accepts but counts from the CronJob's last run rather than the clock, so the platform cannot check its runs against the job's deadline",
        fix: 'write the times as five fields, e.g. "0 */2 * * *" for every two hours',
      };
    return {
      ok: false,
      reason: `it is not a shorthand Kubernetes knows (${Object.keys(SHORTHANDS).join(", ")}, exactly, in lower case)`,
    };
  }
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5 || expression.trim() === "")
    return {
      ok: false,
      reason: `it has ${expression.trim() === "" ? 0 : parts.length} fields, not five (minute hour day-of-month month day-of-week)`,
    };
  const fields: number[][] = [];
  for (const [index, part] of parts.entries()) {
    const parsed = parseField(part, FIELDS[index]);
    if (typeof parsed === "string") {
      const sunday = index === 4 && part.split(/[,/-]/).includes("7");
      return {
        ok: false,
        reason: `its ${FIELDS[index].name} field ${parsed}`,
        ...(sunday ? { fix: "use 0 for Sunday (Kubernetes' cron library takes day of week 0-6)" } : {}),
      };
    }
    fields.push(parsed);
  }
  // robfig/cron v3 marks a field as every value when any of its comma parts is `*` or `?` without a
  // step above 1 (getRange's star bit, OR-ed over the list), as in `*,1`.
  const wildcard = parts.map((part) => part.split(",").some((item) => /^[*?](\/1)?$/.test(item)));
  return { ok: true, fields, wildcard };
}

/**
 * The shortest time between two runs of a valid expression, in minutes: the gaps between the
 * times of day it names, and from the last of one day to the first of the next (assuming the
 * day fields allow two days in a row, which can only overstate how often it runs).
 */
export function shortestIntervalMinutes(fields: readonly (readonly number[])[]): number {
  const [minutes, hours] = fields;
  const times = hours.flatMap((hour) => minutes.map((minute) => hour * 60 + minute));
  let shortest = 24 * 60 - times[times.length - 1] + times[0];
  for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i] - times[i - 1]);
  return shortest;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/**
 * The Gregorian calendar repeats its dates and weekdays every 28 years between 1901 and 2099:
 * 2001-01-01 to 2029-01-01 holds every combination once, and 2029 starts as 2001 did.
 */
const CYCLE_START = Date.UTC(2001, 0, 1);
const CYCLE_DAYS = Math.round((Date.UTC(2029, 0, 1) - CYCLE_START) / DAY_MS);

/**
 * The longest time between two runs of a valid expression, in minutes, in UTC: over every day
 * of a full calendar cycle its month, day of month and day of week allow (both day fields
 * restricted: either may match, as the CronJob controller reads them), the longest gap between
 * two times of one day, and from the last run of an allowed day to the first of the next.
 * Undefined when the day fields never match (e.g. 30 February): the schedule never runs.
 */
export function longestIntervalMinutes(parsed: Extract<CronParse, { ok: true }>): number | undefined {
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = parsed.fields;
  const [, , monthWildcard, , weekWildcard] = parsed.wildcard;
  const times = hours.flatMap((hour) => minutes.map((minute) => hour * 60 + minute));
  let longest = 0;
  for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i] - times[i - 1]);
  const monthDays = new Set(daysOfMonth);
  const weekDays = new Set(daysOfWeek.map((day) => day % 7));
  const monthSet = new Set(months);
  const runsOn = (date: Date): boolean => {
    if (!monthSet.has(date.getUTCMonth() + 1)) return false;
    const byMonth = monthDays.has(date.getUTCDate());
    const byWeek = weekDays.has(date.getUTCDay());
    return monthWildcard || weekWildcard ? byMonth && byWeek : byMonth || byWeek;
  };
  const days: number[] = [];
  for (let day = 0; day < CYCLE_DAYS; day++) if (runsOn(new Date(CYCLE_START + day * DAY_MS))) days.push(day);
  if (days.length === 0) return undefined;
  const first = times[0];
  const last = times[times.length - 1];
  // Each allowed day to the next, and the cycle's last allowed day to the next cycle's first.
  for (let i = 0; i < days.length; i++) {
    const next = i + 1 < days.length ? days[i + 1] : days[0] + CYCLE_DAYS;
    longest = Math.max(longest, (next - days[i]) * 24 * 60 + first - last);
  }
  return longest;
}
