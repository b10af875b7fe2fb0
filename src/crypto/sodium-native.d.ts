/** The part of sodium-native (libsodium) that src/crypto/ed25519.ts uses; the package ships no types. */
declare module 'sodium-native' {
  /** Writes the 32-byte public key and the 64-byte signing key (seed ‖ public key) of a 32-byte seed. */
  function crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
  /** Writes the 64-byte signature of `message` under the 64-byte signing key. */
  function crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  /** True when the 64-byte signature of `message` verifies under the 32-byte key; throws on wrong lengths. */
  function crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
}
