//! A JSON value that borrows its strings from the text it was read from: link extraction
//! reads every body of a crawl or a snapshot once, and a `serde_json::Value` would allocate
//! every string and a B-tree node per object only to drop them a moment later.
//!
//! It reads exactly as `serde_json::Value` does (the same parser underneath, the same numbers,
//! the same recursion limit, a repeated key keeping its last value) and iterates an object's
//! members in the same order: sorted by key, as `serde_json::Map` without `preserve_order`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

pub use serde_json::Number;

/// A parsed JSON value whose strings borrow from the source text where they can.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Value<'a>>),
    Object(Map<'a>),
}

/// An object's members, sorted by key, each key once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map<'a> {
    members: Vec<(Cow<'a, str>, Value<'a>)>,
}

/// Reads one JSON document (nothing but whitespace may follow it).
pub fn from_slice(text: &[u8]) -> serde_json::Result<Value<'_>> {
    // Checked as UTF-8 in one pass over the whole text, rather than string by string.
    match std::str::from_utf8(text) {
        Ok(text) => from_str(text),
        // serde_json tells where the bad byte is.
        Err(_) => serde_json::from_slice(text),
    }
}

/// Reads one JSON document (nothing but whitespace may follow it).
pub fn from_str(text: &str) -> serde_json::Result<Value<'_>> {
    match Parser::new(text).document() {
        Some(v) => Ok(v),
        // The text is not JSON as serde_json reads it: let it say why, and where.
        None => serde_json::from_str(text),
    }
}

/// Reads a document that must be an object, handing back its members as written (in
/// document order, repeats kept): a snapshot line, whose fields are then picked.
pub(crate) fn object_members(text: &str) -> Option<Vec<(Cow<'_, str>, Value<'_>)>> {
    let mut p = Parser::new(text);
    p.skip_ws();
    if p.peek()? != b'{' {
        return None;
    }
    p.pos += 1;
    let members = p.members(MAX_NESTING - 1)?;
    p.skip_ws();
    (p.pos == p.text.len()).then_some(members)
}

/// How deep serde_json lets arrays and objects nest (it refuses one level more).
const MAX_NESTING: usize = 127;

/// A JSON reader accepting exactly what serde_json accepts and reading it the same way; it
/// gives up (`None`) on anything else, and [`from_str`] asks serde_json for the error.
struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser { text, pos: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn document(&mut self) -> Option<Value<'a>> {
        let v = self.value(MAX_NESTING)?;
        self.skip_ws();
        (self.pos == self.text.len()).then_some(v)
    }

    /// A value; `depth` more arrays or objects may open inside it.
    fn value(&mut self, depth: usize) -> Option<Value<'a>> {
        self.skip_ws();
        match self.peek()? {
            b'"' => Some(Value::String(self.string()?)),
            b'{' => {
                let depth = depth.checked_sub(1)?;
                self.pos += 1;
                Some(Value::Object(Map::from_members(self.members(depth)?)))
            }
            b'[' => {
                let depth = depth.checked_sub(1)?;
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth)?);
                    self.skip_ws();
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b']' => {
                            self.pos += 1;
                            return Some(Value::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    /// An object's members after its `{`, through its `}`.
    fn members(&mut self, depth: usize) -> Option<Vec<(Cow<'a, str>, Value<'a>)>> {
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(members);
        }
        loop {
            self.skip_ws();
            if self.peek()? != b'"' {
                return None;
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            members.push((key, self.value(depth)?));
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(members);
                }
                _ => return None,
            }
        }
    }

    fn literal(&mut self, word: &str, v: Value<'a>) -> Option<Value<'a>> {
        let end = self.pos + word.len();
        (self.text.get(self.pos..end)? == word).then(|| {
            self.pos = end;
            v
        })
    }

    /// A number: the grammar checked here, the value read by serde_json itself (so floats,
    /// `-0` and integers past 64 bits come out exactly as it reads them), except for the
    /// common small non-negative integer.
    fn number(&mut self) -> Option<Value<'a>> {
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        let negative = b[i] == b'-';
        if negative {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let from = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - from
        };
        let int_start = i;
        match b.get(i)? {
            b'0' => i += 1,
            b'1'..=b'9' => {
                digits(&mut i);
            }
            _ => return None,
        }
        let int_len = i - int_start;
        let mut plain = !negative;
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                return None;
            }
            plain = false;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                return None;
            }
            plain = false;
        }
        // serde_json refuses a leading zero followed by more digits.
        if b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        self.pos = i;
        let raw = &self.text[start..i];
        if plain && int_len <= 19 {
            return Some(Value::Number(raw.parse::<u64>().ok()?.into()));
        }
        match serde_json::from_str::<Number>(raw) {
            Ok(n) => Some(Value::Number(n)),
            // A float past f64's range: serde_json refuses it; a float value it cannot hold
            // would be null.
            Err(_) => None,
        }
    }

    /// A string at `"`, borrowed unless it has escapes.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let b = self.bytes();
        let start = self.pos + 1;
        let mut i = start;
        // Eight bytes at a time while none of them is a quote, a backslash or a control
        // character (most strings end within a few words).
        while let Some(word) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(word.try_into().expect("eight bytes"));
            if special_byte(w) {
                break;
            }
            i += 8;
        }
        loop {
            match *b.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some(Cow::Borrowed(&self.text[start..i]));
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => i += 1,
            }
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.text[start..i]);
        loop {
            match *b.get(i)? {
                b'"' => {
                    self.pos = i + 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    let c = match *b.get(i + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = hex4(b.get(i + 2..i + 6)?)?;
                            i += 6;
                            let c = match hi {
                                0xD800..=0xDBFF => {
                                    if b.get(i..i + 2)? != b"\\u" {
                                        return None;
                                    }
                                    let lo = hex4(b.get(i + 2..i + 6)?)?;
                                    if !(0xDC00..=0xDFFF).contains(&lo) {
                                        return None;
                                    }
                                    i += 6;
                                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return None,
                                c => c,
                            };
                            out.push(char::from_u32(c)?);
                            continue;
                        }
                        _ => return None,
                    };
                    out.push(c);
                    i += 2;
                }
                c if c < 0x20 => return None,
                _ => {
                    // Up to the next quote or escape, whole (the text is UTF-8 already).
                    let from = i;
                    while b
                        .get(i)
                        .is_some_and(|&c| c != b'"' && c != b'\\' && c >= 0x20)
                    {
                        i += 1;
                    }
                    out.push_str(&self.text[from..i]);
                }
            }
        }
    }
}

/// Whether any byte of `w` is a quote, a backslash or below 0x20 (may say so of a byte that
/// is not, never misses one: the caller then looks byte by byte).
fn special_byte(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_in = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_0x20 = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    zero_in(w ^ (ONES * u64::from(b'"'))) | zero_in(w ^ (ONES * u64::from(b'\\'))) | below_0x20 != 0
}

/// Four hex digits.
fn hex4(h: &[u8]) -> Option<u32> {
    h.iter().try_fold(0u32, |n, &c| {
        let d = (c as char).to_digit(16)?;
        Some(n << 4 | d)
    })
}

impl<'a> Value<'a> {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map<'a>> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    /// The member `key` of an object (`None` for any other value).
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.as_object()?.get(key)
    }

    /// The same value as a `serde_json::Value` (owning its strings).
    pub fn to_serde(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.to_string()),
            Value::Array(a) => serde_json::Value::Array(a.iter().map(Value::to_serde).collect()),
            Value::Object(m) => serde_json::Value::Object(
                m.iter()
                    .map(|(k, v)| (k.to_string(), v.to_serde()))
                    .collect(),
            ),
        }
    }
}

impl<'a> From<&'a serde_json::Value> for Value<'a> {
    /// Borrows every string of `v`.
    fn from(v: &'a serde_json::Value) -> Value<'a> {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.clone()),
            serde_json::Value::String(s) => Value::String(Cow::Borrowed(s)),
            serde_json::Value::Array(a) => Value::Array(a.iter().map(Value::from).collect()),
            // A `serde_json::Map` iterates in key order, each key once: already a `Map`.
            serde_json::Value::Object(m) => Value::Object(Map {
                members: m
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Value::from(v)))
                    .collect(),
            }),
        }
    }
}

impl fmt::Display for Value<'_> {
    /// Compact JSON text, as `serde_json::Value` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_serde(), f)
    }
}

impl<'a> Map<'a> {
    /// Members given in document order: sorted by key, a repeated key keeping its last value.
    fn from_members(mut members: Vec<(Cow<'a, str>, Value<'a>)>) -> Map<'a> {
        if !members.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable: of equal keys, the one written last stays last.
            members.sort_by(|a, b| a.0.cmp(&b.0));
            // `dedup_by` keeps the first of a run; hand it the later value first.
            members.dedup_by(|later, kept| {
                let same = later.0 == kept.0;
                if same {
                    std::mem::swap(&mut later.1, &mut kept.1);
                }
                same
            });
        }
        Map { members }
    }

    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        if self.members.len() <= 8 {
            // Most objects are small: a scan comparing lengths first beats a binary search.
            return self
                .members
                .iter()
                .find(|(k, _)| {
                    // Length and first byte tell most keys apart without a call to memcmp.
                    k.len() == key.len()
                        && k.as_bytes().first() == key.as_bytes().first()
                        && **k == *key
                })
                .map(|(_, v)| v);
        }
        self.members
            .binary_search_by(|(k, _)| (**k).cmp(key))
            .ok()
            .map(|i| &self.members[i].1)
    }

    /// Member values in key order.
    pub fn values(&self) -> impl ExactSizeIterator<Item = &Value<'a>> {
        self.members.iter().map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Members in key order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value<'a>)> {
        self.members.iter().map(|(k, v)| (&**k, v))
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

impl<'m, 'a> IntoIterator for &'m Map<'a> {
    type Item = (&'m str, &'m Value<'a>);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'m, (Cow<'a, str>, Value<'a>)>,
        fn(&'m (Cow<'a, str>, Value<'a>)) -> (&'m str, &'m Value<'a>),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.members.iter().map(|(k, v)| (&**k, v))
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value<'de>, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value<'de>, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value<'de>, E> {
        // As serde_json: a number it cannot hold is null.
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Value<'de>, E> {
        Ok(Value::String(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value<'de>, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value<'de>, D::Error> {
        Deserialize::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(Key)? {
            members.push((key, map.next_value()?));
        }
        Ok(Value::Object(Map::from_members(members)))
    }
}

/// Reads an object key, borrowed when it has no escapes.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `text` both ways and requires the same value, member order included.
    fn same_as_serde(text: &str) {
        let ours = from_slice(text.as_bytes()).unwrap();
        let theirs: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(ours.to_serde(), theirs, "{text}");
        assert_eq!(ours, Value::from(&theirs), "{text}");
        assert_eq!(ours.to_string(), theirs.to_string(), "{text}");
        if let (Value::Object(m), serde_json::Value::Object(t)) = (&ours, &theirs) {
            for (k, v) in t {
                assert_eq!(
                    m.get(k).map(Value::to_serde).as_ref(),
                    Some(v),
                    "{text}: {k}"
                );
            }
            assert_eq!(m.get("absent"), None);
        }
    }

    #[test]
    fn reads_as_serde_json_does() {
        for text in [
            r#"{"b":1,"a":[true,null,"x\"y",-3,2.50,1e3,18446744073709551615,-9223372036854775808,1.7976931348623157e308]}"#,
            r#"{"k":1,"k":2,"a":{"k":"first","k":"second"}}"#,
            r#"{"z":1,"y":2,"x":3,"y":4,"w":{}}"#,
            r#"{"k9":9,"k8":8,"k7":7,"k6":6,"k5":5,"k4":4,"k3":3,"k2":2,"k1":1,"k0":0,"k":""}"#,
            r#"{"\u00e9t\u00e9":"caf\u00e9","é":"é","":""}"#,
            r#"[[],{},"",0,-0,0.1]"#,
            "\"top\"",
            "null",
        ] {
            same_as_serde(text);
        }
    }

    /// The reader's own answer on `text` (no fallback to serde_json).
    fn own(text: &str) -> Option<serde_json::Value> {
        Parser::new(text).document().map(|v| v.to_serde())
    }

    /// A small deterministic generator (xorshift).
    struct Gen(u64);

    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
            from[self.next(from.len())]
        }

        fn text(&mut self, depth: usize) -> String {
            const SCALARS: &[&str] = &[
                "0",
                "-0",
                "7",
                "-12",
                "3.25",
                "1e3",
                "-1.5E-3",
                "2e+2",
                "1e-400",
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775809",
                "123456789012345678901234567890",
                "0.30000000000000004",
                "true",
                "false",
                "null",
                r#""""#,
                r#""http://127.0.0.1:8081/c/1""#,
                r#""a\"b\\c\/d""#,
                r#""\b\f\n\r\t""#,
                r#""\u00e9\u0041""#,
                r#""\uD834\uDD1E x""#,
                r#""café ✓""#,
            ];
            const KEYS: &[&str] = &["a", "b", "_links", "href", r"k\u0062", "é", ""];
            match (depth, self.next(4)) {
                (0, _) | (_, 0) => self.pick(SCALARS).to_string(),
                (_, 1) => {
                    let n = self.next(4);
                    let items: Vec<String> = (0..n).map(|_| self.text(depth - 1)).collect();
                    format!("[{}]", items.join(", "))
                }
                _ => {
                    let n = self.next(5);
                    let members: Vec<String> = (0..n)
                        .map(|_| format!("\"{}\" :{}", self.pick(KEYS), self.text(depth - 1)))
                        .collect();
                    format!("{{ {} }}", members.join(","))
                }
            }
        }
    }

    #[test]
    fn the_reader_agrees_with_serde_json_on_generated_and_mangled_text() {
        const NOISE: &[&str] = &[
            "", "\"", "\\", ",", "]", "}", "{", "[", ":", "0", "-", ".", "e", "\u{1}", r"\u",
            r"\uD800", r"\uDC00", "é", " ", "tru", "01",
        ];
        let mut g = Gen(0x2545_F491_4F6C_DD1D);
        let mut mangled_read = 0;
        for round in 0..20_000 {
            let text = g.text(4);
            let theirs: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(own(&text), Some(theirs), "{text}");
            // One edit at a char boundary: what serde_json refuses, the reader refuses; what
            // it reads, the reader reads the same.
            let chars: Vec<char> = text.chars().collect();
            let at = g.next(chars.len() + 1);
            let cut = g.next(3).min(chars.len() - at);
            let noise: Vec<char> = g.pick(NOISE).chars().collect();
            let mangled: String = chars[..at]
                .iter()
                .chain(&noise)
                .chain(&chars[at + cut..])
                .collect();
            let theirs = serde_json::from_str::<serde_json::Value>(&mangled).ok();
            assert_eq!(own(&mangled), theirs, "round {round}: {mangled}");
            assert_eq!(from_str(&mangled).ok().map(|v| v.to_serde()), theirs);
            mangled_read += usize::from(theirs.is_some());
        }
        // Both kinds were seen.
        assert!((2_000..18_000).contains(&mangled_read), "{mangled_read}");
    }

    #[test]
    fn a_word_is_special_exactly_when_a_byte_is() {
        let special = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        for round in 0..200_000 {
            let mut bytes = [0u8; 8];
            for b in &mut bytes {
                // Mostly ordinary bytes, now and then one from the edges.
                *b = match g.next(4) {
                    0 => [
                        0, 0x1f, 0x20, b'"', b'\\', 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xff,
                    ][g.next(11)],
                    _ => g.next(256) as u8,
                };
            }
            if round % 2 == 0 {
                // A word with at most one special byte, anywhere.
                for b in &mut bytes {
                    if special(*b) {
                        *b = b'a';
                    }
                }
                bytes[g.next(8)] = [0, 0x1f, b'"', b'\\', b'a'][g.next(5)];
            }
            let w = u64::from_le_bytes(bytes);
            assert_eq!(
                special_byte(w),
                bytes.iter().any(|&c| special(c)),
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn nesting_is_limited_where_serde_json_limits_it() {
        for n in [126, 127, 128, 129] {
            let text = format!("{}{}", "[".repeat(n), "]".repeat(n));
            let theirs = serde_json::from_str::<serde_json::Value>(&text).ok();
            assert_eq!(own(&text), theirs, "{n}");
            let text = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
            let theirs = serde_json::from_str::<serde_json::Value>(&text).ok();
            assert_eq!(own(&text), theirs, "{n}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let v = from_slice(br#"{"plain":"http://h/a","esc":"a\/b"}"#).unwrap();
        assert!(matches!(
            v.get("plain"),
            Some(Value::String(Cow::Borrowed(_)))
        ));
        assert_eq!(v.get("esc").and_then(Value::as_str), Some("a/b"));
        let Value::Object(m) = &v else { panic!() };
        assert_eq!(
            m.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            ["esc", "plain"]
        );
    }

    #[test]
    fn rejects_what_serde_json_rejects() {
        for text in [r#"{"a":"\ud800"}"#, "{\"a\":1", "[1,]", &"[".repeat(200)] {
            assert!(from_slice(text.as_bytes()).is_err(), "{text}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_err());
        }
    }
}
