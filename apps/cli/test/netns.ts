import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI } from './processes';

/**
 * Hosts made of Linux network namespaces: one namespace per host, each with a veth pair
 * whose other end sits on a bridge in a private "hub" namespace, so hosts reach each other
 * by address over a real (virtual) link and nothing touches the machine's own network.
 * Needs root and `ip netns`; `available()` says whether this machine allows it.
 */
export class NetnsLab {
  readonly prefix = `ch${process.pid % 100000}`;
  private readonly hosts = new Map<string, { ns: string; ip: string }>();
  private readonly procs = new Set<ChildProcess>();
  private readonly hub = `${this.prefix}-hub`;
  private cleanupOnExit = () => this.destroy();

  /** Why namespaces cannot be used here, or undefined when they can. */
  static unavailable(): string | undefined {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add); run the tests as root to include them';
    const probe = `chprobe${process.pid % 100000}`;
    const add = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (add.error || add.status !== 0) return `\`ip netns add\` failed here: ${add.error?.message ?? add.stderr.trim()}`;
    // Everything the lab needs, tried once: a bridge inside a namespace and a veth pair.
    const tries: string[][] = [
      ['-n', probe, 'link', 'add', 'br0', 'type', 'bridge'],
      ['link', 'add', `${probe}a`, 'type', 'veth', 'peer', 'name', `${probe}b`],
    ];
    let failed: string | undefined;
    for (const args of tries) {
      const r = spawnSync('ip', args, { encoding: 'utf8' });
      if (r.error || r.status !== 0) {
        failed = `\`ip ${args.join(' ')}\` failed here: ${r.error?.message ?? r.stderr.trim()}`;
        break;
      }
    }
    spawnSync('ip', ['link', 'del', `${probe}a`]);
    spawnSync('ip', ['netns', 'del', probe]);
    return failed;
  }

  private ip(args: string[]): void {
    const r = spawnSync('ip', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
  }

  /** Creates the hub and one namespace per host name, addressed 10.77.0.11, .12, ... */
  create(names: string[]): void {
    process.once('exit', this.cleanupOnExit);
    this.ip(['netns', 'add', this.hub]);
    this.ip(['-n', this.hub, 'link', 'add', 'br0', 'type', 'bridge']);
    this.ip(['-n', this.hub, 'link', 'set', 'br0', 'up']);
    names.forEach((name, i) => {
      const ns = `${this.prefix}-${name}`;
      const ip = `10.77.0.${11 + i}`;
      const [a, b] = [`${this.prefix}v${i}a`, `${this.prefix}v${i}b`];
      this.ip(['netns', 'add', ns]);
      this.ip(['link', 'add', a, 'type', 'veth', 'peer', 'name', b]);
      this.ip(['link', 'set', a, 'netns', this.hub]);
      this.ip(['link', 'set', b, 'netns', ns]);
      this.ip(['-n', this.hub, 'link', 'set', a, 'master', 'br0']);
      this.ip(['-n', this.hub, 'link', 'set', a, 'up']);
      this.ip(['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', b]);
      this.ip(['-n', ns, 'link', 'set', b, 'up']);
      this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      this.hosts.set(name, { ns, ip });
    });
  }

  address(host: string, port: number): string {
    return `${this.host(host).ip}:${port}`;
  }

  private host(name: string) {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  /** `chameleon serve <service>` on `host`, listening on its address; resolves once it listens. */
  serve(host: string, service: string, port: number, args: string[] = [], env: Record<string, string> = {}): Promise<LabProcess> {
    const { ns, ip } = this.host(host);
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, 'serve', service, '--host', ip, '--port', String(port), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lp = this.track(proc);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${service} on ${host} did not start: ${lp.stderr.join('\n')}`)), 90_000);
      proc.on('exit', (code) => reject(new Error(`${service} on ${host} exited with ${code}: ${lp.stderr.join('\n')}`)));
      createInterface({ input: proc.stdout! }).on('line', (line) => {
        if (line.includes('"listening"')) {
          clearTimeout(timer);
          resolve(lp);
        }
      });
    });
  }

  /** The chameleon CLI on `host`, to completion. */
  run(host: string, args: string[], timeoutMs = 300_000): Promise<{ code: number | string; stdout: string; stderr: string }> {
    const proc = spawn('ip', ['netns', 'exec', this.host(host).ns, process.execPath, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lp = this.track(proc);
    let stdout = '';
    proc.stdout!.on('data', (d) => (stdout += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    return lp.exited.then((code) => {
      clearTimeout(timer);
      return { code, stdout, stderr: lp.stderr.join('\n') };
    });
  }

  private track(proc: ChildProcess): LabProcess {
    this.procs.add(proc);
    const stderr: string[] = [];
    createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
    const exited = new Promise<number | string>((resolve) =>
      proc.on('exit', (code, signal) => {
        this.procs.delete(proc);
        resolve(code ?? signal ?? 'unknown');
      }),
    );
    return {
      proc,
      stderr,
      exited,
      kill: (signal: NodeJS.Signals = 'SIGTERM') => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
        return exited;
      },
    };
  }

  /** Kills every process still running and deletes the namespaces (their veths go with them). */
  destroy(): void {
    for (const p of this.procs) p.kill('SIGKILL');
    for (const { ns } of this.hosts.values()) spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['netns', 'del', this.hub]);
    this.hosts.clear();
    process.off('exit', this.cleanupOnExit);
  }
}

export interface LabProcess {
  readonly proc: ChildProcess;
  readonly stderr: string[];
  readonly exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}
