import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AdaptationJob } from '@chameleon/agents';
import { ChameleonError } from '@chameleon/core';
import type { BackendPreference } from '@chameleon/nn';

interface Slot {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  inFlight: number;
}

/** Sessions whose worker the pool remembers. */
const AFFINITY_SESSIONS = 4096;

type Pending = { resolve: (phi: Float32Array[]) => void; reject: (e: Error) => void; slot: Slot };

/**
 * Worker threads for agents' between-round updates: an update (tens of milliseconds of tfjs)
 * on the event loop would hold up every other opponent's next action, so the agent-server
 * hands it to the least busy worker and answers other streams meanwhile.
 *
 * @example
 *   const pool = new AdaptationPool(1, 'wasm');
 *   const ctx = agentContext(registry, { offloadAdaptation: (job) => pool.run(job) });
 *   await pool.close();
 */
export class AdaptationPool {
  private readonly slots: Slot[];
  private readonly pending = new Map<number, Pending>();
  /** Session -> the worker of its last update, most recent last (bounded: sessions end without telling the pool). */
  private readonly affinity = new Map<string, Slot>();
  private next = 1;

  constructor(size: number, backend: BackendPreference = 'wasm') {
    // Workers run the TypeScript sources like the CLI does: swc compiles on first load.
    const register = require.resolve('@swc-node/register');
    const entry = join(__dirname, 'adapt-worker.ts');
    const env = { ...process.env, SWC_NODE_PROJECT: process.env.SWC_NODE_PROJECT ?? resolve(__dirname, '../../../tsconfig.json') };
    this.slots = Array.from({ length: size }, () => {
      const worker = new Worker(`require(${JSON.stringify(register)}); require(${JSON.stringify(entry)});`, { eval: true, workerData: { backend }, env });
      const ready = new Promise<void>((resolve, reject) => {
        worker.once('error', reject);
        worker.on('message', (m: { ready?: boolean }) => m.ready && resolve());
      });
      const slot: Slot = { worker, ready, inFlight: 0 };
      worker.on('message', (m: { id?: number; phi?: Float32Array[]; error?: string }) => m.id !== undefined && this.settle(m as { id: number }));
      worker.on('error', (e) => this.failAll(slot, e));
      // Held open until it has loaded (a server awaiting ready() has nothing else yet); after
      // that, an idle pool never keeps the process alive.
      void ready.then(() => worker.unref(), () => undefined);
      return slot;
    });
  }

  /** Resolves once every worker has loaded its modules and backend (a server awaits it before listening). */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  get size(): number {
    return this.slots.length;
  }

  run(job: AdaptationJob): Promise<Float32Array[]> {
    // The least busy worker; among equally busy ones, the one that ran this session's last
    // update (its cache holds the baseline matrices of the episodes this update shares with it).
    const least = Math.min(...this.slots.map((s) => s.inFlight));
    const previous = job.session === undefined ? undefined : this.affinity.get(job.session);
    const slot = previous && previous.inFlight === least ? previous : this.slots.find((s) => s.inFlight === least)!;
    if (job.session !== undefined) this.remember(job.session, slot);
    const id = this.next++;
    // A pending update keeps the process alive (e.g. a local `chameleon play` awaiting it).
    if (slot.inFlight++ === 0) slot.worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, job });
    });
  }

  private remember(session: string, slot: Slot): void {
    this.affinity.delete(session);
    this.affinity.set(session, slot);
    if (this.affinity.size > AFFINITY_SESSIONS) this.affinity.delete(this.affinity.keys().next().value as string);
  }

  /** Which worker a session's next update would prefer (for tests and diagnostics). */
  workerOf(session: string): number | undefined {
    const slot = this.affinity.get(session);
    return slot ? this.slots.indexOf(slot) : undefined;
  }

  private settle(m: { id: number; phi?: Float32Array[]; error?: string }): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (--p.slot.inFlight === 0) p.slot.worker.unref();
    if (m.phi) p.resolve(m.phi);
    else p.reject(new ChameleonError('INTERNAL', `adaptation worker failed: ${m.error}`));
  }

  private failAll(slot: Slot, e: Error): void {
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      slot.inFlight--;
      p.reject(new ChameleonError('INTERNAL', `adaptation worker died: ${e.message}`));
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
