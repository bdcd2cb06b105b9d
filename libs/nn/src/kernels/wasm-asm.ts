/**
 * A minimal WebAssembly encoder: just the instructions the SIMD kernels use, so the module
 * is built at run time from readable TypeScript instead of shipped as an opaque binary or
 * compiled by a toolchain this project does not have. Opcodes follow the core spec
 * (https://webassembly.github.io/spec/core/binary/) and the fixed-width SIMD proposal.
 */

export type Code = number[];

export const uleb = (value: number): Code => {
  const out: Code = [];
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v ? byte | 0x80 : byte);
  } while (v);
  return out;
};

const sleb = (value: number): Code => {
  const out: Code = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && !(byte & 0x40)) || (v === -1 && byte & 0x40);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
};

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;
export type ValueType = typeof I32 | typeof F32 | typeof V128;

// Locals and integer arithmetic (addresses are i32 byte offsets).
export const get = (local: number): Code => [0x20, local];
export const set = (local: number): Code => [0x21, local];
export const i32 = (v: number): Code => [0x41, ...sleb(v)];
export const add = [0x6a];
export const sub = [0x6b];
export const mul = [0x6c];
export const and = [0x71];
/** x * 4: element count to bytes. */
export const bytes4 = [...i32(2), 0x74];
export const inc = (local: number, by: Code): Code => [...get(local), ...by, ...add, ...set(local)];
/** if (cond != 0) body. */
export const when = (cond: Code, body: Code): Code => [...cond, 0x04, 0x40, ...body, 0x0b];

// Scalar and vector floats.
export const f32zero: Code = [0x43, 0, 0, 0, 0];
export const f32add = [0x92];
export const f32mul = [0x94];
export const f32gt = [0x5e];
/** cond ? a : b, with a, b, cond pushed in that order. */
export const select = [0x1b];
export const f32load = (ptr: Code): Code => [...ptr, 0x2a, 2, 0];
export const f32store = (ptr: Code, value: Code): Code => [...ptr, ...value, 0x38, 2, 0];
export const v128zero: Code = [0xfd, 0x0c, ...new Array(16).fill(0)];
export const v128load = (ptr: Code, offset = 0): Code => [...ptr, 0xfd, 0x00, 0, ...uleb(offset)];
export const v128store = (ptr: Code, value: Code, offset = 0): Code => [...ptr, ...value, 0xfd, 0x0b, 0, ...uleb(offset)];
/** Loads one f32 and broadcasts it to all four lanes. */
export const v128load32splat = (ptr: Code): Code => [...ptr, 0xfd, 0x09, 0, 0];
export const v128and = [0xfd, 0x4e];
export const f32x4add = [0xfd, 0xe4, 0x01];
export const f32x4mul = [0xfd, 0xe6, 0x01];
export const f32x4gt = [0xfd, 0x44];
export const f32x4splat = [0xfd, 0x13];
export const lane = (n: number): Code => [0xfd, 0x1f, n];

/** for (v = from; v < limit; v += step) body, with an unsigned compare on i32 locals. */
export const loop = (v: number, from: Code, limit: Code, step: Code, body: Code): Code => [
  ...from, ...set(v),
  0x02, 0x40, 0x03, 0x40, // block, loop
  ...get(v), ...limit, 0x4f, 0x0d, 1, // if (v >= limit) break
  ...body,
  ...inc(v, step),
  0x0c, 0, 0x0b, 0x0b, // continue; end loop; end block
];

/** One exported function: parameter types, extra locals (indices follow the parameters) and body. */
export interface WasmFunction {
  readonly name: string;
  readonly params: readonly ValueType[];
  readonly locals: ReadonlyArray<readonly [count: number, type: ValueType]>;
  readonly body: Code;
}

const str = (s: string): Code => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const vec = (items: Code[]): Code => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Code): Code => [id, ...uleb(body.length), ...body];

/** A module importing its memory as env.memory and exporting `functions` (no results). */
export function moduleBytes(functions: readonly WasmFunction[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(f.params.map((t) => [t])), 0]);
  const codes = functions.map((f) => {
    const code = [...vec(f.locals.map(([count, type]) => [...uleb(count), type])), ...f.body, 0x0b];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x00]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(codes)),
  ]);
}
