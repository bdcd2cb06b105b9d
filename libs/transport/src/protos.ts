import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/**
 * Folder holding protos/chameleon/v1/*.proto. The .proto files ship with the build because
 * server reflection serves them; CHAMELEON_PROTO_DIR overrides the location (containers).
 */
export function protoDir(): string {
  const fromEnv = process.env.CHAMELEON_PROTO_DIR;
  if (fromEnv) return fromEnv;
  return resolve(__dirname, '../../../protos');
}

let cached: protoLoader.PackageDefinition | undefined;

/** The package definition of every Chameleon contract and of gRPC health, for reflection. */
export function chameleonPackageDefinition(): protoLoader.PackageDefinition {
  if (cached) return cached;
  const dir = protoDir();
  const v1 = join(dir, 'chameleon/v1');
  if (!existsSync(v1)) throw new Error(`proto files not found in ${v1}; set CHAMELEON_PROTO_DIR`);
  const files = readdirSync(v1)
    .filter((f) => f.endsWith('.proto'))
    .map((f) => `chameleon/v1/${f}`);
  cached = protoLoader.loadSync([...files, healthProtoPath], { includeDirs: [dir], keepCase: true, longs: Number, enums: String, defaults: true });
  return cached;
}
