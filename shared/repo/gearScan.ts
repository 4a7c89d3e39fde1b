/**
 * The FastCDC gear-hash scan (Chunker.cut's inner loop) as a tiny WebAssembly function, assembled
 * here from its opcodes: no build step and no binary in the repository. It runs ~2x faster than the
 * JavaScript loop and reads the data in place: the chunk workers read files straight into the
 * module's memory (`GearScan.buffer`), so nothing is copied. Cut points are exactly the JavaScript
 * loop's (test/unit/repo/chunker.test.ts compares both on random data and every size bound).
 *
 * Memory: bytes [0, 1024) hold the 256 gear values (i32 little-endian); buffers follow.
 * scan(i, normalEnd, hardEnd, maskHard, maskEasy), all byte addresses in the memory:
 *   h = 0
 *   while i < normalEnd: h = (h << 1) + gear[mem[i]]; i++; if (h & maskHard) == 0 return i
 *   while i < hardEnd:   h = (h << 1) + gear[mem[i]]; i++; if (h & maskEasy) == 0 return i
 *   return hardEnd
 */

// The global WebAssembly object, typed here as far as it is used (the project's lib has no DOM types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
declare const WebAssembly: {
  Memory: new (d: { initial: number; maximum: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
};

const GEAR_BYTES = 1024;
const PAGE = 65536;

// The WebAssembly opcodes used below (WebAssembly core specification, "Binary format").
const BLOCK = 0x02, LOOP = 0x03, END = 0x0b, BR = 0x0c, BR_IF = 0x0d, RETURN = 0x0f, VOID = 0x40;
const GET = 0x20, SET = 0x21;
const LOAD = 0x28, LOAD8U = 0x2d;
const CONST = 0x41, EQZ = 0x45, GE_U = 0x4f, ADD = 0x6a, AND = 0x71, SHL = 0x74;
const I32 = 0x7f;
// Locals: parameters 0 i, 1 normalEnd, 2 hardEnd, 3 maskHard, 4 maskEasy; then 5 h.
const I = 0, H = 5;

/** One phase: loop while i < end; a zero masked hash branches to the enclosing "found" block. */
function phase(end: number, mask: number): number[] {
  return [
    BLOCK, VOID, // depth 1 inside the loop: this phase is over
    LOOP, VOID, // depth 0
    GET, I, GET, end, GE_U, BR_IF, 1,
    GET, H, CONST, 1, SHL, GET, I, LOAD8U, 0, 0, CONST, 2, SHL, LOAD, 2, 0, ADD, SET, H,
    GET, I, CONST, 1, ADD, SET, I,
    GET, H, GET, mask, AND, EQZ, BR_IF, 2, // depth 2: "found"
    BR, 0,
    END,
    END,
  ];
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

const section = (id: number, bytes: number[]) => [id, ...leb(bytes.length), ...bytes];
const name = (s: string) => [s.length, ...Buffer.from(s, 'ascii')];

function moduleBytes(): Uint8Array {
  const body = [1, 1, I32, BLOCK, VOID, ...phase(1, 3), ...phase(2, 4), GET, 2, RETURN, END, GET, I, END];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 5, I32, I32, I32, I32, I32, 1, I32]), // type: (i32 x5) -> i32
    ...section(2, [1, ...name('e'), ...name('m'), 0x02, 0x00, 1]), // import memory e.m, min 1 page
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...name('scan'), 0x00, 0]), // export it as "scan"
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

let compiled: object | undefined;

/** A gear table and buffer space in one WebAssembly memory, with the scan over it. */
export class GearScan {
  private readonly memory: WasmMemory;
  private readonly fn: (i: number, normalEnd: number, hardEnd: number, maskHard: number, maskEasy: number) => number;
  private next = GEAR_BYTES;

  /** `bufferBytes`: the total size of the buffers `buffer()` may hand out. The memory never grows. */
  constructor(gear: Int32Array, bufferBytes: number) {
    const pages = Math.ceil((GEAR_BYTES + bufferBytes) / PAGE);
    this.memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    new Int32Array(this.memory.buffer, 0, 256).set(gear); // WebAssembly memory is little-endian, as the table's format
    compiled ??= new WebAssembly.Module(moduleBytes());
    const instance = new WebAssembly.Instance(compiled, { e: { m: this.memory } });
    this.fn = instance.exports.scan as GearScan['fn'];
  }

  /** A buffer inside the memory; `Chunker.cut` on it runs the WebAssembly scan. */
  buffer(bytes: number): Buffer {
    if (this.next + bytes > this.memory.buffer.byteLength) throw new RangeError('GearScan memory exhausted');
    const b = Buffer.from(this.memory.buffer, this.next, bytes);
    this.next += bytes;
    return b;
  }

  owns(data: Uint8Array): boolean {
    return data.buffer === this.memory.buffer;
  }

  /** The scan over data[start, hardEnd) (indices into `data`, which `owns` must accept). */
  scan(data: Uint8Array, start: number, normalEnd: number, hardEnd: number, maskHard: number, maskEasy: number): number {
    const base = data.byteOffset;
    return this.fn(base + start, base + normalEnd, base + hardEnd, maskHard, maskEasy) - base;
  }
}
