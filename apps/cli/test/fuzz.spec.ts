import { connect as h2connect, constants as h2 } from 'node:http2';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createRegistry } from '@chameleon/builtins';
import { agentContext, agentServerService, fieldAgents } from '@chameleon/app-agent-server';
import { environmentSimulatorService } from '@chameleon/app-environment-simulator';
import { evaluatorService } from '@chameleon/app-evaluator';
import { learnerService } from '@chameleon/app-learner';
import { MetaOptimiser } from '@chameleon/app-meta-optimiser';
import { taskSamplerService } from '@chameleon/app-task-sampler';
import { initBackend } from '@chameleon/nn';
import { Peers, chameleonPackageDefinition, startServer, type HostedService, type RunningServer } from '@chameleon/transport';
import { healthStatus } from '@chameleon/transport/src/testing';
import { Generator, rng } from './fuzz-gen';
import { tmp } from './helpers';

/**
 * Hostile input against every service, over real gRPC on loopback: generated, mutated and
 * random protobufs (wrong dtypes, huge and negative shapes, NaN/Inf, out-of-range enums),
 * server streams cancelled midway, bidi streams cut short and HTTP/2 requests whose gRPC
 * frame is truncated. Every answer must be a status a client can act on: no UNKNOWN, no
 * INTERNAL from a handler (a crash caught by the wrapper), no hang (a call that reaches its
 * deadline counts as a hang unless its server answers a health check at once), no unbounded
 * memory; and every server must still be healthy and answer a valid request at the end.
 * Environment: CHAMELEON_FUZZ_REQUESTS (default 3,000 to keep CI short; docs/operations.md
 * reports a 10,500-request run), CHAMELEON_FUZZ_SUMMARY (JSON summary file), _SEED,
 * _DEADLINE_MS, _CONCURRENCY, _ONLY (a service), _TRACE (log every request) and _REPLAY
 * ("<method path> <base64>", one request) for diagnosis.
 */

const TOTAL = Number(process.env.CHAMELEON_FUZZ_REQUESTS ?? 3_000);
const DEADLINE_MS = Number(process.env.CHAMELEON_FUZZ_DEADLINE_MS ?? 2_000);
const CONCURRENCY = Number(process.env.CHAMELEON_FUZZ_CONCURRENCY ?? 16);
/** Hostile requests must not make the servers (all in this process) allocate without bound. */
const RSS_LIMIT = Number(process.env.CHAMELEON_FUZZ_RSS_MIB ?? 3072) * 2 ** 20;
const SEED = Number(process.env.CHAMELEON_FUZZ_SEED ?? 20261122);

/** Codes a well-behaved server may answer hostile input with. */
const PROPER = new Set([
  grpc.status.OK,
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.ALREADY_EXISTS,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.OUT_OF_RANGE,
  grpc.status.UNIMPLEMENTED,
  grpc.status.UNAUTHENTICATED,
  grpc.status.PERMISSION_DENIED,
]);

interface Method {
  service: string;
  name: string;
  path: string;
  requestType: string;
  requestStream: boolean;
  responseStream: boolean;
}

function methodsOf(service: string): Method[] {
  const def = chameleonPackageDefinition()[service] as unknown as Record<string, { path: string; requestStream: boolean; responseStream: boolean; requestType: { type: { name: string } } }>;
  return Object.entries(def).map(([name, m]) => ({ service, name, path: m.path, requestType: m.requestType.type.name, requestStream: m.requestStream, responseStream: m.responseStream }));
}

type Verdict = { code: number; details: string; cancelledByUs?: boolean };

const identity = (b: Buffer) => b;
const Raw = grpc.makeGenericClientConstructor({}, 'Raw');

function unaryRaw(client: grpc.Client, m: Method, bytes: Uint8Array): Promise<Verdict> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(m.path, identity, identity, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS }, (e) =>
      resolve(e ? { code: e.code, details: e.details } : { code: 0, details: '' }),
    ),
  );
}

function serverStreamRaw(client: grpc.Client, m: Method, bytes: Uint8Array, cancelAfterFirst: boolean): Promise<Verdict> {
  return new Promise((resolve) => {
    const call = client.makeServerStreamRequest(m.path, identity, identity, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS });
    let cancelled = false;
    call.on('data', () => {
      if (cancelAfterFirst && !cancelled) {
        cancelled = true;
        call.cancel();
      }
    });
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, cancelledByUs: cancelled }));
  });
}

function bidiRaw(client: grpc.Client, m: Method, messages: Uint8Array[], cut: boolean): Promise<Verdict> {
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(m.path, identity, identity, new grpc.Metadata(), { deadline: Date.now() + DEADLINE_MS });
    call.on('data', () => undefined);
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, cancelledByUs: cut }));
    for (const b of messages) call.write(Buffer.from(b));
    if (cut) setTimeout(() => call.cancel(), 20);
    else call.end();
  });
}

/** A gRPC request over raw HTTP/2 whose length prefix promises more bytes than are sent. */
function truncatedFrame(address: string, m: Method, bytes: Uint8Array): Promise<Verdict> {
  return new Promise((resolve) => {
    const session = h2connect(`http://${address}`);
    session.on('error', () => undefined);
    const timer = setTimeout(() => {
      session.destroy();
      resolve({ code: grpc.status.DEADLINE_EXCEEDED, details: 'no answer to a truncated frame' });
    }, DEADLINE_MS);
    const req = session.request({ [h2.HTTP2_HEADER_METHOD]: 'POST', [h2.HTTP2_HEADER_PATH]: m.path, 'content-type': 'application/grpc', te: 'trailers' });
    let verdict: Verdict | undefined;
    const take = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) verdict = { code: Number(h['grpc-status']), details: String(h['grpc-message'] ?? '') };
    };
    req.on('response', take);
    req.on('trailers', take);
    req.on('data', () => undefined);
    req.on('error', () => undefined);
    req.on('close', () => {
      clearTimeout(timer);
      session.close();
      resolve(verdict ?? { code: grpc.status.UNAVAILABLE, details: 'stream closed without a status' });
    });
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(bytes.length + 100, 1);
    req.end(Buffer.concat([prefix, Buffer.from(bytes)]));
  });
}

/**
 * A request may legitimately ask for more work than its deadline allows (10^5 tasks, 1000
 * steps): then the deadline ends the call. It is a hang only if the server does not come
 * back: its health check must answer SERVING within RECOVERY_MS (all six servers share this
 * process, so one expensive synchronous request delays the others' answers too).
 */
const RECOVERY_MS = 30_000;
async function responsive(address: string): Promise<boolean> {
  const until = Date.now() + RECOVERY_MS;
  while (Date.now() < until) {
    try {
      if ((await healthStatus(address, '')) === 'SERVING') return true;
    } catch {
      // not answering yet
    }
  }
  return false;
}

/**
 * The meta-optimiser's service with one guard for the fuzzer's sake, not the server's: any run a
 * hostile request manages to start is stopped at once (an empty config is a valid run of 20,000
 * iterations). Output folders are the service's own business: it is served confined to its
 * runs folder, as `chameleon serve meta-optimiser` serves it.
 */
function stopping(mo: MetaOptimiser): HostedService {
  const s = mo.service();
  const startRun = s.implementation.startRun as grpc.handleUnaryCall<unknown, unknown>;
  return {
    ...s,
    implementation: {
      ...s.implementation,
      startRun: (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        startRun(call, (e, r) => {
          if (!e) {
            runsStarted++;
            void mo.stopAll();
          }
          cb(e, r);
        });
      },
    },
  };
}
let runsStarted = 0;

describe('fuzzing every service with hostile requests', () => {
  const servers: RunningServer[] = [];
  const peers: Peers[] = [];
  let mo: MetaOptimiser;
  const targets: Array<{ address: string; methods: Method[] }> = [];

  beforeAll(async () => {
    await initBackend('wasm');
    const registry = createRegistry();
    const up = async (s: HostedService) => {
      const server = await startServer({ label: s.name, services: [s], port: 0, log: () => undefined });
      servers.push(server);
      targets.push({ address: server.address, methods: methodsOf(s.name) });
      return server.address;
    };
    const taskSampler = await up(taskSamplerService(registry));
    const simulator = await up(environmentSimulatorService(registry));
    const learner = await up(learnerService(registry));
    const fast = { retry: { retries: 0 } };
    peers.push(new Peers({ taskSampler, simulators: [simulator], learner }, fast));
    const evaluator = await up(evaluatorService(peers[0], registry));
    peers.push(new Peers({ taskSampler, simulators: [simulator], learner, evaluator }, fast));
    mo = new MetaOptimiser({ peers: peers[1], registry, runsDir: tmp('fuzz-runs'), confineToRunsDir: true });
    await up(stopping(mo));
    await up(agentServerService(fieldAgents([{ name: 'still', plugin: 'scripted-still' }], registry, agentContext(registry))));
  });

  afterAll(async () => {
    await mo?.stopAll();
    for (const s of servers.reverse()) await s.shutdown(1000);
    for (const p of peers) p.close();
  });

  it(`answers ${TOTAL} hostile requests with proper status codes, no crash and no hang`, async () => {
    const r = rng(SEED);
    const gen = new Generator(r);
    const clients = targets.map((t) => new Raw(t.address, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1 }));
    const only = process.env.CHAMELEON_FUZZ_ONLY;
    const all = targets.flatMap((t, i) => t.methods.map((m) => ({ m, client: clients[i], address: t.address }))).filter((x) => !only || x.m.path.includes(only));
    const summary = {
      seed: SEED,
      requests: 0,
      byService: {} as Record<string, number>,
      byKind: {} as Record<string, number>,
      byCode: {} as Record<string, number>,
      undecodable: 0,
      cancelledByClient: 0,
      deadlineReached: 0,
      crashes: 0,
      hangs: 0,
      peakRssMiB: 0,
      memoryBlowup: '',
      improper: [] as string[],
      seconds: 0,
    };
    const t0 = Date.now();
    const slowest: Array<{ ms: number; what: string }> = [];
    let next = 0;
    const one = async (i: number) => {
      const { m, client, address } = all[i % all.length];
      const { bytes, kind: made } = gen.request(m.requestType);
      if (process.env.CHAMELEON_FUZZ_TRACE) appendFileSync(process.env.CHAMELEON_FUZZ_TRACE, `start ${i} ${m.path} ${Math.round(process.memoryUsage().rss / 2 ** 20)} ${Buffer.from(bytes).toString('base64')}\n`);
      let kind: string = made;
      let v: Verdict;
      const started = Date.now();
      const u = r();
      if (u < 0.03) {
        kind = 'truncated-frame';
        v = await truncatedFrame(address, m, bytes);
      } else if (m.requestStream) {
        const cut = u < 0.5;
        kind = cut ? 'bidi-cut' : 'bidi';
        v = await bidiRaw(client, m, [bytes, ...Array.from({ length: Math.floor(r() * 3) }, () => gen.request(m.requestType).bytes)], cut);
      } else if (m.responseStream) {
        v = await serverStreamRaw(client, m, bytes, u < 0.4);
      } else v = await unaryRaw(client, m, bytes);
      summary.requests++;
      const ms = Date.now() - started;
      slowest.push({ ms, what: `${m.path} (${kind}) ${grpc.status[v.code]} ${Buffer.from(bytes).toString('base64').slice(0, 160)}` });
      slowest.sort((a, b) => b.ms - a.ms).splice(8);
      const rss = process.memoryUsage().rss;
      summary.peakRssMiB = Math.max(summary.peakRssMiB, Math.round(rss / 2 ** 20));
      if (rss > RSS_LIMIT && !summary.memoryBlowup) summary.memoryBlowup = `${m.path} (${kind}) ${Buffer.from(bytes).toString('base64').slice(0, 300)}`;
      summary.byService[m.service.replace('chameleon.v1.', '')] = (summary.byService[m.service.replace('chameleon.v1.', '')] ?? 0) + 1;
      summary.byKind[kind] = (summary.byKind[kind] ?? 0) + 1;
      const codeName = grpc.status[v.code] ?? String(v.code);
      summary.byCode[codeName] = (summary.byCode[codeName] ?? 0) + 1;
      // The framework's answer to bytes that do not decode (gRPC's specified code for it).
      const undecodable = v.code === grpc.status.INTERNAL && /^Error deserializing request|incomplete|Received a malformed/i.test(v.details);
      const frameworkTruncation = kind === 'truncated-frame' && v.code === grpc.status.INTERNAL;
      if (undecodable || frameworkTruncation) summary.undecodable++;
      else if (v.code === grpc.status.CANCELLED && v.cancelledByUs) summary.cancelledByClient++;
      else if (v.code === grpc.status.DEADLINE_EXCEEDED && (await responsive(address))) summary.deadlineReached++;
      else if (v.code === grpc.status.DEADLINE_EXCEEDED) {
        summary.hangs++;
        if (summary.improper.length < 20) summary.improper.push(`${m.path} (${kind}): hang; request ${Buffer.from(bytes).toString('base64').slice(0, 300)}`);
      }
      else if (!PROPER.has(v.code)) {
        summary.crashes++;
        if (summary.improper.length < 20) summary.improper.push(`${m.path} (${kind}): ${codeName} ${v.details.slice(0, 200)}`);
      }
    };
    const replay = process.env.CHAMELEON_FUZZ_REPLAY; // "<method path> <base64>": one request, for diagnosis
    if (replay) {
      const [path, b64] = replay.split(' ');
      const t = all.find((x) => x.m.path === path)!;
      const v = await unaryRaw(t.client, t.m, Buffer.from(b64 ?? '', 'base64'));
      throw new Error(`replay: ${grpc.status[v.code]} ${v.details} after ${Date.now() - t0} ms, rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MiB`);
    }
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL && !summary.memoryBlowup) await one(next++);
      }),
    );
    summary.seconds = (Date.now() - t0) / 1000;
    Object.assign(summary, { slowest, runsStartedAndStopped: runsStarted });
    for (const c of clients) c.close();
    if (process.env.CHAMELEON_FUZZ_SUMMARY) {
      mkdirSync(dirname(process.env.CHAMELEON_FUZZ_SUMMARY), { recursive: true });
      writeFileSync(process.env.CHAMELEON_FUZZ_SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);
    }
    expect(summary.memoryBlowup).toBe('');
    expect(summary.improper).toEqual([]);
    expect(summary.crashes).toBe(0);
    expect(summary.hangs).toBe(0);
    expect(summary.requests).toBe(TOTAL);
    expect(Object.keys(summary.byService).sort()).toEqual(['AgentService', 'EnvironmentSimulatorService', 'EvaluatorService', 'LearnerService', 'MetaOptimiserService', 'TaskSamplerService']);
    // Still alive: healthy, and answering a valid request correctly.
    for (const t of targets) expect(await healthStatus(t.address, '')).toBe('SERVING');
    const ts = targets[0];
    const families = await unaryRaw(new Raw(ts.address, grpc.credentials.createInsecure()), ts.methods.find((m) => m.name === 'ListFamilies')!, new Uint8Array(0));
    expect(families.code).toBe(grpc.status.OK);
  }, Math.max(300_000, TOTAL * 80));
});

