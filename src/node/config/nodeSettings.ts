/**
 * Every setting of `xsc node`, once: the command's flags, the keys of its TOML config file (same
 * names) and the comments `xsc init` writes are all derived from this table, so a flag cannot
 * exist without being documented in the file.
 */
export type SettingKind = 'string' | 'strings' | 'boolean'

export interface SettingSpec {
  kind: SettingKind
  /** What `xsc init` writes above the key. */
  doc: string
  /** Shown in the generated file (commented out when init has no value for it). */
  example?: string | string[] | boolean
  /** Relative paths in a config file are relative to the file. */
  path?: boolean
  /** Also accepted as a TOML integer (sizes, counts). */
  integer?: boolean
  section: 'node' | 'rpc' | 'p2p' | 'host'
}

export const NODE_SETTINGS = {
  data: { kind: 'string', section: 'node', path: true, doc: 'Data directory (chain database, blobs, shards). Required.', example: 'data' },
  genesis: { kind: 'string', section: 'node', path: true, doc: "The chain's genesis.json (every node of a chain uses the same file).", example: 'genesis.json' },
  key: { kind: 'string', section: 'node', path: true, doc: 'Validator key file (encrypted or plaintext). Set it and the node proposes and attests in its slots.', example: 'keys/validator.json' },
  'passphrase-file': { kind: 'string', section: 'node', path: true, doc: 'File whose first line is the passphrase of the encrypted key files; else $XSC_PASSPHRASE, else a prompt on a terminal.', example: '/run/secrets/xsc-passphrase' },
  prune: { kind: 'string', section: 'node', integer: true, doc: 'Keep the bodies of only the last N blocks (at least 128); headers, commits and state stay, so finality and state proofs still answer. 0 keeps everything. A pruned node cannot help a new node sync from genesis.', example: '0' },
  'state-sync': { kind: 'boolean', section: 'node', doc: 'On an empty data dir, download a finalized state from peers (chunks checked against its state root) instead of replaying the chain; blocks below it stay unavailable here. Without trust-hash only while the validator set is the genesis one (docs/operations.md).', example: false },
  'trust-height': { kind: 'string', section: 'node', integer: true, doc: 'State sync: the height of the block to trust (default: the latest finalized peers offer).', example: '12345' },
  'trust-hash': { kind: 'string', section: 'node', doc: 'State sync: the hash (0x…) of the block at trust-height, from a source you trust (a block explorer, another operator).', example: '0x…' },
  'check-committed-signatures': { kind: 'boolean', section: 'node', doc: 'Check blocks that arrive with a commit in full (an auditing node): their tx and receipt signatures, and their transition run even when the commit feed offers their write set. Off: a commit of more than 2/3 of the stake vouches for them, as its validators checked each before precommitting; the block is applied by its offered write set when that gives the header\'s state root, else run (docs/consensus.md, "What a commit vouches for").', example: false },
  'activity-index': { kind: 'boolean', section: 'node', doc: "Keep the explorer's activity index (an account's txs, a host's work, an asset's history; xsc_getActivity and the asset and execution lists read it). Default: kept, except on a host without a validator key, whose RPC then answers those reads with reason ACTIVITY_INDEX_OFF; turned on later, the rows missed are rebuilt from the stored blocks.", example: true },
  'validator-links': { kind: 'boolean', section: 'node', doc: 'Validators: send proposals, votes and proposal blocks over one direct stream per validator pair instead of gossip (each message received once; gossip stays the fallback). On by default; false (--no-validator-links) sends them by gossip only (docs/consensus.md, "Validator links").', example: true },
  validator: { kind: 'boolean', section: 'node', doc: 'Informational: a node validates when `key` is set.', example: true },
  'log-level': { kind: 'string', section: 'node', doc: 'trace, debug, info, warn, error or fatal (default: $XSC_LOG_LEVEL or info).', example: 'info' },
  rpc: { kind: 'string', section: 'rpc', doc: 'JSON-RPC, /health, /ready and /metrics listen on [HOST:]PORT. 0.0.0.0 exposes them to the network: put them behind a firewall or proxy.', example: '127.0.0.1:8545' },
  cors: { kind: 'strings', section: 'rpc', doc: 'Origins allowed by CORS and for WebSocket upgrades from browsers; "*" allows any.', example: [] },
  listen: { kind: 'strings', section: 'p2p', doc: 'libp2p listen multiaddrs (default /ip4/127.0.0.1/tcp/0). Use /ip4/0.0.0.0/tcp/PORT to accept peers from other machines.', example: ['/ip4/0.0.0.0/tcp/4001'] },
  announce: { kind: 'strings', section: 'p2p', doc: 'Multiaddrs peers and the chain see for this node (a host puts the first in its on-chain record). Set them when listening on 0.0.0.0 or behind NAT: the public address, without /p2p.', example: ['/ip4/203.0.113.7/tcp/4001'] },
  bootstrap: { kind: 'strings', section: 'p2p', doc: 'Peers to dial at start and while disconnected: multiaddrs with /p2p/<peer id>.', example: ['/ip4/203.0.113.1/tcp/4001/p2p/12D3KooW...'] },
  'p2p-key': { kind: 'string', section: 'p2p', path: true, doc: 'libp2p identity key file; default: derived from the validator key, else kept in <data>/p2p-key.json.', example: 'keys/p2p.json' },
  host: { kind: 'boolean', section: 'host', doc: 'Run the host role: join with a host.join tx, store shards, run executions.', example: false },
  'host-key': { kind: 'string', section: 'host', path: true, doc: "The host's account key file (it signs the join, receipts and audit answers, and is paid).", example: 'keys/host.json' },
  coord: { kind: 'string', section: 'host', doc: 'Position x,y,z on the grid the router places work by.', example: '0,0,0' },
  zone: { kind: 'string', section: 'host', doc: 'Failure zone: shards of one asset are spread across zones.', example: 'local' },
  capacity: { kind: 'string', section: 'host', integer: true, doc: 'Bytes of shard storage offered.', example: '1073741824' },
  asks: { kind: 'string', section: 'host', doc: 'Prices asked, FUEL,BYTE_EPOCH: base units per fuel unit and per stored byte-epoch.', example: '1,1' },
  caps: { kind: 'string', section: 'host', doc: 'Capabilities offered: storage, compute or both (comma separated).', example: 'storage,compute' },
  'compute-workers': { kind: 'string', section: 'host', integer: true, doc: 'Execution worker threads (1..16).', example: '1' },
  'shard-http': { kind: 'string', section: 'host', doc: 'Serve shard windows to readers over plain HTTP on [HOST:]PORT (default 127.0.0.1:0: a free loopback port); off disables. 0.0.0.0:PORT serves readers on other machines (advertised with the IP of the first announce address). Readers verify every byte against the manifest.', example: '0.0.0.0:4002' },
} as const satisfies Record<string, SettingSpec>

export type SettingName = keyof typeof NODE_SETTINGS
type ValueOf<K extends SettingKind> = K extends 'strings' ? string[] : K extends 'boolean' ? boolean : string
export type NodeSettings = { -readonly [N in SettingName]: ValueOf<(typeof NODE_SETTINGS)[N]['kind']> }
/** What a flag set or a config file gives: any subset. */
export type PartialNodeSettings = Partial<NodeSettings>

export const SETTING_NAMES = Object.keys(NODE_SETTINGS) as SettingName[]

/** Used when neither a flag nor the config file sets a value (data has none: it is required). */
export function defaultNodeSettings(env: NodeJS.ProcessEnv = process.env): Omit<NodeSettings, 'data' | 'key' | 'passphrase-file' | 'p2p-key' | 'host-key' | 'trust-height' | 'trust-hash' | 'activity-index'> {
  return {
    genesis: 'genesis.json',
    prune: '0',
    'state-sync': false,
    'check-committed-signatures': false,
    validator: true,
    'validator-links': true,
    'log-level': env.XSC_LOG_LEVEL ?? 'info',
    rpc: '127.0.0.1:8545',
    cors: [],
    listen: [],
    announce: [],
    bootstrap: [],
    host: false,
    coord: '0,0,0',
    zone: 'local',
    capacity: String(1n << 30n),
    asks: '1,1',
    caps: 'storage,compute',
    'compute-workers': '1',
    'shard-http': '127.0.0.1:0',
  }
}
