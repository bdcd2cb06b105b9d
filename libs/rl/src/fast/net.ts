import { columnSum, dim, relu, taskMatMul, tf, type Tensor } from '@chameleon/nn';

/**
 * The Gaussian MLP's parameters — or a direction in their space — shared by every task
 * (tasks = 1: w[l] [in, out], b[l] [out], logStd [A]) or one set per task (w[l] [T * in, out]
 * task-major, b[l] [T, out], logStd [T, A]).
 */
export interface Net {
  readonly tasks: number;
  readonly w: readonly Tensor[];
  readonly b: readonly Tensor[];
  readonly logStd: Tensor;
}

/** A hidden activation: its value and its first (and, for the inner step's Hessian, second) derivative. */
export interface Activation {
  /** f(z). */
  value(z: Tensor): Tensor;
  /** x = f(z) and f'(z). */
  apply(z: Tensor): { x: Tensor; fp: Tensor };
  /** f''(z) from x = f(z) and f'(z); undefined when it is zero (ReLU). */
  second(x: Tensor, fp: Tensor): Tensor | undefined;
}

const minusOne = (t: Tensor) => tf.sub(t, 1);

export const ACTIVATIONS: Record<'tanh' | 'relu', Activation> = {
  // tanh as 2 sigmoid(2z) - 1, exactly as tanhN (tf.tanh is ~7x slower on wasm); f' = 1 - x^2, f'' = -2 x f'.
  // (Scalars go second: on wasm a broadcast scalar as the FIRST operand takes a slow path.)
  tanh: {
    value: (z) => minusOne(tf.mul(tf.sigmoid(tf.mul(z, 2)), 2)),
    apply(z) {
      const x = ACTIVATIONS.tanh.value(z);
      return { x, fp: tf.neg(minusOne(tf.square(x))) };
    },
    second: (x, fp) => tf.mul(tf.mul(x, fp), -2),
  },
  relu: {
    value: (z) => relu(z),
    apply: (z) => ({ x: relu(z), fp: tf.step(z) }),
    second: () => undefined,
  },
};

/** Per-task blocks [T * r, c] of `w` transposed: [T * c, r]. */
export function transposeBlocks(w: Tensor, tasks: number): Tensor {
  if (tasks === 1) return tf.transpose(w);
  const [r, c] = [dim(w, 0) / tasks, dim(w, 1)];
  return tf.reshape(tf.transpose(tf.reshape(w, [tasks, r, c]), [0, 2, 1]), [tasks * c, r]);
}

/** x [rows, n] times a row per task (v [T, n], or [n] for all rows) elementwise. */
export function mulRows(x: Tensor, v: Tensor, tasks: number): Tensor {
  if (v.rank === 1 || tasks === 1) return tf.mul(x, tf.reshape(v, [-1]));
  const n = dim(x, 1);
  return tf.reshape(tf.mul(tf.reshape(x, [tasks, -1, n]), tf.reshape(v, [tasks, 1, n])), x.shape);
}

/** x [rows, n] plus a row per task (v [T, n], or [n] for all rows). */
export function addRows(x: Tensor, v: Tensor, tasks: number): Tensor {
  if (v.rank === 1 || tasks === 1) return tf.add(x, tf.reshape(v, [-1]));
  const n = dim(x, 1);
  return tf.reshape(tf.add(tf.reshape(x, [tasks, -1, n]), tf.reshape(v, [tasks, 1, n])), x.shape);
}

/**
 * x . w + b (+ base) with `tasks` weight blocks. Widths that are a multiple of 4 take the
 * register-tiled kernel with the bias fused; a narrow output (the action layer) takes the
 * dot-product loop against w^T, its per-task bias added afterwards.
 */
export function affine(x: Tensor, w: Tensor, b: Tensor | undefined, tasks: number, base?: Tensor): Tensor {
  const n = dim(w, 1);
  if (n % 4 === 0) return taskMatMul(x, w, tasks, { bias: b, base });
  const shared = b && b.rank === 1 ? b : undefined;
  const y = taskMatMul(x, transposeBlocks(w, tasks), tasks, { transposeB: true, bias: shared, base });
  return b && !shared ? addRows(y, b, tasks) : y;
}

/** d [rows, n] . w^T per weight block: [rows, in]. */
export const backThrough = (d: Tensor, w: Tensor, tasks: number): Tensor => taskMatMul(d, w, tasks, { transposeB: true });

/** x^T d per group of rows: [groups * in, out] (a weight gradient, summed within each group). */
export function outer(x: Tensor, d: Tensor, groups: number, base?: Tensor): Tensor {
  if (dim(d, 1) % 4 === 0) return taskMatMul(x, d, groups, { transposeA: true, base });
  // Narrow d (the action layer): (d^T x)^T takes the tiled loop.
  const y = transposeBlocks(taskMatMul(d, x, groups, { transposeA: true }), groups);
  return base ? tf.add(y, base) : y;
}

/** Column sums per group of rows: [groups, n], or [n] for one group. */
export const groupSum = (d: Tensor, groups: number, ones: Tensor): Tensor =>
  groups === 1 ? columnSum(d) : taskMatMul(ones, d, groups, { transposeA: true });

/** The forward pass of the mean network, with what its derivatives need. */
export interface Forward {
  /** Layer inputs: x[0] the observations, x[l] = f(z[l - 1]). */
  readonly x: readonly Tensor[];
  /** fp[l] = f'(z[l - 1]) for l >= 1 (fp[0] unused). */
  readonly fp: readonly Tensor[];
  /** The mean, [rows, A]. */
  readonly mu: Tensor;
}

/** The mean network's forward pass (with the derivatives f' unless only the mean is wanted). */
export function forward(net: Net, obs: Tensor, act: Activation, derivatives = true): Forward {
  const x = [obs];
  const fp: Tensor[] = [obs];
  let z = affine(obs, net.w[0], net.b[0], net.tasks);
  for (let l = 1; l < net.w.length; l++) {
    const a = derivatives ? act.apply(z) : { x: act.value(z), fp: z };
    x.push(a.x);
    fp.push(a.fp);
    z = affine(a.x, net.w[l], net.b[l], net.tasks);
  }
  return { x, fp, mu: z };
}

/** Gradients of sum(g . mu) with respect to the weights and biases, summed within each of `groups` row blocks. */
export function vjp(net: Net, f: Forward, g: Tensor, groups: number, ones: Tensor): { w: Tensor[]; b: Tensor[] } {
  const L = net.w.length;
  const [w, b]: [Tensor[], Tensor[]] = [new Array(L), new Array(L)];
  let d = g;
  for (let l = L - 1; l >= 0; l--) {
    w[l] = outer(f.x[l], d, groups);
    b[l] = groupSum(d, groups, ones);
    if (l > 0) d = tf.mul(backThrough(d, net.w[l], net.tasks), f.fp[l]);
  }
  return { w, b };
}

/** The directional derivative of the mean along t: J t, with every layer's input and pre-activation tangents. */
export interface Tangents {
  readonly mu: Tensor;
  /** rz[l]: tangent of z[l]. */
  readonly rz: readonly Tensor[];
  /** rx[l]: tangent of x[l] (rx[0] = 0, unused). */
  readonly rx: readonly Tensor[];
}

export function jvp(net: Net, f: Forward, t: Net): Tangents {
  let rz = affine(f.x[0], t.w[0], t.b[0], t.tasks);
  const rzs = [rz];
  const rxs: Tensor[] = [rz];
  for (let l = 1; l < net.w.length; l++) {
    const rx = tf.mul(f.fp[l], rz);
    rz = affine(rx, net.w[l], undefined, net.tasks, affine(f.x[l], t.w[l], t.b[l], t.tasks));
    rxs.push(rx);
    rzs.push(rz);
  }
  return { mu: rz, rz: rzs, rx: rxs };
}

/** Every tensor of a Net, in the policy's parameter order (layer weights and biases, then log_std). */
export const netTensors = (n: Net): Tensor[] => [...n.w.flatMap((w, l) => [w, n.b[l]]), n.logStd];

/** A shared Net from the policy's parameter list. */
export function netOf(params: readonly Tensor[]): Net {
  const L = (params.length - 1) / 2;
  return { tasks: 1, w: params.filter((_, i) => i < 2 * L && i % 2 === 0), b: params.filter((_, i) => i < 2 * L && i % 2 === 1), logStd: params[2 * L] };
}

/**
 * a + s * b, where either may be shared and the other per task (the result is then per
 * task: the shared one is broadcast over the task axis).
 */
export function axpyNet(a: Net, s: number, b: Net): Net {
  const tasks = Math.max(a.tasks, b.tasks);
  const add = (x: Tensor, y: Tensor, weight: boolean) => {
    const ys = s === 1 ? y : tf.mul(y, s);
    if (a.tasks === b.tasks) return tf.add(x, ys);
    // The per-task operand first (wasm broadcasts a second operand quickly, a first one slowly).
    const [each, shared] = a.tasks === 1 ? [ys, x] : [x, ys];
    if (!weight) return tf.add(each, shared);
    return tf.reshape(tf.add(tf.reshape(each, [tasks, -1, dim(each, 1)]), shared), each.shape);
  };
  return { tasks, w: a.w.map((w, l) => add(w, b.w[l], true)), b: a.b.map((x, l) => add(x, b.b[l], false)), logStd: add(a.logStd, b.logStd, false) };
}

/** The sum over tasks of a per-task Net (a shared Net is returned as is). */
export function sumTasks(n: Net): Net {
  if (n.tasks === 1) return n;
  const T = n.tasks;
  return {
    tasks: 1,
    w: n.w.map((w) => tf.sum(tf.reshape(w, [T, -1, dim(w, 1)]), 0)),
    b: n.b.map((b) => tf.sum(b, 0)),
    logStd: tf.sum(n.logStd, 0),
  };
}

/** All of a Net's values in one flat vector: shared in the policy's order; per task, task after task. */
export function flattenNet(n: Net): Tensor {
  const parts = netTensors(n);
  if (n.tasks === 1) return tf.concat(parts.map((p) => tf.reshape(p, [-1])));
  return tf.concat(parts.map((p) => tf.reshape(p, [n.tasks, -1])), 1).reshape([-1]);
}
