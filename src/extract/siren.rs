//! Siren: `links[]` (`{rel, href}`; the same array shape serves Collection+JSON), link
//! sub-entities in `entities` (with `href`), embedded sub-entities (with `properties` or
//! `links`, whose self is their `rel: self` link), and `actions`, which are forms, not links.

use crate::json::{Map, Value};

use super::{Mode, Rels, SelfAt, SelfLink, Walker};

fn href<'v>(o: &'v Map<'v>) -> Option<&'v str> {
    o.get("href").and_then(Value::as_str)
}

/// A `links` array: elements with `href` and `rel` are links (relative or absolute); other
/// elements are plain JSON.
pub(super) fn link_array<'a>(w: &mut Walker<'a>, a: &'a [Value<'a>], depth: usize) {
    for (i, e) in a.iter().enumerate() {
        let mark = w.push_index(i);
        match e {
            Value::Object(o) if o.contains_key("rel") && href(o).is_some() => {
                let m = w.push_key("href");
                w.emit_href(href(o).unwrap_or_default(), Rels::Json(o.get("rel")));
                w.pop(m);
            }
            _ => w.value(e, depth + 1),
        }
        w.pop(mark);
    }
}

/// `entities`: link sub-entities (`href`) are links; sub-entities with `properties` or
/// `links` are representations referenced with their `rel`.
pub(super) fn entities<'a>(w: &mut Walker<'a>, a: &'a [Value<'a>], depth: usize) {
    let kind = w.list_kind(a);
    for (i, e) in a.iter().enumerate() {
        let mark = w.push_index(i);
        match e {
            Value::Object(o) if href(o).is_some() => {
                let m = w.push_key("href");
                w.emit_href(href(o).unwrap_or_default(), Rels::Json(o.get("rel")));
                w.pop(m);
            }
            Value::Object(o) if o.contains_key("properties") || o.contains_key("links") => {
                let rels = Rels::Json(o.get("rel"));
                w.representation(e, Mode::SirenEntity, rels, kind, depth + 1);
            }
            _ if kind.is_some() => w.representation(e, Mode::Plain, Rels::None, kind, depth + 1),
            _ => w.value(e, depth + 1),
        }
        w.pop(mark);
    }
}

/// `actions`: an action (`name` and `href`) names an operation, often not a GET; it is not a
/// reference and is not scanned. Other elements are plain JSON.
pub(super) fn actions<'a>(w: &mut Walker<'a>, a: &'a [Value<'a>], depth: usize) {
    for (i, e) in a.iter().enumerate() {
        if let Value::Object(o) = e {
            if o.contains_key("name") && href(o).is_some() {
                continue;
            }
        }
        let mark = w.push_index(i);
        w.value(e, depth + 1);
        w.pop(mark);
    }
}

/// The `href` of the first `links[]` element whose `rel` includes `self`.
pub(super) fn self_link<'v>(m: &'v Map<'v>) -> Option<SelfLink<'v>> {
    let Value::Array(links) = m.get("links")? else {
        return None;
    };
    links.iter().enumerate().find_map(|(i, l)| {
        let o = l.as_object()?;
        Rels::Json(o.get("rel")).contains("self").then_some(())?;
        Some(SelfLink {
            href: href(o)?,
            at: SelfAt::At {
                head: "/links",
                index: Some(i),
                tail: "/href",
            },
            relative_ok: true,
        })
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::extract::testutil::*;

    const ORDER: &str = "http://127.0.0.1:8082/orders/1";
    const C3: &str = "http://127.0.0.1:8081/customers/3";

    fn order() -> serde_json::Value {
        json!({
            "class": ["order"],
            "properties": {"orderNumber": 1, "status": "pending",
                           "customerUrl": "http://127.0.0.1:8081/customers/3"},
            "entities": [
                {"class": ["items", "collection"], "rel": ["http://x.io/rels/order-items"],
                 "href": "/orders/1/items"},
                {"class": ["info", "customer"], "rel": ["http://x.io/rels/customer", "customer"],
                 "properties": {"customerId": "pj123", "name": "Peter Joseph"},
                 "links": [{"rel": ["self"], "href": "http://127.0.0.1:8081/customers/3"},
                           {"rel": ["orders"], "href": "/orders?customer=3"}]},
                {"class": ["note"], "rel": ["http://x.io/rels/note"],
                 "properties": {"text": "hi"},
                 "links": [{"rel": ["author"], "href": "http://127.0.0.1:8081/customers/4"}]}
            ],
            "actions": [
                {"name": "add-item", "title": "Add Item", "method": "POST",
                 "href": "http://127.0.0.1:8082/orders/1/lines",
                 "type": "application/x-www-form-urlencoded",
                 "fields": [{"name": "orderNumber", "type": "hidden", "value": "42"}]}
            ],
            "links": [
                {"rel": ["self"], "href": "http://127.0.0.1:8082/orders/1"},
                {"rel": ["previous"], "href": "http://127.0.0.1:8082/orders/0"},
                {"rel": ["next", "products"], "href": "2"},
                {"rel": "customer", "href": "http://127.0.0.1:8081/customers/3"},
                {"title": "no rel", "href": "/ignored"}
            ]
        })
    }

    #[test]
    fn siren_links_sub_entities_and_actions() {
        let r = shop();
        let x = run(&r, ORDER, &order());
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(
                    ORDER,
                    "/entities/0/href",
                    "http://127.0.0.1:8082/orders/1/items",
                    "-"
                ),
                row(ORDER, "/entities/1/links/0/href", C3, "order.customer"),
                row(
                    C3,
                    "/links/1/href",
                    "http://127.0.0.1:8082/orders?customer=3",
                    "-"
                ),
                row(
                    ORDER,
                    "/entities/2/links/0/href",
                    "http://127.0.0.1:8081/customers/4",
                    "-"
                ),
                row(
                    ORDER,
                    "/links/1/href",
                    "http://127.0.0.1:8082/orders/0",
                    "-"
                ),
                row(
                    ORDER,
                    "/links/2/href",
                    "http://127.0.0.1:8082/orders/2",
                    "order.products"
                ),
                row(ORDER, "/links/3/href", C3, "order.customer"),
                row(ORDER, "/properties/customerUrl", C3, "-"),
            ]
        );
        // Relation IRIs, the action and the rel-less link object are not links.
        assert_eq!(rows(&r, &x.out_of_scope), vec![]);
    }
}
