import { m365Ls } from './m365';
import { BackupError } from '../../shared/errors';
import { Catalog } from '../../shared/repo';
import { included, selectSnapshot } from '../../shared/restore';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';

export async function lsCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.m365.tenant) return m365Ls(ctx, args);
  const [spec, extra] = args.positionals;
  if (!spec || extra) throw new BackupError('USAGE', 'ls takes one snapshot: m365-backup ls <snapshot|latest>.');
  const repo = await ctx.repository();
  const catalog = new Catalog(repo, ctx.options.partition);
  const snapshot = await selectSnapshot(catalog, spec);
  const key = await repo.unlock(await ctx.password('list a snapshot'));
  const runKeys = await catalog.openRunKeys(key);
  const entries: Record<string, unknown>[] = [];
  for await (const v of catalog.versionsAt(snapshot.seq, runKeys)) if (included(String(v.meta.path), args.include)) entries.push(v.meta);
  entries.sort((a, b) => (String(a.path) < String(b.path) ? -1 : 1));
  if (ctx.options.json) console.log(JSON.stringify({ snapshot: snapshot.seq, time: snapshot.time, entries }, null, 2));
  else
    for (const e of entries) {
      const kind = e.type === 'dir' ? 'd' : e.type === 'symlink' ? 'l' : '-';
      const mode = Number(e.mode ?? 0).toString(8).padStart(4, '0');
      const when = e.mtimeNs ? new Date(Number(BigInt(String(e.mtimeNs)) / 1_000_000n)).toISOString() : '';
      console.log(`${kind} ${mode} ${String(e.size ?? 0).padStart(12)} ${when} ${e.path}${e.target !== undefined ? ` -> ${e.target}` : ''}`);
    }
  return 0;
}
