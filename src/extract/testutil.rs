//! Test support: compiled [`Rules`] built directly from the model (no rules parser needed),
//! and helpers to run an extraction and read its result compactly.

use std::path::PathBuf;

use serde_json::Value;
use url::Url;

use super::{extract, Extracted};
use crate::rules::{
    BrokenAction, Kind, KindId, LinkRule, PathTemplate, Pointer, PointerPattern, Rules, Selector,
    Service,
};

pub const CUSTOMERS: &str = "http://127.0.0.1:8081";
pub const ORDERS: &str = "http://127.0.0.1:8082";
pub const PRODUCTS: &str = "http://127.0.0.1:8083";

/// Builds [`Rules`] by name.
pub struct Builder(Rules);

impl Builder {
    pub fn new() -> Self {
        Builder(Rules {
            path: PathBuf::from("test.toml"),
            services: Vec::new(),
            kinds: Vec::new(),
            links: Vec::new(),
        })
    }

    pub fn service(mut self, name: &str, base_url: &str) -> Self {
        self.0
            .services
            .push(Service::new(name, Url::parse(base_url).unwrap()));
        self
    }

    pub fn kind(mut self, name: &str, service: &str, path: &str) -> Self {
        let service = self
            .0
            .services
            .iter()
            .position(|s| s.name == service)
            .unwrap() as u16;
        self.0
            .kinds
            .push(Kind::new(name, service, PathTemplate::parse(path).unwrap()));
        self
    }

    fn kind_mut(&mut self, name: &str) -> &mut Kind {
        self.0.kinds.iter_mut().find(|k| k.name == name).unwrap()
    }

    pub fn jsonapi_type(mut self, kind: &str, t: &str) -> Self {
        self.kind_mut(kind).jsonapi_type = Some(t.into());
        self
    }

    pub fn collection(mut self, kind: &str, path: &str) -> Self {
        self.kind_mut(kind).collection = Some(path.into());
        self
    }

    pub fn items_pointer(mut self, kind: &str, p: &str) -> Self {
        self.kind_mut(kind).items_pointer = Some(Pointer::parse(p).unwrap());
        self
    }

    pub fn id_pointer(mut self, kind: &str, p: &str) -> Self {
        self.kind_mut(kind).id_pointer = Pointer::parse(p).unwrap();
        self
    }

    fn link(mut self, kind: &str, name: &str, selector: Selector, to: &str) -> Self {
        let k = self.kind_id(kind);
        let to = self.kind_id(to);
        let id = self.0.links.len() as u16;
        self.0.links.push(LinkRule {
            name: format!("{kind}.{name}"),
            kind: k,
            selector,
            to,
            on_broken: BrokenAction::Manual,
        });
        self.kind_mut(kind).links.push(id);
        self
    }

    pub fn pointer_link(self, kind: &str, name: &str, pattern: &str, to: &str) -> Self {
        let p = PointerPattern::parse(pattern).unwrap();
        self.link(kind, name, Selector::Pointer(p), to)
    }

    pub fn rel_link(self, kind: &str, name: &str, rel: &str, to: &str) -> Self {
        self.link(kind, name, Selector::Rel(rel.into()), to)
    }

    fn kind_id(&self, name: &str) -> KindId {
        self.0.kinds.iter().position(|k| k.name == name).unwrap() as KindId
    }

    pub fn build(self) -> Rules {
        self.0
    }
}

/// Three services and three kinds, with no link rules.
pub fn shop_builder() -> Builder {
    Builder::new()
        .service("customers", &format!("{CUSTOMERS}/"))
        .service("orders", &format!("{ORDERS}/"))
        .service("products", &format!("{PRODUCTS}/"))
        .kind("customer", "customers", "/customers/{id}")
        .kind("order", "orders", "/orders/{id}")
        .kind("product", "products", "/products/{id}")
        .jsonapi_type("customer", "customers")
        .jsonapi_type("order", "orders")
        .jsonapi_type("product", "products")
}

/// The shop with `order.customer` (rel `customer`) and `order.products` (rel `products`).
pub fn shop() -> Rules {
    shop_builder()
        .rel_link("order", "customer", "customer", "customer")
        .rel_link("order", "products", "products", "product")
        .build()
}

/// One found link as text: (source, pointer, target, relation name or "-").
pub type Row = (String, String, String, String);

pub fn rows(rules: &Rules, links: &[super::FoundLink]) -> Vec<Row> {
    links
        .iter()
        .map(|l| {
            (
                l.source.to_string(),
                l.pointer.clone(),
                l.target.to_string(),
                l.relation
                    .map_or_else(|| "-".to_string(), |r| rules.link(r).name.clone()),
            )
        })
        .collect()
}

/// A row from text.
pub fn row(source: &str, pointer: &str, target: &str, relation: &str) -> Row {
    (
        source.into(),
        pointer.into(),
        target.into(),
        relation.into(),
    )
}

/// Extracts from a body with no headers.
pub fn run(rules: &Rules, url: &str, body: &Value) -> Extracted {
    run_with(rules, url, &[], Some(body))
}

pub fn run_with(
    rules: &Rules,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Extracted {
    let url = crate::canon::parse_absolute(url).unwrap();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    // Through the JSON text, as a crawl or a scan reads a body (a body nested deeper than
    // the parser reads is converted instead).
    let text = body.map(|b| serde_json::to_vec(b).unwrap());
    let body = text
        .as_deref()
        .zip(body)
        .map(|(t, b)| crate::json::from_slice(t).unwrap_or_else(|_| crate::json::Value::from(b)));
    extract(rules, &url, &headers, body.as_ref())
}

/// In-scope links as rows, sorted (for tests where order is not the point).
pub fn sorted(rules: &Rules, x: &Extracted) -> Vec<Row> {
    let mut r = rows(rules, &x.links);
    r.sort();
    r
}
