import { ChameleonError, alreadyExists, invalidArgument, notFound, zodToInvalidArgument } from '@chameleon/core';
import { manifestProblems, type PluginKind, type PluginManifest } from './manifest';

/**
 * Plugins by kind and name. One registry per process part that needs one (a service, the
 * CLI); built-ins are registered first, then external modules named in configs.
 */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, PluginManifest>>();

  register(manifest: PluginManifest): this {
    const problems = manifestProblems(manifest);
    if (problems.length) throw invalidArgument('plugin', problems.join('; '));
    const kind = this.kind(manifest.kind);
    const existing = kind.get(manifest.name);
    if (existing && existing !== manifest) {
      throw alreadyExists(`a ${manifest.kind} plugin named "${manifest.name}" is already registered (version ${existing.version})`);
    }
    kind.set(manifest.name, manifest);
    return this;
  }

  registerAll(manifests: readonly PluginManifest[]): this {
    for (const m of manifests) this.register(m);
    return this;
  }

  has(kind: PluginKind, name: string): boolean {
    return this.kind(kind).has(name);
  }

  /** The manifest, or NOT_FOUND listing what is available. */
  get<K extends PluginKind>(kind: K, name: string): PluginManifest<K> {
    const m = this.kind(kind).get(name);
    if (!m) {
      const available = this.names(kind);
      throw notFound(`no ${kind} plugin named "${name}"; available: ${available.length ? available.join(', ') : '(none)'}`);
    }
    return m as PluginManifest<K>;
  }

  names(kind: PluginKind): string[] {
    return [...this.kind(kind).keys()].sort();
  }

  list(kind: PluginKind): PluginManifest[] {
    return this.names(kind).map((n) => this.kind(kind).get(n)!);
  }

  /** Validates `rawConfig` against the plugin's schema (INVALID_ARGUMENT naming `field`). */
  parseConfig<C>(kind: PluginKind, name: string, rawConfig: unknown, field = 'config'): C {
    const m = this.get(kind, name);
    const parsed = m.configSchema.safeParse(rawConfig ?? {});
    if (!parsed.success) throw zodToInvalidArgument(parsed.error, field);
    return parsed.data as C;
  }

  /** Validates the configuration and builds an instance. */
  create<T>(kind: PluginKind, name: string, rawConfig: unknown, field = 'config'): T {
    const config = this.parseConfig(kind, name, rawConfig, field);
    try {
      return this.get(kind, name).create(config) as T;
    } catch (e) {
      if (e instanceof ChameleonError) throw e;
      throw invalidArgument(field, `the ${kind} plugin "${name}" could not be created: ${(e as Error).message}`);
    }
  }

  private kind(kind: PluginKind): Map<string, PluginManifest> {
    let m = this.byKind.get(kind);
    if (!m) {
      m = new Map();
      this.byKind.set(kind, m);
    }
    return m;
  }
}
