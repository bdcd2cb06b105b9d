import { randomUUID } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { ChameleonError, failedPrecondition, invalidArgument } from '@chameleon/core';
import { EpisodeRecorder, type Agent, type AgentSession, type EpisodeRecord } from '@chameleon/agents';
import { StepType, type AgentInfo, type PlayRequest, type PlayResponse } from '@chameleon/proto';
import { fromWire, toWire } from '@chameleon/tensor';
import { toServiceError } from '@chameleon/transport';
import { ATTR, withSpan } from '@chameleon/telemetry';
import type { AgentMetrics } from './metrics';

export interface FieldedAgent {
  readonly info: AgentInfo;
  readonly agent: Agent;
}

/** Live sessions, for metrics and for the memory test. */
export const liveSessions = new Set<string>();

/**
 * One match on one stream, in lockstep: every Observe is answered (an action, or none after
 * LAST); every EndRound triggers the agent's adaptation and is answered by RoundAdapted.
 * A bad message is answered by PlayError and the match goes on; the session is freed when
 * the stream ends, fails or is cancelled.
 */
export function playHandler(agents: Map<string, FieldedAgent>, metrics: AgentMetrics): grpc.handleBidiStreamingCall<PlayRequest, PlayResponse> {
  return (call) => {
    let session: AgentSession | undefined;
    let fielded: FieldedAgent | undefined;
    let recorder: EpisodeRecorder | undefined;
    let round: EpisodeRecord[] = [];
    let sessionId = '';
    let opponent = '';
    let closed = false;
    // Messages are handled one at a time: rounds end asynchronously (adaptation).
    let queue = Promise.resolve();
    const close = () => {
      if (closed) return;
      closed = true;
      if (!session) return;
      session.dispose();
      session = undefined;
      round = [];
      liveSessions.delete(sessionId);
      metrics.sessionsChanged(-1);
    };
    const send = (m: PlayResponse) => {
      if (!closed && !call.cancelled) call.write(m);
    };
    const fail = (e: unknown, step = 0) => {
      const s = toServiceError(e);
      send({ message: { $case: 'error', error: { code: s.code ?? 13, message: s.details ?? String(e), step } } });
    };
    const handle = async (req: PlayRequest) => {
      const m = req.message;
      if (!m) throw invalidArgument('message', 'is empty');
      if (m.$case === 'join') {
        if (session) throw failedPrecondition('this stream has already joined a match');
        fielded = agents.get(m.join.agent);
        if (!fielded) throw new ChameleonError('NOT_FOUND', `no agent "${m.join.agent}"; ListAgents shows ${[...agents.keys()].join(', ')}`, 'join.agent');
        sessionId = randomUUID();
        opponent = m.join.opponentId || 'anonymous';
        session = fielded.agent.session({ opponentId: opponent, seed: m.join.seed });
        recorder = new EpisodeRecorder(fielded.agent.observationSize, fielded.agent.actionSize);
        liveSessions.add(sessionId);
        metrics.sessionsChanged(1);
        send({ message: { $case: 'joined', joined: { sessionId, agent: fielded.info } } });
        return;
      }
      if (!session || !fielded || !recorder) throw failedPrecondition('send JoinMatch first');
      if (m.$case === 'observe') {
        const o = m.observe;
        const t0 = performance.now();
        const obs = fromWire(o.observation, 'observe.observation', ['float32'] as const);
        const n = fielded.agent.observationSize;
        if (obs.data.length !== n) throw invalidArgument('observe.observation', `must hold ${n} values for agent "${fielded.info.name}", got shape [${obs.shape.join(', ')}]`);
        for (let i = 0; i < n; i++) if (!Number.isFinite(obs.data[i])) throw invalidArgument('observe.observation', `element ${i} is not finite`);
        if (o.stepType === StepType.STEP_TYPE_FIRST) recorder.take();
        else recorder.rewarded(o.reward, o.discount);
        if (o.stepType === StepType.STEP_TYPE_LAST) {
          session.lastStep?.(o.reward);
          round.push(recorder.take());
          send({ message: { $case: 'act', act: { step: o.step, action: undefined } } });
          return;
        }
        const { action, logProb } = session.act(obs.data, { reward: o.stepType === StepType.STEP_TYPE_FIRST ? 0 : o.reward, first: o.stepType === StepType.STEP_TYPE_FIRST });
        recorder.acted(obs.data, action, logProb);
        send({ message: { $case: 'act', act: { step: o.step, action: toWire({ dtype: 'float32', shape: [action.length], data: action }) } } });
        metrics.actionLatency(performance.now() - t0);
        return;
      }
      if (m.$case === 'endRound') {
        const episodes = round.map((e, i) => ({ ...e, outcome: m.endRound.outcomes[i] }));
        round = [];
        const s = session;
        const t0 = performance.now();
        const r = await withSpan('round', { [ATTR.SERVICE]: 'agent-server', 'chameleon.session': sessionId, 'chameleon.round': m.endRound.round, 'chameleon.opponent': opponent }, async () => s.endRound(episodes), { root: true });
        const ms = performance.now() - t0;
        metrics.adaptation(ms);
        send({ message: { $case: 'adapted', adapted: { round: m.endRound.round, adaptationMs: ms, episodesUsed: r.episodesUsed } } });
      }
    };
    call.on('data', (req: PlayRequest) => {
      queue = queue.then(() => handle(req)).catch((e) => {
        // A join that cannot be honoured ends the stream; anything else is reported and the match goes on.
        if (req.message?.$case === 'join' && !session) {
          const s = toServiceError(e);
          call.emit('error', s);
          close();
          return;
        }
        fail(e, req.message?.$case === 'observe' ? req.message.observe.step : 0);
      });
    });
    call.on('end', () => {
      void queue.then(() => {
        close();
        if (!call.cancelled) call.end();
      });
    });
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  };
}
