/** Builds RFC 5322 messages (CRLF, base64 attachments) the way Exchange hands them out through $value. */
export interface MimeSpec {
  messageId: string;
  subject: string;
  from: { name: string; address: string };
  to: { name: string; address: string }[];
  date: string;
  text: string;
  attachments?: { name: string; contentType: string; data: Buffer }[];
}

const addr = (a: { name: string; address: string }) => `"${a.name.replace(/"/g, "'")}" <${a.address}>`;

/** RFC 2047 encoded-word for non-ASCII subjects. */
function header(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?utf-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

function wrap76(b64: string): string {
  return b64.replace(/.{1,76}/g, '$&\r\n');
}

export function buildMime(m: MimeSpec): Buffer {
  const head = [
    `Message-ID: <${m.messageId}>`,
    `Date: ${new Date(m.date).toUTCString().replace('GMT', '+0000')}`,
    `From: ${addr(m.from)}`,
    `To: ${m.to.map(addr).join(', ')}`,
    `Subject: ${header(m.subject)}`,
    'MIME-Version: 1.0',
  ];
  const body = Buffer.from(m.text, 'utf8').toString('base64');
  if (!m.attachments?.length) {
    return Buffer.from([...head, 'Content-Type: text/plain; charset="utf-8"', 'Content-Transfer-Encoding: base64', '', wrap76(body)].join('\r\n'));
  }
  const boundary = `_sim_${m.messageId.replace(/[^A-Za-z0-9]/g, '').slice(0, 24)}_`;
  const parts = [
    ...head,
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset="utf-8"',
    'Content-Transfer-Encoding: base64',
    '',
    wrap76(body),
  ];
  for (const a of m.attachments)
    parts.push(
      `--${boundary}`,
      `Content-Type: ${a.contentType}; name="${a.name}"`,
      `Content-Disposition: attachment; filename="${a.name}"`,
      'Content-Transfer-Encoding: base64',
      '',
      wrap76(a.data.toString('base64')),
    );
  parts.push(`--${boundary}--`, '');
  return Buffer.from(parts.join('\r\n'));
}
