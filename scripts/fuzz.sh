#!/usr/bin/env bash
# Fuzz the scenario parser for a bounded time (docs/FUZZING.md).
#   scripts/fuzz.sh [seconds]      default 300
# Builds the libFuzzer target (preset "fuzz", clang) in build/fuzz (or $EXODERM_FUZZ_BUILD),
# seeds it with the shipped scenarios and sweeps, fuzz/seeds/ and the earlier findings, runs it
# with the key/unit dictionary, and copies every crash, timeout, leak or out-of-memory input
# into tests/fuzz_regressions/. Exit code 1 when it found something.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "error: fuzz.sh: seconds must be a whole number, got '$seconds'" >&2; exit 2; }
build="${EXODERM_FUZZ_BUILD:-build/fuzz}"

bash scripts/dev.sh deps --fuzz
cmake --preset fuzz -B "$build" >/dev/null
cmake --build "$build" --target exoderm_fuzz_scenario -j "$(nproc)"

corpus="$build/corpus"        # grows across runs: what the fuzzer found interesting
artifacts="$build/artifacts"
rm -rf "$artifacts"
mkdir -p "$corpus" "$artifacts"

# Findings leave with exit code 1; libFuzzer's own summary says what and where.
set +e
"$build/fuzz/exoderm_fuzz_scenario" "$corpus" scenarios fuzz/seeds tests/fuzz_regressions \
    -dict=fuzz/scenario.dict -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$artifacts/" -print_final_stats=1
status=$?
set -e

found=0
for f in "$artifacts"/*; do
    [ -e "$f" ] || continue
    name="$(basename "$f")"
    cp "$f" "tests/fuzz_regressions/$name"
    echo "finding: tests/fuzz_regressions/$name (reproduce: $build/fuzz/exoderm_fuzz_scenario $f)"
    found=$((found + 1))
done
if [ "$found" -gt 0 ] || [ "$status" -ne 0 ]; then
    echo "fuzz.sh: $found finding(s), libFuzzer exit code $status: fix each, rename the file after what it found, keep it as a regression" >&2
    exit 1
fi
echo "fuzz.sh: no findings in $seconds s"
