import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelTranscript, htmlToText } from '../../../shared/restore/m365/channelTranscript';
import { listCsv, listJson } from '../../../shared/restore/m365/listExport';

test('the channel transcript threads replies under their root, in time order, and escapes every message', () => {
  const html = channelTranscript('Team <A>', 'General', [
    { id: '2', replyToId: '1', author: 'Bob', created: '2026-05-01T10:05:00.000Z', edited: null, subject: null, body: '<p>second</p>', images: [] },
    { id: '1', replyToId: null, author: 'Ann & Co', created: '2026-05-01T10:00:00.000Z', edited: '2026-05-01T11:00:00.000Z', subject: 'Hi', body: '<p>Hello <b>all</b> &lt;3 <script>alert(1)</script></p>', images: ['images/1-1.png'] },
    { id: '3', replyToId: '1', author: 'Cy', created: '2026-05-01T10:01:00.000Z', edited: null, subject: null, body: 'first', images: [] },
    { id: '5', replyToId: '4', author: 'Dee', created: '2026-05-02T10:00:00.000Z', edited: null, subject: null, body: 'reply to a deleted root', images: [] },
  ]);
  assert.ok(!html.includes('<script>') && !html.includes('<b>all'), 'no markup of a message reaches the page');
  assert.ok(html.includes('Hello all &lt;3 alert(1)'), 'the text is kept, escaped');
  assert.ok(html.includes('Ann &amp; Co') && html.includes('Team &lt;A&gt;'), 'names are escaped');
  assert.ok(html.indexOf('id="m1"') < html.indexOf('id="m3"') && html.indexOf('id="m3"') < html.indexOf('id="m2"'), 'root, then its replies by time');
  assert.ok(html.includes('<img src="images/1-1.png"'), 'the inline image beside its message');
  assert.ok(html.includes('(edited)') && html.includes('(message deleted)') && html.includes('id="m5"'));
  assert.equal(htmlToText('a<br>b&amp;c&#x263A;&#65;'), 'a\nb&c☺A');
});

test('a list exports as JSON (items by id) and CSV (quoted where needed, one column per field)', () => {
  const rows = [
    { id: '10', fields: { Title: 'Ten', Budget: 1 } },
    { id: '2', fields: { Title: 'Two, "quoted"\nline', Owner: { name: 'x' } } },
  ];
  assert.deepEqual((JSON.parse(listJson('L', rows)) as { items: { id: string }[] }).items.map((i) => i.id), ['2', '10']);
  assert.equal(listCsv(rows), 'ID,Title,Budget,Owner\r\n2,"Two, ""quoted""\nline",,"{""name"":""x""}"\r\n10,Ten,1,\r\n');
});
