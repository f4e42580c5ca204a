# The ftpipe worker image: compiled code and the prebuilt workflow bundle, production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim
# tini as the container's first process (docs/operations.md, "Stopping a container"): the kernel drops a signal to
# PID 1 that has no handler, so a `docker stop` during the worker's start-up (before the SDK listens for SIGTERM) was
# lost and the container waited for SIGKILL; under tini node is an ordinary process and gets every signal tini passes on.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
# Two malloc arenas instead of glibc's eight per core (workers/launcher.ts, WORKER_PROCESS_ENV; docs/benchmarks.md,
# "Process-level settings"): set here, `ftpipe worker` runs the worker in its own process instead of relaunching itself.
ENV NODE_ENV=production FTPIPE_HOME=/var/lib/ftpipe MALLOC_ARENA_MAX=2
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
RUN mkdir -p /var/lib/ftpipe && chown node:node /var/lib/ftpipe
USER node
EXPOSE 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/ftpipe.js"]
CMD ["worker"]
