#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time on a scratch copy of its seed corpus (so the tree stays clean);
# a finding fails the test and is kept in FINDINGS (a folder). Usage: run_fuzzer.sh BINARY CORPUS SECONDS FINDINGS
set -euo pipefail
binary=$1 corpus=$2 seconds=$3 findings=$4
mkdir -p "$findings"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus" "$work/corpus"
cd "$work"
"$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 -timeout=10 -artifact_prefix="$findings/" \
  -print_final_stats=1 corpus 2>&1 | tail -25
