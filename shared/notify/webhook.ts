import { BackupError } from '../errors';

/** A webhook must be HTTPS (plain HTTP only to this machine, for a local receiver); no credentials in it but its path. */
export function checkWebhookUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new BackupError('USAGE', '"url" is not a URL.');
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new BackupError('USAGE', 'The webhook URL must be https:// (http:// only on this machine).');
  if (u.username || u.password) throw new BackupError('USAGE', 'The webhook URL must not carry a user name or password.');
  if (text.length > 2048) throw new BackupError('USAGE', 'The webhook URL is longer than 2048 characters.');
  return u.toString();
}

/** Posts the JSON; a non-2xx answer or no answer in 10 s is an error (the caller retries next time). */
export async function postWebhook(url: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000), redirect: 'error' });
  await res.arrayBuffer().catch(() => undefined);
  // The URL is a credential: the error names the host only.
  if (!res.ok) throw new BackupError('TARGET', `The webhook at ${new URL(url).host} answered ${res.status}.`);
}

/** The host of a webhook, what the API shows of it (never the path, which carries its token). */
export const webhookHost = (url: string) => new URL(url).host;
