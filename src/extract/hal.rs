//! HAL: `_links` (a link object or an array of them per relation; `templated` links are not
//! URLs and are skipped) and `_embedded` representations, whose self is `_links.self.href`.

use crate::json::{Map, Value};

use super::{Mode, Rels, SelfAt, SelfLink, Walker};

fn templated(o: &Map<'_>) -> bool {
    o.get("templated").and_then(Value::as_bool) == Some(true)
}

fn href<'v>(o: &'v Map<'v>) -> Option<&'v str> {
    o.get("href").and_then(Value::as_str)
}

/// `_links`: every relation's href, relative or absolute. Link objects' other members
/// (`title`, `profile`, `deprecation`, …) describe the link and are not links. A bare string
/// in place of a link object (a common HAL mistake) is taken as its href.
pub(super) fn links<'a>(w: &mut Walker<'a>, l: &'a Map<'a>) {
    for (rel, v) in l {
        let mark = w.push_key(rel);
        match v {
            Value::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    let m = w.push_index(i);
                    link(w, rel, e);
                    w.pop(m);
                }
            }
            _ => link(w, rel, v),
        }
        w.pop(mark);
    }
}

fn link(w: &mut Walker<'_>, rel: &str, v: &Value<'_>) {
    match v {
        Value::String(h) => w.emit_href(h, Rels::One(rel)),
        Value::Object(o) if !templated(o) => {
            if let Some(h) = href(o) {
                let m = w.push_key("href");
                w.emit_href(h, Rels::One(rel));
                w.pop(m);
            }
        }
        _ => {}
    }
}

/// `_embedded`: each value (an object or an array of objects) is a representation, referenced
/// with its `_embedded` key as relation.
pub(super) fn embedded<'a>(w: &mut Walker<'a>, e: &'a Map<'a>, depth: usize) {
    for (rel, v) in e {
        let mark = w.push_key(rel);
        match v {
            Value::Array(a) => {
                let kind = w.list_kind(a);
                for (i, item) in a.iter().enumerate() {
                    let m = w.push_index(i);
                    w.representation(item, Mode::Plain, Rels::One(rel), kind, depth + 2);
                    w.pop(m);
                }
            }
            _ => w.representation(v, Mode::Plain, Rels::One(rel), None, depth + 1),
        }
        w.pop(mark);
    }
}

/// `_links.self.href` (the first non-templated one when `self` is an array).
pub(super) fn self_link<'v>(m: &'v Map<'v>) -> Option<SelfLink<'v>> {
    let (index, h) = match m.get("_links")?.get("self")? {
        Value::Object(o) if !templated(o) => (None, href(o)?),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, e)| {
            let o = e.as_object()?;
            (!templated(o)).then_some(())?;
            Some((Some(i), href(o)?))
        })?,
        _ => return None,
    };
    Some(SelfLink {
        href: h,
        at: SelfAt::At {
            head: "/_links/self",
            index,
            tail: "/href",
        },
        relative_ok: true,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::extract::testutil::*;

    const ORDER: &str = "http://127.0.0.1:8082/orders/1";

    fn order() -> serde_json::Value {
        json!({
            "_links": {
                "self": {"href": "/orders/1"},
                "customer": {"href": "http://127.0.0.1:8081/customers/3", "title": "Ada"},
                "products": [
                    {"href": "http://127.0.0.1:8083/products/1"},
                    {"href": "http://127.0.0.1:8083/products/2",
                     "profile": "https://profiles.example/product"}
                ],
                "find": {"href": "/orders{?id}", "templated": true},
                "search": {"href": "/orders/search", "templated": true},
                "legacy": {"href": "/orders/{id}"},
                "shipment": "/shipments/1",
                "invoice": {"href": "invoices/1"},
                "docs": {"href": "https://docs.example/orders"}
            },
            "total": 30,
            "_embedded": {
                "lines": [
                    {"_links": {"self": {"href": "/orders/1/lines/0"},
                                "product": {"href": "http://127.0.0.1:8083/products/1"}},
                     "qty": 2},
                    {"qty": 1,
                     "_links": {"product": {"href": "http://127.0.0.1:8083/products/2"}}}
                ],
                "customer": {
                    "_links": {"self": {"href": "http://127.0.0.1:8081/customers/3"},
                               "orders": {"href": "/orders?customer=3"}},
                    "name": "Ada"
                }
            }
        })
    }

    #[test]
    fn hal_order_links_relations_and_embedded() {
        let r = shop();
        let x = run(&r, ORDER, &order());
        let lines = "http://127.0.0.1:8082/orders/1/lines/0";
        let c3 = "http://127.0.0.1:8081/customers/3";
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(
                    ORDER,
                    "/_embedded/customer/_links/self/href",
                    c3,
                    "order.customer"
                ),
                row(
                    c3,
                    "/_links/orders/href",
                    "http://127.0.0.1:8082/orders?customer=3",
                    "-"
                ),
                row(ORDER, "/_embedded/lines/0/_links/self/href", lines, "-"),
                row(
                    lines,
                    "/_links/product/href",
                    "http://127.0.0.1:8083/products/1",
                    "-"
                ),
                // No self link: the line's links stay with the order, pointers from the order.
                row(
                    ORDER,
                    "/_embedded/lines/1/_links/product/href",
                    "http://127.0.0.1:8083/products/2",
                    "-"
                ),
                row(ORDER, "/_links/customer/href", c3, "order.customer"),
                row(
                    ORDER,
                    "/_links/invoice/href",
                    "http://127.0.0.1:8082/orders/invoices/1",
                    "-"
                ),
                row(
                    ORDER,
                    "/_links/products/0/href",
                    "http://127.0.0.1:8083/products/1",
                    "order.products"
                ),
                row(
                    ORDER,
                    "/_links/products/1/href",
                    "http://127.0.0.1:8083/products/2",
                    "order.products"
                ),
                row(
                    ORDER,
                    "/_links/shipment",
                    "http://127.0.0.1:8082/shipments/1",
                    "-"
                ),
            ]
        );
        // Link attributes are not links; the templated one is not followed at all.
        assert_eq!(
            rows(&r, &x.out_of_scope),
            vec![row(
                ORDER,
                "/_links/docs/href",
                "https://docs.example/orders",
                "-"
            )]
        );
    }

    #[test]
    fn self_array_and_templated_self() {
        let r = shop();
        let x = run(
            &r,
            "http://127.0.0.1:8082/orders",
            &json!({"_embedded": {"orders": [
                {"_links": {"self": [{"href": "/orders/{id}", "templated": true},
                                     {"href": "/orders/5"}]}},
                {"_links": {"self": {"href": "/orders/{id}", "templated": true}}, "id": 6}
            ]}}),
        );
        assert_eq!(
            rows(&r, &x.links),
            vec![row(
                "http://127.0.0.1:8082/orders",
                "/_embedded/orders/0/_links/self/1/href",
                "http://127.0.0.1:8082/orders/5",
                "-"
            )]
        );
    }
}
