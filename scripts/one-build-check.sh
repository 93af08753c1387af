#!/usr/bin/env bash
# One build serves every README command: after `cargo build --release`, neither the xtask's
# build (`cargo xtask reproduce`) nor the test build (`cargo test --workspace --release`) may
# compile a dependency again. Run it on a fresh clone (CI does, from .ci/run): it lists every
# registry crate the later builds compile that the first one already built, and fails if any.
set -euo pipefail
cd "$(dirname "$0")/.."

built() { # the registry packages (name@version) a cargo command compiled (not fresh)
    "$@" --message-format=json 2>/dev/null |
        grep '"reason":"compiler-artifact"' |
        grep '"fresh":false' |
        grep -o '"package_id":"registry+[^"]*"' |
        sed 's/.*#//; s/"$//' | sort -u || true
}

SECONDS=0
first=$(built cargo build --release)
t1=$SECONDS
xtask=$(built cargo build --release -p xtask)
t2=$SECONDS
tests=$(built cargo test --workspace --release --no-run)
t3=$SECONDS
count() { echo "$1" | sed '/^$/d' | wc -l; }
again=$(comm -12 <(echo "$first") <(printf '%s\n%s\n' "$xtask" "$tests" | sort -u) | sed '/^$/d')
echo "one-build: cargo build compiled $(count "$first") registry crates;" \
    "then xtask $(count "$xtask") more, tests $(count "$tests") more" \
    "(${t1} s, $((t2 - t1)) s, $((t3 - t2)) s)"
if [ -n "$again" ]; then
    echo "one-build: compiled again after cargo build --release:" $again >&2
    exit 1
fi
