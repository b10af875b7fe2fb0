/** The part of sodium-native (libsodium) that src/crypto/ed25519.ts and src/net/aead.ts use; the package ships no types. */
declare module 'sodium-native' {
  /** Writes the 32-byte public key and the 64-byte signing key (seed ‖ public key) of a 32-byte seed. */
  function crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void
  /** Writes the 64-byte signature of `message` under the 64-byte signing key. */
  function crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void
  /** True when the 64-byte signature of `message` verifies under the 32-byte key; throws on wrong lengths. */
  function crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean
  /** ChaCha20-Poly1305 (IETF, 12-byte nonce): writes the ciphertext (same length as the message) and the 16-byte tag. */
  function crypto_aead_chacha20poly1305_ietf_encrypt_detached(ciphertext: Uint8Array, mac: Uint8Array, message: Uint8Array, ad: Uint8Array | null, nsec: null, npub: Uint8Array, key: Uint8Array): number
  /** Checks the tag, then writes the message; throws when the tag does not authenticate. */
  function crypto_aead_chacha20poly1305_ietf_decrypt_detached(message: Uint8Array, nsec: null, ciphertext: Uint8Array, mac: Uint8Array, ad: Uint8Array | null, npub: Uint8Array, key: Uint8Array): void
}
