import { parseDuration, subtractDuration } from './duration';
import type { KeepRules } from './retentionPolicy';

export interface SnapshotTime {
  seq: number;
  time: string;
}

export interface KeepDecision {
  seq: number;
  time: string;
  keep: boolean;
  /** Which rules keep it ("last", "daily", "within", ...); empty for a forgotten snapshot. */
  reasons: string[];
}

/** Bucket of a time for each GFS rule (UTC, so the result does not depend on the machine's zone). */
const BUCKETS: Record<'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly', (d: Date) => string> = {
  hourly: (d) => d.toISOString().slice(0, 13),
  daily: (d) => d.toISOString().slice(0, 10),
  weekly: (d) => isoWeek(d),
  monthly: (d) => d.toISOString().slice(0, 7),
  yearly: (d) => d.toISOString().slice(0, 4),
};

/**
 * Which snapshots a rule set keeps, restic's algorithm (internal/restic/snapshot_policy.go): walk from
 * newest to oldest; "last N" keeps the N newest; each GFS rule keeps the newest snapshot of each of its
 * N most recent buckets (hour, day, ISO week, month, year) that have one; "within" keeps every snapshot
 * no older than the duration before the newest snapshot (not before "now", so a paused backup never
 * lets its history expire). A snapshot is kept when any rule keeps it. Returned oldest first.
 */
export function selectSnapshots(snapshots: readonly SnapshotTime[], rules: KeepRules): KeepDecision[] {
  const newestFirst = [...snapshots].sort((a, b) => b.time.localeCompare(a.time) || b.seq - a.seq);
  const cutoff = rules.within !== undefined && newestFirst.length > 0 ? subtractDuration(new Date(newestFirst[0]!.time), parseDuration(rules.within, 'keep-within')) : undefined;
  const left = { last: rules.last ?? 0, hourly: rules.hourly ?? 0, daily: rules.daily ?? 0, weekly: rules.weekly ?? 0, monthly: rules.monthly ?? 0, yearly: rules.yearly ?? 0 };
  const lastBucket: Record<string, string | undefined> = {};
  const out: KeepDecision[] = [];
  for (const s of newestFirst) {
    const d = new Date(s.time);
    const reasons: string[] = [];
    if (left.last > 0) {
      left.last--;
      reasons.push('last');
    }
    for (const rule of Object.keys(BUCKETS) as (keyof typeof BUCKETS)[]) {
      if (left[rule] <= 0) continue;
      const b = BUCKETS[rule](d);
      if (b === lastBucket[rule]) continue;
      lastBucket[rule] = b;
      left[rule]--;
      reasons.push(rule);
    }
    if (cutoff && d.getTime() >= cutoff.getTime()) reasons.push('within');
    out.push({ seq: s.seq, time: s.time, keep: reasons.length > 0, reasons });
  }
  return out.reverse();
}

/** ISO 8601 week ("2026-W49"): weeks start on Monday; week 1 holds the year's first Thursday. */
export function isoWeek(d: Date): string {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
