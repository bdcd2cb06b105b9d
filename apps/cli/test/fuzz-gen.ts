import { chameleonPackageDefinition } from '@chameleon/transport';

/**
 * Hostile protobuf requests for any method of the Chameleon contracts, generated from the
 * message descriptors (so new fields are fuzzed without changes here) and written with a
 * small wire encoder of our own, which lets the fuzzer send what a well-behaved encoder never
 * would: out-of-range enums, huge or negative shapes, NaN/Inf, mismatched tensor bytes,
 * random bytes, truncated and bit-flipped messages.
 */

/** mulberry32: small, seeded, reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Field {
  name: string;
  number: number;
  label: string;
  type: string;
  typeName: string;
}

type Descriptor = { name?: string; field: Field[]; value?: Array<{ number: number }>; nestedType?: Descriptor[] };

const defs = () => chameleonPackageDefinition() as unknown as Record<string, { type: Descriptor; format?: string }>;

/** A type by name: relative to chameleon.v1, absolute, or nested in `parent` (map entries). */
function lookup(typeName: string, parent?: { full: string; type: Descriptor }): { full: string; type: Descriptor } {
  const d = defs();
  const name = typeName.replace(/^\./, '');
  const nested = parent?.type.nestedType?.find((n) => n.name === name);
  if (nested) return { full: `${parent!.full}.${name}`, type: nested };
  // Scopes from the innermost outwards, as protobuf resolves relative names.
  const parts = (parent?.full ?? 'chameleon.v1.X').split('.');
  const scopes = parts.map((_, i) => parts.slice(0, parts.length - 1 - i).join('.'));
  for (const full of scopes.map((p) => (p ? `${p}.${name}` : name))) if (d[full]) return { full, type: d[full].type };
  throw new Error(`unknown type ${typeName}`);
}

// ---- wire encoding -------------------------------------------------------------------

class Writer {
  private readonly parts: number[] = [];
  varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x) b |= 0x80;
      this.parts.push(b);
    } while (x);
  }
  tag(num: number, wire: number): void {
    this.varint(BigInt((num << 3) | wire));
  }
  bytes(b: Uint8Array): void {
    this.varint(BigInt(b.length));
    for (const x of b) this.parts.push(x);
  }
  raw(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const f32 = (v: number) => new Uint8Array(Float32Array.of(v).buffer);
const f64 = (v: number) => new Uint8Array(Float64Array.of(v).buffer);

// ---- value pools ---------------------------------------------------------------------

const INTS = [0, 1, -1, 2, 3, 10, 100, 2 ** 31 - 1, -(2 ** 31), 2 ** 53, 1e6, 65536, 7];
const FLOATS = [0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, 3.4e38, 1e-45, 1e30, -1e30];
const WORDS = ['', 'x', 'sinusoid', 'mlp', 'maml', 'fomaml', 'reptile', '2d-navigation', 'omniglot', 'still', 'adam', 'relu', 'train', 'test', 'run-1', '../../../etc/passwd', '/dev/zero', '\u0000\u0001', 'é漢😀', '%s%n'];

export class Generator {
  constructor(private readonly r: () => number) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)];
  }

  private int(): number {
    return this.r() < 0.7 ? this.pick(INTS) : Math.floor(this.r() * 1000) - 100;
  }

  private str(): string {
    const u = this.r();
    if (u < 0.6) return this.pick(WORDS);
    if (u < 0.9) return Array.from({ length: Math.floor(this.r() * 40) }, () => String.fromCharCode(32 + Math.floor(this.r() * 95))).join('');
    return 'a'.repeat(Math.floor(this.r() * 20000));
  }

  randomBytes(max: number): Uint8Array {
    return Uint8Array.from({ length: Math.floor(this.r() * max) }, () => Math.floor(this.r() * 256));
  }

  /** A Tensor message: mostly wrong in one of the ways a hostile client would try. */
  private tensor(): Uint8Array {
    const w = new Writer();
    const kind = Math.floor(this.r() * 8);
    const dtype = kind === 0 ? this.pick([99, -1, 1000]) : 1 + Math.floor(this.r() * 4);
    let shape: number[];
    if (kind === 1) shape = [2 ** 31 - 1, 2 ** 31 - 1];
    else if (kind === 2) shape = [1e6, 1e6, 1e6];
    else if (kind === 3) shape = [3, -1];
    else if (kind === 4) shape = Array.from({ length: 64 }, () => 1);
    else shape = Array.from({ length: Math.floor(this.r() * 4) }, () => Math.floor(this.r() * 6));
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Uint8Array;
    if (kind === 5) data = this.randomBytes(64); // length that matches nothing
    else if (kind === 6 || (n > 0 && n < 4096)) {
      const vals = new Float32Array(Math.max(0, Math.min(n, 4096)));
      for (let i = 0; i < vals.length; i++) vals[i] = kind === 6 ? this.pick(FLOATS) : this.r() * 2 - 1;
      data = new Uint8Array(vals.buffer);
    } else data = new Uint8Array(0);
    w.tag(1, 0);
    w.varint(BigInt(dtype));
    const packed = new Writer();
    for (const s of shape) packed.varint(BigInt(s));
    w.tag(2, 2);
    w.bytes(packed.finish());
    w.tag(3, 2);
    w.bytes(data);
    return w.finish();
  }

  /** An encoded message of `typeName` with random, often hostile, field values. */
  message(typeName: string, depth = 0, parent?: { full: string; type: Descriptor }): Uint8Array {
    const self = lookup(typeName, parent);
    const { full, type } = self;
    if (full === 'chameleon.v1.Tensor') return this.tensor();
    const w = new Writer();
    if (depth > 5) return w.finish();
    for (const f of type.field) {
      if (this.r() < 0.3) continue;
      const repeated = f.label === 'LABEL_REPEATED';
      const count = repeated ? (this.r() < 0.05 ? 200 : Math.floor(this.r() * 4)) : 1;
      for (let i = 0; i < count; i++) this.field(w, f, depth, self);
    }
    return w.finish();
  }

  private field(w: Writer, f: Field, depth: number, parent: { full: string; type: Descriptor }): void {
    switch (f.type) {
      case 'TYPE_MESSAGE':
        w.tag(f.number, 2);
        w.bytes(this.message(f.typeName, depth + 1, parent));
        return;
      case 'TYPE_STRING':
        w.tag(f.number, 2);
        w.bytes(new TextEncoder().encode(this.str()));
        return;
      case 'TYPE_BYTES':
        w.tag(f.number, 2);
        w.bytes(this.randomBytes(300));
        return;
      case 'TYPE_FLOAT':
        w.tag(f.number, 5);
        w.raw(f32(this.pick(FLOATS)));
        return;
      case 'TYPE_DOUBLE':
        w.tag(f.number, 1);
        w.raw(f64(this.r() < 0.5 ? this.pick(FLOATS) : this.int()));
        return;
      case 'TYPE_BOOL':
        w.tag(f.number, 0);
        w.varint(BigInt(this.r() < 0.5 ? 1 : 0));
        return;
      case 'TYPE_ENUM': {
        const values = lookup(f.typeName, parent).type.value ?? [];
        w.tag(f.number, 0);
        w.varint(BigInt(this.r() < 0.8 && values.length ? this.pick(values).number : this.pick([99, -1, 7777])));
        return;
      }
      default: // the integer types
        w.tag(f.number, 0);
        w.varint(BigInt(Math.trunc(this.int())));
    }
  }

  /** Bit flips, truncation, spliced random bytes or duplication of a message. */
  mutate(msg: Uint8Array): Uint8Array {
    const out = Array.from(msg);
    const u = this.r();
    if (u < 0.3) {
      for (let i = 0; i < 1 + Math.floor(this.r() * 4) && out.length; i++) out[Math.floor(this.r() * out.length)] ^= 1 << Math.floor(this.r() * 8);
    } else if (u < 0.55) out.length = Math.floor(this.r() * out.length);
    else if (u < 0.8) out.splice(Math.floor(this.r() * (out.length + 1)), 0, ...this.randomBytes(16));
    else return Uint8Array.from([...out, ...out]);
    return Uint8Array.from(out);
  }

  /** One request for a method whose request type is `typeName`, and how it was made. */
  request(typeName: string): { bytes: Uint8Array; kind: 'generated' | 'mutated' | 'random' | 'empty' } {
    const u = this.r();
    if (u < 0.5) return { bytes: this.message(typeName), kind: 'generated' };
    if (u < 0.8) return { bytes: this.mutate(this.message(typeName)), kind: 'mutated' };
    if (u < 0.95) return { bytes: this.randomBytes(512), kind: 'random' };
    return { bytes: new Uint8Array(0), kind: 'empty' };
  }
}
