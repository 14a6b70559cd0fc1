"""Print "N passed, N failed" from a pytest junit xml file (errors count as failed).

    junit_counts.py JUNIT [RESULTS...]

Each RESULTS file (a line "N passed, N failed (note)", as reference_suite.py
writes) is added to the counts, its note kept; a missing or unreadable one
counts as one failure.
"""

import re
import sys
import xml.etree.ElementTree as ET

LINE = re.compile(r"(\d+) passed, (\d+) failed(?: \((.*)\))?")


def main(path: str, extra: list) -> int:
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    tests = failed = skipped = 0
    for s in suites:
        tests += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
        skipped += int(s.get("skipped", 0))
    passed = tests - failed - skipped
    notes = []
    for name in extra:
        try:
            with open(name) as f:
                m = LINE.search(f.read())
        except OSError:
            m = None
        if m is None:
            failed += 1
            notes.append("%s reported nothing" % name)
            continue
        passed += int(m.group(1))
        failed += int(m.group(2))
        if m.group(3):
            notes.append(m.group(3))
    note = " (with %s)" % "; ".join(notes) if notes else ""
    print("%d passed, %d failed%s" % (passed, failed, note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
