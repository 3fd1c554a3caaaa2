#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, seeded from the
# fixtures (when present) and from fuzz/seeds/<target>/. A crash fails the run.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
fixtures=${LLMKIT_FIXTURES:-$here/../../shared/fixtures}
status=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus=$(mktemp -d)
  seeds=()
  [ -d "$here/seeds/$name" ] && seeds+=("$here/seeds/$name")
  # Each target lists the fixture globs it wants in fuzz/seeds/<name>.globs.
  if [ -f "$here/seeds/$name.globs" ] && [ -d "$fixtures" ]; then
    seeddir=$(mktemp -d)
    while read -r glob; do
      [ -n "$glob" ] || continue
      for f in $fixtures/$glob; do [ -f "$f" ] && cp "$f" "$seeddir/" || true; done
    done < "$here/seeds/$name.globs"
    seeds+=("$seeddir")
  else
    seeddir=""
  fi
  if [ ! -d "$fixtures" ]; then
    echo "fuzz: fixtures not found at $fixtures; $name runs from its committed seeds only"
  fi
  echo "fuzz: $name for ${seconds}s (seeds: ${seeds[*]:-none})"
  if ! "$bin" -max_total_time="$seconds" -max_len=1048576 -rss_limit_mb=4096 -print_final_stats=1 \
       "$corpus" "${seeds[@]}" > "$build/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; last lines of $build/$name.log:"
    tail -40 "$build/$name.log"
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done' "$build/$name.log" | tail -2 || true
  fi
  rm -rf "$corpus" ${seeddir:+"$seeddir"}
done
exit $status
