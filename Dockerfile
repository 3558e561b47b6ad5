# syntax=docker/dockerfile:1
# Two images, both built by docker-compose.yml:
#   - the default target: the successover image, the `successover` command (worker, webhook
#     receiver, runbooks, topology) on Node 20:
#       docker build -t successover .
#       docker run --rm successover --help
#   - target `temporal`: the Temporal CLI's dev server (Temporal Server and its Web UI in one
#     process), built from source at the version `npm run setup` builds and the tests run on:
#       docker build --target temporal -t successover-temporal .

# --- the Temporal CLI, built as scripts/setup.sh builds it ---------------------------------------
FROM golang:1.25-bookworm AS temporal-build
ARG TEMPORAL_CLI_VERSION=v1.5.1
RUN CGO_ENABLED=0 GOBIN=/out go install "github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}"

FROM debian:bookworm-slim AS temporal
COPY --from=temporal-build /out/temporal /usr/local/bin/temporal
# /data holds the SQLite file; owned by the server's user so a fresh named volume is writable.
RUN useradd --uid 1000 --create-home temporal && mkdir /data && chown temporal:temporal /data
USER temporal
ENTRYPOINT ["temporal"]
CMD ["server", "start-dev", "--ip", "0.0.0.0", "--db-filename", "/data/temporal.db"]

# --- the compiled CLI (dist/), built as `npm run setup` builds it ----------------------------------
FROM node:20-bookworm-slim AS cli-build
WORKDIR /opt/successover
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN node scripts/build-cli.js

# --- successover (the default target: keep it last) ----------------------------------------------
# Debian-based (glibc): the Temporal SDK's native core ships prebuilt for glibc, not musl.
FROM node:20-bookworm-slim AS successover

# netcat: the HAProxy runtime API by hand (deploy/compose/haproxy.cfg).
RUN apt-get update \
  && apt-get install -y --no-install-recommends netcat-openbsd \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/successover
ENV NODE_ENV=production

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# .dockerignore keeps out tests, the lab's state, local secrets and node_modules. dist/ comes from
# the cli-build stage, compiled from these very sources: bin/successover.js checks that it matches
# them (sizes and hashes) and runs it; it would run the sources through tsx otherwise.
COPY . .
COPY --from=cli-build /opt/successover/dist ./dist
# dist/v8-cache: where a command leaves its compiled code for the next start (bin/bundled.js); the
# node user writes it.
RUN ln -s /opt/successover/bin/successover.js /usr/local/bin/successover \
  && mkdir -p dist/v8-cache && chown node dist/v8-cache

# Not root: successover needs no privilege in a container (no VIP to move, no SSH keys).
USER node
ENTRYPOINT ["successover"]
CMD ["--help"]
