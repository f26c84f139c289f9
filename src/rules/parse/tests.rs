//! Tests of the rules parser: the example file field by field, normalization, and a catalogue
//! of malformed files, each rejected with the exact line, key and a message fragment.

use url::Url;

use super::*;
use crate::canon;
use crate::rules::{BrokenAction, OrphanAction, PathTemplate, Pointer, PointerPattern, Selector};

const EXAMPLE: &str = include_str!("../../../rules/example.toml");

/// Values of the environment the tests run in: none of them may ever appear in a message.
const SECRETS: &[(&str, &str)] = &[
    ("TOKEN", "Bearer tok-SECRET-1"),
    ("CUSTOMERS_TOKEN", "Bearer tok-SECRET-2"),
    ("OTHER", "tok-SECRET-3"),
    ("BROKEN", "Bearer tok-SECRET-4\r\nX-Injected: 1"),
    ("EMPTY", ""),
];

fn env(name: &str) -> Option<String> {
    SECRETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

fn ok(text: &str) -> Rules {
    parse(Path::new("rules/t.toml"), text, &env).unwrap_or_else(|e| panic!("rejected: {e}"))
}

/// Parses `text`, expects a rejection at `line` and `key` with `fragment` in the message, and
/// checks that no secret leaks into the message.
#[track_caller]
fn rejects(text: &str, line: Option<usize>, key: Option<&str>, fragment: &str) {
    let e = match parse(Path::new("rules/t.toml"), text, &env) {
        Ok(r) => panic!("accepted, expected an error with {fragment:?}: {r:?}"),
        Err(e) => e,
    };
    let shown = e.to_string();
    assert_eq!(e.line, line, "line of: {shown}");
    assert_eq!(e.key.as_deref(), key, "key of: {shown}");
    assert!(
        e.message.contains(fragment),
        "message {:?} lacks {fragment:?}",
        e.message
    );
    assert_eq!(e.file, Path::new("rules/t.toml"));
    for (_, secret) in SECRETS.iter().filter(|(_, v)| !v.is_empty()) {
        assert!(!shown.contains(secret), "secret leaked: {shown}");
        assert!(!format!("{e:?}").contains(secret), "secret leaked: {e:?}");
    }
}

/// A small valid file; the cases below change one thing in it.
const VALID: &str = r#"[services.customers]
base_url = "http://127.0.0.1:8081/"
seeds = ["/customers"]

[services.orders]
base_url = "http://127.0.0.1:8082/api/"
seeds = ["/api/orders"]

[kinds.customer]
service = "customers"
path = "/customers/{id}"

[kinds.order]
service = "orders"
path = "/api/orders/{id}"

[kinds.order.links.customer]
pointer = "/customer_id"
to = "customer"
"#;

/// `VALID` with `from` replaced by `to` (which must be there).
fn edit(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from:?} not in VALID");
    VALID.replacen(from, to, 1)
}

#[test]
fn the_small_file_is_valid() {
    let r = ok(VALID);
    assert_eq!(r.services.len(), 2);
    assert_eq!(r.kinds.len(), 2);
    assert_eq!(r.links.len(), 1);
}

/// The kinds of the example file, by id (name order).
const CUSTOMER: usize = 0;
const ORDER: usize = 1;
const PRODUCT: usize = 2;

#[test]
fn example_file_services_compile_field_by_field() {
    let r = parse(Path::new("rules/example.toml"), EXAMPLE, &env).unwrap();
    assert_eq!(r.path, Path::new("rules/example.toml"));

    // Services, in name order.
    let names: Vec<&str> = r.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["catalog", "customers", "orders"]);
    let catalog = &r.services[0];
    assert_eq!(catalog.base_url.as_str(), "http://127.0.0.1:8083/api/v1/");
    assert!(catalog.seeds.is_empty());
    assert!(catalog.auth.is_none());
    assert_eq!(catalog.concurrency, None);
    assert_eq!(catalog.rate_limit, None);

    let customers = &r.services[1];
    assert_eq!(customers.base_url.as_str(), "http://127.0.0.1:8081/");
    let seeds: Vec<&str> = customers.seeds.iter().map(Url::as_str).collect();
    assert_eq!(seeds, ["http://127.0.0.1:8081/customers"]);
    let auth = customers.auth.as_ref().unwrap();
    assert_eq!(auth.header, "Authorization");
    assert_eq!(auth.env, "CUSTOMERS_TOKEN");
    assert_eq!(auth.value.expose(), "Bearer tok-SECRET-2");
    assert_eq!(customers.concurrency, Some(32));
    assert_eq!(customers.rate_limit, Some(200.0));
    assert!(!format!("{r:?}").contains("tok-SECRET"));

    let orders = &r.services[2];
    assert_eq!(orders.base_url.as_str(), "http://127.0.0.1:8082/");
    let seeds: Vec<&str> = orders.seeds.iter().map(Url::as_str).collect();
    assert_eq!(
        seeds,
        [
            "http://127.0.0.1:8082/orders",
            "http://127.0.0.1:8082/orders?status=open"
        ]
    );
    assert!(orders.auth.is_none());
}

#[test]
fn example_file_kinds_compile_field_by_field() {
    let r = parse(Path::new("rules/example.toml"), EXAMPLE, &env).unwrap();
    let (customer, order, product) = (CUSTOMER, ORDER, PRODUCT);

    // Kinds, in name order.
    let names: Vec<&str> = r.kinds.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["customer", "order", "product"]);

    let k = &r.kinds[customer];
    assert_eq!(k.service, 1);
    assert_eq!(k.path, PathTemplate::parse("/customers/{id}").unwrap());
    assert_eq!(k.must_be_referenced_by, vec![0]);
    assert_eq!(k.on_orphan, OrphanAction::Delete);
    assert_eq!(k.jsonapi_type.as_deref(), Some("customers"));
    assert_eq!(k.collection, None);
    assert_eq!(k.id_pointer.tokens, ["id"]);
    assert!(k.links.is_empty());

    let k = &r.kinds[order];
    assert_eq!(k.service, 2);
    assert_eq!(k.path.prefix, "/orders/");
    assert_eq!(k.path.suffix, "");
    assert!(k.must_be_referenced_by.is_empty());
    assert_eq!(k.on_orphan, OrphanAction::Manual);
    assert_eq!(k.jsonapi_type.as_deref(), Some("orders"));
    assert_eq!(k.collection.as_deref(), Some("/orders"));
    assert_eq!(k.id_pointer.tokens, ["id"]);
    assert_eq!(k.links, vec![0, 1, 2]);

    let k = &r.kinds[product];
    assert_eq!(k.service, 0);
    assert_eq!(k.path.prefix, "/api/v1/products/");
    assert_eq!(k.must_be_referenced_by, vec![1, 2]);
    assert_eq!(k.on_orphan, OrphanAction::Manual);
    assert_eq!(k.jsonapi_type, None);
    assert_eq!(k.collection.as_deref(), Some("/api/v1/products"));
    assert_eq!(k.id_pointer.tokens, ["sku"]);
    assert!(k.links.is_empty());
}

#[test]
fn example_file_links_compile_field_by_field() {
    let r = parse(Path::new("rules/example.toml"), EXAMPLE, &env).unwrap();
    let (customer, order, product) = (CUSTOMER, ORDER, PRODUCT);

    // Links, in full-name order: order.customer, order.lines, order.products.
    let names: Vec<&str> = r.links.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["order.customer", "order.lines", "order.products"]);

    let l = &r.links[0];
    assert_eq!(l.kind, order as KindId);
    assert_eq!(
        l.selector,
        Selector::Pointer(PointerPattern::parse("/customer_id").unwrap())
    );
    assert_eq!(l.to, customer as KindId);
    assert_eq!(l.on_broken, BrokenAction::Cascade);

    let l = &r.links[1];
    assert_eq!(l.kind, order as KindId);
    match &l.selector {
        Selector::Pointer(p) => {
            assert_eq!(p.source, "/items/*/product_id");
            assert_eq!(
                p.tokens,
                [
                    Some("items".to_string()),
                    None,
                    Some("product_id".to_string())
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(l.to, product as KindId);
    assert_eq!(l.on_broken, BrokenAction::Recreate);

    let l = &r.links[2];
    assert_eq!(l.selector, Selector::Rel("products".into()));
    assert_eq!(l.to, product as KindId);
    assert_eq!(l.on_broken, BrokenAction::SetNull);
}

#[test]
fn example_file_rules_answer_the_crawlers_questions() {
    let r = parse(Path::new("rules/example.toml"), EXAMPLE, &env).unwrap();
    let (customer, order, product) = (CUSTOMER, ORDER, PRODUCT);

    // The compiled rules answer the crawler's questions.
    let u = Url::parse("http://127.0.0.1:8083/api/v1/products/p%2D7").unwrap();
    let u = canon::canonicalize(&u);
    assert_eq!(r.kind_of(&u), Some((product as KindId, "p-7".to_string())));
    let page = Url::parse("http://127.0.0.1:8082/orders?page=2").unwrap();
    assert_eq!(r.collection_of(&page), Some(order as KindId));
    assert_eq!(
        r.kind_by_jsonapi_type("customers"),
        Some(customer as KindId)
    );
    assert!(r.is_referring_link(0));
    assert_eq!(
        r.fill(customer as KindId, "a b").as_str(),
        "http://127.0.0.1:8081/customers/a%20b"
    );
}

#[test]
fn every_example_key_is_covered() {
    // The example shows every key the parser accepts.
    for key in [
        "version",
        "base_url",
        "seeds",
        "auth",
        "header",
        "env",
        "concurrency",
        "rate_limit",
        "service",
        "path",
        "must_be_referenced_by",
        "on_orphan",
        "jsonapi_type",
        "collection",
        "id_pointer",
        "pointer",
        "rel",
        "to",
        "on_broken",
    ] {
        assert!(
            EXAMPLE
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{key} ="))
                    || l.contains(&format!("{{ {key} ="))
                    || l.contains(&format!(", {key} ="))),
            "example does not show `{key}`"
        );
    }
}

#[test]
fn defaults_and_normalization() {
    let r = ok(r#"version = 1
[services.a]
base_url = "HTTP://Example.COM:80/x/%7Euser"
seeds = ["/x/~user/list", "http://example.com/x/~user/", "/x/%7euser/a#frag"]
rate_limit = 0.5
[kinds.k]
service = "a"
path = "/x/~user/k/{id}/view"
id_pointer = ""
[kinds.k.links.self_ref]
rel = "up"
to = "k"
"#);
    let s = &r.services[0];
    assert_eq!(s.base_url.as_str(), "http://example.com/x/~user/");
    let seeds: Vec<&str> = s.seeds.iter().map(Url::as_str).collect();
    assert_eq!(
        seeds,
        [
            "http://example.com/x/~user/list",
            "http://example.com/x/~user/",
            "http://example.com/x/~user/a"
        ]
    );
    assert_eq!(s.rate_limit, Some(0.5));
    let k = &r.kinds[0];
    assert_eq!(k.path.suffix, "/view");
    assert!(k.id_pointer.tokens.is_empty());
    assert_eq!(k.on_orphan, OrphanAction::Manual);
    assert_eq!(r.links[0].on_broken, BrokenAction::Manual);
    assert_eq!(r.links[0].name, "k.self_ref");

    // No seeds at all, no kinds at all: fine.
    let r = ok("[services.a]\nbase_url = \"https://h\"\n");
    assert_eq!(r.services[0].base_url.as_str(), "https://h/");
    assert!(r.services[0].seeds.is_empty());
    assert!(r.kinds.is_empty());
}

#[test]
fn links_are_sorted_by_full_name() {
    // `a-b.y` sorts before `a.x` (`-` < `.`) although kind `a` sorts before kind `a-b`.
    let r = ok(r#"[services.s]
base_url = "http://h/"
[kinds.a]
service = "s"
path = "/a/{id}"
must_be_referenced_by = ["a-b.y", "a.x", "a-b.y"]
links.x = { pointer = "/x", to = "a" }
[kinds.a-b]
service = "s"
path = "/b/{id}"
links.y = { pointer = "/y", to = "a" }
"#);
    let names: Vec<&str> = r.links.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["a-b.y", "a.x"]);
    assert_eq!(r.kinds[0].links, vec![1]);
    assert_eq!(r.kinds[1].links, vec![0]);
    assert_eq!(r.kinds[0].must_be_referenced_by, vec![0, 1]);
    assert_eq!(r.links[0].kind, 1);
    assert_eq!(r.links[1].kind, 0);
}

#[test]
fn display_names_file_line_and_key() {
    let e = parse(
        Path::new("rules/shop.toml"),
        &edit("to = \"customer\"", "to = \"custmer\""),
        &env,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "rules/shop.toml:19: key `kinds.order.links.customer.to`: unknown kind `custmer` \
         (known: customer, order)"
    );
}

#[test]
fn load_reads_a_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/does-not-exist.toml");
    let e = super::super::load(&path).unwrap_err();
    assert_eq!(e.line, None);
    assert!(e.message.contains("cannot read rules file"));
}

#[test]
fn first_mistake_in_the_file_is_reported() {
    let text = edit("to = \"customer\"", "to = \"nope\"").replacen(
        "service = \"customers\"",
        "service = \"nope\"",
        1,
    );
    rejects(
        &text,
        Some(10),
        Some("kinds.customer.service"),
        "unknown service `nope`",
    );
}

#[test]
fn never_panics_on_mangled_input() {
    let run = |t: &str| {
        let _ = parse(Path::new("x.toml"), t, &env);
    };
    // Every prefix of the files (cut at line and at arbitrary char boundaries).
    for text in [VALID, EXAMPLE] {
        for (i, _) in text.char_indices().step_by(7) {
            run(&text[..i]);
        }
        // Every line removed, doubled or replaced with junk.
        let lines: Vec<&str> = text.lines().collect();
        for i in 0..lines.len() {
            let mut l = lines.clone();
            l.remove(i);
            run(&l.join("\n"));
            let mut l = lines.clone();
            l.insert(i, lines[i]);
            run(&l.join("\n"));
            for junk in [
                "[",
                "]]",
                "= 1",
                "\"",
                "x = {",
                "[[kinds]]",
                "a.b.c = 1",
                "é",
            ] {
                let mut l = lines.clone();
                l[i] = junk;
                run(&l.join("\n"));
            }
        }
    }
    for t in [
        "",
        "\u{feff}",
        "\0",
        "[services.a]\nbase_url = \"\u{0}\"",
        "[services.a]\nbase_url = \"http://[::1\"",
        "[services.a]\nbase_url = \"http://h/\"\nseeds = [\"//\", \"/%\", \"/\u{1F600}\", \"http://h:99999/\"]",
        "[services.a]\nbase_url = \"http://h/\"\nconcurrency = 9223372036854775807\nrate_limit = nan",
        "[services.a]\nbase_url = \"http://h/\"\nrate_limit = -inf",
        "[services.a]\nbase_url = \"http://h/\"\nauth = { header = \"\", env = \"\" }",
        "[services.a]\nbase_url = \"http://h/\"\nauth = { header = \"A\", env = \"A=B\\u0000\" }",
        "\"$__serde_spanned_private_start\" = 1\nservices = 2",
        "[services.a]\nbase_url = \"http://h/\"\n[kinds.k]\nservice = \"a\"\npath = \"/{id}/..\"\ncollection = \"/..\"",
        "[services.a]\nbase_url = \"http://h/\"\n[kinds.k]\nservice = \"a\"\npath = \"//{id}\"\ncollection = \"//x\"",
    ] {
        run(t);
    }
}

// ----- the catalogue of malformed files -----------------------------------------------------

macro_rules! reject {
    ($name:ident, $text:expr, $line:expr, $key:expr, $fragment:expr $(,)?) => {
        #[test]
        fn $name() {
            rejects(&$text, $line.into(), $key.into(), $fragment);
        }
    };
}

// Unknown keys and TOML errors (from serde / toml, located through the span tree).
reject!(
    unknown_top_level_key,
    format!("servics = {{}}\n{VALID}"),
    1,
    "servics",
    "unknown key `servics`, expected one of `version`, `services`, `kinds`"
);
reject!(
    unknown_key_in_service,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nseed = \"/x\"\n"
    ),
    4,
    "services.customers.seed",
    "unknown key `seed`"
);
reject!(
    unknown_key_in_auth,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nauth = { header = \"A\", env = \"TOKEN\", value = \"x\" }\n"
    ),
    4,
    "services.customers.auth.value",
    "unknown key `value`, expected one of `header`, `env`, `bearer_env`"
);
reject!(
    unknown_key_in_kind,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\npaht = \"/c\"\n"
    ),
    12,
    "kinds.customer.paht",
    "unknown key `paht`"
);
reject!(
    unknown_key_in_link,
    format!("{VALID}too = \"customer\"\n"),
    20,
    "kinds.order.links.customer.too",
    "unknown key `too`"
);
reject!(
    toml_syntax_error,
    edit("path = \"/customers/{id}\"", "path = \"/customers/{id}"),
    11,
    None::<&str>,
    "TOML syntax error"
);
reject!(
    toml_duplicate_key,
    edit("to = \"customer\"", "to = \"customer\"\nto = \"order\""),
    20,
    None::<&str>,
    "duplicate key `to`"
);
reject!(
    wrong_type_integer,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nconcurrency = \"many\"\n"
    ),
    4,
    "services.customers.concurrency",
    "invalid type: string \"many\", expected an integer"
);
reject!(
    wrong_type_in_array,
    edit(
        "seeds = [\"/api/orders\"]",
        "seeds = [\n  \"/api/orders\",\n  7,\n]"
    ),
    9,
    "services.orders.seeds",
    "invalid type: integer `7`, expected a string"
);
reject!(
    wrong_type_table_for_string,
    edit("to = \"customer\"", "to = { kind = \"customer\" }"),
    19,
    "kinds.order.links.customer.to",
    "invalid type: table, expected a string"
);
reject!(
    wrong_type_date_time,
    edit("to = \"customer\"", "to = 2024-01-01"),
    19,
    "kinds.order.links.customer.to",
    "invalid type: date-time, expected a string"
);
reject!(
    services_as_array_of_tables,
    "[[services]]\nbase_url = \"http://h/\"\n",
    1,
    "services",
    "invalid type: array, expected a table"
);
reject!(
    missing_base_url,
    edit("base_url = \"http://127.0.0.1:8082/api/\"\n", ""),
    5,
    "services.orders",
    "missing key `base_url`"
);
reject!(
    missing_service_of_implicit_kind,
    "[services.s]\nbase_url = \"http://h/\"\n\n[kinds.order.links.customer]\nrel = \"c\"\nto = \"order\"\n",
    4,
    "kinds.order",
    "missing key `service`"
);
reject!(
    missing_to,
    edit("to = \"customer\"\n", ""),
    17,
    "kinds.order.links.customer",
    "missing key `to`"
);

// version
reject!(
    bad_version,
    format!("version = 2\n{VALID}"),
    1,
    "version",
    "unsupported rules version 2 (expected 1)"
);
reject!(
    version_as_string,
    format!("version = \"1\"\n{VALID}"),
    1,
    "version",
    "expected an integer"
);

// services.*.base_url
reject!(
    base_url_garbage,
    edit("http://127.0.0.1:8081/", "garbage"),
    2,
    "services.customers.base_url",
    "`garbage` is not an absolute URL"
);
reject!(
    base_url_ftp,
    edit("http://127.0.0.1:8081/", "ftp://127.0.0.1/"),
    2,
    "services.customers.base_url",
    "has scheme `ftp` (expected http or https)"
);
reject!(
    base_url_query,
    edit("http://127.0.0.1:8081/", "http://127.0.0.1:8081/?tenant=1"),
    2,
    "services.customers.base_url",
    "must not have a query string"
);
reject!(
    base_url_fragment,
    edit("http://127.0.0.1:8081/", "http://127.0.0.1:8081/#top"),
    2,
    "services.customers.base_url",
    "must not have a fragment"
);
reject!(
    base_url_no_host,
    edit("http://127.0.0.1:8081/", "http://"),
    2,
    "services.customers.base_url",
    "has no host"
);
reject!(
    base_url_userinfo,
    edit(
        "http://127.0.0.1:8081/",
        "http://admin:hunter2@127.0.0.1:8081/"
    ),
    2,
    "services.customers.base_url",
    "must not contain credentials"
);
reject!(
    base_url_duplicate,
    edit("http://127.0.0.1:8082/api/", "http://127.0.0.1:8081"),
    6,
    "services.orders.base_url",
    "is already the base_url of service `customers`"
);

// services.*.seeds
reject!(
    seed_not_under_base_path,
    edit("[\"/api/orders\"]", "[\"/orders\"]"),
    7,
    "services.orders.seeds",
    "seed `/orders` is not under the service's base path `/api/`"
);
reject!(
    seed_escapes_base_path_with_dots,
    edit("[\"/api/orders\"]", "[\"/api/../orders\"]"),
    7,
    "services.orders.seeds",
    "is not under the service's base path `/api/`"
);
reject!(
    seed_on_another_host,
    edit(
        "[\"/customers\"]",
        "[\"http://other.example:8081/customers\"]"
    ),
    3,
    "services.customers.seeds",
    "is not on the service's origin `http://127.0.0.1:8081`"
);
reject!(
    seed_on_another_port,
    edit(
        "[\"/customers\"]",
        "[\"/customers\", \"http://127.0.0.1:9999/customers\"]"
    ),
    3,
    "services.customers.seeds",
    "seed `http://127.0.0.1:9999/customers` is not on the service's origin"
);
reject!(
    seed_relative,
    edit("[\"/customers\"]", "[\"customers\"]"),
    3,
    "services.customers.seeds",
    "must be an absolute path (`/customers`) or a full http(s) URL"
);
reject!(
    seed_of_a_nested_service,
    "[services.root]\nbase_url = \"http://h/\"\nseeds = [\"/b/x\"]\n[services.b]\nbase_url = \"http://h/b/\"\n",
    3,
    "services.root.seeds",
    "lies under the base_url of service `b`"
);

// services.*.auth
reject!(
    auth_env_missing,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nauth = { header = \"Authorization\", env = \"CUSTOMERS_TOKN\" }\n"
    ),
    4,
    "services.customers.auth.env",
    "environment variable `CUSTOMERS_TOKN` is not set"
);
reject!(
    auth_env_value_not_a_header_value,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\n[services.customers.auth]\nheader = \"Authorization\"\nenv = \"BROKEN\"\n"
    ),
    6,
    "services.customers.auth.env",
    "`BROKEN` does not hold a valid header value"
);
reject!(
    auth_env_empty,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nauth.header = \"Authorization\"\nauth.env = \"EMPTY\"\n"
    ),
    5,
    "services.customers.auth.env",
    "environment variable `EMPTY` is empty"
);
reject!(
    auth_bad_header_name,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nauth = { header = \"Bad Header:\", env = \"TOKEN\" }\n"
    ),
    4,
    "services.customers.auth.header",
    "`Bad Header:` is not a valid HTTP header name"
);
reject!(
    auth_bad_env_name,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nauth = { header = \"X-Key\", env = \"A=B\" }\n"
    ),
    4,
    "services.customers.auth.env",
    "`A=B` is not a valid environment variable name"
);

// services.*.concurrency / rate_limit, names, no services
reject!(
    concurrency_zero,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nconcurrency = 0\n"
    ),
    4,
    "services.customers.concurrency",
    "must be at least 1 (got 0)"
);
reject!(
    rate_limit_zero,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrate_limit = 0\n"
    ),
    4,
    "services.customers.rate_limit",
    "greater than 0 (got 0)"
);
reject!(
    rate_limit_nan,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrate_limit = nan\n"
    ),
    4,
    "services.customers.rate_limit",
    "greater than 0 (got NaN)"
);
reject!(
    service_name_with_dot,
    edit("[services.orders]", "[services.\"or.ders\"]"),
    5,
    "services.\"or.ders\"",
    "service name `or.ders` may only contain"
);
reject!(
    no_services_empty_file,
    "",
    None,
    "services",
    "no services declared"
);
reject!(
    no_services_only_kinds,
    "[kinds.customer]\nservice = \"customers\"\npath = \"/customers/{id}\"\n",
    None,
    "services",
    "no services declared"
);
reject!(
    no_services_empty_table,
    "version = 1\n[services]\n",
    2,
    "services",
    "no services declared"
);

// kinds.*
reject!(
    kind_unknown_service,
    edit("service = \"customers\"", "service = \"custmers\""),
    10,
    "kinds.customer.service",
    "unknown service `custmers` (known: customers, orders)"
);
reject!(
    path_without_id,
    edit("path = \"/customers/{id}\"", "path = \"/customers\""),
    11,
    "kinds.customer.path",
    "must contain exactly one `{id}` (found 0)"
);
reject!(
    path_with_two_ids,
    edit(
        "path = \"/customers/{id}\"",
        "path = \"/customers/{id}/{id}\""
    ),
    11,
    "kinds.customer.path",
    "must contain exactly one `{id}` (found 2)"
);
reject!(
    path_query_without_id,
    edit(
        "path = \"/customers/{id}\"",
        "path = \"/customers/{id}?x=1\""
    ),
    11,
    "kinds.customer.path",
    "must not have a query string unless `{id}` is in it"
);
reject!(
    path_id_in_a_query_name,
    edit("path = \"/customers/{id}\"", "path = \"/customers?{id}\""),
    11,
    "kinds.customer.path",
    "`{id}` in the query must be in a parameter's value"
);
reject!(
    items_pointer_without_collection,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\nitems_pointer = \"/rows\"\n"
    ),
    12,
    "kinds.customer.items_pointer",
    "needs `collection`"
);
reject!(
    items_pointer_bad,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\ncollection = \"/customers\"\nitems_pointer = \"rows\"\n"
    ),
    13,
    "kinds.customer.items_pointer",
    "must start with `/`"
);

#[test]
fn ids_inside_segments_and_in_queries() {
    let r = ok(r#"
[services.ds]
base_url = "http://127.0.0.1:8001/"
[services.od]
base_url = "http://127.0.0.1:8002/odata/"
[services.pg]
base_url = "http://127.0.0.1:3000/"
[kinds.product]
service = "ds"
path = "/shop/products/{id}.json"
collection = "/shop/products.json"
items_pointer = "/rows"
[kinds.customer]
service = "od"
path = "/odata/Customers('{id}')"
[kinds.order]
service = "od"
path = "/odata/Orders({id})"
[kinds.row]
service = "pg"
path = "/customers?id=eq.{id}"
collection = "/customers"
"#);
    let url = |s: &str| Url::parse(s).unwrap();
    let kind = |s: &str| {
        r.kind_of(&url(s))
            .map(|(k, id)| (r.kind(k).name.clone(), id))
    };
    let named = |n: &str, id: &str| Some((n.to_string(), id.to_string()));
    assert_eq!(
        kind("http://127.0.0.1:8001/shop/products/3.json"),
        named("product", "3")
    );
    assert_eq!(kind("http://127.0.0.1:8001/shop/products.json"), None);
    assert_eq!(
        kind("http://127.0.0.1:8002/odata/Customers('O''Neil')"),
        named("customer", "O'Neil")
    );
    assert_eq!(
        kind("http://127.0.0.1:8002/odata/Orders(7)"),
        named("order", "7")
    );
    assert_eq!(
        kind("http://127.0.0.1:3000/customers?id=eq.3"),
        named("row", "3")
    );
    assert_eq!(kind("http://127.0.0.1:3000/customers?limit=3"), None);
    for u in [
        "http://127.0.0.1:8001/shop/products/3.json",
        "http://127.0.0.1:3000/customers?id=eq.3",
        "http://127.0.0.1:3000/customers?offset=3",
    ] {
        assert_eq!(r.kind_id_of_str(u), r.kind_id_of(&url(u)), "{u}");
        assert_eq!(r.collection_of_str(u), r.collection_of(&url(u)), "{u}");
    }
    // An item addressed by its query is not a page of the collection at the same path.
    assert_eq!(
        r.collection_of(&url("http://127.0.0.1:3000/customers?id=eq.3")),
        None
    );
    assert!(r
        .collection_of(&url("http://127.0.0.1:3000/customers?offset=3"))
        .is_some());
    let row = r
        .kind_id_of_str("http://127.0.0.1:3000/customers?id=eq.3")
        .unwrap();
    assert_eq!(
        r.fill(row, "a&b").as_str(),
        "http://127.0.0.1:3000/customers?id=eq.a%26b"
    );
    let customer = r
        .kind_id_of_str("http://127.0.0.1:8002/odata/Customers('x')")
        .unwrap();
    assert_eq!(
        r.fill(customer, "O'Neil").as_str(),
        "http://127.0.0.1:8002/odata/Customers('O''Neil')"
    );
    let product = r
        .kind_id_of_str("http://127.0.0.1:8001/shop/products/1.json")
        .unwrap();
    assert_eq!(r.kind(product).items_pointer, Pointer::parse("/rows").ok());
}
reject!(
    path_not_under_base_path,
    edit("path = \"/api/orders/{id}\"", "path = \"/orders/{id}\""),
    15,
    "kinds.order.path",
    "path `/orders/{id}` is not under the service's base path `/api/`"
);
reject!(
    path_not_normalized,
    edit(
        "path = \"/api/orders/{id}\"",
        "path = \"/api/x/../orders/{id}\""
    ),
    15,
    "kinds.order.path",
    "is not a normalized URL path (URLs spell it `/api/orders/{id}`)"
);
reject!(
    path_duplicate_on_one_service,
    format!("{VALID}[kinds.client]\nservice = \"customers\"\npath = \"/customers/{{id}}\"\n"),
    22,
    "kinds.client.path",
    "is already the path of kind `customer`"
);
reject!(
    collection_with_id,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\ncollection = \"/customers/{id}\"\n"
    ),
    12,
    "kinds.customer.collection",
    "must not contain `{id}`"
);
reject!(
    collection_with_query,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\ncollection = \"/customers?page=1\"\n"
    ),
    12,
    "kinds.customer.collection",
    "must not have a query string"
);
reject!(
    collection_not_under_base_path,
    edit(
        "path = \"/api/orders/{id}\"\n",
        "path = \"/api/orders/{id}\"\ncollection = \"/orders\"\n"
    ),
    16,
    "kinds.order.collection",
    "collection `/orders` is not under the service's base path `/api/`"
);
reject!(
    collection_relative,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\ncollection = \"customers\"\n"
    ),
    12,
    "kinds.customer.collection",
    "must be an absolute path"
);
reject!(
    bad_id_pointer,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\nid_pointer = \"id\"\n"
    ),
    12,
    "kinds.customer.id_pointer",
    "JSON pointer `id` must start with `/`"
);
reject!(
    duplicate_jsonapi_type,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\njsonapi_type = \"things\"\n"
    )
    .replacen(
        "path = \"/api/orders/{id}\"\n",
        "path = \"/api/orders/{id}\"\njsonapi_type = \"things\"\n",
        1
    ),
    17,
    "kinds.order.jsonapi_type",
    "jsonapi_type `things` is already the type of kind `customer`"
);
reject!(
    must_be_referenced_by_unknown_link,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\nmust_be_referenced_by = [\"order.custmer\"]\n"
    ),
    12,
    "kinds.customer.must_be_referenced_by",
    "unknown link `order.custmer` (known: order.customer)"
);
reject!(
    must_be_referenced_by_not_a_link_name,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\nmust_be_referenced_by = [\n  \"order.customer\",\n  \"order\",\n]\n"
    ),
    14,
    "kinds.customer.must_be_referenced_by",
    "`order` is not a link name: expected `kind.link` (known: order.customer)"
);
reject!(
    must_be_referenced_by_link_to_another_kind,
    edit(
        "path = \"/api/orders/{id}\"\n",
        "path = \"/api/orders/{id}\"\nmust_be_referenced_by = [\"order.customer\"]\n"
    ),
    16,
    "kinds.order.must_be_referenced_by",
    "link `order.customer` points at kind `customer`, not at `order`"
);
reject!(
    bad_on_orphan,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\non_orphan = \"remove\"\n"
    ),
    12,
    "kinds.customer.on_orphan",
    "unknown on_orphan `remove` (expected one of: delete, manual)"
);
reject!(
    kind_name_with_space,
    edit("[kinds.customer]", "[kinds.\"cust omer\"]"),
    9,
    "kinds.\"cust omer\"",
    "kind name `cust omer` may only contain"
);

// kinds.*.links.*
reject!(
    link_with_pointer_and_rel,
    edit(
        "pointer = \"/customer_id\"\n",
        "pointer = \"/customer_id\"\nrel = \"customer\"\n"
    ),
    19,
    "kinds.order.links.customer.rel",
    "either `pointer` or `rel`, not both"
);
reject!(
    link_with_neither_pointer_nor_rel,
    edit("pointer = \"/customer_id\"\n", ""),
    17,
    "kinds.order.links.customer",
    "a link needs `pointer` (a JSON pointer) or `rel`"
);
reject!(
    pointer_without_slash,
    edit("pointer = \"/customer_id\"", "pointer = \"customer_id\""),
    18,
    "kinds.order.links.customer.pointer",
    "JSON pointer `customer_id` must start with `/`"
);
reject!(
    pointer_bad_escape,
    edit("pointer = \"/customer_id\"", "pointer = \"/a~2\""),
    18,
    "kinds.order.links.customer.pointer",
    "bad escape"
);
reject!(
    pointer_empty,
    edit("pointer = \"/customer_id\"", "pointer = \"\""),
    18,
    "kinds.order.links.customer.pointer",
    "JSON pointer is empty"
);
reject!(
    rel_with_spaces,
    edit("pointer = \"/customer_id\"", "rel = \"the customer\""),
    18,
    "kinds.order.links.customer.rel",
    "`the customer` is not a link relation name"
);
reject!(
    link_to_unknown_kind,
    edit("to = \"customer\"", "to = \"custmer\""),
    19,
    "kinds.order.links.customer.to",
    "unknown kind `custmer` (known: customer, order)"
);
reject!(
    bad_on_broken,
    format!("{VALID}on_broken = \"delete\"\n"),
    20,
    "kinds.order.links.customer.on_broken",
    "unknown on_broken `delete` (expected one of: cascade, set-null, recreate, manual)"
);
reject!(
    link_name_with_dot_in_inline_table,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\nlinks = { \"a.b\" = { rel = \"x\", to = \"order\" } }\n"
    ),
    12,
    "kinds.customer.links.\"a.b\"",
    "link name `a.b` may only contain"
);

#[test]
fn the_message_quoted_in_the_example_is_true() {
    let quoted = EXAMPLE
        .lines()
        .find_map(|l| l.strip_prefix("#   rules/example.toml:"))
        .map(|rest| format!("rules/example.toml:{rest}"))
        .unwrap();
    let text = EXAMPLE.replacen("to = \"customer\"", "to = \"custmer\"", 1);
    let e = parse(Path::new("rules/example.toml"), &text, &env).unwrap_err();
    assert_eq!(e.to_string(), quoted);
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("x = {}1{}\n", "[".repeat(5000), "]".repeat(5000));
    let e = parse(Path::new("d.toml"), &deep, &env).unwrap_err();
    assert_eq!(e.line, Some(1));
    let deep = format!("x = {}{}\n", "{ a = ".repeat(5000), "}".repeat(5000));
    assert!(parse(Path::new("d.toml"), &deep, &env).is_err());
}

// Restore points (`restored_from`) and timestamps (`timestamp`): the explain stage's keys.

#[test]
fn restored_from_takes_a_toml_datetime_or_an_rfc3339_string() {
    let r = ok(&edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrestored_from = 2026-11-20T10:00:00Z\n",
    ));
    assert_eq!(
        r.services[0]
            .restored_from
            .map(|t| t.to_string())
            .as_deref(),
        Some("2026-11-20T10:00:00Z")
    );
    assert_eq!(r.services[1].restored_from, None);
    let r = ok(&edit(
        "seeds = [\"/api/orders\"]\n",
        "seeds = [\"/api/orders\"]\nrestored_from = \"2026-11-20T14:00:00+02:00\"\n",
    ));
    assert_eq!(
        r.services[1]
            .restored_from
            .map(|t| t.to_string())
            .as_deref(),
        Some("2026-11-20T12:00:00Z")
    );
}

#[test]
fn timestamp_is_a_pointer_on_a_kind() {
    let r = ok(&edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\ntimestamp = \"/meta/created_at\"\n",
    ));
    assert_eq!(
        r.kinds[0]
            .timestamp
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("/meta/created_at")
    );
    assert!(r.kinds[1].timestamp.is_none());
}

#[test]
fn a_datetime_elsewhere_does_not_hide_the_key_of_a_later_mistake() {
    let text = edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrestored_from = 2026-11-20T10:00:00Z\nconcurency = 3\n",
    );
    rejects(
        &text,
        Some(5),
        Some("services.customers.concurency"),
        "unknown key `concurency`",
    );
}

reject!(
    restored_from_local_datetime,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrestored_from = 2026-11-20T10:00:00\n"
    ),
    4,
    "services.customers.restored_from",
    "date-time `2026-11-20T10:00:00` has no offset: add `Z` for UTC"
);
reject!(
    restored_from_date_only,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrestored_from = 2026-11-20\n"
    ),
    4,
    "services.customers.restored_from",
    "needs a date and a time of day"
);
reject!(
    restored_from_bad_string,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrestored_from = \"last tuesday\"\n"
    ),
    4,
    "services.customers.restored_from",
    "`last tuesday` is not an RFC 3339 date-time"
);
reject!(
    restored_from_number,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\nrestored_from = 1795168800\n"
    ),
    4,
    "services.customers.restored_from",
    "must be a date-time like 2026-11-20T10:00:00Z (a TOML date-time or an RFC 3339 string), not integer"
);
reject!(
    timestamp_bad_pointer,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\ntimestamp = \"created_at\"\n"
    ),
    12,
    "kinds.customer.timestamp",
    "JSON pointer `created_at` must start with `/`"
);
reject!(
    timestamp_empty_pointer,
    edit(
        "path = \"/customers/{id}\"\n",
        "path = \"/customers/{id}\"\ntimestamp = \"\"\n"
    ),
    12,
    "kinds.customer.timestamp",
    "JSON pointer is empty"
);

#[test]
fn example_file_shows_the_restore_keys() {
    let r = parse(Path::new("rules/example.toml"), EXAMPLE, &env).unwrap();
    let orders = r.services.iter().find(|s| s.name == "orders").unwrap();
    assert_eq!(
        orders.restored_from.map(|t| t.to_string()).as_deref(),
        Some("2026-11-20T12:00:00Z")
    );
    let product = r.kinds.iter().find(|k| k.name == "product").unwrap();
    assert_eq!(
        product
            .timestamp
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("/updated_at")
    );
}

// An alias names one service.
reject!(
    alias_is_another_services_base_url,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\naliases = [\"http://127.0.0.1:8082/api/\"]\n"
    ),
    4,
    "services.customers.aliases",
    "alias `http://127.0.0.1:8082/api/` is the base_url of service `orders`"
);
reject!(
    alias_of_two_services,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\naliases = [\"https://prod.example/\"]\n"
    )
    .replace(
        "seeds = [\"/api/orders\"]\n",
        "seeds = [\"/api/orders\"]\naliases = [\"https://prod.example/\"]\n"
    ),
    9,
    "services.orders.aliases",
    "alias `https://prod.example/` is also an alias of service `customers`"
);

#[test]
fn patch_and_create_dialects_default_and_parse() {
    let r = ok(VALID);
    assert_eq!(r.services[0].patch, crate::rules::PatchDialect::JsonPatch);
    assert_eq!(r.services[0].create, crate::rules::CreateDialect::Put);
    let r = ok(&edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\npatch = \"merge-patch\"\ncreate = \"post\"\n",
    ));
    assert_eq!(r.services[0].patch, crate::rules::PatchDialect::MergePatch);
    assert_eq!(r.services[0].create, crate::rules::CreateDialect::Post);
    assert_eq!(r.services[1].patch, crate::rules::PatchDialect::JsonPatch);
    let r = ok(&edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\npatch = \"put\"\n",
    ));
    assert_eq!(r.services[0].patch, crate::rules::PatchDialect::Put);
}

reject!(
    bad_patch_dialect,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\npatch = \"json-merge\"\n"
    ),
    4,
    "services.customers.patch",
    "unknown patch dialect `json-merge` (expected one of: json-patch, merge-patch, put)"
);
reject!(
    bad_create_dialect,
    edit(
        "seeds = [\"/customers\"]\n",
        "seeds = [\"/customers\"]\ncreate = \"upsert\"\n"
    ),
    4,
    "services.customers.create",
    "unknown create dialect `upsert` (expected one of: put, post)"
);
