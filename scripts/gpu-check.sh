#!/usr/bin/env bash
# GPU check of the paper-003 models on Burn's wgpu device (issue 19): times the autoencoder
# step and counts its GPU kernel launches on every compiled device (`xtask bench --json`), runs
# a quick paper-003 figure on wgpu, and prints one JSON line:
#   {"bench": {...}, "bench_rc": RC, "bench_unfused": {...}, "bench_unfused_rc": RC,
#    "fig3_quick_seconds": S, "fig3_quick_rc": RC, "fig3_quick_limit_seconds": S,
#    "vulkan_loader": BOOL, "gpu": NAME|null, "xtask": "built"|"prebuilt", "xtask_revision": REV}
# `bench` and the figure come from the device behind Burn's fusion (cargo feature `fusion`);
# `bench_unfused` is the autoencoder step alone (`bench --json --steps-only`) from the device
# without it (feature `wgpu`): the two side by side, since on lavapipe fusion only added host
# work to a step of custom operations (docs/decisions.md, "Burn's fusion on a step of custom
# operations").
#
# Two halves, because a GPU machine may have neither a Rust toolchain nor a network (the one
# lent to this project's sessions has neither):
#   scripts/gpu-check.sh --prepare   where cargo and apt work: builds the optimised xtask with
#       the `fusion` feature and again with `wgpu` alone, puts them (stripped and gzipped: 73 MB
#       -> 20 MB each, together under the device tool's 64 MiB) and their revision in
#       .gpu-check/, and downloads the Vulkan loader's Debian packages to .gl/ (both ignored by
#       git: carry them to the GPU machine);
#   scripts/gpu-check.sh             on the GPU machine: where no Vulkan loader is installed and
#       .gl/ holds its packages, unpacks them into / (root only); runs the check with a freshly
#       built xtask where cargo exists, else with .gpu-check/xtask.gz and xtask-unfused.gz.
# Without a loader or a driver the wgpu device reports "no wgpu adapter" within seconds and the
# bench leaves it out. Build output and progress go to stderr; stdout carries only the JSON line.
# The bench's JSON and stderr and the figure's files go to $GPU_CHECK_OUT (default
# target/gpu-check); the figure stops when the whole check has run GPU_CHECK_SECONDS (default 520).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/sbin:/sbin" # ldconfig, for a caller with a minimal PATH
prebuilt=.gpu-check

revision() {
    git describe --always --dirty --abbrev=40 2>/dev/null || echo unknown
}
build_xtask() { # the optimised xtask with the GPU device and the features $1, at target/release/xtask
    cargo build --package xtask --release --features "$1" >&2
}

if [ "${1:-}" = "--prepare" ]; then
    set -e
    mkdir -p "$prebuilt" .gl
    build_xtask wgpu
    strip -o "$prebuilt/xtask-unfused" target/release/xtask
    build_xtask fusion
    strip -o "$prebuilt/xtask" target/release/xtask
    gzip -f "$prebuilt/xtask" "$prebuilt/xtask-unfused"
    revision > "$prebuilt/revision"
    # The loader packages for the GPU machine's architecture (device tool's recipe), whatever
    # this machine's is; their own lists, so this machine's apt state is left alone.
    lists=$(mktemp -d)
    mkdir -p "$lists/partial"
    apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
    apt-get "${apt[@]}" update -qq >&2
    (cd .gl && apt-get "${apt[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >&2)
    rm -rf "$lists"
    echo "prepared: $prebuilt/xtask.gz and xtask-unfused.gz ($(du -ch "$prebuilt"/*.gz | tail -n 1 | cut -f1), $(cat "$prebuilt/revision")) and .gl/; run it on the GPU machine with carry [\"$prebuilt\", \".gl\"]" >&2
    exit 0
fi

out=${GPU_CHECK_OUT:-target/gpu-check}
mkdir -p "$out"
has_loader() { ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; }
if ! has_loader && compgen -G '.gl/*.deb' > /dev/null && [ "$(id -u)" -eq 0 ]; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
loader=false
if has_loader; then loader=true; fi
# NVIDIA's driver mounted outside the loader's search path (the lent H200 machine).
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then
    export VK_DRIVER_FILES=$nvidia_icd
fi
gpu=null
if command -v nvidia-smi > /dev/null; then
    name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
    if [ -n "$name" ]; then gpu="\"$name\""; fi
fi

if command -v cargo > /dev/null; then
    build_xtask wgpu && cp target/release/xtask "$out/xtask-unfused" || exit 1
    build_xtask fusion || exit 1
    xtask=target/release/xtask
    xtask_unfused=$out/xtask-unfused
    built=built
    xtask_revision=$(revision)
elif [ -f "$prebuilt/xtask.gz" ] && [ -f "$prebuilt/xtask-unfused.gz" ]; then
    for x in xtask xtask-unfused; do
        gunzip -c "$prebuilt/$x.gz" > "$out/$x" && chmod +x "$out/$x" || exit 1
    done
    xtask=$out/xtask
    xtask_unfused=$out/xtask-unfused
    built=prebuilt
    xtask_revision=$(cat "$prebuilt/revision" 2>/dev/null || echo unknown)
else
    echo "gpu-check: no cargo here and no $prebuilt/xtask.gz and xtask-unfused.gz: run scripts/gpu-check.sh --prepare on a machine with cargo and carry $prebuilt" >&2
    exit 1
fi

began=$(date +%s)
# Each result also goes to $out as it comes, so a caller cut off later still has it.
bench=$("$xtask" bench --json 2> "$out/bench.stderr")
bench_rc=$?
if [ "$bench_rc" -ne 0 ] || [ -z "$bench" ]; then bench=null; fi
echo "$bench" > "$out/bench.json"
bench_unfused=$("$xtask_unfused" bench --json --steps-only 2> "$out/bench-unfused.stderr")
bench_unfused_rc=$?
if [ "$bench_unfused_rc" -ne 0 ] || [ -z "$bench_unfused" ]; then bench_unfused=null; fi
echo "$bench_unfused" > "$out/bench-unfused.json"
# The figure gets what is left of GPU_CHECK_SECONDS (default 520, under the device tool's 540 s
# call): past it, it is stopped (fig3_quick_rc 124) and the JSON line is still printed.
limit=$(( ${GPU_CHECK_SECONDS:-520} - ($(date +%s) - began) ))
if [ "$limit" -lt 1 ]; then limit=1; fi
start=$(date +%s%N)
timeout "$limit" "$xtask" reproduce --quick --only tuan2025-fig3 --device wgpu --out "$out/reproduce" --force >&2
fig3_rc=$?
millis=$(( ($(date +%s%N) - start) / 1000000 ))
printf '{"bench": %s, "bench_rc": %d, "bench_unfused": %s, "bench_unfused_rc": %d, "fig3_quick_seconds": %d.%03d, "fig3_quick_rc": %d, "fig3_quick_limit_seconds": %d, "vulkan_loader": %s, "gpu": %s, "xtask": "%s", "xtask_revision": "%s"}\n' \
    "$bench" "$bench_rc" "$bench_unfused" "$bench_unfused_rc" $((millis / 1000)) $((millis % 1000)) "$fig3_rc" "$limit" "$loader" "$gpu" "$built" "$xtask_revision"
