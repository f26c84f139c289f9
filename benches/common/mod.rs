//! Shared inputs of the benches: rules for the two benchmark worlds, realistic bodies, and a
//! generated shop world snapshot (the shape of `shared/bench/gen_world.py`, written in Rust so
//! `cargo bench` needs nothing outside the repository).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

use bacaudit::rules::{self, Rules};

/// The rules of the generated HAL world (as `shared/bench/world.toml`).
pub const WORLD_RULES: &str = r#"
version = 1
[services.customers]
base_url = "http://127.0.0.1:18081/"
seeds = ["/customers"]
[services.products]
base_url = "http://127.0.0.1:18082/"
seeds = ["/products"]
[services.shipments]
base_url = "http://127.0.0.1:18083/"
seeds = ["/shipments"]
[services.orders]
base_url = "http://127.0.0.1:18084/"
seeds = ["/orders"]
[kinds.customer]
service = "customers"
path = "/customers/{id}"
must_be_referenced_by = ["order.customer"]
on_orphan = "delete"
[kinds.product]
service = "products"
path = "/products/{id}"
[kinds.shipment]
service = "shipments"
path = "/shipments/{id}"
[kinds.order]
service = "orders"
path = "/orders/{id}"
[kinds.order.links.customer]
rel = "customer"
to = "customer"
on_broken = "cascade"
[kinds.order.links.products]
rel = "products"
to = "product"
[kinds.order.links.shipment]
rel = "shipment"
to = "shipment"
"#;

/// The rules of the mixed-format shop fixture (as `rules/shop.toml`): HAL customers, JSON:API
/// products, Siren shipments, plain DRF-style JSON orders with id pointers.
pub const SHOP_RULES: &str = r#"
version = 1
[services.customers]
base_url = "http://127.0.0.1:8081/"
seeds = ["/customers"]
[services.products]
base_url = "http://127.0.0.1:8082/"
seeds = ["/products"]
[services.shipments]
base_url = "http://127.0.0.1:8083/"
seeds = ["/shipments"]
[services.orders]
base_url = "http://127.0.0.1:8084/"
seeds = ["/orders"]
[kinds.customer]
service = "customers"
path = "/customers/{id}"
must_be_referenced_by = ["order.customer"]
on_orphan = "delete"
[kinds.product]
service = "products"
path = "/products/{id}"
jsonapi_type = "products"
[kinds.shipment]
service = "shipments"
path = "/shipments/{id}"
[kinds.order]
service = "orders"
path = "/orders/{id}"
[kinds.order.links.customer]
pointer = "/customer_id"
to = "customer"
on_broken = "cascade"
[kinds.order.links.products]
pointer = "/items/*/product_id"
to = "product"
on_broken = "set-null"
[kinds.order.links.shipment]
pointer = "/shipment"
to = "shipment"
on_broken = "recreate"
[kinds.shipment.links.order]
pointer = "/properties/order_id"
to = "order"
"#;

/// Compiles inline rules text.
pub fn rules(text: &str) -> Rules {
    rules::parse(Path::new("bench.toml"), text, &|_| None).expect("bench rules are valid")
}

const PAGE: usize = 100;

fn url(svc: &str, port: u16, id: usize) -> String {
    format!("http://127.0.0.1:{port}/{svc}/{id}")
}

fn page_url(svc: &str, port: u16, p: usize) -> String {
    if p == 1 {
        format!("http://127.0.0.1:{port}/{svc}")
    } else {
        format!("http://127.0.0.1:{port}/{svc}/page/{p}")
    }
}

/// A HAL order of the generated world: self, customer, shipment and 1-3 products.
pub fn hal_order(i: usize, customer: &str, products: &[String]) -> String {
    let mut p = String::new();
    for (k, h) in products.iter().enumerate() {
        if k > 0 {
            p.push(',');
        }
        let _ = write!(p, r#"{{"href":"{h}"}}"#);
    }
    format!(
        r#"{{"id":{i},"status":"paid","total":{{"amount":{}.5,"currency":"EUR"}},"createdAt":"2024-03-0{}T10:00:00Z","_links":{{"self":{{"href":"{}"}},"customer":{{"href":"{customer}"}},"shipment":{{"href":"{}"}},"products":[{p}]}}}}"#,
        i % 1999,
        1 + i % 9,
        url("orders", 18084, i),
        url("shipments", 18083, i),
    )
}

/// A HAL collection page of the generated world: self, first, prev, next and 100 item links.
pub fn hal_page(svc: &str, port: u16, p: usize, total: usize) -> String {
    let pages = total.div_ceil(PAGE);
    let mut links = format!(
        r#""self":{{"href":"{}"}},"first":{{"href":"{}"}}"#,
        page_url(svc, port, p),
        page_url(svc, port, 1)
    );
    if p > 1 {
        let _ = write!(
            links,
            r#","prev":{{"href":"{}"}}"#,
            page_url(svc, port, p - 1)
        );
    }
    if p < pages {
        let _ = write!(
            links,
            r#","next":{{"href":"{}"}}"#,
            page_url(svc, port, p + 1)
        );
    }
    links.push_str(r#","item":["#);
    let lo = (p - 1) * PAGE + 1;
    let hi = total.min(p * PAGE);
    for i in lo..=hi {
        if i > lo {
            links.push(',');
        }
        let _ = write!(links, r#"{{"href":"{}"}}"#, url(svc, port, i));
    }
    links.push(']');
    format!(r#"{{"page":{p},"pageSize":{PAGE},"total":{total},"_links":{{{links}}}}}"#)
}

/// A generated world: the snapshot text and the findings it must give.
pub struct World {
    pub ndjson: String,
    pub resources: usize,
    pub broken: usize,
    pub orphans: usize,
}

/// A deterministic shop world of about `n` items in the shape of `gen_world.py` (4 HAL
/// services, pages of 100, ~1 % of orders with a broken customer or product link, one in five
/// of those a 410 tombstone, ~1 % orphan customers).
pub fn world(n: usize) -> World {
    let nc = (n * 15 / 100).max(10);
    let np = (n * 5 / 100).max(10);
    let no = (n * 40 / 100).max(10);
    let mut out = String::with_capacity(n * 420);
    let mut resources = 0usize;
    let mut line = |out: &mut String, u: &str, body: &str| {
        let _ = writeln!(
            out,
            r#"{{"url":"{u}","status":200,"headers":{{"content-type":"application/hal+json"}},"body":{body}}}"#
        );
        resources += 1;
    };
    // customers whose id is a multiple of 100 are orphans: no order points at them
    let referenced: Vec<usize> = (1..=nc).filter(|c| c % 100 != 0).collect();
    let mut refcount = vec![0u32; nc + 1];
    let (mut broken, mut gone) = (0usize, Vec::new());
    for i in 1..=nc {
        let body = format!(
            r#"{{"id":{i},"name":"Ada Lovelace","email":"ada.{i}@example.invalid","tier":"gold","_links":{{"self":{{"href":"{}"}}}}}}"#,
            url("customers", 18081, i)
        );
        line(&mut out, &url("customers", 18081, i), &body);
    }
    for i in 1..=np {
        let body = format!(
            r#"{{"id":{i},"sku":"SKU-{i:07}","name":"steel kettle","price":{{"amount":12.5,"currency":"EUR"}},"_links":{{"self":{{"href":"{}"}}}}}}"#,
            url("products", 18082, i)
        );
        line(&mut out, &url("products", 18082, i), &body);
    }
    for i in 1..=no {
        let body = format!(
            r#"{{"id":{i},"carrier":"dhl","trackingNumber":"TRK{:010}","status":"in_transit","_links":{{"self":{{"href":"{}"}}}}}}"#,
            i * 37,
            url("shipments", 18083, i)
        );
        line(&mut out, &url("shipments", 18083, i), &body);
    }
    for i in 1..=no {
        let mut cust = referenced[(i - 1) % referenced.len()];
        let mut products: Vec<String> = (0..1 + i % 3)
            .map(|k| url("products", 18082, 1 + (i * 7 + k * 13) % np))
            .collect();
        let mut customer = url("customers", 18081, cust);
        if i % 100 == 50 {
            let target = if (i / 100) % 2 == 0 {
                cust = 0;
                customer = url("customers", 18081, nc + i);
                customer.clone()
            } else {
                let t = url("products", 18082, np + i);
                *products.last_mut().expect("one product at least") = t.clone();
                t
            };
            if broken % 5 == 2 {
                gone.push(target);
            }
            broken += 1;
        }
        refcount[cust] += 1;
        line(
            &mut out,
            &url("orders", 18084, i),
            &hal_order(i, &customer, &products),
        );
    }
    for (svc, port, total) in [
        ("customers", 18081, nc),
        ("products", 18082, np),
        ("shipments", 18083, no),
        ("orders", 18084, no),
    ] {
        for p in 1..=total.div_ceil(PAGE) {
            line(
                &mut out,
                &page_url(svc, port, p),
                &hal_page(svc, port, p, total),
            );
        }
    }
    for u in gone {
        let _ = writeln!(
            out,
            r#"{{"url":"{u}","status":410,"headers":{{"content-type":"text/html"}},"body":null}}"#
        );
    }
    let orphans = (1..=nc).filter(|&c| refcount[c] == 0).count();
    World {
        ndjson: out,
        resources,
        broken,
        orphans,
    }
}

/// One recorded body of the shop fixture, by URL: (headers, body text).
pub fn shop_body(url: &str) -> (Vec<(String, String)>, String) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/shop/shop.ndjson");
    let text = std::fs::read_to_string(path).expect("fixtures/shop/shop.ndjson");
    for l in text.lines() {
        let v: serde_json::Value = serde_json::from_str(l).expect("fixture lines are JSON");
        if v["url"] == url {
            let headers = v["headers"]
                .as_object()
                .map(|h| {
                    h.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            return (headers, v["body"].to_string());
        }
    }
    panic!("{url} is not in the shop fixture")
}
