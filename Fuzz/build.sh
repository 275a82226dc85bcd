#!/usr/bin/env bash
# Usage: Fuzz/build.sh MODULE...   (in dependency order; the Makefile's FUZZ_MODULES;
# a C target, one with an include/ folder, is compiled with clang)
# Builds .build-fuzz/mira-fuzzer: the modules the fuzz targets read with
# (records, requests, completions, streams, headers, throttling) compiled one
# by one, with libFuzzer's coverage and ASan, then
# Fuzz/*.swift linked against them. SwiftPM cannot build a libFuzzer binary
# beside the normal ones, so this is plain swiftc.
set -euo pipefail
cd "$(dirname "$0")/.."
modules=("$@")
out=.build-fuzz/modules
mkdir -p "$out"
# -g: file and line in crash stacks. -package-name: the modules share `package` declarations.
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -package-name Mira -I "$out")
objects=()
for module in "${modules[@]}"; do
    if [ -d "Sources/$module/include" ]; then
        # A C target: its object, and a module map for Swift's `import`
        # (SwiftPM writes one itself for its own builds).
        mkdir -p "$out/$module"
        printf 'module %s {\n    header "%s"\n    export *\n}\n' "$module" "$PWD/Sources/$module/include/$module.h" \
            > "$out/$module/module.modulemap"
        clang -O -g -c Sources/"$module"/*.c -I "Sources/$module/include" -o "$out/$module.o"
        flags+=(-I "$out/$module")
        objects+=("$out/$module.o")
        continue
    fi
    mapfile -t sources < <(find "Sources/$module" -name '*.swift' | sort)
    swiftc "${flags[@]}" -module-name "$module" -wmo -c "${sources[@]}" \
        -emit-module -emit-module-path "$out/$module.swiftmodule" -o "$out/$module.o"
    objects+=("$out/$module.o")
done
# lld ships with Swift: gold warns once per ASan symbol.
swiftc "${flags[@]}" -module-name MiraFuzz -use-ld=lld Fuzz/*.swift "${objects[@]}" -o .build-fuzz/mira-fuzzer
