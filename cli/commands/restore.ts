import { m365Restore } from './m365';
import { BackupError } from '../../shared/errors';
import { restoreFolder } from '../../shared/restore';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { formatBytes } from '../format';
import { ProgressBar } from '../progressBar';

export async function restoreCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  if (args.m365.tenant) return m365Restore(ctx, args);
  const [spec, target, extra] = args.positionals;
  if (!spec || !target || extra) throw new BackupError('USAGE', 'restore takes a snapshot and a target folder: m365-backup restore <snapshot|latest> <target-dir>.');
  const repo = await ctx.repository();
  const key = await repo.unlock(await ctx.password('restore'));
  const bar = new ProgressBar(!ctx.options.quiet && !ctx.options.json && !!process.stderr.isTTY);
  const r = await restoreFolder(repo, key, {
    partition: ctx.options.partition,
    snapshot: spec,
    target,
    include: args.include,
    force: args.force,
    onProgress: bar.update,
  }).finally(() => bar.done());
  if (ctx.options.json) console.log(JSON.stringify({ snapshot: r.snapshot.seq, files: r.files, dirs: r.dirs, links: r.links, bytes: r.bytes, failures: r.failures }));
  else {
    console.log(`Restored snapshot ${r.snapshot.seq} to ${target}: ${r.files} files (${formatBytes(r.bytes)}), ${r.dirs} folders, ${r.links} links.`);
    for (const f of r.failures) console.error(`failed: ${f.path}: ${f.reason}`);
  }
  return r.failures.length > 0 ? 3 : 0;
}
