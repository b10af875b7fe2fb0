// GF(2^8) matrix multiply over shards with WASM SIMD: the hot loop of Reed-Solomon encode and
// rebuild. out[r][i] = XOR_j c[r][j] * in[j][i]. Multiplication by a constant c uses the
// split-table trick (as in ISA-L and klauspost/reedsolomon): c*x = LO[x & 15] ^ HI[x >> 4], two
// 16-byte tables per coefficient, looked up 16 lanes at a time with i8x16.swizzle.
//
// No libc, no imports: the JS side owns memory layout (tables, pointer arrays, shard buffers).
#include <stdint.h>
#include <wasm_simd128.h>

typedef uint8_t u8;
typedef uint32_t u32;

// tables: rows*cols entries of 32 bytes (16 LO then 16 HI), row-major.
// ins: cols pointers; outs: rows pointers; every buffer is len bytes.
#define KERNEL(NAME, ROWS)                                                                    \
  static void NAME(const u8 *tables, u32 cols, const u32 *ins, const u32 *outs, u32 len) {   \
    const v128_t mask = wasm_i8x16_splat(0x0f);                                               \
    u32 i = 0;                                                                                \
    for (; i + 32 <= len; i += 32) {                                                          \
      v128_t acc0[ROWS], acc1[ROWS];                                                          \
      for (u32 r = 0; r < ROWS; r++) { acc0[r] = wasm_i64x2_splat(0); acc1[r] = acc0[r]; }    \
      for (u32 j = 0; j < cols; j++) {                                                        \
        const u8 *src = (const u8 *)(uintptr_t)ins[j] + i;                                    \
        v128_t v0 = wasm_v128_load(src), v1 = wasm_v128_load(src + 16);                       \
        v128_t lo0 = wasm_v128_and(v0, mask), hi0 = wasm_u8x16_shr(v0, 4);                    \
        v128_t lo1 = wasm_v128_and(v1, mask), hi1 = wasm_u8x16_shr(v1, 4);                    \
        for (u32 r = 0; r < ROWS; r++) {                                                      \
          const u8 *t = tables + (r * cols + j) * 32;                                         \
          v128_t tl = wasm_v128_load(t), th = wasm_v128_load(t + 16);                         \
          acc0[r] = wasm_v128_xor(acc0[r], wasm_v128_xor(wasm_i8x16_swizzle(tl, lo0),         \
                                                         wasm_i8x16_swizzle(th, hi0)));      \
          acc1[r] = wasm_v128_xor(acc1[r], wasm_v128_xor(wasm_i8x16_swizzle(tl, lo1),         \
                                                         wasm_i8x16_swizzle(th, hi1)));      \
        }                                                                                     \
      }                                                                                       \
      for (u32 r = 0; r < ROWS; r++) {                                                        \
        u8 *dst = (u8 *)(uintptr_t)outs[r] + i;                                               \
        wasm_v128_store(dst, acc0[r]);                                                        \
        wasm_v128_store(dst + 16, acc1[r]);                                                   \
      }                                                                                       \
    }                                                                                         \
    for (; i < len; i++) {                                                                    \
      for (u32 r = 0; r < ROWS; r++) {                                                        \
        u8 acc = 0;                                                                           \
        for (u32 j = 0; j < cols; j++) {                                                      \
          const u8 *t = tables + (r * cols + j) * 32;                                         \
          u8 x = ((const u8 *)(uintptr_t)ins[j])[i];                                          \
          acc ^= t[x & 15] ^ t[16 + (x >> 4)];                                                \
        }                                                                                     \
        ((u8 *)(uintptr_t)outs[r])[i] = acc;                                                  \
      }                                                                                       \
    }                                                                                         \
  }

KERNEL(matmul1, 1)
KERNEL(matmul2, 2)
KERNEL(matmul3, 3)
KERNEL(matmul4, 4)

// Rows are done four at a time so the accumulators stay in registers.
__attribute__((export_name("gf_matmul")))
void gf_matmul(const u8 *tables, u32 rows, u32 cols, const u32 *ins, const u32 *outs, u32 len) {
  while (rows > 0) {
    u32 n = rows >= 4 ? 4 : rows;
    switch (n) {
      case 4: matmul4(tables, cols, ins, outs, len); break;
      case 3: matmul3(tables, cols, ins, outs, len); break;
      case 2: matmul2(tables, cols, ins, outs, len); break;
      default: matmul1(tables, cols, ins, outs, len); break;
    }
    tables += n * cols * 32;
    outs += n;
    rows -= n;
  }
}
