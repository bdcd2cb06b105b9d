# chameleon learner on a CUDA GPU:
#   docker build -f deploy/docker/learner-gpu.Dockerfile -t chameleon/learner-gpu .
# @tensorflow/tfjs-node-gpu 4.22.0 binds libtensorflow 2.9.1, built for CUDA 11.2 and cuDNN 8.1
# (any CUDA 11.x runtime with cuDNN 8 works). Its install script downloads libtensorflow, so
# it is installed here, at image build time, never in CI or at run time. Node comes from the
# official image (its binary needs glibc >= 2.28; Ubuntu 22.04 has 2.35).
FROM node:20.20.2-bookworm-slim AS node

FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && apt-get update && apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps ./apps
COPY libs ./libs
COPY protos ./protos
COPY configs ./configs
COPY tsconfig.json tsconfig.base.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm install --no-save --omit=dev --no-audit --no-fund @tensorflow/tfjs-node-gpu@4.22.0 \
 && find apps libs -name '*.spec.ts' -delete \
 && rm -rf /root/.npm

FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --create-home --shell /usr/sbin/nologin node
ENV NODE_ENV=production \
    CHAMELEON_HOST=0.0.0.0 \
    CHAMELEON_PORT=50053 \
    CHAMELEON_BACKEND=tensorflow \
    SWC_NODE_CACHE_DIR=/tmp/swc
WORKDIR /app
COPY --from=build /app /app
COPY deploy/docker/healthcheck.js /app/deploy/docker/healthcheck.js
USER node
EXPOSE 50053
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["node", "/app/deploy/docker/healthcheck.js"]
ENTRYPOINT ["node", "/app/apps/cli/bin/chameleon.js", "serve", "learner"]
