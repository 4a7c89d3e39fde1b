import { BackupError } from '../errors';

/** Longest accepted keep-within: anything longer is a typing mistake. */
export const MAX_DURATION_YEARS = 200;

export interface Duration {
  years: number;
  months: number;
  days: number;
  hours: number;
  /** Approximate length (a year 365.25 days, a month 30.44): only for "is it positive" and bounds. */
  ms: number;
}

const HOUR = 3_600_000;

/**
 * restic's duration grammar: numbers with y, m (months), d, h units, e.g. "30d", "1y6m", "2d12h".
 * USAGE for anything else, a negative value or more than 200 years.
 */
export function parseDuration(text: string, what: string): Duration {
  const d = { years: 0, months: 0, days: 0, hours: 0 };
  const units: Record<string, keyof typeof d> = { y: 'years', m: 'months', d: 'days', h: 'hours' };
  if (!/^(\d{1,6}[ymdh])+$/.test(text)) throw new BackupError('USAGE', `${what} "${text.slice(0, 40)}" is not a duration: use numbers with y, m, d, h, such as 30d, 1y6m or 12h.`);
  for (const m of text.matchAll(/(\d+)([ymdh])/g)) d[units[m[2]!]!] += Number(m[1]);
  const ms = (d.years * 365.25 + d.months * 30.44 + d.days) * 24 * HOUR + d.hours * HOUR;
  if (ms > MAX_DURATION_YEARS * 365.25 * 24 * HOUR) throw new BackupError('USAGE', `${what} "${text}" is longer than ${MAX_DURATION_YEARS} years.`);
  return { ...d, ms };
}

/** `time` minus the duration, calendar-aware (UTC), as restic's keep-within computes its cut-off. */
export function subtractDuration(time: Date, d: Duration): Date {
  const t = new Date(time.getTime());
  t.setUTCFullYear(t.getUTCFullYear() - d.years, t.getUTCMonth() - d.months, t.getUTCDate() - d.days);
  t.setUTCHours(t.getUTCHours() - d.hours);
  return t;
}
