# chameleon agent-server: `docker build -f deploy/docker/agent-server.Dockerfile -t chameleon/agent-server .` from the repository root.
# Stage 1 installs the runtime dependencies only (npm ci --omit=dev) on the full Debian image;
# stage 2 copies them with the sources onto the slim image and runs as the unprivileged node user.
FROM node:20.20.2-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY protos ./protos
COPY configs ./configs
COPY tsconfig.json tsconfig.base.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && find apps libs -name '*.spec.ts' -delete \
 && rm -rf /root/.npm

FROM node:20.20.2-bookworm-slim
ENV NODE_ENV=production \
    CHAMELEON_HOST=0.0.0.0 \
    CHAMELEON_PORT=50056
WORKDIR /app
COPY --from=build --chown=root:root /app /app
COPY deploy/docker/healthcheck.js /app/deploy/docker/healthcheck.js
# swc compiles the TypeScript sources on first load; its cache must be writable by the node user.
ENV SWC_NODE_CACHE_DIR=/tmp/swc
USER node
EXPOSE 50056
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/app/deploy/docker/healthcheck.js"]
ENTRYPOINT ["node", "/app/apps/cli/bin/chameleon.js", "serve", "agent-server"]
