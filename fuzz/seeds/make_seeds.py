#!/usr/bin/env python3
"""Writes the committed seed corpus of the fuzz targets (fuzz/seeds/<target>/) from the fixtures.

Run from anywhere: python3 fuzz/seeds/make_seeds.py. Deterministic; rewrites the four folders.

- extract:     one file per distinct body shape of fixtures/shop/shop.ndjson (arrays cut to 3
               elements), prefixed with the selector byte naming the fetched URL and content
               type (see fuzz_targets/extract.rs), plus hand-made bodies for rules/example.toml
               and bare `Link` header values.
- rules_parse: rules/*.toml.
- snapshot:    one line per distinct shape of the shop snapshot, the bac-talk snapshots whole,
               and a few malformed lines.
- canon:       a selector byte (base URL) and an href spelled in awkward ways.

Files named `regression-*` are inputs that once crashed a target; they are kept as they are.
"""
import hashlib
import json
import os
from urllib.parse import urlsplit

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")

# Index of each fetched URL in fuzz_targets/extract.rs (shop world, bit 6 = 0).
SHOP_URLS = {
    ("8081", False): 0, ("8081", True): 2,
    ("8082", False): 3, ("8082", True): 4,
    ("8083", False): 5, ("8083", True): 6,
    ("8084", False): 7, ("8084", True): 8,
}
CONTENT_TYPES = {None: 0, "application/json": 1, "application/hal+json": 2,
                 "application/vnd.api+json": 3}


def shape(v):
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{shape(x)}" for k, x in sorted(v.items())) + "}"
    if isinstance(v, list):
        return "[" + (shape(v[0]) if v else "") + "]"
    return type(v).__name__


def trim(v):
    if isinstance(v, dict):
        return {k: trim(x) for k, x in v.items()}
    if isinstance(v, list):
        return [trim(x) for x in v[:3]]
    return v


def reset(name):
    """Empties a target's folder but for the crash inputs kept there (`regression-*`)."""
    d = os.path.join(SEEDS, name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        if not f.startswith("regression-"):
            os.remove(os.path.join(d, f))
    return d


def write(d, data):
    if isinstance(data, str):
        data = data.encode()
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def shop_lines():
    with open(os.path.join(ROOT, "fixtures", "shop", "shop.ndjson"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line, json.loads(line)


def extract_seeds():
    d = reset("extract")
    seen = set()
    for _, rec in shop_lines():
        body = rec.get("body")
        if body is None:
            continue
        u = urlsplit(rec["url"])
        item = u.path.rstrip("/").count("/") >= 2
        key = (u.port, item, shape(body))
        if key in seen:
            continue
        seen.add(key)
        ct = (rec.get("headers") or {}).get("content-type")
        sel = SHOP_URLS[(str(u.port), item)] | CONTENT_TYPES.get(ct, 0) << 4
        write(d, bytes([sel]) + compact(trim(body)).encode())
    # rules/example.toml (bit 6): 0 /customers, 1 /customers/1, 2 /orders, 4 /orders/7,
    # 5 /api/v1/products, 6 /api/v1/products/sku-1.
    ex = 0x40
    write(d, bytes([ex | 2]) + compact([
        {"id": 7, "customer_id": 1, "items": [{"product_id": "sku-1"}]},
        {"id": 8, "customer_id": "a/b", "items": []},
    ]).encode())
    write(d, bytes([ex | 5]) + compact([{"sku": "sku-1"}, {"sku": 2}]).encode())
    write(d, bytes([ex | 4 | 3 << 4]) + compact({
        "data": {"type": "orders", "id": "7",
                 "relationships": {"products": {"data": [{"type": "products", "id": "sku-1"}],
                                                "links": {"related": "/orders/7/products"}},
                                   "customer": {"data": {"type": "customers", "id": "1"}}}},
        "included": [{"type": "customers", "id": "1", "links": {"self": "/customers/1"}}],
    }).encode())
    write(d, bytes([ex | 1 | 2 << 4]) + compact({
        "_links": {"self": {"href": "/customers/1"}, "orders": [{"href": "http://127.0.0.1:8082/orders/7"}],
                   "find": {"href": "/customers{?q}", "templated": True}},
        "@id": "http://127.0.0.1:8081/customers/1",
        "collection": {"version": "1.0", "href": "/x",
                       "items": [{"href": "http://127.0.0.1:8082/orders/8",
                                  "links": [{"rel": "products", "href": "/api/v1/products/sku-1"}]}]},
    }).encode())
    for i, h in enumerate([
        '<http://127.0.0.1:8084/orders?page=2>; rel="next", </orders?page=0>; rel=prev',
        '<../customers/3>; rel="customer products"; title="x,y", <mailto:a@b>',
        '<http://elsewhere.example/y>;rel=self;anchor="#z"',
    ]):
        write(d, bytes([i * 3 | (i & 1) << 6]) + h.encode())


def rules_seeds():
    d = reset("rules_parse")
    for name in sorted(os.listdir(os.path.join(ROOT, "rules"))):
        if name.endswith(".toml"):
            with open(os.path.join(ROOT, "rules", name), "rb") as f:
                write(d, f.read())


def snapshot_seeds():
    d = reset("snapshot")
    seen = set()
    for line, rec in shop_lines():
        u = urlsplit(rec["url"])
        key = (u.port, tuple(sorted(rec)), shape(rec.get("body")))
        if key in seen:
            continue
        seen.add(key)
        if "body" in rec:
            rec = dict(rec, body=trim(rec["body"]))
        write(d, compact(rec) + "\n")
        if len(seen) >= 30:
            break
    bac = os.path.join(ROOT, "fixtures", "bac-talk")
    for name in sorted(os.listdir(bac)):
        if name.endswith(".ndjson"):
            with open(os.path.join(bac, name), "rb") as f:
                write(d, f.read())
    for text in [
        '{"url":"HTTP://127.0.0.1:8081/a/%7e/../b#f","status":200,"body":{"a":"\\u00e9"}}\r\n'
        '\n{"url":"http://127.0.0.1:8081/a","error":"timeout"}\n',
        '{"url":"http://h/x","status":301,"error":"too_many_redirects","headers":{"Location":"/y"}}',
        '{"url":"http://h/x","status":200,"body":null}\n{"url":"http://h/x","status":600}',
        '{"url":"ftp://h/x","status":200}',
    ]:
        write(d, text)


def canon_seeds():
    d = reset("canon")
    for i, h in enumerate([
        "/customers/3", "4", "../a/./b/%7e%2F%2f", "HTTP://User:pw@Example.COM.:80/a#f",
        "//h/x?y=%41#z", "http://[::1]:80/", "http://xn--bcher-kva.example/%2e%2E/x",
        "https://h:443/a/%25/%zz/%C3%A9/é", "?q", "#frag", "http://h..", "  http://h/ a ",
        "http://1.2.3.4./", "http://h/a%2e/%2E%2e/b", "mailto:a@b",
    ]):
        write(d, bytes([i]) + h.encode())


extract_seeds()
rules_seeds()
snapshot_seeds()
canon_seeds()
for t in ["extract", "rules_parse", "snapshot", "canon"]:
    files = os.listdir(os.path.join(SEEDS, t))
    size = sum(os.path.getsize(os.path.join(SEEDS, t, f)) for f in files)
    print(f"{t}: {len(files)} seeds, {size} bytes")
