# planet-digest: multi-stage build on Node 24 (slim). The runtime image holds only production dependencies,
# runs as a non-root user, and keeps the store, the compiled-template cache and the outbox under /data.
FROM node:24-slim AS build
WORKDIR /app
# python3, make and g++ build the sqlite3 addon when no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/build-bundle.mjs ./scripts/
COPY src ./src
COPY templates ./templates
# npm ci runs the prepare script: `npm run build` bundles the CLI into dist/ (scripts/build-bundle.mjs) and compiles
# the stock email template into dist/template-cache, so the image never loads MJML for it.
RUN JOBS=max npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:24-slim
# NODE_OPTIONS: V8 flags read only at start (bin/v8-flags.js, LAUNCH_NODE_FLAGS).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=8 \
    DIGEST_STORE_URL=sqlite:///data/planet-digest.sqlite \
    DIGEST_OUTBOX=/data/outbox \
    DIGEST_CACHE_DIR=/data/cache \
    DIGEST_SUBSCRIBERS=/config/subscribers.json \
    DIGEST_HTTP_HOST=0.0.0.0 \
    PATH=/app/bin:$PATH
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY templates ./templates
COPY schema ./schema
COPY examples /config/examples
COPY subscribers.json /config/subscribers.json
RUN groupadd --system digest && useradd --system --gid digest --home-dir /data digest \
    && mkdir -p /data /config && chown -R digest:digest /data /config
USER digest
VOLUME ["/data"]
EXPOSE 8080
CMD ["planet-digest", "daemon"]
