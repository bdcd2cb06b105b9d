import type { ZodType } from 'zod';

/** What a plugin provides. */
export type PluginKind = 'task-family' | 'environment' | 'algorithm' | 'model' | 'policy' | 'agent';

export const PLUGIN_KINDS: readonly PluginKind[] = ['task-family', 'environment', 'algorithm', 'model', 'policy', 'agent'];

/**
 * A plugin: a named, versioned factory with a validated configuration. Built-ins and
 * external modules register the same way.
 *
 * @example
 *   export const plugin: PluginManifest<'task-family', SinusoidConfig, TaskFamily> = {
 *     kind: 'task-family', name: 'sinusoid', version: '1.0.0',
 *     description: 'Finn et al. (2017) sine waves', configSchema: sinusoidConfig,
 *     create: (config) => new SinusoidFamily(config),
 *   };
 */
export interface PluginManifest<K extends PluginKind = PluginKind, C = any, T = unknown> {
  readonly kind: K;
  /** Unique within its kind; lower-case kebab-case. */
  readonly name: string;
  /** Semantic version; part of the identity of what the plugin produces (e.g. task ids). */
  readonly version: string;
  /** One line for people. */
  readonly description: string;
  /** Validates and fills defaults of the plugin's configuration. */
  readonly configSchema: ZodType<C>;
  /** Builds an instance from a validated configuration. */
  create(config: C): T;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Checks the shape of something that claims to be a manifest (e.g. from an external module). */
export function manifestProblems(value: unknown): string[] {
  const problems: string[] = [];
  if (!value || typeof value !== 'object') return ['a plugin manifest must be an object'];
  const m = value as Record<string, unknown>;
  if (!PLUGIN_KINDS.includes(m.kind as PluginKind)) problems.push(`kind must be one of ${PLUGIN_KINDS.join(', ')}, got ${String(m.kind)}`);
  if (typeof m.name !== 'string' || !NAME.test(m.name)) problems.push(`name must be lower-case kebab-case, got ${String(m.name)}`);
  if (typeof m.version !== 'string' || !/^\d+\.\d+\.\d+/.test(m.version)) problems.push(`version must be semver, got ${String(m.version)}`);
  if (typeof m.description !== 'string') problems.push('description must be a string');
  const schema = m.configSchema as { safeParse?: unknown } | undefined;
  if (!schema || typeof schema.safeParse !== 'function') problems.push('configSchema must be a zod schema');
  if (typeof m.create !== 'function') problems.push('create must be a function');
  return problems;
}
