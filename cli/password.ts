import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { BackupError } from '../shared/errors';

/** Reads a line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let muted = false;
    const output = new Writable({
      write(chunk, _enc, cb) {
        if (!muted) process.stderr.write(chunk);
        cb();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    muted = true;
    rl.on('SIGINT', () => {
      rl.close();
      reject(new BackupError('USAGE', 'Cancelled.'));
    });
  });
}

function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new BackupError('USAGE', `The password file ${path} cannot be read (${(e as NodeJS.ErrnoException).code}).`);
  }
  const pw = text.replace(/\r?\n$/, '');
  if (pw === '') throw new BackupError('USAGE', `The password file ${path} is empty.`);
  return pw;
}

export interface PasswordSources {
  file?: string;
  env?: string;
}

/** The repository password: --password-file, then M365_BACKUP_PASSWORD, then a prompt on a terminal. */
export async function readPassword(sources: PasswordSources, purpose: string): Promise<string> {
  if (sources.file) return readPasswordFile(sources.file);
  if (sources.env) return sources.env;
  if (process.stdin.isTTY) {
    const pw = await promptHidden(`Repository password${purpose ? ` (${purpose})` : ''}: `);
    if (pw === '') throw new BackupError('USAGE', 'The password must not be empty.');
    return pw;
  }
  throw new BackupError('USAGE', `A password is needed to ${purpose}: pass --password-file, set M365_BACKUP_PASSWORD, or run in a terminal.`);
}

/** A new password: a file, or asked twice on a terminal. */
export async function readNewPassword(file: string | undefined, envValue: string | undefined): Promise<string> {
  if (file) return readPasswordFile(file);
  if (envValue) return envValue;
  if (!process.stdin.isTTY)
    throw new BackupError('USAGE', 'A new password is needed: pass --new-password-file, or run in a terminal.');
  const a = await promptHidden('New repository password: ');
  if (a.length < 8) throw new BackupError('USAGE', 'The new password must have at least 8 characters.');
  const b = await promptHidden('Repeat the new password: ');
  if (a !== b) throw new BackupError('USAGE', 'The two passwords differ; nothing was changed.');
  return a;
}
