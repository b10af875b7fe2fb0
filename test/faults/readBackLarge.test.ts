/**
 * test/integration/storage/readBack.test.ts with a 64 MiB secret blob (npm test runs it at
 * 24 MiB): read back through two killed hosts and the plaintext scan of every data directory at
 * a size where each host holds a 16 MiB shard. XSC_READBACK_MIB still overrides the size.
 */
process.env.XSC_READBACK_MIB ??= '64'
await import('../integration/storage/readBack.test.ts')
