#!/bin/sh
# Builds fixtures/wasm/*.wasm from the C and WAT sources. CI uses the committed .wasm; run
# this only after changing a source. Needs: apt-get install clang lld libclang-rt-14-dev-wasm32
# (clang 14), and the repo's node_modules (binaryen's wasm-as for WAT, jco for the component).
set -eu
cd "$(dirname "$0")/../fixtures/wasm"
BIN=../../node_modules/.bin
BUILTINS=$(dpkg -L libclang-rt-14-dev-wasm32 2>/dev/null | grep 'builtins-wasm32.a$' | head -1 || true)
CFLAGS="--target=wasm32 -O2 -nostdlib -fno-builtin -ffreestanding -Wall -Werror"
LDFLAGS="-Wl,--no-entry -Wl,--strip-all -Wl,-z,stack-size=65536"
mkdir -p build

clang $CFLAGS -c src/libc.c -o build/libc.o
for name in sha256 sieve matmul parser fib loop membomb recursion counter; do
  clang $CFLAGS -c "src/$name.c" -o "build/$name.o"
  clang --target=wasm32 -nostdlib $LDFLAGS "build/$name.o" build/libc.o ${BUILTINS:+"$BUILTINS"} -o "$name.wasm"
done
# one fixture built with the bulk-memory feature, so memory.fill/copy get exercised
clang --target=wasm32 -O2 -nostdlib -ffreestanding -Wall -Werror -mbulk-memory -msign-ext -c src/sha256.c -o build/sha256-bulk.o
clang --target=wasm32 -nostdlib $LDFLAGS build/sha256-bulk.o build/libc.o -o sha256-bulk.wasm

for wat in wat/*.wat; do
  name=$(basename "$wat" .wat)
  "$BIN/wasm-as" --enable-reference-types --enable-bulk-memory --enable-multivalue --enable-sign-ext \
    --enable-nontrapping-float-to-int --enable-mutable-globals --enable-simd --enable-threads --enable-extended-const "$wat" -o "$name.wasm"
done

for world in calc tally clocked; do
  clang $CFLAGS -c "src/$world.c" -o "build/$world.o"
  clang --target=wasm32 -nostdlib $LDFLAGS -Wl,--allow-undefined "build/$world.o" -o "build/$world-core.wasm"
  node src/makeComponent.mjs "build/$world-core.wasm" "wit/$world.wit" "$world" "$world.component.wasm"
done
rm -rf build
ls -l *.wasm
