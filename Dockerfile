# Labelvault image: one image for every role (embedded `start`, `serve`, `worker`, `migrate`).
# Build stage compiles better-sqlite3 and the TypeScript/web bundle; the runtime stage carries
# no compiler, runs as an unprivileged user and works with a read-only root filesystem
# (writable: /data for the data folder, /tmp for the CA bundle the entrypoint writes).
FROM node:20-bookworm-slim AS build
WORKDIR /src
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    LABELVAULT_DATA_DIR=/data
WORKDIR /app
RUN groupadd --system --gid 10001 labelvault \
 && useradd --system --uid 10001 --gid labelvault --home-dir /app --shell /usr/sbin/nologin labelvault \
 && mkdir -p /data && chown labelvault:labelvault /data && chmod 0700 /data
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY deploy/docker-entrypoint.sh /usr/local/bin/labelvault-entrypoint
COPY deploy/healthcheck.mjs /app/healthcheck.mjs
USER 10001:10001
EXPOSE 8080
VOLUME ["/data"]
# Liveness of whatever role runs: app nodes and workers both answer /health on PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["/usr/local/bin/labelvault-entrypoint"]
CMD ["start"]
