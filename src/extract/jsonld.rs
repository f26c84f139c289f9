//! JSON-LD: an object with an `@id` is a representation whose self is that `@id`, so a nested
//! node object is referenced by its parent at `…/@id`. Blank nodes (`_:b0`) name nothing;
//! `@context` and `@type` hold vocabulary IRIs, not references (skipped by the walker).

use crate::json::{Map, Value};

use super::{Rels, SelfAt, SelfLink, Walker};

fn node_iri<'v>(v: &'v Value<'v>) -> Option<&'v str> {
    v.as_str().filter(|s| !s.starts_with("_:"))
}

/// An `@id` member: a link (relative or absolute) unless it is a blank node.
pub(super) fn id(w: &mut Walker<'_>, v: &Value<'_>) {
    if let Some(iri) = node_iri(v) {
        w.emit_href(iri, Rels::None);
    }
}

/// The `@id` of a node object.
pub(super) fn self_link<'v>(m: &'v Map<'v>) -> Option<SelfLink<'v>> {
    Some(SelfLink {
        href: node_iri(m.get("@id")?)?,
        at: SelfAt::at("/@id"),
        relative_ok: true,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::extract::testutil::*;

    const ORDER: &str = "http://127.0.0.1:8082/orders/1";

    #[test]
    fn node_objects_are_representations_and_references() {
        let r = shop();
        let doc = json!({
            "@context": "https://schema.org",
            "@id": "http://127.0.0.1:8082/orders/1",
            "@type": "Order",
            "broker": {"@id": "people/7"},
            "customer": {"@id": "http://127.0.0.1:8081/customers/3"},
            "orderedItem": [
                {"@id": "http://127.0.0.1:8082/orders/1/items/1", "@type": "OrderItem",
                 "orderedItem": {"@id": "http://127.0.0.1:8083/products/1", "name": "Pen"}},
                {"@id": "_:b0", "@type": "OrderItem",
                 "orderedItem": {"@id": "http://127.0.0.1:8083/products/2"}}
            ],
            "seller": {"@id": "https://shop.example/#org", "@type": "http://schema.org/Org",
                       "logo": "https://shop.example/logo.png"}
        });
        let x = run(&r, ORDER, &doc);
        let item = "http://127.0.0.1:8082/orders/1/items/1";
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(
                    ORDER,
                    "/broker/@id",
                    "http://127.0.0.1:8082/orders/people/7",
                    "-"
                ),
                row(
                    ORDER,
                    "/customer/@id",
                    "http://127.0.0.1:8081/customers/3",
                    "-"
                ),
                row(ORDER, "/orderedItem/0/@id", item, "-"),
                row(
                    item,
                    "/orderedItem/@id",
                    "http://127.0.0.1:8083/products/1",
                    "-"
                ),
                row(
                    ORDER,
                    "/orderedItem/1/orderedItem/@id",
                    "http://127.0.0.1:8083/products/2",
                    "-"
                ),
            ]
        );
        assert_eq!(
            rows(&r, &x.out_of_scope),
            vec![
                row(ORDER, "/seller/@id", "https://shop.example/", "-"),
                row(ORDER, "/seller/logo", "https://shop.example/logo.png", "-"),
            ]
        );
    }
}
