//! `collection` pages (APIs without hypermedia): on a kind's list page, each element of the
//! list is a representation of the kind, whose URL is its self link or else the kind's path
//! filled with the id at the kind's `id_pointer`. The list is where the kind's
//! `items_pointer` says (`/rows`, `/value`), else in one of the usual places.

use crate::json::Value;
use url::Url;

use super::pointers::id_of;
use super::SelfAt;
use crate::rules::{KindId, Rules};

/// The list of a `collection` page at `url` and the kind of its elements.
pub(super) fn find_list<'b>(
    rules: &Rules,
    url: &str,
    body: &'b Value<'b>,
) -> Option<(&'b [Value<'b>], KindId)> {
    let kind = rules.collection_of_str(url)?;
    let list = match &rules.kind(kind).items_pointer {
        Some(p) => p.get(body)?.as_array()?,
        None => list_of(body)?,
    };
    Some((list, kind))
}

/// The body itself if it is an array, else the first array at `/results`, `/data`, `/items`,
/// `/_embedded/*`, `/collection/items` or `/entities`.
pub(super) fn list_of<'v>(body: &'v Value<'v>) -> Option<&'v [Value<'v>]> {
    fn array<'v>(v: Option<&'v Value<'v>>) -> Option<&'v [Value<'v>]> {
        v.and_then(Value::as_array)
    }
    let m = match body {
        Value::Array(a) => return Some(a),
        Value::Object(m) => m,
        _ => return None,
    };
    array(m.get("results"))
        .or_else(|| array(m.get("data")))
        .or_else(|| array(m.get("items")))
        .or_else(|| {
            m.get("_embedded")?
                .as_object()?
                .values()
                .find_map(|v| array(Some(v)))
        })
        .or_else(|| array(m.get("collection").and_then(|c| c.get("items"))))
        .or_else(|| array(m.get("entities")))
}

/// The URL of a listed element of `kind` made from its id, with the pointer of the id.
pub(super) fn id_self<'r>(
    rules: &'r Rules,
    kind: KindId,
    v: &Value<'_>,
) -> Option<(Url, SelfAt<'r>)> {
    let p = &rules.kind(kind).id_pointer;
    let id = id_of(p.get(v)?)?;
    Some((rules.fill(kind, &id), SelfAt::Pointer(p)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::extract::testutil::*;

    fn rules() -> Rules {
        shop_builder()
            .collection("order", "/orders")
            .collection("customer", "/customers")
            .id_pointer("customer", "/customerNumber")
            .pointer_link("order", "customer", "/customer_id", "customer")
            .build()
    }

    #[test]
    fn bare_array_elements_are_resources_made_from_ids() {
        let r = rules();
        let page = "http://127.0.0.1:8082/orders?page=2";
        let body = json!([
            {"id": 1, "customer_id": 3},
            {"id": "a b", "customer_id": "7"},
            {"name": "no id", "customer_id": 8}
        ]);
        let x = run(&r, page, &body);
        let o1 = "http://127.0.0.1:8082/orders/1";
        let oab = "http://127.0.0.1:8082/orders/a%20b";
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(page, "/0/id", o1, "-"),
                row(
                    o1,
                    "/customer_id",
                    "http://127.0.0.1:8081/customers/3",
                    "order.customer"
                ),
                row(page, "/1/id", oab, "-"),
                row(
                    oab,
                    "/customer_id",
                    "http://127.0.0.1:8081/customers/7",
                    "order.customer"
                ),
            ]
        );
        // The same array elsewhere is not a list of orders.
        let other = run(&r, "http://127.0.0.1:8082/archive", &body);
        assert!(other.links.is_empty());
    }

    #[test]
    fn drf_results_use_self_links_then_ids() {
        let r = shop_builder().collection("customer", "/customers").build();
        let page = "http://127.0.0.1:8081/customers";
        let body = json!({
            "count": 2,
            "next": "http://127.0.0.1:8081/customers?page=2",
            "results": [
                {"url": "http://127.0.0.1:8081/customers/1", "id": 1, "name": "a"},
                {"id": 2, "name": "b"}
            ]
        });
        let x = run(&r, page, &body);
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(page, "/next", "http://127.0.0.1:8081/customers?page=2", "-"),
                row(
                    page,
                    "/results/0/url",
                    "http://127.0.0.1:8081/customers/1",
                    "-"
                ),
                row(
                    page,
                    "/results/1/id",
                    "http://127.0.0.1:8081/customers/2",
                    "-"
                ),
            ]
        );
    }

    #[test]
    fn hal_embedded_list_with_custom_id_pointer() {
        let r = rules();
        let page = "http://127.0.0.1:8081/customers";
        let c9 = "http://127.0.0.1:8081/customers/c-9";
        let body = json!({"_embedded": {"customers": [
            {"customerNumber": "c-9", "_links": {"orders": {"href": "/orders?c=9"}}}
        ]}});
        let x = run(&r, page, &body);
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(page, "/_embedded/customers/0/customerNumber", c9, "-"),
                row(
                    c9,
                    "/_links/orders/href",
                    "http://127.0.0.1:8081/orders?c=9",
                    "-"
                ),
            ]
        );
    }

    #[test]
    fn items_pointer_names_the_list() {
        let r = shop_builder()
            .collection("customer", "/customers")
            .items_pointer("customer", "/rows")
            .build();
        let page = "http://127.0.0.1:8081/customers?_next=2";
        let body = json!({"items": [{"id": 9}], "rows": [{"id": 1}], "next_url": null});
        let x = run(&r, page, &body);
        assert_eq!(
            rows(&r, &x.links),
            vec![row(
                page,
                "/rows/0/id",
                "http://127.0.0.1:8081/customers/1",
                "-"
            )]
        );
        // Nothing there (or no array): no list, and no guessing among the usual places.
        let x = run(&r, page, &json!({"items": [{"id": 9}]}));
        assert!(x.links.is_empty());
    }

    #[test]
    fn list_is_the_first_array_among_the_known_places() {
        let list = |b: serde_json::Value| {
            let b = Value::from(&b);
            list_of(&b).map(|l| l.iter().map(Value::to_serde).collect::<Vec<_>>())
        };
        let b = json!({"results": "x", "data": {"a": 1}, "items": [1], "entities": [2]});
        assert_eq!(list(b), Some(vec![json!(1)]));
        let b = json!({"_embedded": {"a": {"x": 1}, "b": [3]}, "entities": [2]});
        assert_eq!(list(b), Some(vec![json!(3)]));
        let b = json!({"collection": {"items": [4]}, "entities": [2]});
        assert_eq!(list(b), Some(vec![json!(4)]));
        assert_eq!(list(json!({"entities": [2]})), Some(vec![json!(2)]));
        assert_eq!(list(json!({"other": [2]})), None);
        assert_eq!(list(json!("x")), None);
    }
}
