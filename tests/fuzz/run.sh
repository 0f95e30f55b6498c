#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Real fuzzing, bounded by time: tests/fuzz/run.sh SECONDS [NAME...]
# Each harness runs SECONDS seconds on a working copy of its seed corpus under fuzz-out/, with
# ASan+UBSan. Exits non-zero if any harness found a crash (reproducer left in fuzz-out/NAME/).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:?usage: tests/fuzz/run.sh SECONDS [NAME...]}
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(config uapi ispec packet device offload mgrproto updlist keyfile)
if [ ! -f build-san/build.ninja ]; then
	CC=clang meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true
fi
ninja -C build-san >/dev/null
status=0
for n in "${names[@]}"; do
	work=fuzz-out/$n
	mkdir -p "$work/corpus"
	cp -n tests/fuzz/corpus/"$n"/* "$work/corpus/" 2>/dev/null || true
	echo "==> fuzz-$n for ${secs}s"
	if ./build-san/tests/fuzz/fuzz-"$n" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" \
		>"$work/log" 2>&1; then
		grep -E 'stat::number_of_executed_units|stat::new_units_added' "$work/log" |
			sed "s/^/   /"
	else
		echo "   CRASH: see $work/log and $work/crash-*"
		tail -30 "$work/log"
		status=1
	fi
done
exit $status
