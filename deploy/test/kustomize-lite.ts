import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/**
 * A Kubernetes object as plain data.
 */
export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> } } & Record<string, unknown>;

/** Kinds our manifests use that are not namespaced. */
const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PersistentVolume', 'StorageClass']);

/**
 * Renders a kustomization folder the way `kubectl kustomize` does, for the subset of
 * kustomize that deploy/k8s uses: `resources` (files and folders), `namespace`, `labels`
 * (metadata labels only: no selectors, no templates), `images` (newName/newTag) and
 * `patches` given by `path` (strategic merge matched by kind and name; lists whose items all
 * have a `name` merge by name, others are replaced). Anything else throws, so a manifest
 * change that needs more cannot pass unnoticed. The tests use it where kubectl is absent
 * and check that it agrees with kubectl where kubectl is present.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const file = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'].map((f) => join(dir, f)).find(existsSync);
  if (!file) throw new Error(`${dir} has no kustomization.yaml`);
  const k = loadYaml(file)[0] as Record<string, unknown>;
  const known = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels', 'images', 'patches']);
  for (const key of Object.keys(k)) if (!known.has(key)) throw new Error(`${file}: kustomize-lite does not support "${key}"`);
  let objects: K8sObject[] = [];
  for (const r of (k.resources as string[]) ?? []) {
    const p = resolve(dir, r);
    objects.push(...(statSync(p).isDirectory() ? renderKustomization(p) : (loadYaml(p) as K8sObject[])));
  }
  for (const patch of (k.patches as Array<{ path?: string }>) ?? []) {
    if (!patch.path || Object.keys(patch).length !== 1) throw new Error(`${file}: only "patches: - path: FILE" is supported`);
    for (const doc of loadYaml(resolve(dir, patch.path)) as K8sObject[]) {
      const i = objects.findIndex((o) => o.kind === doc.kind && o.metadata.name === doc.metadata.name);
      if (i < 0) throw new Error(`${patch.path}: no ${doc.kind} "${doc.metadata.name}" to patch`);
      objects[i] = merge(objects[i], doc) as K8sObject;
    }
  }
  if (typeof k.namespace === 'string') {
    const ns = k.namespace;
    objects = objects.map((o) => (CLUSTER_SCOPED.has(o.kind) ? o : { ...o, metadata: { ...o.metadata, namespace: ns } }));
  }
  for (const l of (k.labels as Array<{ pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean }>) ?? []) {
    if (l.includeSelectors || l.includeTemplates) throw new Error(`${file}: labels with includeSelectors/includeTemplates are not supported`);
    objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, labels: { ...(o.metadata.labels ?? {}), ...l.pairs } } }));
  }
  for (const img of (k.images as Array<{ name: string; newName?: string; newTag?: string }>) ?? []) {
    for (const o of objects) for (const c of containersOf(o)) c.image = retag(c.image, img);
  }
  return objects;
}

function loadYaml(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${path}: ${d.errors[0].message}`);
      return d.toJS();
    })
    .filter((d) => d !== null && d !== undefined);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function merge(base: unknown, patch: unknown): unknown {
  if (isObject(base) && isObject(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, v] of Object.entries(patch)) out[key] = key in base ? merge(base[key], v) : v;
    return out;
  }
  const named = (xs: unknown) => Array.isArray(xs) && xs.every((x) => isObject(x) && typeof x.name === 'string');
  if (named(base) && named(patch)) {
    // Like kustomize: items only in the patch come first, then the merged base items.
    const out = [...(base as Array<Record<string, unknown>>)];
    const added: Array<Record<string, unknown>> = [];
    for (const item of patch as Array<Record<string, unknown>>) {
      const i = out.findIndex((x) => x.name === item.name);
      if (i >= 0) out[i] = merge(out[i], item) as Record<string, unknown>;
      else added.push(item);
    }
    return [...added, ...out];
  }
  return patch;
}

function containersOf(o: K8sObject): Array<{ image: string }> {
  const podSpec = (o.kind === 'Pod' ? o.spec : ((o.spec as Record<string, unknown> | undefined)?.template as Record<string, unknown> | undefined)?.spec) as
    | { containers?: Array<{ image: string }>; initContainers?: Array<{ image: string }> }
    | undefined;
  return [...(podSpec?.containers ?? []), ...(podSpec?.initContainers ?? [])];
}

function retag(image: string, img: { name: string; newName?: string; newTag?: string }): string {
  const at = image.lastIndexOf(':');
  const hasTag = at > image.lastIndexOf('/');
  const name = hasTag ? image.slice(0, at) : image;
  if (name !== img.name) return image;
  const tag = img.newTag ?? (hasTag ? image.slice(at + 1) : undefined);
  return `${img.newName ?? name}${tag ? `:${tag}` : ''}`;
}

/** The folder of this repository's deploy/ directory. */
export const DEPLOY = dirname(__dirname);
