/**
 * Products of small matrices, per task, in WebAssembly SIMD on the wasm backend's own heap
 * (no copies).
 *
 * Why: the wasm backend sends every batched or transposed matMul to a scalar C++ loop
 * (about 0.3 GMAC/s here), and MAML's per-task products (T x [10 x 40] . [40 x 10]) are
 * exactly that shape; JavaScript loops are no faster. These loops use f32x4 and run about
 * 8x faster on those shapes (about 40 us for T x 10 x 10 x 40 multiply-adds).
 *
 * Both product kernels compute C = base + scale * P + plus + bias: P the product, `base` an
 * optional matrix laid out like C, `bias` an optional vector along C's rows (byte
 * addresses; 0 = absent), plus and scale constants. That fuses a layer's epilogue
 * (h W + b - G D) into the product: no extra op, no extra pass over memory.
 */
import {
  add, and, bytes4, F32, f32add, f32gt, f32load, f32mul, f32store, f32x4add, f32x4gt, f32x4mul, f32x4splat, f32zero,
  get, I32, i32, inc, lane, loop, moduleBytes, mul, select, set, sub, V128, v128and, v128load, v128store, v128zero,
  type Code, type WasmFunction,
} from './wasm-asm';
import { nnb } from './simd-blocked';

/** The f32 at ptr when the i32 local `flag` is non-zero, else 0 (the load is always in bounds). */
const pick = (ptr: Code, flag: number): Code => [...f32load(ptr), ...f32zero, ...get(flag), ...select];
const at = (...parts: number[]): Code => parts.flatMap((p, i) => (i ? [...get(p), ...add] : get(p)));
/** count * 4 and (count rounded down to a multiple of 4) * 4: the vector part and the whole, in bytes. */
const extents = (count: number, whole: number, vectors: number): Code => [
  ...get(count), ...bytes4, ...set(whole),
  ...get(count), ...i32(-4), ...and, ...bytes4, ...set(vectors),
];

/**
 * nn(a, b, c, T, m, k, n, aTask, aRow, aCol, plus, bias, base, scale): P[t] = A[t] . B[t]
 * with B[t] [k, n] and C[t] [m, n] contiguous and A addressed through byte strides (a
 * transposed A costs nothing; stride 0 turns one number into a row of ones). Each A[i, p]
 * is broadcast and multiplied into a row of B, 4 columns at a time.
 */
const nn: WasmFunction = (() => {
  const [a, b, c, T, m, k, n, aTask, aRow, aCol, plus, bias, base, scale] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  const [t, i, p, jb, aPtr, bRow, cRow, nb, n4b, aT, bT, baseDelta, av] = [14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26];
  const init = [...get(plus), ...pick(at(bias, jb), bias), ...f32add, ...pick(at(cRow, baseDelta, jb), base), ...f32add];
  const body = [
    ...extents(n, nb, n4b),
    ...get(base), ...get(c), ...sub, ...set(baseDelta),
    ...get(a), ...set(aT), ...get(b), ...set(bT), ...get(c), ...set(cRow),
    ...loop(t, i32(0), get(T), i32(1), [
      ...loop(i, i32(0), get(m), i32(1), [
        ...loop(jb, i32(0), get(nb), i32(4), f32store(at(cRow, jb), init)),
        ...get(aT), ...get(i), ...get(aRow), ...mul, ...add, ...set(aPtr),
        ...get(bT), ...set(bRow),
        ...loop(p, i32(0), get(k), i32(1), [
          ...f32load(get(aPtr)), ...get(scale), ...f32mul, ...set(av),
          ...loop(jb, i32(0), get(n4b), i32(16), v128store(at(cRow, jb), [
            ...v128load(at(cRow, jb)), ...get(av), ...f32x4splat, ...v128load(at(bRow, jb)), ...f32x4mul, ...f32x4add,
          ])),
          ...loop(jb, get(n4b), get(nb), i32(4), f32store(at(cRow, jb), [
            ...f32load(at(cRow, jb)), ...get(av), ...f32load(at(bRow, jb)), ...f32mul, ...f32add,
          ])),
          ...inc(aPtr, get(aCol)),
          ...inc(bRow, get(nb)),
        ]),
        ...inc(cRow, get(nb)),
      ]),
      ...inc(aT, get(aTask)),
      ...get(bT), ...get(k), ...get(nb), ...mul, ...add, ...set(bT),
    ]),
  ];
  return { name: 'nn', params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, I32, I32, F32], locals: [[12, I32], [1, F32]], body };
})();

/**
 * nt(a, b, c, T, m, k, n, plus, bias, base, scale): P[t] = A[t] . B[t]^T with A[t] [m, k],
 * B[t] [n, k] and C[t] [m, n] contiguous: dot products of rows, 4 terms at a time.
 */
const nt: WasmFunction = (() => {
  const [a, b, c, T, m, k, n, plus, bias, base, scale] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const [t, i, j, pb, aRow, bRow, bT, cPtr, kb, k4b, baseDelta, s, acc] = [11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23];
  const epilogue = [
    ...get(s), ...get(scale), ...f32mul, ...get(plus), ...f32add,
    ...pick([...get(bias), ...get(j), ...bytes4, ...add], bias), ...f32add,
    ...pick(at(cPtr, baseDelta), base), ...f32add,
  ];
  const body = [
    ...extents(k, kb, k4b),
    ...get(base), ...get(c), ...sub, ...set(baseDelta),
    ...get(a), ...set(aRow), ...get(b), ...set(bT), ...get(c), ...set(cPtr),
    ...loop(t, i32(0), get(T), i32(1), [
      ...loop(i, i32(0), get(m), i32(1), [
        ...get(bT), ...set(bRow),
        ...loop(j, i32(0), get(n), i32(1), [
          ...v128zero, ...set(acc),
          ...loop(pb, i32(0), get(k4b), i32(16), [
            ...get(acc), ...v128load(at(aRow, pb)), ...v128load(at(bRow, pb)), ...f32x4mul, ...f32x4add, ...set(acc),
          ]),
          ...get(acc), ...lane(0), ...get(acc), ...lane(1), ...f32add, ...get(acc), ...lane(2), ...f32add, ...get(acc), ...lane(3), ...f32add, ...set(s),
          ...loop(pb, get(k4b), get(kb), i32(4), [
            ...get(s), ...f32load(at(aRow, pb)), ...f32load(at(bRow, pb)), ...f32mul, ...f32add, ...set(s),
          ]),
          ...f32store(get(cPtr), epilogue),
          ...inc(cPtr, i32(4)),
          ...inc(bRow, get(kb)),
        ]),
        ...inc(aRow, get(kb)),
      ]),
      ...get(bT), ...get(n), ...get(kb), ...mul, ...add, ...set(bT),
    ]),
  ];
  return { name: 'nt', params: [I32, I32, I32, I32, I32, I32, I32, F32, I32, I32, F32], locals: [[11, I32], [1, F32], [1, V128]], body };
})();

/** mask(dy, x, out, count): out = x > 0 ? dy : 0 elementwise (ReLU's backward pass). */
const mask: WasmFunction = (() => {
  const [dy, x, out, count] = [0, 1, 2, 3];
  const [ib, nb, n4b] = [4, 5, 6];
  const body = [
    ...extents(count, nb, n4b),
    // f32x4.gt yields all-ones lanes where x > 0; and-ing keeps dy there.
    ...loop(ib, i32(0), get(n4b), i32(16), v128store(at(out, ib), [...v128load(at(dy, ib)), ...v128load(at(x, ib)), ...v128zero, ...f32x4gt, ...v128and])),
    ...loop(ib, get(n4b), get(nb), i32(4), f32store(at(out, ib), [...f32load(at(dy, ib)), ...f32zero, ...f32load(at(x, ib)), ...f32zero, ...f32gt, ...select])),
  ];
  return { name: 'mask', params: [I32, I32, I32, I32], locals: [[3, I32]], body };
})();

/** muladd2(a, b, c, d, out, count): out = a * b + c * d elementwise. */
const muladd2: WasmFunction = (() => {
  const [a, b, c, d, out, count] = [0, 1, 2, 3, 4, 5];
  const [ib, nb, n4b] = [6, 7, 8];
  const body = [
    ...extents(count, nb, n4b),
    ...loop(ib, i32(0), get(n4b), i32(16), v128store(at(out, ib), [
      ...v128load(at(a, ib)), ...v128load(at(b, ib)), ...f32x4mul, ...v128load(at(c, ib)), ...v128load(at(d, ib)), ...f32x4mul, ...f32x4add,
    ])),
    ...loop(ib, get(n4b), get(nb), i32(4), f32store(at(out, ib), [
      ...f32load(at(a, ib)), ...f32load(at(b, ib)), ...f32mul, ...f32load(at(c, ib)), ...f32load(at(d, ib)), ...f32mul, ...f32add,
    ])),
  ];
  return { name: 'muladd2', params: [I32, I32, I32, I32, I32, I32], locals: [[3, I32]], body };
})();

/** The kernels, over byte addresses in the imported memory. */
export interface SimdKernels {
  nn(a: number, b: number, c: number, T: number, m: number, k: number, n: number, aTask: number, aRow: number, aCol: number, plus: number, bias: number, base: number, scale: number): void;
  nt(a: number, b: number, c: number, T: number, m: number, k: number, n: number, plus: number, bias: number, base: number, scale: number): void;
  mask(dy: number, x: number, out: number, count: number): void;
  muladd2(a: number, b: number, c: number, d: number, out: number, count: number): void;
  nnb(a: number, b: number, c: number, T: number, m: number, k: number, n: number, aTask: number, aRow: number, aCol: number, bTask: number, bias: number, biasTask: number, base: number, scale: number, plus: number): void;
}

/** The part of the WebAssembly global we use (the TypeScript lib here has no DOM types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

/**
 * Instantiates the kernels against `memory` (the wasm backend's heap). Returns undefined
 * where WebAssembly SIMD is unavailable or the memory is shared (threaded build), so
 * callers fall back to the backend's own kernels.
 */
export function simdKernels(memory: unknown): SimdKernels | undefined {
  const api = (globalThis as unknown as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  // Tag checks rather than instanceof: test runners load modules in other realms.
  const tag = (x: unknown) => Object.prototype.toString.call(x);
  if (!api || tag(memory) !== '[object WebAssembly.Memory]') return undefined;
  if (tag((memory as { buffer: unknown }).buffer) !== '[object ArrayBuffer]') return undefined;
  try {
    return new api.Instance(new api.Module(moduleBytes([nn, nt, mask, nnb, muladd2])), { env: { memory } }).exports as SimdKernels;
  } catch {
    return undefined;
  }
}

/** The epilogue of a product: C = base + scale * P + plus + bias (byte addresses, 0 = absent). */
export interface Epilogue {
  readonly plus?: number;
  readonly bias?: number;
  /** Bytes the bias advances per block (0: one bias for every block). Only with n % 4 = 0. */
  readonly biasTask?: number;
  readonly base?: number;
  readonly scale?: number;
}

/**
 * C[t] = base + scale * op(A[t]) . op(B[t]) + plus + bias for T blocks, choosing the loop
 * that vectorises: nnb (register tiles, simd-blocked.ts) when C's width is a multiple of 4,
 * else nn along the rows of B; nt along the inner dimension. A vector has
 * the same bytes as a row or a column, so B [k, 1] is used as [1, k] (and [n, 1] as
 * [1, n]) wherever that lets the product take the vectorised loop.
 */
export function blockProducts(
  simd: SimdKernels, a: number, b: number, c: number, T: number, m: number, k: number, n: number,
  transposeA: boolean, transposeB: boolean, e: Epilogue = {},
): void {
  const [plus, bias, base, scale] = [e.plus ?? 0, e.bias ?? 0, e.base ?? 0, e.scale ?? 1];
  const [aRow, aCol] = transposeA ? [4, m * 4] : [k * 4, 4];
  const useNt = transposeB ? k > 1 : n === 1 && !transposeA && k > 1;
  if (useNt) simd.nt(a, b, c, T, m, k, n, plus, bias, base, scale);
  else if (!transposeB && n % 4 === 0 && transposeA && k > REDUCTION_CHUNK) reductionInChunks(simd, a, b, c, T, m, k, n, plus, bias, e.biasTask ?? 0, base, scale);
  else if (!transposeB && n % 4 === 0) simd.nnb(a, b, c, T, m, k, n, m * k * 4, aRow, aCol, k * n * 4, bias, e.biasTask ?? 0, base, scale, plus);
  else simd.nn(a, b, c, T, m, k, n, m * k * 4, aRow, aCol, plus, bias, base, scale);
}

/**
 * Rows of A and B per pass of a long reduction A^T B (a weight gradient over thousands of
 * rows): every register tile streams the whole inner dimension, so it is cut into chunks
 * small enough to stay in the L2 cache across tiles (256 rows of 64 floats: 64 KB per
 * operand), each chunk adding into C.
 */
const REDUCTION_CHUNK = 256;

function reductionInChunks(simd: SimdKernels, a: number, b: number, c: number, T: number, m: number, k: number, n: number, plus: number, bias: number, biasTask: number, base: number, scale: number): void {
  for (let t = 0; t < T; t++) {
    const [aT, bT, cT] = [a + t * k * m * 4, b + t * k * n * 4, c + t * m * n * 4];
    for (let k0 = 0; k0 < k; k0 += REDUCTION_CHUNK) {
      const kc = Math.min(REDUCTION_CHUNK, k - k0);
      // The first chunk applies the epilogue; later ones accumulate onto C itself (base = C).
      const first = k0 === 0;
      const [chunkBase, chunkBias] = first ? [base ? base + t * m * n * 4 : 0, bias ? bias + t * biasTask : 0] : [cT, 0];
      simd.nnb(aT + k0 * m * 4, bT + k0 * n * 4, cT, 1, m, kc, n, 0, 4, m * 4, 0, chunkBias, 0, chunkBase, scale, first ? plus : 0);
    }
  }
}
