import { BackupError } from '../../shared/errors';
import { verifyRepository } from '../../shared/repo';
import type { ParsedArgs } from '../args';
import type { CliContext } from '../context';
import { refuseAt, refuseFolderOptions } from '../selection';
import { formatBytes } from '../format';

export async function verifyCommand(ctx: CliContext, args: ParsedArgs): Promise<number> {
  refuseFolderOptions(args, 'verify');
  refuseAt(args, 'verify');
  if (args.positionals.length) throw new BackupError('USAGE', 'verify takes no arguments: m365-backup verify [--read-data] [--tenant <n>].');
  const { repo, label } = await ctx.repositoryFor(args.m365.tenant);
  const privateKey = args.readData ? await repo.unlock(await ctx.password('read and check all data')) : undefined;
  const r = await verifyRepository(repo, {
    privateKey,
    onProgress: (done, total) => {
      if (!ctx.options.quiet && process.stderr.isTTY) process.stderr.write(`\rreading packs ${done}/${total}\x1b[K`);
    },
  });
  if (!ctx.options.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  if (ctx.options.json) console.log(JSON.stringify({ repository: repo.layout.name, ...r }, null, 2));
  else {
    console.log(
      `Checked ${label}: ${r.packs} packs, ${r.chunks} chunks, ${r.items} item versions, ${r.snapshots} snapshots` +
        (r.readData ? `; read and decrypted ${formatBytes(r.bytesRead)}` : ' (structure only; --read-data also decrypts every chunk)') +
        (r.unreferencedPacks ? `; ${r.unreferencedPacks} unreferenced pack(s) left by interrupted runs` : '') +
        '.',
    );
    for (const i of r.issues) console.log(`PROBLEM: ${i.object} ${i.problem}`);
    console.log(r.issues.length === 0 ? 'No problems found.' : `${r.issues.length} problem(s) found.`);
  }
  return r.issues.length === 0 ? 0 : 1;
}
