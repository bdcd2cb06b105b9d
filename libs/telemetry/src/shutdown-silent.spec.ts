import * as net from 'node:net';
import { initTelemetry } from './init';
import { withSpan } from './spans';

describe('initTelemetry with a collector that accepts connections but never answers', () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));

  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('shutdown still resolves within the export timeout', async () => {
    const { port } = server.address() as net.AddressInfo;
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const telemetry = initTelemetry({ serviceName: 'silent', otlpEndpoint: `http://127.0.0.1:${port}`, instrumentGrpc: false, exportTimeoutMs: 300 });
      await withSpan('never-delivered', {}, () => undefined);
      const started = Date.now();
      await expect(telemetry.shutdown()).resolves.toBeUndefined();
      expect(Date.now() - started).toBeLessThan(2_300);
      const lines = stderr.mock.calls.map(([t]) => String(t)).filter((t) => t.startsWith('telemetry: shutdown'));
      expect(lines).toHaveLength(1);
    } finally {
      stderr.mockRestore();
    }
  }, 10_000);
});
