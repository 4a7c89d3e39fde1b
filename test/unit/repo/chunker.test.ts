import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Chunker } from '../../../shared/repo/chunker';
import { DEFAULT_CHUNKER } from '../../../shared/repo/repository';
import { openChunk, sealChunk, chunkId } from '../../../shared/repo/chunkCodec';
import { SeededRandom } from '../../../shared/local';

function cutAll(chunker: Chunker, data: Buffer): number[] {
  const cuts: number[] = [];
  for (let pos = 0; pos < data.length; ) {
    const len = chunker.cut(data, pos, data.length, true);
    cuts.push(len);
    pos += len;
  }
  return cuts;
}

describe('chunker', () => {
  const key = randomBytes(32);
  const chunker = new Chunker(key, DEFAULT_CHUNKER);
  const data = new SeededRandom(1).bytes(64 * 1024 * 1024);

  test('chunks respect the size bounds and average about 1 MiB', () => {
    const cuts = cutAll(chunker, data);
    for (const c of cuts.slice(0, -1)) assert.ok(c >= DEFAULT_CHUNKER.minBytes && c <= DEFAULT_CHUNKER.maxBytes);
    const mean = data.length / cuts.length;
    assert.ok(mean > 0.9 * 1024 * 1024 && mean < 1.8 * 1024 * 1024, `mean ${mean}`);
  });

  test('boundaries resynchronise after an insertion and depend on the gear key', () => {
    const edited = Buffer.concat([data.subarray(0, 10_000_000), Buffer.from('inserted'), data.subarray(10_000_000)]);
    const ids = (buf: Buffer) => {
      const out = new Set<string>();
      let pos = 0;
      for (const c of cutAll(chunker, buf)) {
        out.add(chunkId(key, buf.subarray(pos, pos + c)).toString('hex'));
        pos += c;
      }
      return out;
    };
    const a = ids(data);
    const b = ids(edited);
    const fresh = [...b].filter((x) => !a.has(x)).length;
    assert.ok(fresh <= 2, `${fresh} new chunks after one insertion`);
    const other = new Chunker(randomBytes(32), DEFAULT_CHUNKER);
    assert.notDeepEqual(cutAll(other, data).slice(0, 5), cutAll(chunker, data).slice(0, 5));
  });

  test('the WebAssembly gear scan cuts exactly where the JavaScript loop does', () => {
    const small = { minBytes: 2048, avgBytes: 8192, maxBytes: 32768 };
    for (const params of [DEFAULT_CHUNKER, small]) {
      const wasm = new Chunker(key, params, data.length);
      const inWasm = wasm.buffer(data.length);
      data.copy(inWasm);
      const plain = new Chunker(key, params);
      assert.deepEqual(cutAll(wasm, inWasm), cutAll(plain, data));
      // Views at an offset and with a short, non-final window (the workers' lookahead rule).
      const view = inWasm.subarray(12345);
      assert.equal(wasm.cut(view, 0, params.maxBytes, false), plain.cut(data.subarray(12345), 0, params.maxBytes, false));
    }
    // Runs of one byte value stress the hard and easy masks and the max-size cut.
    const runs = new Chunker(key, DEFAULT_CHUNKER, 20 * 1024 * 1024);
    const zeros = runs.buffer(20 * 1024 * 1024).fill(7);
    assert.deepEqual(cutAll(runs, zeros), cutAll(new Chunker(key, DEFAULT_CHUNKER), Buffer.alloc(20 * 1024 * 1024, 7)));
  });

  test('tryCut on growing prefixes finds the cuts of the whole data, or says it cannot know yet', () => {
    const rnd = new SeededRandom(2);
    const cuts: number[] = [];
    let pos = 0;
    let end = 0;
    while (pos < data.length) {
      const len = end === data.length ? chunker.cut(data, pos, end, true) : chunker.tryCut(data, pos, end);
      if (len === 0) end = Math.min(data.length, end + rnd.int(1, 3 * 1024 * 1024));
      else {
        cuts.push(len);
        pos += len;
      }
    }
    assert.deepEqual(cuts, cutAll(chunker, data));
  });
});

