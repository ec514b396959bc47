# ScanGate container image.
#
#   docker build -t scangate .
#   docker run -e PUBLIC_URL=https://login.example.com -e DATABASE_URL=postgres://… -p 3000:3000 scangate
#
# Two stages: the builder has the dev dependencies (TypeScript) and compiles to dist/; the
# runtime stage gets only production dependencies and the compiled output.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build ---------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Dependencies first, so this layer is reused until the lockfile changes. No package needs an
# install script (prebuilt binaries come as optional dependencies), so none is run.
# (packages/protocol and packages/web-client are npm workspaces: their package.json files are part
# of the lockfile's tree.)
COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/web-client/package.json packages/web-client/
RUN npm ci --ignore-scripts --no-audit --no-fund

# Everything else the build reads (.dockerignore keeps node_modules, dist, .env, … out).
COPY . .
RUN npm run build

# --- runtime -------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app

ENV NODE_ENV=production \
    PORT=3000 \
    DATA_DIR=/app/data

COPY package.json package-lock.json ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/web-client/package.json packages/web-client/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
    && npm cache clean --force

# dist/src/main.js is the entry point; dist/web holds the pages' scripts and the SDK (/sdk/scangate.js); dist/migrations holds the compiled migrations, which the
# app runs at start (DATABASE_MIGRATE_ON_START). Code and dependencies stay owned by root, so
# the process cannot rewrite them; only DATA_DIR is writable by the `node` user.
COPY --from=build /app/dist ./dist
# The embedded database's initdb image (made by the build): a first start without DATABASE_URL
# copies it instead of running initdb.
COPY --from=build /app/node_modules/.cache/scangate ./node_modules/.cache/scangate
RUN mkdir -p /app/data && chown node:node /app/data

USER node
EXPOSE 3000

# Liveness only (the process answers). Readiness (Postgres and Redis reachable) is
# /health/ready, which compose uses for the replicas. Slim images have no curl: Node's fetch.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health/live').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# The app drains on SIGTERM (SHUTDOWN_GRACE_MS); give it that long before a SIGKILL
# (`docker stop -t`, compose `stop_grace_period`).
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
