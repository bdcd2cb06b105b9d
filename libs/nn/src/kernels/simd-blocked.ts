/**
 * The register-blocked product loop: C[t] = base + scale * A[t] . B[t] + plus + bias[t] for
 * outputs whose width is a multiple of 4.
 *
 * Why: the plain `nn` loop of simd.ts loads and stores a row of C for every term of the
 * inner dimension (three memory operations per vector multiply-add), which is fine for
 * MAML's 10 x 40 blocks but leaves tall products (a policy layer over 1,000 rows per task,
 * [1000, 64] . [64, 64]) 3-4x below what the core can do. Here a tile of R rows x V vectors
 * of C stays in locals (registers) for the whole inner dimension: per term, V loads of B,
 * R broadcast loads of A, R x V multiply-adds. About as fast as XNNPACK's shared product
 * on these shapes (measured), and per task.
 */
import {
  add, F32, f32x4add, f32x4mul, f32x4splat, get, I32, i32, inc, loop, mul, set, sub, V128, v128load, v128load32splat, v128store, v128zero, when,
  type Code, type WasmFunction,
} from './wasm-asm';

const divu = [0x6e];
const eq = [0x46];

/** Rows and vectors of one register tile. 4 x 2 keeps 8 accumulators, 2 rows of B and a broadcast in 11 of x64's 16 vector registers. */
export const TILE_ROWS = 4;
export const TILE_VECTORS = 2;

/**
 * nnb(a, b, c, T, m, k, n, aTask, aRow, aCol, bTask, bias, biasTask, base, scale, plus).
 * A is addressed through byte strides (aTask per task, aRow per row, aCol per column, so a
 * transposed A costs nothing and stride 0 makes a row of ones); B[t] [k, n] and C[t] [m, n]
 * are contiguous, B advancing by bTask bytes per task (0: one B shared by every task); bias
 * (0 = absent) is a row of n added to every row of C[t], advancing by biasTask bytes per
 * task; base (0 = absent) is laid out like C. n must be a multiple of 4.
 */
export const nnb: WasmFunction = blockedKernel('nnb', TILE_ROWS, TILE_VECTORS);

/** The kernel for register tiles of R rows x V vectors (exported to compare tile shapes). */
export function blockedKernel(name: string, R: number, V: number): WasmFunction {
  const [a, b, c, T, m, k, n, aTask, aRow, aCol, bTask, bias, biasTask, base, scale, plus] = Array.from({ length: 16 }, (_, i) => i);
  const [t, i, j, p, aT, bT, cT, biasT, nb, mR, nbV, aPtr, bPtr, cRow, baseDelta, cTask] = Array.from({ length: 16 }, (_, x) => 16 + x);
  const aRows = Array.from({ length: R }, (_, r) => 32 + r); // r * aRow
  const firstV = 32 + R;
  const acc = Array.from({ length: R * V }, (_, x) => firstV + x);
  const bv = Array.from({ length: V }, (_, x) => firstV + R * V + x);
  const [s, scaleV, plusV] = [firstV + R * V + V, firstV + R * V + V + 1, firstV + R * V + V + 2];

  /** One tile of `rows` x `vectors` at row i, byte column j. */
  const tile = (rows: number, vectors: number): Code => {
    const code: Code = [
      ...get(aT), ...get(i), ...get(aRow), ...mul, ...add, ...set(aPtr),
      ...get(bT), ...get(j), ...add, ...set(bPtr),
    ];
    for (let x = 0; x < rows * vectors; x++) code.push(...v128zero, ...set(acc[x]));
    const term: Code = [];
    for (let v = 0; v < vectors; v++) term.push(...v128load(get(bPtr), 16 * v), ...set(bv[v]));
    for (let r = 0; r < rows; r++) {
      term.push(...v128load32splat(r === 0 ? get(aPtr) : [...get(aPtr), ...get(aRows[r]), ...add]), ...set(s));
      for (let v = 0; v < vectors; v++) term.push(...get(acc[r * vectors + v]), ...get(s), ...get(bv[v]), ...f32x4mul, ...f32x4add, ...set(acc[r * vectors + v]));
    }
    term.push(...inc(aPtr, get(aCol)), ...inc(bPtr, get(nb)));
    code.push(...loop(p, i32(0), get(k), i32(1), term));
    for (let r = 0; r < rows; r++) {
      code.push(...get(cT), ...get(i), ...i32(r), ...add, ...get(nb), ...mul, ...add, ...get(j), ...add, ...set(cRow));
      for (let v = 0; v < vectors; v++) {
        const x = acc[r * vectors + v];
        code.push(
          ...get(x), ...get(scaleV), ...f32x4mul, ...get(plusV), ...f32x4add, ...set(x),
          ...when(get(bias), [...get(x), ...v128load([...get(biasT), ...get(j), ...add], 16 * v), ...f32x4add, ...set(x)]),
          ...when(get(base), [...get(x), ...v128load([...get(cRow), ...get(baseDelta), ...add], 16 * v), ...f32x4add, ...set(x)]),
          ...v128store(get(cRow), get(x), 16 * v),
        );
      }
    }
    return code;
  };

  const columns = (rows: number): Code => [
    ...loop(j, i32(0), get(nbV), i32(16 * V), tile(rows, V)),
    ...loop(j, get(nbV), get(nb), i32(16), tile(rows, 1)),
  ];

  const body: Code = [
    ...get(n), ...i32(4), ...mul, ...set(nb),
    ...get(m), ...i32(R), ...divu, ...i32(R), ...mul, ...set(mR),
    ...get(nb), ...i32(16 * V), ...divu, ...i32(16 * V), ...mul, ...set(nbV),
    ...get(m), ...get(nb), ...mul, ...set(cTask),
    ...get(base), ...get(c), ...sub, ...set(baseDelta),
    ...aRows.flatMap((x, r) => [...get(aRow), ...i32(r), ...mul, ...set(x)]),
    ...get(scale), ...f32x4splat, ...set(scaleV),
    ...get(plus), ...f32x4splat, ...set(plusV),
    ...get(a), ...set(aT), ...get(b), ...set(bT), ...get(c), ...set(cT), ...get(bias), ...set(biasT),
    ...loop(t, i32(0), get(T), i32(1), [
      ...loop(i, i32(0), get(mR), i32(R), columns(R)),
      // The last m mod R rows: one tile of that height.
      ...get(mR), ...set(i),
      ...Array.from({ length: R - 1 }, (_, x) => R - 1 - x).flatMap((rows) => when([...get(m), ...get(mR), ...sub, ...i32(rows), ...eq], columns(rows))),
      ...inc(aT, get(aTask)),
      ...inc(bT, get(bTask)),
      ...inc(cT, get(cTask)),
      ...inc(biasT, get(biasTask)),
    ]),
  ];
  return {
    name,
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F32, F32],
    locals: [[16 + R, I32], [R * V + V + 3, V128]],
    body,
  };
}
