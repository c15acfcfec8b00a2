#!/usr/bin/env python3
"""Goal: `ainet-bench report --tiny` writes a complete report: report.md exists, states the
machine, the date and the command, references only SVG files that exist beside it (and all six
figures), and every SVG there parses as XML with an <svg> root and no NaN/inf coordinates.

Usage: report_test.py AINET_BENCH

Bounded: the run gets 100 s (it takes a few seconds; --tiny sizes every suite down). No rate or
time is asserted, only that the report is whole and well-formed.
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG_NS = "{http://www.w3.org/2000/svg}"
FIGURES = {
    "relay_throughput.svg",
    "reliable_throughput.svg",
    "ratio_to_baseline.svg",
    "reliable_rtt.svg",
    "membership_convergence.svg",
    "verify_speedup.svg",
}
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]*)\)")


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check_svg(path):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        fail(f"{path} does not parse: {e}")
    if root.tag != SVG_NS + "svg":
        fail(f"{path}: root is {root.tag}, not svg")
    for attribute in ("width", "height", "viewBox"):
        if attribute not in root.attrib:
            fail(f"{path}: <svg> has no {attribute}")
    drawn = 0
    for element in root.iter():
        for key, value in element.attrib.items():
            if re.search(r"nan|inf", value, re.IGNORECASE) and key != "class":
                fail(f"{path}: {element.tag} {key}={value!r}")
        if element.tag in (SVG_NS + "polyline", SVG_NS + "circle", SVG_NS + "rect"):
            drawn += 1
    if drawn < 2:
        fail(f"{path}: nothing drawn")


def main():
    if len(sys.argv) != 2:
        fail("usage: report_test.py AINET_BENCH")
    bench = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="ainet-report-") as tmp:
        out = os.path.join(tmp, "report")
        try:
            run = subprocess.run([bench, "report", "--tiny", "--out", out],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=100,
                                 text=True)
        except subprocess.TimeoutExpired:
            fail("ainet-bench report --tiny did not finish in 100 s")
        print(run.stdout)
        if run.returncode != 0:
            fail(f"ainet-bench report exited {run.returncode}")
        report_path = os.path.join(out, "report.md")
        if not os.path.isfile(report_path):
            fail("no report.md")
        with open(report_path, encoding="utf-8") as f:
            report = f.read()
        for needed in ("## Machine", "- CPU: ", "- nproc: ", "- kernel: ", " UTC",
                       "ainet-bench report --tiny --out", "## Numbers"):
            if needed not in report:
                fail(f"report.md lacks {needed!r}")
        referenced = IMAGE.findall(report)
        for name in referenced:
            if "/" in name or name.startswith(".") or not name.endswith(".svg"):
                fail(f"report.md references {name!r}: not an SVG file beside it")
            if not os.path.isfile(os.path.join(out, name)):
                fail(f"report.md references {name}, which does not exist")
        missing = FIGURES - set(referenced)
        if missing:
            fail(f"report.md lacks figures {sorted(missing)}")
        svgs = [n for n in os.listdir(out) if n.endswith(".svg")]
        for name in svgs:
            check_svg(os.path.join(out, name))
        print(f"ok: report.md with {len(referenced)} figures, {len(svgs)} SVG files parse")


if __name__ == "__main__":
    main()
