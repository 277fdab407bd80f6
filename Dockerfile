# syntax=docker/dockerfile:1
# The fjord controller image: `docker build -t ghcr.io/fjord-dev/fjord:<version> .`
# Tool versions must match testenv/versions.ts (a test checks it).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Scripts off: `prepare` would compile before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Built from Go modules, like the test peers, so the image runs exactly the versions fjord is tested against.
FROM golang:1.26-alpine AS tools
ARG KUSTOMIZE_VERSION=5.8.1
ARG HELM_VERSION=3.22.0
ENV CGO_ENABLED=0 GOBIN=/out GOFLAGS=-buildvcs=false
RUN go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kustomize/api/provenance.version=v${KUSTOMIZE_VERSION}" \
      sigs.k8s.io/kustomize/kustomize/v5@v${KUSTOMIZE_VERSION} \
 && go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}" \
      helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /cache && chown 1000:1000 /cache
COPY --from=tools /out/kustomize /out/helm /usr/local/bin/
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The root filesystem is read-only in the Deployment: caches and $HOME go to emptyDirs.
ENV NODE_ENV=production XDG_CACHE_HOME=/cache HOME=/tmp
# The node image's unprivileged user, by number so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "/app/bin/fjord.js"]
CMD ["controller"]
