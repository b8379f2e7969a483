# syntax=docker/dockerfile:1
# baosong: build with the toolchain, run on a slim image as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    BAOSONG_DATA_DIR=/data
WORKDIR /app
RUN groupadd --system baosong && useradd --system --gid baosong --home /data baosong \
 && mkdir -p /data && chown baosong:baosong /data && chmod 700 /data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY migrations ./migrations
COPY config ./config
USER baosong
VOLUME ["/data"]
# Secrets come from the environment (BAOSONG_IMAP_PASSWORD, BAOSONG_SMTP_PASSWORD) or
# *_FILE paths to mounted secrets; a config of your own can be mounted and passed with --config.
# A small young generation keeps peak RSS under 200 MB during a backfill (bench/).
ENTRYPOINT ["node", "--max-semi-space-size=2", "bin/baosong"]
CMD ["run"]
