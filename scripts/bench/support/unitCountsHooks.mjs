// Loader hooks for unitCountsPreload.mjs: inject a counter call at the top of the project's few
// "one of each" functions in the compiled build (.build/<stamp>/…): the codec's encode / decode /
// decodeTrusted (by codec name), the one hash, the one verify and sign, and the batches posted to
// the signature workers. Source text is matched on esbuild's output; a pattern that stops matching
// is reported once on stderr (the counts would then read 0, not lie quietly).
const INJECT = [
  ['/blocks/codec.js', /function (encode|decode|decodeTrusted)\(codec, [a-zA-Z0-9_]+\) \{/g, (m, f) => `${m} globalThis.__xscCount?.(${JSON.stringify(f)}, codec.name);`],
  ['/src/crypto/hash.js', /function (hash|hashParts)\([^)]*\) \{/g, (m, f) => `${m} globalThis.__xscCount?.(${JSON.stringify(f)}, "");`],
  ['/src/crypto/ed25519.js', /function (verify|sign)\((?:publicKey|secretKey), message(?:, signature)?\) \{/g, (m, f) => `${m} globalThis.__xscCount?.(${JSON.stringify(f)}, "");`],
  ['/src/chain/signatureVerifier.js', /#post\(worker, checks\) \{/g, (m) => `${m} globalThis.__xscCount?.("verify", "worker", checks.length);`],
]
export async function load(url, context, nextLoad) {
  const out = await nextLoad(url, context)
  if (!url.includes('/.build/')) return out
  const rule = INJECT.find(([suffix]) => url.endsWith(suffix))
  if (!rule) return out
  const src = String(out.source)
  const next = src.replace(rule[1], rule[2])
  if (next === src) process.stderr.write(`unitCounts: no match in ${url}\n`)
  return { ...out, source: next }
}
