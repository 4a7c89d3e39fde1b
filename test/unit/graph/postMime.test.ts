import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postToMime } from '../../../shared/graph/sources/postMime';

test('a group post becomes an RFC 5322 message with its HTML body and attachments', () => {
  const data = Buffer.from([0, 1, 2, 250, 251]);
  const eml = postToMime(
    { id: 'AAMk=', receivedDateTime: '2026-05-01T09:15:00Z', from: { emailAddress: { name: 'Zoë Åberg', address: 'zoe@contoso.example' } }, body: { contentType: 'html', content: '<p>Grüße</p>' } },
    'Plan für Q3',
    [{ name: 'a.bin', contentType: 'application/octet-stream', contentBytes: data.toString('base64') }],
  ).toString('latin1');
  assert.match(eml, /^From: =\?UTF-8\?B\?[A-Za-z0-9+/=]+\?= <zoe@contoso\.example>\r\n/);
  assert.match(eml, /\r\nSubject: =\?UTF-8\?B\?UGxhbiBmw7xyIFEz\?=\r\n/);
  assert.match(eml, /\r\nDate: Fri, 01 May 2026 09:15:00 \+0000\r\n/);
  assert.match(eml, /Content-Type: multipart\/mixed; boundary="=_post_AAMk"/);
  assert.ok(eml.includes(Buffer.from('<p>Grüße</p>').toString('base64')));
  assert.ok(eml.includes(`filename="a.bin"`) && eml.includes(data.toString('base64')));
  assert.ok(eml.trimEnd().endsWith('--=_post_AAMk--'));
  const plain = postToMime({ id: 'x', body: { content: 'hi' } }, 'Topic', []).toString();
  assert.ok(!plain.includes('multipart') && plain.includes('Subject: Topic'));
});
