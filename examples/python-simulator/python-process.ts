/**
 * Starting server.py from TypeScript: whether Python gRPC is usable here (decided
 * synchronously, so a jest file can choose `describe` or `describe.skip` at load), and a
 * server process on a free port that stops with SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The interpreter: Debian's, which sees apt's python3-* packages (a pyenv python3 on PATH does not). */
export const PYTHON = process.env.CHAMELEON_PYTHON ?? '/usr/bin/python3';
export const SERVER = join(__dirname, 'server.py');
export const INSTALL = 'sudo apt-get install python3-grpcio python3-numpy protobuf-compiler';

const env = () => ({ ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' });

/**
 * `server.py --check`: imports grpc and numpy and generates the stubs. Only a missing
 * interpreter or missing packages (exit 3) count as "absent"; any other failure is a bug
 * the tests must show, so it reports ready and lets the server fail to start.
 */
export function pythonSimulatorStatus(): { ready: true } | { ready: false; reason: string } {
  const r = spawnSync(PYTHON, [SERVER, '--check'], { encoding: 'utf8', timeout: 120_000, env: env() });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return { ready: false, reason: `${PYTHON} not found` };
  if (r.status === 3) return { ready: false, reason: (r.stderr ?? '').trim() };
  return { ready: true };
}

export interface PythonSimulator {
  readonly address: string;
  readonly process: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code (null when killed by a signal). */
  stop(): Promise<number | null>;
}

/** Spawns server.py on a free loopback port and waits for its `listening` event. */
export async function startPythonSimulator(args: string[] = [], timeoutMs = 60_000): Promise<PythonSimulator> {
  const proc = spawn(PYTHON, [SERVER, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env() });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(proc, 'exit');
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server.py did not listen within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let event: { event?: string; address?: string } = {};
      try {
        event = JSON.parse(line);
      } catch {
        return; // not an event line
      }
      if (event.event === 'listening' && event.address) {
        clearTimeout(timer);
        resolve(event.address);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server.py exited with ${code} before listening; stderr:\n${stderr}`));
    });
    proc.on('error', reject);
  });
  return {
    address,
    process: proc,
    stderr: () => stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const [code] = await exited;
      return code as number | null;
    },
  };
}
