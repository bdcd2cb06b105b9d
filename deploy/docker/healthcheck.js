#!/usr/bin/env node
// Container HEALTHCHECK: asks this container's gRPC server for grpc.health.v1 status.
// Exit 0 when SERVING, 1 otherwise. Uses CHAMELEON_PORT and the TLS/token settings the
// service itself uses, so it checks exactly what a peer would reach.
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');
const { service: healthService } = require('grpc-health-check');

const port = process.env.CHAMELEON_PORT || '50051';
const ca = process.env.CHAMELEON_TLS_CA || process.env.CHAMELEON_PEER_TLS_CA;
const cert = process.env.CHAMELEON_PEER_TLS_CERT;
const key = process.env.CHAMELEON_PEER_TLS_KEY;
const credentials = process.env.CHAMELEON_TLS_CERT
  ? grpc.credentials.createSsl(ca ? fs.readFileSync(ca) : null, key ? fs.readFileSync(key) : null, cert ? fs.readFileSync(cert) : null, { checkServerIdentity: () => undefined })
  : grpc.credentials.createInsecure();
const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
const client = new Health(`127.0.0.1:${port}`, credentials);
client.check({ service: '' }, { deadline: Date.now() + 3000 }, (err, res) => {
  const status = err ? `error: ${err.details || err.message}` : res.status;
  if (status !== 'SERVING' && status !== 1) {
    process.stderr.write(`health: ${status}\n`);
    process.exit(1);
  }
  process.exit(0);
});
