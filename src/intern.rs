//! A string interner: every distinct string stored once in one arena, looked up by a fast
//! (Fx) hash. The graph's URLs and pointers live here: ~50 bytes per URL instead of a boxed
//! string, a hash-map entry and an allocation each (measured: 1 M URLs, 117 → ~60 MB).

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Interned strings with dense `u32` ids in insertion order.
#[derive(Clone, Default)]
pub struct Interner {
    arena: String,
    /// End offset of each string in `arena` (its start is the previous end).
    ends: Vec<usize>,
    table: HashTable<u32>,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("len", &self.len())
            .finish()
    }
}

fn hash(s: &str) -> u64 {
    FxBuildHasher.hash_one(s)
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    /// The string with id `id`.
    pub fn resolve(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.arena[start..self.ends[i]]
    }

    /// The id of `s`, if interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        self.table
            .find(hash(s), |&id| self.resolve(id) == s)
            .copied()
    }

    /// The id of `s`, interning it if new; `true` when it was new.
    pub fn intern(&mut self, s: &str) -> (u32, bool) {
        let h = hash(s);
        if let Some(&id) = self.table.find(h, |&id| self.resolve(id) == s) {
            return (id, false);
        }
        let id = u32::try_from(self.ends.len()).expect("fewer than 4 billion strings");
        self.arena.push_str(s);
        self.ends.push(self.arena.len());
        let (arena, ends) = (&self.arena, &self.ends);
        self.table.insert_unique(h, id, |&other| {
            let i = other as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            hash(&arena[start..ends[i]])
        });
        (id, true)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_once_in_order_and_resolves() {
        let mut i = Interner::new();
        assert_eq!(i.intern("http://h/a"), (0, true));
        assert_eq!(i.intern(""), (1, true));
        assert_eq!(i.intern("http://h/b"), (2, true));
        assert_eq!(i.intern("http://h/a"), (0, false));
        assert_eq!(i.resolve(2), "http://h/b");
        assert_eq!(i.resolve(1), "");
        assert_eq!(i.get("http://h/b"), Some(2));
        assert_eq!(i.get("http://h/c"), None);
        for n in 0..10_000 {
            i.intern(&format!("u{n}"));
        }
        assert_eq!(i.len(), 10_003);
        assert_eq!(i.get("u9999"), Some(10_002));
        assert_eq!(i.resolve(10_002), "u9999");
    }
}
