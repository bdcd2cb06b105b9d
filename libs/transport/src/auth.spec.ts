import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Split, TaskSamplerServiceClient, TaskSamplerServiceService } from '@chameleon/proto';
import { bearer, channelCredentials, serverCredentials, tokenAuthInterceptor } from './auth';
import { connect, unaryCall } from './client';
import { unary } from './handlers';
import { startServer, type RunningServer } from './server';
import { healthStatus, rejection } from './testing';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
if (!hasOpenssl) console.warn('openssl not found: skipping the TLS tests (apt-get install openssl)');

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA. */
function makePki(dir: string) {
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=chameleon-test-ca');
  for (const who of ['server', 'client']) {
    ossl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who === 'server' ? 'localhost' : 'chameleon-client'}`);
    writeFileSync(join(dir, `${who}.ext`), who === 'server' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
    ossl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${who}.crt`, '-days', '1', '-extfile', `${who}.ext`);
  }
  const f = (n: string) => join(dir, n);
  return { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

const sampler = {
  name: 'chameleon.v1.TaskSamplerService',
  definition: TaskSamplerServiceService,
  implementation: { listFamilies: unary('L', () => ({ families: [] })), sampleTasks: unary('S', () => ({ tasks: [] })) },
};
const req = { family: 'x', familyConfig: {}, split: Split.SPLIT_TRAIN, seed: 0, startIndex: 0, count: 1 };

describe('token authentication', () => {
  let server: RunningServer;
  afterAll(() => server.shutdown(100));

  it('requires a valid bearer token on every method but health', async () => {
    server = await startServer({ label: 't', services: [sampler], port: 0, interceptors: [tokenAuthInterceptor(['alpha', 'beta'])] });
    const c = connect(TaskSamplerServiceClient, server.address);
    expect(await rejection(unaryCall(c, c.sampleTasks, req, 'x', { retries: 0 }))).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/missing "authorization: Bearer <token>"/) });
    expect(await rejection(unaryCall(c, c.sampleTasks, req, 'x', { retries: 0, metadata: bearer('gamma') }))).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(/not valid/) });
    await expect(unaryCall(c, c.sampleTasks, req, 'x', { metadata: bearer('beta') })).resolves.toEqual({ tasks: [] });
    expect(await healthStatus(server.address, '')).toBe('SERVING');
    c.close();
  });
});

(hasOpenssl ? describe : describe.skip)('TLS and mutual TLS', () => {
  const pki = makePki(mkdtempSync(join(tmpdir(), 'chameleon-pki-')));
  const servers: RunningServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.shutdown(100);
  });

  it('serves TLS: clients verifying with the CA connect, plaintext clients do not', async () => {
    const s = await startServer({ label: 'tls', services: [sampler], port: 0, credentials: serverCredentials({ cert: pki.serverCert, key: pki.serverKey }) });
    servers.push(s);
    const ok = connect(TaskSamplerServiceClient, s.address, channelCredentials({ ca: pki.ca }));
    await expect(unaryCall(ok, ok.sampleTasks, req, 'x')).resolves.toEqual({ tasks: [] });
    const plain = connect(TaskSamplerServiceClient, s.address);
    expect((await rejection(unaryCall(plain, plain.sampleTasks, req, 'x', { retries: 0, deadlineMs: 3000 }))).code).toMatch(/UNAVAILABLE|INTERNAL|DEADLINE_EXCEEDED/);
    ok.close();
    plain.close();
  });

  it('serves mTLS when given a CA: clients without a certificate are refused', async () => {
    const s = await startServer({ label: 'mtls', services: [sampler], port: 0, credentials: serverCredentials({ cert: pki.serverCert, key: pki.serverKey, ca: pki.ca }) });
    servers.push(s);
    const withCert = connect(TaskSamplerServiceClient, s.address, channelCredentials({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }));
    await expect(unaryCall(withCert, withCert.sampleTasks, req, 'x')).resolves.toEqual({ tasks: [] });
    const without = connect(TaskSamplerServiceClient, s.address, channelCredentials({ ca: pki.ca }));
    expect((await rejection(unaryCall(without, without.sampleTasks, req, 'x', { retries: 0, deadlineMs: 3000 }))).code).toMatch(/UNAVAILABLE|INTERNAL|DEADLINE_EXCEEDED/);
    withCert.close();
    without.close();
  });

  it('names the flag when TLS material is incomplete or unreadable', () => {
    expect(() => serverCredentials({ cert: pki.serverCert })).toThrow(/--tls-key: TLS needs both/);
    expect(() => serverCredentials({ cert: '/nope.crt', key: pki.serverKey })).toThrow(/--tls-cert: cannot read \/nope.crt/);
  });
});
