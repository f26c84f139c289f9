//! Collection+JSON: `collection.href`, `collection.links[]`, and `collection.items[]`, which
//! are representations whose self is their `href` (with their own `links[]`). `queries` and
//! `template` are forms that need parameters, not references: they are not scanned.

use crate::json::{Map, Value};

use super::{siren, Mode, Rels, SelfAt, SelfLink, Walker};

/// Whether a `collection` member is a Collection+JSON collection object.
pub(super) fn is_collection(c: &Map<'_>) -> bool {
    c.get("href").is_some_and(Value::is_string)
        || c.get("items").is_some_and(Value::is_array)
        || c.get("links").is_some_and(Value::is_array)
}

/// The `collection` object.
pub(super) fn collection<'a>(w: &mut Walker<'a>, c: &'a Map<'a>, depth: usize) {
    for (k, v) in c {
        let mark = w.push_key(k);
        match (k, v) {
            ("href", Value::String(h)) => w.emit_href(h, Rels::None),
            ("links", Value::Array(a)) => siren::link_array(w, a, depth + 1),
            ("items", Value::Array(a)) => {
                let kind = w.list_kind(a);
                for (i, item) in a.iter().enumerate() {
                    let m = w.push_index(i);
                    let mode = if item.is_object() {
                        Mode::CjItem
                    } else {
                        Mode::Plain
                    };
                    w.representation(item, mode, Rels::None, kind, depth + 2);
                    w.pop(m);
                }
            }
            ("queries" | "template", _) => {}
            _ => w.value(v, depth + 1),
        }
        w.pop(mark);
    }
}

/// An item's `href`.
pub(super) fn self_link<'v>(m: &'v Map<'v>) -> Option<SelfLink<'v>> {
    Some(SelfLink {
        href: m.get("href")?.as_str()?,
        at: SelfAt::at("/href"),
        relative_ok: true,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::extract::testutil::*;

    const PAGE: &str = "http://127.0.0.1:8082/orders";
    const O1: &str = "http://127.0.0.1:8082/orders/1";
    const C3: &str = "http://127.0.0.1:8081/customers/3";

    fn orders() -> serde_json::Value {
        json!({"collection": {
            "version": "1.0",
            "href": "http://127.0.0.1:8082/orders",
            "links": [
                {"rel": "feed", "href": "/orders/feed"},
                {"rel": "profile", "href": "https://profiles.example/order", "render": "link"}
            ],
            "items": [
                {"href": "/orders/1",
                 "data": [{"name": "total", "value": 30},
                          {"name": "customer", "value": "http://127.0.0.1:8081/customers/3"}],
                 "links": [{"rel": "customer", "href": "http://127.0.0.1:8081/customers/3"},
                           {"rel": "products", "href": "http://127.0.0.1:8083/products/1"}]},
                {"data": [{"name": "total", "value": 5}],
                 "links": [{"rel": "customer", "href": "http://127.0.0.1:8081/customers/4"}]}
            ],
            "queries": [{"rel": "search", "href": "http://127.0.0.1:8082/orders/search",
                         "data": [{"name": "q", "value": ""}]}],
            "template": {"data": [{"name": "customer", "value": "http://127.0.0.1:8081/x"}]}
        }})
    }

    #[test]
    fn collection_links_and_items() {
        let r = shop();
        let x = run(&r, PAGE, &orders());
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(PAGE, "/collection/items/0/href", O1, "-"),
                // Item pointers are those of the item's own Collection+JSON document.
                row(O1, "/collection/items/0/data/1/value", C3, "-"),
                row(O1, "/collection/items/0/links/0/href", C3, "order.customer"),
                row(
                    O1,
                    "/collection/items/0/links/1/href",
                    "http://127.0.0.1:8083/products/1",
                    "order.products"
                ),
                // No href: the item's links stay with the page.
                row(
                    PAGE,
                    "/collection/items/1/links/0/href",
                    "http://127.0.0.1:8081/customers/4",
                    "-"
                ),
                row(
                    PAGE,
                    "/collection/links/0/href",
                    "http://127.0.0.1:8082/orders/feed",
                    "-"
                ),
            ]
        );
        assert_eq!(
            rows(&r, &x.out_of_scope),
            vec![row(
                PAGE,
                "/collection/links/1/href",
                "https://profiles.example/order",
                "-"
            )]
        );
    }

    #[test]
    fn item_read_alone_gives_the_same_references() {
        let r = shop();
        let doc = json!({"collection": {"href": "/orders", "items": [
            {"href": "/orders/1",
             "links": [{"rel": "customer", "href": "http://127.0.0.1:8081/customers/3"}]}
        ]}});
        let direct = run(&r, O1, &doc);
        let listed = run(&r, PAGE, &orders());
        let same = row(O1, "/collection/items/0/links/0/href", C3, "order.customer");
        assert_eq!(
            rows(&r, &direct.links),
            vec![row(O1, "/collection/href", PAGE, "-"), same.clone()]
        );
        assert!(rows(&r, &listed.links).contains(&same));
    }
}
