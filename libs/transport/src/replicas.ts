import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/** Every address a host name resolves to. */
export type ResolveHost = (host: string) => Promise<string[]>;

export const resolveHost: ResolveHost = async (host) => (await lookup(host, { all: true })).map((a) => a.address);

/** One replica to connect to: its address, and the name it was found under (for TLS checks). */
export interface ReplicaTarget {
  readonly address: string;
  /** The configured host name when `address` is one of its resolved IPs. */
  readonly authority?: string;
}

export function splitAddress(address: string): { host: string; port: string } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  return m ? { host: m[1], port: m[2] } : { host: address, port: '' };
}

const joinAddress = (host: string, port: string) => (isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * The configured addresses with every host name that resolves to several addresses (a
 * headless Kubernetes service, a compose service run with --scale) expanded to one target per
 * address, so work can be spread over, and fail over between, the replicas behind one name.
 * IP literals, localhost, names with one address and names that do not resolve stay as given.
 *
 * @example
 *   await expandAddresses(['environment-simulator:50052']) // [{address:'10.1.0.7:50052', authority:'environment-simulator'}, ...]
 */
export async function expandAddresses(addresses: readonly string[], resolve: ResolveHost = resolveHost): Promise<ReplicaTarget[]> {
  const out = new Map<string, ReplicaTarget>();
  for (const a of addresses) {
    const { host, port } = splitAddress(a);
    let ips: string[] = [];
    if (port && !isIP(host) && host !== 'localhost') {
      try {
        ips = [...new Set(await resolve(host))].sort();
      } catch {
        ips = [];
      }
    }
    if (ips.length <= 1) out.set(a, { address: a });
    else for (const ip of ips) out.set(joinAddress(ip, port), { address: joinAddress(ip, port), authority: host });
  }
  return [...out.values()];
}
