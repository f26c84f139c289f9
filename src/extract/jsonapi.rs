//! JSON:API: a document's `links`, resource objects in `data` and `included` (representations
//! whose self is `links.self`, else the URL made from `type` + `id`), their `links`, and
//! `relationships` (`links.related`, and `data` linkage `{type, id}` filled into the kind
//! whose `jsonapi_type` is that type).

use crate::json::{Map, Value};
use url::Url;

use super::{pointers, Mode, Rels, SelfAt, SelfLink, Walker};
use crate::rules::Rules;

/// A resource object: a `type` string and an `id`/`lid` or resource members.
fn is_resource(o: &Map<'_>) -> bool {
    o.get("type").is_some_and(Value::is_string)
        && ["id", "lid", "attributes", "relationships", "links"]
            .iter()
            .any(|k| o.contains_key(k))
}

/// Whether a root object is a JSON:API document (when the content type does not say so).
pub(super) fn is_document(m: &Map<'_>) -> bool {
    let empty_data = match m.get("data") {
        Some(Value::Object(o)) => return is_resource(o),
        Some(Value::Array(a)) => match a.first() {
            Some(Value::Object(o)) => return is_resource(o),
            Some(_) => return false,
            None => true,
        },
        Some(Value::Null) => true,
        _ => false,
    };
    m.get("jsonapi").is_some_and(Value::is_object)
        || (empty_data && m.get("links").is_some_and(Value::is_object))
}

/// Top-level `data`: one resource object or an array of them.
pub(super) fn primary<'a>(w: &mut Walker<'a>, v: &'a Value<'a>, depth: usize) {
    match v {
        Value::Object(o) if is_resource(o) => {
            w.representation(v, Mode::JsonApiResource, Rels::None, None, depth)
        }
        Value::Array(a) => resources(w, a, depth),
        _ => w.value(v, depth),
    }
}

/// `included`: an array of resource objects.
pub(super) fn included<'a>(w: &mut Walker<'a>, a: &'a [Value<'a>], depth: usize) {
    resources(w, a, depth);
}

fn resources<'a>(w: &mut Walker<'a>, a: &'a [Value<'a>], depth: usize) {
    let kind = w.list_kind(a);
    for (i, e) in a.iter().enumerate() {
        let m = w.push_index(i);
        match e {
            Value::Object(o) if is_resource(o) => {
                w.representation(e, Mode::JsonApiResource, Rels::None, kind, depth + 1)
            }
            _ if kind.is_some() => w.representation(e, Mode::Plain, Rels::None, kind, depth + 1),
            _ => w.value(e, depth + 1),
        }
        w.pop(m);
    }
}

/// A `links` object: each member (a URL string or a link object with `href`) is a link whose
/// relation is its key. Link objects' `meta` is not scanned.
pub(super) fn links(w: &mut Walker<'_>, l: &Map<'_>) {
    for (rel, v) in l {
        link_member(w, rel, rel, v);
    }
}

/// A link member at key `key`, found under the relation name `rel`.
fn link_member(w: &mut Walker<'_>, key: &str, rel: &str, v: &Value<'_>) {
    let mark = w.push_key(key);
    match v {
        Value::String(h) => w.emit_href(h, Rels::One(rel)),
        Value::Object(o) => {
            if let Some(Value::String(h)) = o.get("href") {
                let m = w.push_key("href");
                w.emit_href(h, Rels::One(rel));
                w.pop(m);
            }
        }
        _ => {}
    }
    w.pop(mark);
}

/// `relationships`: per relationship, `links.related` and the `data` linkage. (The
/// relationship's own `self` link names the relationship endpoint, not a resource: skipped.)
pub(super) fn relationships<'a>(w: &mut Walker<'a>, r: &'a Map<'a>, depth: usize) {
    for (name, rel) in r {
        let Value::Object(rel_obj) = rel else {
            continue;
        };
        let mark = w.push_key(name);
        for (k, v) in rel_obj {
            match (k, v) {
                ("links", Value::Object(l)) => {
                    if let Some(related) = l.get("related") {
                        let m = w.push_key("links");
                        link_member(w, "related", name, related);
                        w.pop(m);
                    }
                }
                ("data", Value::Object(o)) => {
                    let m = w.push_key("data");
                    linkage(w, name, o);
                    w.pop(m);
                }
                ("data", Value::Array(a)) => {
                    let m = w.push_key("data");
                    for (i, e) in a.iter().enumerate() {
                        if let Value::Object(o) = e {
                            let mi = w.push_index(i);
                            linkage(w, name, o);
                            w.pop(mi);
                        }
                    }
                    w.pop(m);
                }
                ("meta", _) => {
                    let m = w.push_key("meta");
                    w.value(v, depth + 2);
                    w.pop(m);
                }
                _ => {}
            }
        }
        w.pop(mark);
    }
}

/// A resource identifier `{type, id}`: a link to the kind whose `jsonapi_type` is `type`.
fn linkage(w: &mut Walker<'_>, rel: &str, o: &Map<'_>) {
    if let Some((url, _)) = made_self(w.rules, o) {
        w.emit(url, Rels::One(rel), None);
    }
}

/// `links.self` of a resource object.
pub(super) fn self_link<'v>(m: &'v Map<'v>) -> Option<SelfLink<'v>> {
    let (href, at) = match m.get("links")?.get("self")? {
        Value::String(h) => (&**h, "/links/self"),
        Value::Object(o) => (o.get("href")?.as_str()?, "/links/self/href"),
        _ => return None,
    };
    Some(SelfLink {
        href,
        at: SelfAt::at(at),
        relative_ok: true,
    })
}

/// The URL of a resource object or identifier made from its `type` (when a kind has that
/// `jsonapi_type`) and `id` (a string or number), with the pointer of the id.
pub(super) fn made_self(rules: &Rules, o: &Map<'_>) -> Option<(Url, SelfAt<'static>)> {
    let kind = rules.kind_by_jsonapi_type(o.get("type")?.as_str()?)?;
    let id = pointers::id_of(o.get("id")?)?;
    Some((rules.fill(kind, &id), SelfAt::at("/id")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::extract::testutil::*;

    const ORDER: &str = "http://127.0.0.1:8082/orders/1";
    const C3: &str = "http://127.0.0.1:8081/customers/3";
    const P1: &str = "http://127.0.0.1:8083/products/1";

    fn order_doc() -> serde_json::Value {
        json!({
            "jsonapi": {"version": "1.1"},
            "links": {"self": "http://127.0.0.1:8082/orders/1"},
            "data": {
                "type": "orders", "id": "1",
                "attributes": {"total": 30, "receipt": "https://receipts.example/1"},
                "links": {"self": "/orders/1"},
                "relationships": {
                    "customer": {
                        "links": {"self": "/orders/1/relationships/customer",
                                  "related": "/orders/1/customer"},
                        "data": {"type": "customers", "id": "3"}
                    },
                    "notes": {"data": null,
                              "meta": {"source": "http://127.0.0.1:8081/customers/9"}},
                    "products": {"data": [
                        {"type": "products", "id": "1"},
                        {"type": "products", "id": 2},
                        {"type": "unknown", "id": "9"},
                        {"type": "products", "lid": "tmp"}
                    ]}
                }
            },
            "included": [
                {"type": "customers", "id": "3", "attributes": {"name": "Ada"},
                 "links": {"self": "http://127.0.0.1:8081/customers/3"},
                 "relationships": {"orders": {"links": {"related": {
                     "href": "http://127.0.0.1:8081/customers/3/orders",
                     "meta": {"count": 1, "see": "http://127.0.0.1:8081/nope"}}}}}},
                {"type": "products", "id": "1", "attributes": {"name": "Pen"}},
                {"type": "widgets", "id": "1",
                 "links": {"describedby": "https://schema.example/widget"}}
            ]
        })
    }

    #[test]
    fn document_with_relationships_and_included() {
        let r = shop();
        let x = run(&r, ORDER, &order_doc());
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(
                    ORDER,
                    "/data/relationships/customer/data",
                    C3,
                    "order.customer"
                ),
                row(
                    ORDER,
                    "/data/relationships/customer/links/related",
                    "http://127.0.0.1:8082/orders/1/customer",
                    "order.customer"
                ),
                row(
                    ORDER,
                    "/data/relationships/notes/meta/source",
                    "http://127.0.0.1:8081/customers/9",
                    "-"
                ),
                row(
                    ORDER,
                    "/data/relationships/products/data/0",
                    P1,
                    "order.products"
                ),
                row(
                    ORDER,
                    "/data/relationships/products/data/1",
                    "http://127.0.0.1:8083/products/2",
                    "order.products"
                ),
                row(ORDER, "/included/0/links/self", C3, "-"),
                row(
                    C3,
                    "/data/relationships/orders/links/related/href",
                    "http://127.0.0.1:8081/customers/3/orders",
                    "-"
                ),
                row(ORDER, "/included/1/id", P1, "-"),
            ]
        );
        assert_eq!(
            rows(&r, &x.out_of_scope),
            vec![
                row(
                    ORDER,
                    "/data/attributes/receipt",
                    "https://receipts.example/1",
                    "-"
                ),
                row(
                    ORDER,
                    "/included/2/links/describedby",
                    "https://schema.example/widget",
                    "-"
                ),
            ]
        );
    }

    #[test]
    fn listed_resource_has_the_pointers_of_its_own_document() {
        let r = shop();
        let list = json!({"data": [
            {"type": "orders", "id": "1", "links": {"self": "/orders/1"},
             "relationships": {"customer": {"data": {"type": "customers", "id": "3"}}}},
            {"type": "orders", "id": "2",
             "relationships": {"customer": {"data": {"type": "customers", "id": "4"}}}}
        ]});
        let x = run(&r, "http://127.0.0.1:8082/orders?page=1", &list);
        let page = "http://127.0.0.1:8082/orders?page=1";
        let o2 = "http://127.0.0.1:8082/orders/2";
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(page, "/data/0/links/self", ORDER, "-"),
                row(
                    ORDER,
                    "/data/relationships/customer/data",
                    C3,
                    "order.customer"
                ),
                row(page, "/data/1/id", o2, "-"),
                row(
                    o2,
                    "/data/relationships/customer/data",
                    "http://127.0.0.1:8081/customers/4",
                    "order.customer"
                ),
            ]
        );
        // The same reference as read from the order itself.
        let direct = run(&r, ORDER, &order_doc());
        assert_eq!(rows(&r, &direct.links)[0], rows(&r, &x.links)[1]);
    }

    #[test]
    fn primary_data_of_another_url_is_its_own_source() {
        let r = shop();
        let page = "http://127.0.0.1:8082/orders/1?include=customer";
        let doc = json!({"data": {"type": "orders", "id": "1",
            "relationships": {"customer": {"data": {"type": "customers", "id": "3"}}}}});
        let x = run(&r, page, &doc);
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(page, "/data/id", ORDER, "-"),
                row(
                    ORDER,
                    "/data/relationships/customer/data",
                    C3,
                    "order.customer"
                ),
            ]
        );
    }

    #[test]
    fn document_detected_by_content_type_or_shape() {
        let r = shop();
        let page = "http://127.0.0.1:8082/orders";
        let next = "http://127.0.0.1:8082/orders?page=2";
        let body = json!({"links": {"next": "?page=2"}, "meta": {}});
        let plain = run(&r, page, &body);
        assert!(plain.links.is_empty());
        let typed = run_with(
            &r,
            page,
            &[("content-type", "application/vnd.api+json; ext=x")],
            Some(&body),
        );
        assert_eq!(
            rows(&r, &typed.links),
            vec![row(page, "/links/next", next, "-")]
        );
        let empty_page = json!({"data": [], "links": {"next": {"href": "?page=2"}}});
        let x = run(&r, page, &empty_page);
        assert_eq!(
            rows(&r, &x.links),
            vec![row(page, "/links/next/href", next, "-")]
        );
        let versioned = json!({"jsonapi": {"version": "1.0"}, "links": {"next": "?page=2"}});
        let x = run(&r, page, &versioned);
        assert_eq!(
            rows(&r, &x.links),
            vec![row(page, "/links/next", next, "-")]
        );
        // Plain `{data: [...]}` is not JSON:API: its `links` object is plain JSON.
        let not_api = json!({"data": [{"id": 1}], "links": {"next": "?page=2"}});
        assert!(run(&r, page, &not_api).links.is_empty());
    }
}
