#!/usr/bin/env python3
"""Fails the build when a module includes a higher module or a third-party header it does not own.

The module graph (STYLE.md section 2) is the table below; a module may include itself and the
modules listed for it. Third-party libraries are confined to the one module that wraps them.
Run by meson on every build; `--check FILE --as MODULE` checks one file (used by the test that
proves an upward include is rejected).
"""
import argparse
import pathlib
import re
import sys

PROTOCOL_BASE = ["core", "wire", "crypto", "merkle", "timer"]
ALLOWED = {
    "core": [],
    "wire": ["core"],
    "crypto": ["core"],
    "merkle": ["core"],
    "timer": ["core"],
    "config": ["core", "crypto"],
    # LMDB storage (group commit); used by the node to persist what the sans-I/O cores produce.
    "store": ["core"],
    "registry": PROTOCOL_BASE,
    "sync": PROTOCOL_BASE + ["registry"],
    "membership": PROTOCOL_BASE,
    "discovery": PROTOCOL_BASE + ["config", "membership"],
    "reliability": PROTOCOL_BASE,
    "relay": PROTOCOL_BASE,
    "sim": PROTOCOL_BASE + ["registry", "sync", "membership", "discovery", "reliability", "relay"],
}
PROTOCOL_CORES = ["config", "registry", "sync", "membership", "discovery", "reliability", "relay"]
ALLOWED["runtime"] = PROTOCOL_BASE + PROTOCOL_CORES
ALLOWED["node"] = ALLOWED["runtime"] + ["runtime", "store"]

# Third-party header -> the only module allowed to include it.
OWNED_HEADERS = {
    "sodium.h": "crypto",
    "sodium/": "crypto",
    "xxhash.h": "merkle",
    "liburing.h": "runtime",
    "liburing/": "runtime",
    "lmdb.h": "store",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def module_of(path: pathlib.Path, root: pathlib.Path):
    rel = path.relative_to(root).parts
    if len(rel) >= 3 and rel[0] == "include" and rel[1] == "ainet":
        return rel[2]
    if len(rel) >= 2 and rel[0] == "src":
        return rel[1]
    return None


def violations(text: str, module: str):
    found = []
    allowed = set(ALLOWED.get(module, [])) | {module}
    for header in INCLUDE.findall(text):
        if header.startswith("ainet/"):
            target = header.split("/")[1]
            if target not in allowed:
                found.append(f"{module} may not include <{header}> (module '{target}' is not below it)")
        for prefix, owner in OWNED_HEADERS.items():
            if (header == prefix or (prefix.endswith("/") and header.startswith(prefix))) and owner != module:
                found.append(f"{module} may not include <{header}>: only '{owner}' wraps that library")
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root")
    parser.add_argument("--stamp")
    parser.add_argument("--check")
    parser.add_argument("--as", dest="as_module")
    args = parser.parse_args()

    if args.check:
        problems = violations(pathlib.Path(args.check).read_text(), args.as_module)
        for p in problems:
            print(f"{args.check}: {p}", file=sys.stderr)
        return 1 if problems else 0

    root = pathlib.Path(args.root).resolve()
    problems = []
    for base in ("include/ainet", "src"):
        for path in sorted((root / base).rglob("*")):
            if path.suffix not in (".hpp", ".cpp", ".h", ".cc") or not path.is_file():
                continue
            module = module_of(path, root)
            if module is None:
                continue
            if module not in ALLOWED:
                problems.append(f"{path}: module '{module}' is not in tools/check_layering.py's table")
                continue
            problems += [f"{path}: {p}" for p in violations(path.read_text(), module)]
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    pathlib.Path(args.stamp).write_text("ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
