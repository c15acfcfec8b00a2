#!/usr/bin/env python3
"""Reads meson testlog.json files (and a fuzz result list) and prints the closing line
"N passed, N failed[, N skipped]". A Catch2 binary counts its test cases; any other meson test
counts as one. Exits 1 if anything failed."""
import argparse
import json
import re
import sys

CATCH_ALL = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")
CATCH_SOME = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed")
CATCH_FAILED_ONLY = re.compile(r"test cases:\s*(\d+)\s*\|\s*(\d+) failed")


def count_catch(stdout):
    m = CATCH_ALL.search(stdout)
    if m:
        return int(m.group(1)), 0
    m = CATCH_SOME.search(stdout)
    if m:
        return int(m.group(2)), int(m.group(3))
    m = CATCH_FAILED_ONLY.search(stdout)
    if m:
        return 0, int(m.group(2))
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("logs", nargs="*")
    parser.add_argument("--extra")
    args = parser.parse_args()
    passed = failed = skipped = 0
    failures = []
    for path in args.logs:
        build = path.rsplit("tests-", 1)[-1].removesuffix(".json")
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                t = json.loads(line)
                result = t.get("result")
                catch = count_catch(t.get("stdout") or "")
                if result == "SKIP":
                    skipped += 1
                elif catch is not None and result in ("OK", "FAIL"):
                    passed += catch[0]
                    failed += catch[1]
                    if catch[1] or result != "OK":
                        failures.append(f"{build}: {t['name']}")
                        if result != "OK" and catch[1] == 0:
                            failed += 1
                elif result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                else:
                    failed += 1
                    failures.append(f"{build}: {t['name']} ({result})")
    if args.extra:
        with open(args.extra) as f:
            for line in f:
                parts = line.split()
                if not parts:
                    continue
                if parts[0] == "pass":
                    passed += 1
                else:
                    failed += 1
                    failures.append(parts[1])
    for name in failures:
        print(f"failed: {name}")
    if passed == 0 and failed == 0:
        failed = 1
        print("failed: no test ran")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
