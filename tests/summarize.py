#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Adds up meson test logs into one "N passed, N failed" line, counting test cases, not binaries.
#
# A unit-test binary prints "<suite>: C cases, K checks, F failed cases, X failed checks"; it
# contributes C - F passed and F failed. A binary that ended without that line (crash, sanitizer
# report, timeout) or whose exit status disagrees with it counts as one more failure. Any other
# test (fuzz corpus runs) counts as one case. Skipped tests are counted separately.
import json
import re
import sys

SUMMARY = re.compile(r"^(\S+): (\d+) cases, \d+ checks, (\d+) failed cases", re.M)


def main(logs):
    passed = failed = skipped = 0
    for path in logs:
        with open(path) as f:
            for line in f:
                t = json.loads(line)
                result = t["result"]
                if result == "SKIP":
                    skipped += 1
                    continue
                ok = result == "OK"
                out = (t.get("stdout") or "") + (t.get("stderr") or "")
                if not ok:
                    tail = "\n".join(out.splitlines()[-60:])
                    print(f"--- {t['name']}: {result} (exit {t.get('returncode')})\n{tail}\n---")
                m = SUMMARY.search(t.get("stdout") or "")
                if m:
                    cases, bad = int(m.group(2)), int(m.group(3))
                    passed += cases - bad
                    failed += bad
                    if not ok and bad == 0:
                        failed += 1
                        print(f"  {t['name']}: {result} after reporting success", file=sys.stderr)
                elif ok:
                    passed += 1
                else:
                    failed += 1
    tail = f", {skipped} skipped" if skipped else ""
    print(f"{passed} passed, {failed} failed{tail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
