# microship itself (not a builder image: those are under images/).
# Multi-stage: dependencies are installed in a build stage, the runtime stage runs as a non-root user.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:24-slim
ENV NODE_ENV=production \
    MICROSHIP_DATA_DIR=/data \
    PORT=3000
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates buildah skopeo umoci docker-registry \
      qemu-system-x86 e2fsprogs debootstrap busybox-static cpio kmod \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown node:node /data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json app.yml ./
COPY bin ./bin
COPY src ./src
COPY templates ./templates
COPY images ./images
COPY schema ./schema
USER node
EXPOSE 3000
VOLUME ["/data"]
CMD ["node", "src/main.ts"]
