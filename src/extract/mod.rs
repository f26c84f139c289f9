//! Link extraction: every reference a fetched resource makes, per hypermedia format, resolved
//! against the rules (relation names, id templates, scope).
//!
//! The body is walked once. Each object is dispatched on its members: HAL (`_links`,
//! `_embedded`), JSON:API (a root document's `data`/`included`, resource `links` and
//! `relationships`), Siren (`links[]`, `entities`), Collection+JSON (`collection`), JSON-LD
//! (`@id`); every other string is a link only when it is an absolute `http`/`https` URL.
//! Embedded representations with an in-scope self URL of their own become the `source` of the
//! links inside them (a frame); the containing resource references them at their self link.
//! After a frame is walked, its kind's pointer rules run on it. `Link` headers come last.
//!
//! Output order is the walk order (object members in `serde_json::Map` iteration order), a
//! frame's rule-only links after the frame's walked links, then header links.
//!
//! Choices where DESIGN.md is silent:
//! - A frame needs an in-scope self URL; an embedded object whose self is out of scope keeps
//!   its links with its container (and its self link is an out-of-scope link).
//! - Pointers in an embedded frame are those of the item's own document: `/…` for HAL, Siren,
//!   JSON-LD and plain JSON, `/data/…` for a JSON:API resource, `/collection/items/0/…` for a
//!   Collection+JSON item. Rule pointers are matched the same way.
//! - Plain `url` / `self` make a representation only when they are absolute URLs.
//! - Forms are not links: HAL `templated` links and `_templates`, hrefs holding `{`, Siren
//!   `actions`, Collection+JSON `queries` / `template`. Link-object attributes (`title`,
//!   `profile`, `meta`, …), Siren `rel` / `class`, JSON-LD `@context` / `@type` are not scanned.
//! - JSON:API: a relationship's own `self` link is skipped (it names the relationship).

mod cj;
mod collection;
mod hal;
mod jsonapi;
mod jsonld;
mod link_header;
mod odata;
mod plain;
mod pointers;
mod sink;
mod siren;
#[cfg(test)]
mod testutil;

use std::fmt::Write as _;

use crate::json::{Map, Value};
use url::Url;

use crate::canon;
use crate::rules::{escape_token, KindId, LinkId, Pointer, Rules, Selector};

pub use sink::LinkRef;

/// The `pointer` of a link found in a `Link` header.
pub const HEADER_POINTER: &str = "header:link";

/// JSON nesting depth past which a body is not descended (its deeper links are not found).
pub const MAX_DEPTH: usize = 256;

/// A reference found in a fetched resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    /// The resource the link belongs to: the fetched URL, or the self URL of an embedded
    /// representation that carries one (canonical).
    pub source: Url,
    /// RFC 6901 pointer (escaped) relative to the source's representation, or
    /// [`HEADER_POINTER`].
    pub pointer: String,
    /// Canonical absolute target, as `Url` serializes it (most links are written canonical
    /// already and are never parsed).
    pub target: String,
    /// The link rule this reference matches, if any.
    pub relation: Option<LinkId>,
}

/// Everything found in one response.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// References to URLs inside a declared service (deduplicated on source, pointer, target;
    /// a link from a resource to itself is not a reference).
    pub links: Vec<FoundLink>,
    /// References to absolute URLs outside every declared service (never fetched).
    pub out_of_scope: Vec<FoundLink>,
}

/// Extracts every reference from one 2xx response. `url` is the canonical fetched URL,
/// `headers` are lower-case names with values, `body` the parsed JSON body (None if not JSON).
pub fn extract(
    rules: &Rules,
    url: &Url,
    headers: &[(String, String)],
    body: Option<&Value<'_>>,
) -> Extracted {
    let mut w = Walker::new(rules, url.as_str(), Some(url), Scratch::default());
    w.walk(headers, body);
    w.sink.finish(rules)
}

/// Buffers an extraction reuses from one response to the next (see [`extract_with`]).
#[derive(Default)]
pub struct Scratch {
    ptr: String,
    frames: Vec<Frame>,
    scratch: String,
    sink: sink::Sink,
}

/// [`extract`] for a canonical URL given as text, handing each link to `out` (borrowed, in
/// the same order, `in_scope` telling the two lists apart) and reusing `scratch`'s buffers: no
/// allocation per link, and the URL is parsed only if a relative link needs it.
pub fn extract_with(
    rules: &Rules,
    url: &str,
    headers: &[(String, String)],
    body: Option<&Value<'_>>,
    scratch: &mut Scratch,
    out: impl FnMut(LinkRef<'_>),
) {
    let mut w = Walker::new(rules, url, None, std::mem::take(scratch));
    w.walk(headers, body);
    w.sink.each(rules, out);
    *scratch = Scratch {
        ptr: w.ptr,
        frames: w.frames,
        scratch: w.scratch,
        sink: w.sink,
    };
}

impl<'a> Walker<'a> {
    /// Walks the body, then the `Link` headers.
    fn walk(&mut self, headers: &[(String, String)], body: Option<&'a Value<'a>>) {
        let rules = self.rules;
        if let Some(body) = body {
            self.collection = collection::find_list(rules, self.base, body);
            let jsonapi_header = headers.iter().any(|(n, v)| {
                n.eq_ignore_ascii_case("content-type")
                    && v.trim_start()
                        .get(..24)
                        .is_some_and(|t| t.eq_ignore_ascii_case("application/vnd.api+json"))
            });
            self.root(body, jsonapi_header);
        }
        link_header::extract(self, headers);
    }
}

/// How the members of an object are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Plain JSON, HAL, JSON-LD, elements of a `collection` list.
    Plain,
    /// The root of a JSON:API document.
    JsonApiDoc,
    /// A JSON:API resource object (in `data` or `included`).
    JsonApiResource,
    /// A Siren embedded sub-entity.
    SirenEntity,
    /// A Collection+JSON item.
    CjItem,
}

impl Mode {
    /// Where an embedded representation of this format sits in the document its own URL
    /// serves: pointers of its links are given from there, so a link seen in a list page and
    /// in the item itself is the same (source, pointer, target).
    fn prefix(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Mode::JsonApiResource => ("/data", &["data"]),
            Mode::CjItem => ("/collection/items/0", &["collection", "items", "0"]),
            _ => ("", &[]),
        }
    }
}

/// The relation names a link carries, borrowed from where it was found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rels<'v> {
    None,
    /// One name: a HAL `_links`/`_embedded` key, a JSON:API `links`/`relationships` key.
    One(&'v str),
    /// A Siren / Collection+JSON `rel`: an array of names or a space-separated string.
    Json(Option<&'v Value<'v>>),
    /// A `Link` header `rel`: space-separated, compared case-insensitively.
    Header(&'v str),
}

impl Rels<'_> {
    pub(crate) fn contains(&self, name: &str) -> bool {
        match *self {
            Rels::None | Rels::Json(None) => false,
            Rels::One(r) => r == name,
            Rels::Json(Some(Value::String(s))) => s.split_ascii_whitespace().any(|r| r == name),
            Rels::Json(Some(Value::Array(a))) => a.iter().any(|r| r.as_str() == Some(name)),
            Rels::Json(Some(_)) => false,
            Rels::Header(s) => s
                .split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case(name)),
        }
    }
}

/// Where a representation's self link sits, relative to the representation object.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SelfAt<'r> {
    /// `head`, then `/index` if any, then `tail` (all already escaped).
    At {
        head: &'static str,
        index: Option<usize>,
        tail: &'static str,
    },
    /// The member an id was read from (a `collection` element's `id_pointer`).
    Pointer(&'r Pointer),
}

impl SelfAt<'_> {
    pub(crate) const fn at(head: &'static str) -> SelfAt<'static> {
        SelfAt::At {
            head,
            index: None,
            tail: "",
        }
    }

    fn push_to(self, out: &mut String) {
        match self {
            SelfAt::At { head, index, tail } => {
                out.push_str(head);
                if let Some(i) = index {
                    let _ = write!(out, "/{i}");
                }
                out.push_str(tail);
            }
            SelfAt::Pointer(p) => {
                let _ = write!(out, "{p}");
            }
        }
    }
}

/// A self link as found in a representation: the href, where it is, and whether a relative
/// href counts (hypermedia) or only an absolute URL does (plain JSON `url` / `self`).
pub(crate) struct SelfLink<'v> {
    pub href: &'v str,
    pub at: SelfAt<'static>,
    pub relative_ok: bool,
}

/// A resource whose links are being collected: the fetched one or an embedded one.
struct Frame {
    /// Interned source URL.
    source: u32,
    kind: Option<KindId>,
    /// Length of the document pointer at the representation object.
    root_len: usize,
    /// Pointer (string, tokens) of the representation in its own document ([`Mode::prefix`]).
    prefix: (&'static str, &'static [&'static str]),
}

/// The state of one extraction: the document pointer, the frames, the collected links.
pub(crate) struct Walker<'a> {
    pub(crate) rules: &'a Rules,
    /// The fetched URL (canonical): every href resolves against it.
    base: &'a str,
    /// The fetched URL parsed, given or made when first needed.
    base_url: std::cell::OnceCell<Url>,
    /// Escaped RFC 6901 pointer from the document root to the value being visited.
    ptr: String,
    frames: Vec<Frame>,
    /// Reused buffer for the frame-relative pointer of a link.
    scratch: String,
    sink: sink::Sink,
    /// The list whose elements are representations of a kind (on a `collection` page).
    collection: Option<(&'a [Value<'a>], KindId)>,
    /// Some service has aliases: links are moved from them to base URLs ([`Rules::unalias`]).
    aliased: bool,
    /// An OData document's `@odata.context` URL: its relative URLs resolve against it.
    odata_base: Option<Url>,
}

impl<'a> Walker<'a> {
    fn new(rules: &'a Rules, base: &'a str, parsed: Option<&Url>, buffers: Scratch) -> Self {
        let Scratch {
            mut ptr,
            mut frames,
            mut scratch,
            mut sink,
        } = buffers;
        ptr.clear();
        frames.clear();
        scratch.clear();
        sink.clear();
        let source = match parsed {
            Some(u) => sink.intern_url(u.clone()),
            None => sink.intern(base),
        };
        frames.push(Frame {
            source,
            kind: rules.kind_id_of_str(base),
            root_len: 0,
            prefix: ("", &[]),
        });
        Walker {
            rules,
            base,
            base_url: parsed.cloned().map_or_else(Default::default, Into::into),
            ptr,
            frames,
            scratch,
            sink,
            collection: None,
            aliased: rules.has_aliases(),
            odata_base: None,
        }
    }

    /// Walks the fetched body (the root is always the fetched resource), then its rules.
    fn root(&mut self, body: &'a Value<'a>, jsonapi_header: bool) {
        self.odata_base = odata::context(body).and_then(|c| self.resolve(c));
        match body {
            Value::Object(m) if jsonapi_header || jsonapi::is_document(m) => {
                self.members(m, Mode::JsonApiDoc, 1)
            }
            Value::Object(m) => self.members(m, Mode::Plain, 1),
            other => self.value(other, 0),
        }
        pointers::apply(self, body, 0);
    }

    pub(crate) fn push_key(&mut self, key: &str) -> usize {
        let mark = self.ptr.len();
        self.ptr.push('/');
        self.ptr.push_str(&escape_token(key));
        mark
    }

    pub(crate) fn push_index(&mut self, i: usize) -> usize {
        let mark = self.ptr.len();
        let _ = write!(self.ptr, "/{i}");
        mark
    }

    pub(crate) fn pop(&mut self, mark: usize) {
        self.ptr.truncate(mark);
    }

    /// The kind whose elements `list` holds, if it is the `collection` page's list.
    pub(crate) fn list_kind(&self, list: &[Value<'_>]) -> Option<KindId> {
        self.collection
            .filter(|(l, _)| std::ptr::eq(*l, list))
            .map(|(_, k)| k)
    }

    /// Visits any value found outside the hypermedia structures.
    pub(crate) fn value(&mut self, v: &'a Value<'a>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match v {
            Value::String(s) => plain::string(self, s),
            Value::Array(a) => {
                let kind = self.list_kind(a);
                for (i, e) in a.iter().enumerate() {
                    let mark = self.push_index(i);
                    if kind.is_some() {
                        self.representation(e, Mode::Plain, Rels::None, kind, depth + 1);
                    } else {
                        self.value(e, depth + 1);
                    }
                    self.pop(mark);
                }
            }
            Value::Object(_) => self.representation(v, Mode::Plain, Rels::None, None, depth),
            _ => {}
        }
    }

    /// Visits an object that may be a representation of its own resource: with an in-scope
    /// self URL (or, for a `collection` element of `kind`, an id) different from the current
    /// source, the current resource references it at its self link and its own links belong
    /// to it; otherwise its links stay with the current resource. `rels` name the reference.
    pub(crate) fn representation(
        &mut self,
        v: &'a Value<'a>,
        mode: Mode,
        rels: Rels<'_>,
        kind: Option<KindId>,
        depth: usize,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        let Some((url, at)) = self.self_of(v, mode, kind) else {
            match v {
                Value::Object(m) => self.members(m, mode, depth),
                other => self.value(other, depth),
            }
            return;
        };
        let mark = self.ptr.len();
        at.push_to(&mut self.ptr);
        self.emit(url.as_str(), rels, None);
        self.ptr.truncate(mark);

        let kind = self.rules.kind_id_of(&url);
        let source = self.sink.intern_url(url);
        self.frames.push(Frame {
            source,
            kind,
            root_len: self.ptr.len(),
            prefix: mode.prefix(),
        });
        if let Value::Object(m) = v {
            self.members(m, mode, depth);
        }
        pointers::apply(self, v, self.frames.len() - 1);
        self.frames.pop();
    }

    /// The URL of a representation if it starts a new frame: its self link (in scope, not the
    /// current source), else an URL made from its id.
    fn self_of(
        &self,
        v: &'a Value<'a>,
        mode: Mode,
        kind: Option<KindId>,
    ) -> Option<(Url, SelfAt<'a>)> {
        let found = match v {
            Value::Object(m) => self.self_link(m, mode),
            _ => None,
        };
        let (url, at) = match found {
            Some(s) => {
                let url = if s.relative_ok {
                    self.resolve(s.href)?
                } else {
                    canon::parse_absolute(s.href)?
                };
                let url = match self.unaliased(url.as_str()) {
                    Some(moved) => canon::parse_absolute(&moved)?,
                    None => url,
                };
                self.rules.service_of(&url)?;
                (url, s.at)
            }
            None => {
                let made = match (v, mode) {
                    (Value::Object(m), Mode::JsonApiResource) => jsonapi::made_self(self.rules, m),
                    _ => None,
                };
                match made {
                    Some(m) => m,
                    None => collection::id_self(self.rules, kind?, v)?,
                }
            }
        };
        (url.as_str() != self.sink.source(self.frame().source)).then_some((url, at))
    }

    fn self_link(&self, m: &'a Map<'a>, mode: Mode) -> Option<SelfLink<'a>> {
        match mode {
            Mode::JsonApiDoc => None,
            Mode::JsonApiResource => jsonapi::self_link(m),
            Mode::SirenEntity => siren::self_link(m),
            Mode::CjItem => cj::self_link(m),
            // Any object with `href` is a link object, never a representation.
            Mode::Plain if m.contains_key("href") => None,
            Mode::Plain => hal::self_link(m)
                .or_else(|| siren::self_link(m))
                .or_else(|| jsonld::self_link(m))
                .or_else(|| odata::self_link(m))
                .or_else(|| plain::self_link(m)),
        }
    }

    /// Visits the members of an object, dispatching the hypermedia ones.
    pub(crate) fn members(&mut self, m: &'a Map<'a>, mode: Mode, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        for (k, v) in m {
            // A number, boolean or null holds no link whatever its key, and a string under an
            // ordinary key is one only when it is an absolute URL: most members need no
            // pointer written.
            let inert = match v {
                Value::Number(_) | Value::Bool(_) | Value::Null => true,
                Value::String(s) => {
                    let special =
                        k == "@id" || (k == "href" && mode == Mode::CjItem) || odata::is_control(k);
                    !special && !plain::looks_absolute_http(s)
                }
                _ => false,
            };
            if inert {
                continue;
            }
            let mark = self.push_key(k);
            self.member(k, v, mode, depth + 1);
            self.pop(mark);
        }
    }

    fn member(&mut self, k: &'a str, v: &'a Value<'a>, mode: Mode, depth: usize) {
        let jsonapi = matches!(mode, Mode::JsonApiDoc | Mode::JsonApiResource);
        match (k, v) {
            ("_links", Value::Object(l)) => hal::links(self, l),
            ("_embedded", Value::Object(e)) => hal::embedded(self, e, depth),
            // HAL-FORMS templates and JSON-LD context / type IRIs are not references.
            ("_templates" | "@context" | "@type", _) => {}
            ("@id", _) => jsonld::id(self, v),
            (k, _) if odata::is_control(k) => odata::control(self, k, v),
            ("links", Value::Array(a)) => siren::link_array(self, a, depth),
            ("links", Value::Object(l)) if jsonapi => jsonapi::links(self, l),
            ("entities", Value::Array(a)) => siren::entities(self, a, depth),
            ("actions", Value::Array(a)) => siren::actions(self, a, depth),
            ("collection", Value::Object(c)) if cj::is_collection(c) => {
                cj::collection(self, c, depth)
            }
            ("data", _) if mode == Mode::JsonApiDoc => jsonapi::primary(self, v, depth),
            ("included", Value::Array(a)) if mode == Mode::JsonApiDoc => {
                jsonapi::included(self, a, depth)
            }
            ("relationships", Value::Object(r)) if mode == Mode::JsonApiResource => {
                jsonapi::relationships(self, r, depth)
            }
            // A sub-entity's relation names and classes may be IRIs; they are not links.
            ("rel" | "class", _) if mode == Mode::SirenEntity => {}
            ("href", Value::String(h)) if mode == Mode::CjItem => self.emit_href(h, Rels::None),
            _ => self.value(v, depth),
        }
    }

    fn frame(&self) -> &Frame {
        self.frames.last().expect("the root frame is never popped")
    }

    /// Records a link to `target` (canonical) at the current pointer, from the current frame.
    pub(crate) fn emit(
        &mut self,
        target: impl AsRef<str>,
        rels: Rels<'_>,
        relation: Option<LinkId>,
    ) {
        let f = self.frames.last().expect("the root frame is never popped");
        let relation = relation.or_else(|| relation_by_rel(self.rules, f.kind, rels));
        self.scratch.clear();
        self.scratch.push_str(f.prefix.0);
        self.scratch.push_str(&self.ptr[f.root_len..]);
        let moved = self.unaliased(target.as_ref());
        let target = moved.as_deref().unwrap_or(target.as_ref());
        self.sink.add(f.source, &self.scratch, target, relation);
    }

    /// A link written under an alias, moved under its service's base URL (`None`: not under
    /// an alias, or no service has aliases).
    fn unaliased(&self, target: &str) -> Option<String> {
        if self.aliased {
            self.rules.unalias(target)
        } else {
            None
        }
    }

    /// Records a hypermedia href (absolute or relative) at the current pointer.
    pub(crate) fn emit_href(&mut self, href: &str, rels: Rels<'_>) {
        // A URI template (`/orders{?page}`) is not a URL.
        if href.contains('{') {
            return;
        }
        // A link to the resource itself is no reference (the sink would drop it): most are
        // a representation's own self link, not worth resolving.
        if href == self.sink.source(self.frame().source) {
            return;
        }
        // Written canonical already: the text is the URL (no parsing).
        if let Some(c) = canon::already_canonical(href.trim()) {
            self.emit(c, rels, None);
        } else if let Some(u) = self.resolve(href) {
            self.emit(u, rels, None);
        }
    }

    /// An href of the body resolved and canonicalized ([`canon::resolve`]): against the
    /// OData context URL in an OData document, else against the fetched URL.
    pub(crate) fn resolve(&self, href: &str) -> Option<Url> {
        match &self.odata_base {
            Some(base) => {
                let origins = self.rules.services.iter().map(|s| &s.base_url);
                canon::resolve_among(base, origins, href)
            }
            None => self.resolve_fetched(href),
        }
    }

    /// An href resolved against the fetched URL and canonicalized (`Link` headers).
    pub(crate) fn resolve_fetched(&self, href: &str) -> Option<Url> {
        let origins = self.rules.services.iter().map(|s| &s.base_url);
        let base = self.base_url.get_or_init(|| {
            let origins = self.rules.services.iter().map(|s| &s.base_url);
            canon::parse_canonical(self.base, origins).expect("the fetched URL is canonical")
        });
        canon::resolve_among(base, origins, href)
    }

    /// Records a link from frame `frame` at an explicit pointer.
    pub(crate) fn emit_at(
        &mut self,
        frame: usize,
        pointer: &str,
        target: impl AsRef<str>,
        rels: Rels<'_>,
        relation: Option<LinkId>,
    ) {
        let f = &self.frames[frame];
        let relation = relation.or_else(|| relation_by_rel(self.rules, f.kind, rels));
        let moved = self.unaliased(target.as_ref());
        let target = moved.as_deref().unwrap_or(target.as_ref());
        self.sink.add(f.source, pointer, target, relation);
    }
}

/// The first `rel` link rule of `kind` whose name is among `rels`.
fn relation_by_rel(rules: &Rules, kind: Option<KindId>, rels: Rels<'_>) -> Option<LinkId> {
    if matches!(rels, Rels::None) {
        return None;
    }
    rules.links_of(kind?).find_map(|(id, l)| match &l.selector {
        Selector::Rel(name) if rels.contains(name) => Some(id),
        _ => None,
    })
}

#[cfg(test)]
mod tests;
