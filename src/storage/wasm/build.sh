#!/bin/sh
# Rebuilds gf256.wasm from gf256.c (clang 14 + lld: apt-get install clang lld). Optional first
# argument: output path (the test that checks the committed .wasm builds into a temp file).
# The .wasm is committed so nobody needs a compiler to run the node; the build is reproducible.
set -eu
cd "$(dirname "$0")"
OUT="${1:-gf256.wasm}"
# clang post-processes with any wasm-opt it finds on PATH (npx puts binaryen's on it), which
# changes the bytes: drop such directories so the build is the same from a shell or from npm.
PATH=$(printf '%s' "$PATH" | tr ':' '\n' | while read -r d; do [ -x "$d/wasm-opt" ] || printf '%s:' "$d"; done)
export PATH
clang --target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin -ffreestanding \
  -Wl,--no-entry -Wl,--export=__heap_base -Wl,-z,stack-size=65536 \
  -o "$OUT" gf256.c
ls -l "$OUT"
