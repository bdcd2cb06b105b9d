import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { timingSafeEqual } from 'node:crypto';
import { invalidArgument } from '@chameleon/core';

/** Methods anyone may call: health probes and reflection. */
const OPEN = /^\/grpc\.(health|reflection)\./;

function tokenMatches(given: string, tokens: readonly Buffer[]): boolean {
  const g = Buffer.from(given);
  return tokens.some((t) => t.length === g.length && timingSafeEqual(t, g));
}

/**
 * A server interceptor that requires `authorization: Bearer <token>` metadata with one of
 * `tokens` on every method except health and reflection; others get UNAUTHENTICATED before
 * any handler runs.
 */
export function tokenAuthInterceptor(tokens: readonly string[]): grpc.ServerInterceptor {
  const expected = tokens.map((t) => Buffer.from(t));
  return (method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, mdNext) {
            if (OPEN.test(method.path)) return mdNext(metadata);
            const header = String(metadata.get('authorization')[0] ?? '');
            const m = /^Bearer (.+)$/.exec(header);
            if (!m || !tokenMatches(m[1], expected)) {
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: m ? 'the token is not valid' : 'missing "authorization: Bearer <token>" metadata' });
              return;
            }
            mdNext(metadata);
          },
        });
      },
    });
}

/** Metadata carrying a bearer token, for clients. */
export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** File paths of TLS material. */
export interface TlsFiles {
  /** PEM certificate chain of this server (or client, for mTLS). */
  readonly cert?: string;
  /** PEM private key. */
  readonly key?: string;
  /** PEM CA bundle: clients verify servers with it; a server given one requires client certificates (mTLS). */
  readonly ca?: string;
}

const read = (path: string, field: string) => {
  try {
    return readFileSync(path);
  } catch (e) {
    throw invalidArgument(field, `cannot read ${path}: ${(e as Error).message}`);
  }
};

/** Server credentials: insecure without cert/key; TLS with them; mTLS when a CA is also given. */
export function serverCredentials(tls: TlsFiles = {}): grpc.ServerCredentials {
  if (!tls.cert && !tls.key) return grpc.ServerCredentials.createInsecure();
  if (!tls.cert || !tls.key) throw invalidArgument(tls.cert ? '--tls-key' : '--tls-cert', 'TLS needs both a certificate and a key');
  const ca = tls.ca ? read(tls.ca, '--tls-ca') : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: read(tls.cert, '--tls-cert'), private_key: read(tls.key, '--tls-key') }], !!ca);
}

/** Channel credentials: insecure without a CA; TLS verifying the server with the CA; mTLS with a client cert/key too. */
export function channelCredentials(tls: TlsFiles = {}): grpc.ChannelCredentials {
  if (!tls.ca) return grpc.credentials.createInsecure();
  const ca = read(tls.ca, '--tls-ca');
  return tls.cert && tls.key ? grpc.credentials.createSsl(ca, read(tls.key, '--tls-key'), read(tls.cert, '--tls-cert')) : grpc.credentials.createSsl(ca);
}
