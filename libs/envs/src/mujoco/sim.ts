import { failedPrecondition, resourceExhausted, type Rng } from '@chameleon/core';
import type { MjData, MjModel } from 'mujoco-js';
import { acquireModel, mujoco, releaseModel, type Mujoco } from './runtime';

/** mjtJoint values (MuJoCo's enum): free joints carry a quaternion at qpos[adr+3 .. adr+7]. */
const JNT_FREE = 0;
const JNT_BALL = 1;

/**
 * Zero-copy views into the wasm heap. They are detached (length 0) whenever the heap grows,
 * e.g. because another world allocated its MjData, so {@link MjSim} re-fetches them lazily.
 */
interface Views {
  qpos: Float64Array;
  qvel: Float64Array;
  ctrl: Float64Array;
  cfrcExt: Float64Array;
  /** Cartesian force and torque applied to each body's centre of mass (nbody x 6), world frame. */
  xfrcApplied: Float64Array;
}

/**
 * One simulated world: a shared, cached MjModel and its own MjData. `close()` frees the MjData
 * (its arena is most of a world's wasm memory) and releases the model.
 *
 * Requires `await ensureMujoco()` first (see runtime.ts).
 */
export class MjSim {
  readonly model: MjModel;
  readonly nq: number;
  readonly nv: number;
  readonly nu: number;
  readonly nbody: number;
  /** Integration step of the model, seconds. */
  readonly timestep: number;
  private readonly mj: Mujoco;
  private data: MjData | undefined;
  private v: Views;
  /** 1 where a qpos coordinate is part of a quaternion: reset noise must not denormalise it. */
  private readonly quaternion: Uint8Array;

  constructor(readonly xml: string) {
    this.mj = mujoco();
    this.model = acquireModel(xml);
    try {
      this.data = new this.mj.MjData(this.model);
    } catch (e) {
      releaseModel(xml);
      // The wasm heap is capped at 2 GB per process (about 4,500 ant worlds); the module survives.
      if (/allocate memory/.test(String(e))) throw resourceExhausted('num_worlds', 'the MuJoCo heap (2 GB per process) is full: close worlds or create fewer');
      throw e;
    }
    const m = this.model;
    [this.nq, this.nv, this.nu, this.nbody] = [m.nq, m.nv, m.nu, m.nbody];
    const opt = m.opt;
    this.timestep = opt.timestep;
    opt.delete();
    this.quaternion = quaternionMask(m);
    this.v = this.fetchViews();
  }

  private live(): MjData {
    if (!this.data) throw failedPrecondition('this MuJoCo world is closed');
    return this.data;
  }

  private fetchViews(): Views {
    const d = this.live();
    return { qpos: d.qpos, qvel: d.qvel, ctrl: d.ctrl, cfrcExt: d.cfrc_ext, xfrcApplied: d.xfrc_applied };
  }

  /** Current views (re-fetched after heap growth detached the old ones). */
  views(): Views {
    if (this.v.qpos.length === 0 || !this.data) this.v = this.fetchViews();
    return this.v;
  }

  /** Size of the whole wasm heap (shared by every world of the process), bytes; it never shrinks. */
  get heapBytes(): number {
    return this.views().qpos.buffer.byteLength;
  }

  /** Peak use of this world's arena (`<size memory>`) since creation, and its size, bytes. */
  arenaUse(): { peak: number; size: number } {
    const d = this.live();
    return { peak: Number(d.maxuse_arena), size: Number(d.narena) };
  }

  /** Simulated time of the current episode, seconds. */
  get time(): number {
    return this.live().time;
  }

  /**
   * Back to the model's reference pose, plus N(0, qposNoise) on every position coordinate
   * except quaternion parts and N(0, qvelNoise) on every velocity (rllab's reset), then one
   * forward pass so derived quantities match the new state.
   */
  reset(rng: Rng, qposNoise: number, qvelNoise: number): void {
    const d = this.live();
    this.mj.mj_resetData(this.model, d);
    const { qpos, qvel } = this.views();
    for (let i = 0; i < this.nq; i++) if (!this.quaternion[i]) qpos[i] += rng.normal(0, qposNoise);
    for (let i = 0; i < this.nv; i++) qvel[i] += rng.normal(0, qvelNoise);
    this.mj.mj_forward(this.model, d);
  }

  /** Recomputes derived quantities (positions, contacts) after qpos/qvel were written directly. */
  forward(): void {
    this.mj.mj_forward(this.model, this.live());
  }

  /** `frameSkip` physics steps with the current ctrl. */
  step(frameSkip: number): void {
    const d = this.live();
    for (let k = 0; k < frameSkip; k++) this.mj.mj_step(this.model, d);
  }

  /**
   * Fills `cfrc_ext` (external, mostly contact, wrench on each body). MuJoCo 3 computes it only
   * on request; the values belong to the last physics step's constraint solution.
   */
  computeContactForces(): void {
    this.mj.mj_rnePostConstraint(this.model, this.live());
  }

  /** Frees the MjData; idempotent. */
  close(): void {
    if (!this.data) return;
    this.data.delete();
    this.data = undefined;
    releaseModel(this.xml);
  }

  get closed(): boolean {
    return this.data === undefined;
  }
}

function quaternionMask(m: MjModel): Uint8Array {
  const mask = new Uint8Array(m.nq);
  const types = m.jnt_type as Int32Array;
  const adr = m.jnt_qposadr as Int32Array;
  for (let j = 0; j < m.njnt; j++) {
    if (types[j] === JNT_FREE) mask.fill(1, adr[j] + 3, adr[j] + 7);
    if (types[j] === JNT_BALL) mask.fill(1, adr[j], adr[j] + 4);
  }
  return mask;
}
