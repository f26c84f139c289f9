#!/usr/bin/env python3
"""The DuckDB baseline for `bacaudit audit`: the same findings over a gen_world.py snapshot, in SQL.

Usage: duckdb_audit.py SNAPSHOT.ndjson [--truth TRUTH.json] [--threads N] [--memory-limit SIZE]

Reads the NDJSON snapshot (one recorded exchange per line), extracts every HAL link
(`_links.*.href`, and `_links.*[*].href` for arrays of links), and computes, as bacaudit does:

  * broken links: (source, target) for every link from a resource that answered 2xx to a
    target that did not answer 2xx: status 410 when the snapshot records a 410 for it, else 404
    (a URL absent from a snapshot answers 404);
  * orphan customers: the customers (`/customers/<id>` that answered 2xx) that no order
    (`/orders/<id>`) points at through its `customer` relation.

Prints the counts and the time the query took; with --truth, compares the findings with
gen_world.py's truth.json (every (source, target, status) and every orphan) and exits 1 on any
difference, so a fast wrong answer fails. Needs `pip install duckdb`.
"""
import argparse
import json
import sys
import time

QUERY = r"""
CREATE TEMP TABLE snap AS
SELECT url, status, body
FROM read_ndjson(?, columns = {'url': 'VARCHAR', 'status': 'INTEGER', 'body': 'JSON'},
                 maximum_object_size = 67108864);

CREATE TEMP TABLE links AS
SELECT url AS source, unnest(hrefs) AS target
FROM (
    SELECT url,
           list_concat(json_extract_string(body, '$._links.*.href'),
                       json_extract_string(body, '$._links.*[*].href')) AS hrefs
    FROM snap
    WHERE status BETWEEN 200 AND 299 AND body IS NOT NULL
);

CREATE TEMP TABLE ok AS SELECT DISTINCT url FROM snap WHERE status BETWEEN 200 AND 299;
"""

BROKEN = r"""
SELECT l.source, l.target, coalesce(g.status, 404) AS status
FROM links l
ANTI JOIN ok ON ok.url = l.target
LEFT JOIN (SELECT url, max(status) AS status FROM snap WHERE status = 410 GROUP BY url) g
       ON g.url = l.target
WHERE l.target IS NOT NULL
ORDER BY 1, 2
"""

ORPHANS = r"""
SELECT url FROM ok
WHERE regexp_matches(url, '^http://127\.0\.0\.1:18081/customers/[^/?#]+$')
  AND url NOT IN (
      SELECT json_extract_string(body, '$._links.customer.href')
      FROM snap
      WHERE status BETWEEN 200 AND 299
        AND regexp_matches(url, '^http://127\.0\.0\.1:18084/orders/[^/?#]+$')
        AND json_extract_string(body, '$._links.customer.href') IS NOT NULL)
ORDER BY 1
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("snapshot")
    ap.add_argument("--truth", help="gen_world.py truth.json to check the findings against")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB (default: DuckDB's)")
    args = ap.parse_args()
    try:
        import duckdb
    except ImportError:
        sys.exit("duckdb_audit.py: the duckdb module is missing (pip install duckdb)")

    t0 = time.monotonic()
    con = duckdb.connect(":memory:")
    if args.threads:
        con.execute("SET threads = %d" % args.threads)
    if args.memory_limit:
        con.execute("SET memory_limit = '%s'" % args.memory_limit)
    con.execute("SET preserve_insertion_order = false")
    for stmt in [s for s in QUERY.split(";") if s.strip()]:
        con.execute(stmt, [args.snapshot] if "?" in stmt else [])
    broken = con.execute(BROKEN).fetchall()
    orphans = [r[0] for r in con.execute(ORPHANS).fetchall()]
    n_links, n_ok = con.execute("SELECT (SELECT count(*) FROM links), (SELECT count(*) FROM ok)").fetchone()
    elapsed = time.monotonic() - t0
    print("duckdb %s: %d resources, %d links, %d broken links (%d x 404, %d x 410), %d orphans in %.2f s"
          % (duckdb.__version__, n_ok, n_links, len(broken), sum(1 for b in broken if b[2] == 404),
             sum(1 for b in broken if b[2] == 410), len(orphans), elapsed))

    if args.truth:
        truth = json.load(open(args.truth))
        want_broken = sorted((b["source"], b["target"], b["status"]) for b in truth["broken"])
        got_broken = sorted(tuple(b) for b in broken)
        want_orphans = sorted(truth["orphans"])
        ok = got_broken == want_broken and sorted(orphans) == want_orphans
        if got_broken != want_broken:
            print("  broken links differ: %d missing, %d extra"
                  % (len(set(want_broken) - set(got_broken)), len(set(got_broken) - set(want_broken))),
                  file=sys.stderr)
        if sorted(orphans) != want_orphans:
            print("  orphans differ: %d missing, %d extra"
                  % (len(set(want_orphans) - set(orphans)), len(set(orphans) - set(want_orphans))),
                  file=sys.stderr)
        print("duckdb truth check: %s (%d/%d broken, %d/%d orphans)"
              % ("OK" if ok else "FAILED", len(got_broken), len(want_broken), len(orphans), len(want_orphans)))
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
