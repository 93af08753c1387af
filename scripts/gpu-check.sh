#!/usr/bin/env bash
# GPU check of the paper-003 models on Burn's wgpu device (issue 19): builds xtask with the
# `wgpu` feature, times the autoencoder step and counts its GPU kernel launches on every
# compiled device (`cargo xtask bench --json`), runs a quick paper-003 figure on wgpu, and
# prints one JSON line:
#   {"bench": {...}, "fig3_quick_seconds": S, "fig3_quick_rc": RC, "vulkan_loader": BOOL}
# Needs a Vulkan loader (libvulkan.so.1) and a driver; without them the wgpu device reports
# "no wgpu adapter" within seconds and the bench leaves it out. Build output and progress go to
# stderr; stdout carries only the JSON line.
set -uo pipefail
cd "$(dirname "$0")/.."
out=target/gpu-check
mkdir -p "$out"
loader=false
if ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then loader=true; fi
xtask=(cargo run --package xtask --release --features wgpu --)
cargo build --package xtask --release --features wgpu >&2 || exit 1
bench=$("${xtask[@]}" bench --json 2> "$out/bench.stderr")
bench_rc=$?
if [ "$bench_rc" -ne 0 ] || [ -z "$bench" ]; then bench=null; fi
start=$(date +%s%N)
"${xtask[@]}" reproduce --quick --only tuan2025-fig3 --device wgpu --out "$out/reproduce" --force >&2
fig3_rc=$?
millis=$(( ($(date +%s%N) - start) / 1000000 ))
printf '{"bench": %s, "bench_rc": %d, "fig3_quick_seconds": %d.%03d, "fig3_quick_rc": %d, "vulkan_loader": %s}\n' \
    "$bench" "$bench_rc" $((millis / 1000)) $((millis % 1000)) "$fig3_rc" "$loader"
