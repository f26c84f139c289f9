//! The per-resource hot paths through the public API: link extraction per format, URL
//! canonicalization (and its check without parsing), graph interning.
//! `cargo bench --bench hot_paths`; each bench is short (10 samples, ~1 s) so the whole file
//! runs in about a minute on 2 cores.

mod common;

use std::hint::black_box;
use std::time::Duration;

use bacaudit::canon;
use bacaudit::extract;
use bacaudit::graph::Graph;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use url::Url;

fn short_named<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    g
}

/// One extraction input: a name, the fetched URL, its headers, the body text, and whether it
/// belongs to the generated HAL world (else to the mixed-format shop fixture).
struct Case {
    name: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    text: String,
    world: bool,
}

fn cases() -> Vec<Case> {
    let hal = vec![(
        "content-type".to_string(),
        "application/hal+json".to_string(),
    )];
    let products: Vec<String> = (1..=3)
        .map(|i| format!("http://127.0.0.1:18082/products/{i}"))
        .collect();
    let mut out = vec![
        Case {
            name: "hal_item",
            url: "http://127.0.0.1:18084/orders/7".into(),
            headers: hal.clone(),
            text: common::hal_order(7, "http://127.0.0.1:18081/customers/3", &products),
            world: true,
        },
        Case {
            name: "hal_page100",
            url: "http://127.0.0.1:18083/shipments/page/2".into(),
            headers: hal,
            text: common::hal_page("shipments", 18083, 2, 1000),
            world: true,
        },
    ];
    for (name, url) in [
        ("hal_embedded_page50", "http://127.0.0.1:8081/customers"),
        ("jsonapi_page50", "http://127.0.0.1:8082/products"),
        ("jsonapi_item", "http://127.0.0.1:8082/products/p-0001"),
        (
            "siren_page50_link_header",
            "http://127.0.0.1:8083/shipments",
        ),
        ("siren_item", "http://127.0.0.1:8083/shipments/1001"),
        ("plain_page50_pointers", "http://127.0.0.1:8084/orders"),
        ("plain_item_pointers", "http://127.0.0.1:8084/orders/1"),
    ] {
        let (headers, text) = common::shop_body(url);
        out.push(Case {
            name,
            url: url.into(),
            headers,
            text,
            world: false,
        });
    }
    out
}

fn extraction(c: &mut Criterion) {
    let world = common::rules(common::WORLD_RULES);
    let shop = common::rules(common::SHOP_RULES);
    let cases = cases();
    // extraction alone, on an already parsed body
    let mut g = short_named(c, "extract");
    for case in &cases {
        let rules = if case.world { &world } else { &shop };
        let url = Url::parse(&case.url).unwrap();
        let headers = &case.headers;
        let body = bacaudit::json::from_slice(case.text.as_bytes()).unwrap();
        let found = extract::extract(rules, &url, headers, Some(&body));
        // a JSON:API product carries only its self link, which is not a reference
        let self_only = case.name == "jsonapi_item";
        assert_eq!(
            found.links.is_empty(),
            self_only,
            "{}: {found:?}",
            case.name
        );
        g.throughput(Throughput::Bytes(case.text.len() as u64));
        g.bench_function(case.name, |b| {
            b.iter(|| extract::extract(rules, black_box(&url), headers, Some(black_box(&body))))
        });
    }
    g.finish();
    // what the crawler does per response: parse the JSON text, then extract
    let mut g = short_named(c, "parse_and_extract");
    for case in &cases {
        if !matches!(
            case.name,
            "hal_item" | "hal_page100" | "plain_page50_pointers"
        ) {
            continue;
        }
        let rules = if case.world { &world } else { &shop };
        let url = Url::parse(&case.url).unwrap();
        let (headers, text) = (&case.headers, case.text.as_bytes());
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(case.name, |b| {
            b.iter(|| {
                let body = bacaudit::json::from_slice(black_box(text)).unwrap();
                extract::extract(rules, &url, headers, Some(&body))
            })
        });
    }
    g.finish();
}

fn canonicalization(c: &mut Criterion) {
    let mut g = short_named(c, "canon");
    let base = Url::parse("http://127.0.0.1:18084/orders/7").unwrap();
    g.bench_function("parse_absolute", |b| {
        b.iter(|| canon::parse_absolute(black_box("http://127.0.0.1:18081/customers/12345")))
    });
    g.bench_function("parse_absolute_messy", |b| {
        b.iter(|| {
            canon::parse_absolute(black_box(
                "HTTP://User:pw@Example.COM:80/a/./b/%7Ex/../c%2f?q=1#frag",
            ))
        })
    });
    g.bench_function("resolve_absolute", |b| {
        b.iter(|| canon::resolve(&base, black_box("http://127.0.0.1:18081/customers/12345")))
    });
    g.bench_function("resolve_relative", |b| {
        b.iter(|| canon::resolve(&base, black_box("/customers/12345")))
    });
    // The check without parsing, on every link and snapshot line: the common shapes, a
    // query, a name host, and a relative href it turns away at once.
    for (name, url) in [
        (
            "already_canonical_ip_port",
            "http://127.0.0.1:18081/customers/12345",
        ),
        (
            "already_canonical_query",
            "http://127.0.0.1:18084/orders/page/12?size=100&sort=id",
        ),
        (
            "already_canonical_name",
            "https://api.example.com/shipments/1001/items/3",
        ),
        ("already_canonical_relative", "/customers/12345"),
    ] {
        g.throughput(Throughput::Bytes(url.len() as u64));
        g.bench_function(name, |b| {
            b.iter(|| canon::already_canonical(black_box(url)))
        });
    }
    g.finish();
}

fn interning(c: &mut Criterion) {
    let urls: Vec<String> = (0..100_000)
        .map(|i| format!("http://127.0.0.1:{}/things/{i}", 18081 + i % 4))
        .collect();
    let mut g = short_named(c, "graph");
    g.throughput(Throughput::Elements(urls.len() as u64));
    g.bench_function("intern_100k_new", |b| {
        b.iter_batched(
            || Graph::new(4),
            |mut graph| {
                for u in &urls {
                    graph.intern(u, Some(0), 1);
                }
                graph
            },
            BatchSize::LargeInput,
        )
    });
    let mut full = Graph::new(4);
    for u in &urls {
        full.intern(u, Some(0), 1);
    }
    g.bench_function("intern_100k_known", |b| {
        b.iter(|| {
            for u in &urls {
                black_box(full.intern(u, Some(0), 1));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, extraction, canonicalization, interning);
criterion_main!(benches);
