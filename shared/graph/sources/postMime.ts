import { isObject } from './types';

/**
 * A group conversation post as an RFC 5322 message (.eml), since Graph serves no MIME for posts:
 * From, Date, Subject (the thread's topic), the HTML body, and each file attachment. Built at
 * backup time from the post's JSON and its attachments, so a restore writes it as is.
 */
export function postToMime(post: Record<string, unknown>, topic: string, attachments: Record<string, unknown>[]): Buffer {
  const from = isObject(post.from) && isObject(post.from.emailAddress) ? post.from.emailAddress : {};
  const addr = `${header(String(from.name ?? ''))} <${String(from.address ?? 'unknown@invalid')}>`;
  const date = new Date(String(post.receivedDateTime ?? post.createdDateTime ?? 0));
  const body = isObject(post.body) ? String(post.body.content ?? '') : '';
  const boundary = `=_post_${String(post.id ?? 'x').replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}`;
  const lines = [`From: ${addr}`, `Date: ${date.toUTCString().replace('GMT', '+0000')}`, `Subject: ${header(topic)}`, `Message-ID: <${String(post.id ?? 'post')}@groups.graph>`, 'MIME-Version: 1.0'];
  const html = ['Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: base64', '', wrap(Buffer.from(body, 'utf8').toString('base64'))];
  const files = attachments.filter((a) => typeof a.contentBytes === 'string');
  if (files.length === 0) return Buffer.from([...lines, ...html, ''].join('\r\n'));
  const parts = [...lines, `Content-Type: multipart/mixed; boundary="${boundary}"`, '', `--${boundary}`, ...html];
  for (const a of files) {
    const name = header(String(a.name ?? 'attachment'));
    parts.push(`--${boundary}`, `Content-Type: ${String(a.contentType ?? 'application/octet-stream')}; name="${name}"`, `Content-Disposition: attachment; filename="${name}"`, 'Content-Transfer-Encoding: base64', '', wrap(String(a.contentBytes)));
  }
  parts.push(`--${boundary}--`, '');
  return Buffer.from(parts.join('\r\n'));
}

/** An RFC 2047 encoded word when the text is not plain ASCII. */
function header(s: string): string {
  const clean = s.replace(/[\r\n"]/g, ' ');
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?UTF-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

const wrap = (b64: string) => b64.replace(/.{1,76}/g, (l) => `${l}\r\n`).trimEnd();
