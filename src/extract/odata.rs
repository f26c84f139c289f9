//! OData v4 JSON: `@odata.id` is an entity's self link (so the entities of a `value` array
//! are representations), `@odata.nextLink` / `@odata.deltaLink`, `NAME@odata.navigationLink`,
//! `@odata.editLink` and `@odata.readLink` are links; the other control information
//! (`@odata.context`, `@odata.type`, `@odata.etag`, `@odata.count`, association and media
//! links, …) names metadata, not resources, and is skipped. Relative URLs resolve against the
//! document's `@odata.context` URL (OData JSON format, "Relative URLs"; see
//! [`Walker::resolve`](super::Walker)).

use crate::json::{Map, Value};

use super::{Rels, SelfAt, SelfLink, Walker};

/// Whether a member name is OData control information (`@odata.x` or `NAME@odata.x`).
pub(super) fn is_control(key: &str) -> bool {
    key.contains("@odata.")
}

/// A control information member: its links emitted, the rest skipped.
pub(super) fn control(w: &mut Walker<'_>, key: &str, v: &Value<'_>) {
    let Some(href) = v.as_str() else { return };
    let (name, term) = key.split_once("@odata.").unwrap_or(("", key));
    match (name, term) {
        ("", "id" | "editLink" | "readLink") => w.emit_href(href, Rels::None),
        ("", "nextLink") => w.emit_href(href, Rels::One("next")),
        ("", "deltaLink") => w.emit_href(href, Rels::None),
        (name, "navigationLink") if !name.is_empty() => w.emit_href(href, Rels::One(name)),
        _ => {}
    }
}

/// The `@odata.id` of an entity (an absolute or relative URL).
pub(super) fn self_link<'v>(m: &'v Map<'v>) -> Option<SelfLink<'v>> {
    Some(SelfLink {
        href: m.get("@odata.id")?.as_str()?,
        at: SelfAt::at("/@odata.id"),
        relative_ok: true,
    })
}

/// The `@odata.context` of a document's root object, when it has one.
pub(super) fn context<'v>(body: &'v Value<'v>) -> Option<&'v str> {
    body.as_object()?.get("@odata.context")?.as_str()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::extract::testutil::*;

    #[test]
    fn entities_in_value_are_representations_and_metadata_is_no_link() {
        let r = shop_builder()
            .collection("customer", "/customers")
            .items_pointer("customer", "/value")
            .build();
        let page = "http://127.0.0.1:8081/customers";
        let body = json!({
            "@odata.context": "http://127.0.0.1:8081/$metadata#customers",
            "@odata.count": 2,
            "value": [
                {"@odata.id": "http://127.0.0.1:8081/customers/1",
                 "@odata.etag": "W/\"1\"",
                 "@odata.type": "#Shop.Customer",
                 "Orders@odata.navigationLink": "customers/1/Orders",
                 "Orders@odata.associationLink": "customers/1/Orders/$ref",
                 "id": 1},
                {"@odata.id": "customers/2", "id": 2}
            ],
            "@odata.nextLink": "customers?$skiptoken=2"
        });
        let x = run(&r, page, &body);
        let c1 = "http://127.0.0.1:8081/customers/1";
        assert_eq!(
            rows(&r, &x.links),
            vec![
                row(
                    page,
                    "/@odata.nextLink",
                    "http://127.0.0.1:8081/customers?$skiptoken=2",
                    "-"
                ),
                row(page, "/value/0/@odata.id", c1, "-"),
                row(
                    c1,
                    "/Orders@odata.navigationLink",
                    "http://127.0.0.1:8081/customers/1/Orders",
                    "-"
                ),
                row(
                    page,
                    "/value/1/@odata.id",
                    "http://127.0.0.1:8081/customers/2",
                    "-"
                ),
            ]
        );
        assert!(x.out_of_scope.is_empty());
    }

    #[test]
    fn relative_urls_resolve_against_the_context() {
        let r = shop();
        // The entity is fetched under a longer path than the service root its context names.
        let order = "http://127.0.0.1:8082/orders/1";
        let body = json!({
            "@odata.context": "http://127.0.0.1:8081/$metadata#orders/$entity",
            "Customer@odata.navigationLink": "customers/3"
        });
        let x = run(&r, order, &body);
        assert_eq!(
            rows(&r, &x.links),
            vec![row(
                order,
                "/Customer@odata.navigationLink",
                "http://127.0.0.1:8081/customers/3",
                "-"
            )]
        );
    }
}
