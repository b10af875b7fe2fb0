#!/bin/sh
# Rebuilds gf256.wasm from gf256.c (clang 14 + lld: apt-get install clang lld).
# The .wasm is committed so nobody needs a compiler to run the node.
set -eu
cd "$(dirname "$0")"
clang --target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin -ffreestanding \
  -Wl,--no-entry -Wl,--export=__heap_base -Wl,-z,stack-size=65536 \
  -o gf256.wasm gf256.c
ls -l gf256.wasm
