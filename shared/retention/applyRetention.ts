import type { Service } from '../m365';
import { forgetSnapshots, partitionSnapshots, type Repository } from '../repo';
import { effectiveRules, type KeepRules, type RetentionPolicy } from './retentionPolicy';
import { getRetentionPolicy } from './policyStore';
import { selectSnapshots, type KeepDecision } from './selectSnapshots';

/** One partition to apply retention to: its name (a folder partition, or a user's service partition) and policy scope. */
export interface RetentionTarget {
  partitionName: string;
  /** The policy's user scope: a folder partition's name, or a user's UPN/id. */
  user?: string;
  service?: Service;
  /** For reports: "laptop", "adele@contoso.com mail". */
  label: string;
}

export interface ForgetOutcome {
  label: string;
  /** "hold" (legal hold), "all" (no rules: keep everything) or the scope whose rules applied. */
  applied: string;
  decisions: KeepDecision[];
  forgotten: number[];
}

/**
 * restic's `forget`: per target, the explicit rules (flags) or the stored policy decide which
 * snapshots stay; the others are forgotten (unless dryRun). A legal hold always wins, flags included.
 */
export async function applyRetention(repo: Repository, targets: readonly RetentionTarget[], o: { rules?: KeepRules; dryRun?: boolean; policy?: RetentionPolicy } = {}): Promise<ForgetOutcome[]> {
  const policy = o.policy ?? (await getRetentionPolicy(repo));
  const out: ForgetOutcome[] = [];
  for (const t of targets) {
    const eff = effectiveRules(policy, t.user, t.service);
    const snapshots = await partitionSnapshots(repo, t.partitionName);
    if (eff.kind === 'hold' || (eff.kind === 'all' && !o.rules)) {
      out.push({ label: t.label, applied: eff.kind === 'hold' ? 'legal hold' : 'keep everything', decisions: snapshots.map((s) => ({ seq: s.seq, time: s.time, keep: true, reasons: [eff.kind] })), forgotten: [] });
      continue;
    }
    const rules = o.rules ?? (eff as { rules: KeepRules }).rules;
    const decisions = selectSnapshots(snapshots, rules);
    const drop = decisions.filter((d) => !d.keep).map((d) => d.seq);
    const forgotten = o.dryRun || drop.length === 0 ? [] : (await forgetSnapshots(repo, t.partitionName, drop)).forgotten;
    out.push({ label: t.label, applied: o.rules ? 'the given rules' : (eff as { scope: string }).scope, decisions, forgotten });
  }
  return out;
}
