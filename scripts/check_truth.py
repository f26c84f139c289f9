#!/usr/bin/env python3
"""Compare a bacaudit JSON report with gen_world.py's truth.json; exit 1 on any difference.

Usage: check_truth.py REPORT.json TRUTH.json
"""
import json
import sys


def main():
    report = json.load(open(sys.argv[1]))
    truth = json.load(open(sys.argv[2]))
    got_broken = sorted(
        (f["source"], f["target"], f["status"])
        for f in report["findings"]
        if f["kind"] == "broken_link"
    )
    want_broken = sorted((b["source"], b["target"], b["status"]) for b in truth["broken"])
    got_orphans = sorted(f["resource"] for f in report["findings"] if f["kind"] == "orphan")
    want_orphans = sorted(truth["orphans"])
    unresolved = [f for f in report["findings"] if f["kind"] == "unresolved"]
    ok = True
    if got_broken != want_broken:
        ok = False
        missing = set(want_broken) - set(got_broken)
        extra = set(got_broken) - set(want_broken)
        print(f"broken links differ: {len(missing)} missing, {len(extra)} extra", file=sys.stderr)
        for m in sorted(missing)[:5]:
            print(f"  missing {m}", file=sys.stderr)
        for e in sorted(extra)[:5]:
            print(f"  extra   {e}", file=sys.stderr)
    if got_orphans != want_orphans:
        ok = False
        print(
            f"orphans differ: {len(set(want_orphans) - set(got_orphans))} missing, "
            f"{len(set(got_orphans) - set(want_orphans))} extra",
            file=sys.stderr,
        )
    if unresolved:
        ok = False
        print(f"{len(unresolved)} unexpected unresolved findings", file=sys.stderr)
    print(
        f"truth check: {'OK' if ok else 'FAILED'} "
        f"({len(got_broken)}/{len(want_broken)} broken, {len(got_orphans)}/{len(want_orphans)} orphans)"
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
