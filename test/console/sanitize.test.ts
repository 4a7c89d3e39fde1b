import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeHtml, previewDocument } from '../../shared/browse';
import { parseMime, leaves, partText } from '../../shared/browse/mime';
import { failedRunNotices, missedRunNotice, webhookBody } from '../../shared/notify';

describe('mail HTML is rebuilt from an allow-list (shared/browse/sanitizeHtml)', () => {
  const hostile = [
    '<script>alert(1)</script>',
    '<img src="https://tracker.example/p.gif" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="https://phish.example/">link</a>',
    '<div style="background:url(https://t.example/x)">bg</div>',
    '<svg><script>alert(1)</script></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<style>@import url(https://t.example/a.css)</style>',
    '<body onload=alert(1)>',
    '<p title="&quot; onmouseover=&quot;alert(1)">t</p>',
    '<table background="https://t.example/bg.png"><tr><td>c</td></tr></table>',
    '<!--[if mso]><script>x</script><![endif]-->',
    '<scr<script>ipt>alert(1)</script>',
    '<form action="https://evil.example"><input name=a></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<object data="x.swf"></object><embed src="x">',
    '<p>caf&eacute; &lt;b&gt; &#60;script&#62;</p>',
  ].join('\n');

  test('no script, handler, URL, style sheet or frame survives; formatting and text do', () => {
    const out = sanitizeHtml(hostile);
    assert.doesNotMatch(out, /<script|<svg|<iframe|<style|<form|<input|<meta|<base|<object|<embed|<img|<body/i);
    assert.doesNotMatch(out.replace(/"[^"]*"/g, '""'), /\son\w+\s*=/i, 'no event handler attribute (outside quoted, escaped values)');
    assert.doesNotMatch(out, /https?:|javascript:|url\(/i, 'no URL of any kind');
    assert.match(out, /<a>x<\/a>/, 'links keep their text, lose their target');
    assert.match(out, /<td>c<\/td>/);
    assert.match(out, /<p title="&quot; onmouseover=&quot;alert\(1\)">t<\/p>/, 'attribute values are re-escaped');
    assert.match(out, /<p>caf&amp;eacute; &lt;b&gt; &lt;script&gt;<\/p>/, 'entity-encoded markup stays text (unknown entities stay literal)');
  });

  test('a preview document wraps plain text escaped in <pre>', () => {
    assert.match(previewDocument({ text: '<script>x</script>' }), /<pre>&lt;script&gt;x&lt;\/script&gt;<\/pre>/);
  });

  test('MIME: multipart with quoted-printable HTML, base64 text and an attachment', () => {
    const raw = Buffer.from(
      [
        'Subject: s',
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: multipart/alternative; boundary="b2"',
        '',
        '--b2',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('caf\u00e9 plain').toString('base64'),
        '--b2',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        '<p>caf=C3=A9 =',
        'html</p>',
        '--b2--',
        '--b1',
        'Content-Type: application/pdf; name="a.pdf"',
        'Content-Disposition: attachment; filename="a.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        Buffer.from('%PDF').toString('base64'),
        '--b1--',
        '',
      ].join('\r\n'),
    );
    const parts = leaves(parseMime(raw));
    assert.deepEqual(parts.map((p) => p.contentType), ['text/plain', 'text/html', 'application/pdf']);
    assert.equal(partText(parts[0]!), 'caf\u00e9 plain');
    assert.equal(partText(parts[1]!), '<p>caf\u00e9 html</p>');
    assert.equal(parts[2]!.body.toString(), '%PDF');
  });
});

describe('run notices (shared/notify)', () => {
  const url = 'https://app.example/api/console/';
  test('failed and partial backups get a notice; complete ones and restores do not', () => {
    const runs = [
      { id: 'nightly-contoso-2026-12-01', tenant: 'contoso', kind: 'nightly' as const, runtimeStatus: 'Completed', status: 'partial', totals: { users: 3, items: 40, failed: 1 } },
      { id: 'manual-contoso-1', tenant: 'contoso', kind: 'manual' as const, runtimeStatus: 'Completed', status: 'complete', totals: { users: 3, items: 40, failed: 0 } },
      { id: 'manual-contoso-2', tenant: 'contoso', kind: 'manual' as const, runtimeStatus: 'Failed', status: 'failed', totals: null },
      { id: 'manual-contoso-3', tenant: 'contoso', kind: 'manual' as const, runtimeStatus: 'Running', status: 'users', totals: null },
      { id: 'restore-contoso-1', tenant: 'contoso', kind: 'restore' as const, runtimeStatus: 'Failed', status: 'failed', totals: null },
    ];
    const notices = failedRunNotices(runs, url);
    assert.deepEqual(notices.map((n) => [n.key, n.event]), [['nightly-contoso-2026-12-01', 'run-partial'], ['manual-contoso-2', 'run-failed']]);
    assert.equal(notices[0]!.link, `${url}#/run/nightly-contoso-2026-12-01`);
    assert.match(String(webhookBody(notices[0]!).text), /finished partially: 1 failed items of 40, 3 users/);
  });

  test("yesterday's nightly run that never started is a notice, once the tenant is older than that day", () => {
    const now = new Date('2026-12-02T09:00:00Z');
    const tenant = { name: 'contoso', created: '2026-11-20T10:00:00Z' };
    assert.equal(missedRunNotice(tenant, new Set(['nightly-contoso-2026-12-01']), now, url), undefined);
    const missed = missedRunNotice(tenant, new Set(['nightly-contoso-2026-11-30']), now, url)!;
    assert.deepEqual([missed.key, missed.event, missed.date], ['missed-contoso-2026-12-01', 'run-missed', '2026-12-01']);
    assert.match(String(webhookBody(missed).text), /did not run/);
    assert.equal(missedRunNotice({ name: 'contoso', created: '2026-12-01T10:00:00Z' }, new Set(), now, url), undefined, 'a tenant added yesterday');
  });
});
