import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const CLI = join(__dirname, '../bin/chameleon.js');

export interface ServiceProcess {
  readonly name: string;
  readonly address: string;
  readonly proc: ChildProcess;
  readonly stderr: string[];
  /** SIGTERM, then the exit code (or signal name). */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `chameleon serve <name>` as its own OS process and waits for its address. */
export function spawnService(name: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServiceProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve', name, '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms: ${stderr.join('\n')}`)), timeoutMs);
    proc.on('exit', (code) => reject(new Error(`${name} exited with ${code} before listening: ${stderr.join('\n')}`)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let event: { event?: string; address?: string };
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (event.event === 'listening' && event.address) {
        clearTimeout(timer);
        resolve({
          name,
          address: event.address,
          proc,
          stderr,
          stop: (signal = 'SIGTERM') => {
            if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
            return exited;
          },
        });
      }
    });
  });
}

/** Runs the CLI to completion; resolves with its exit code and output. */
export function runCli(args: string[], env: Record<string, string> = {}, timeoutMs = 300_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`chameleon ${args.join(' ')} timed out: ${stderr}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
