# An XSC node: `docker run xsc node --config /node/node.toml` (see docs/operations.md).
# The image holds the sources and their compiled build (bin/build.mjs, .build/), made here because
# the node user cannot write /app: bin/xsc.js finds it current and starts on plain Node.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY bin ./bin
COPY blocks ./blocks
COPY consensus ./consensus
COPY src ./src
COPY fixtures/wasm ./fixtures/wasm
COPY genesis.json tsconfig.json ./
RUN node bin/build.mjs
# A node's own directory (node.toml, keys, genesis.json, data) is mounted here.
VOLUME /node
# JSON-RPC + explorer + /health, /ready, /metrics; libp2p.
EXPOSE 8545 4001
USER node
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s CMD ["node", "-e", "fetch('http://127.0.0.1:8545/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/xsc.js"]
CMD ["node", "--config", "/node/node.toml", "--passphrase-file", "/run/secrets/xsc_passphrase"]
