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
    ends: Vec<u32>,
    /// Each string's hash: growing the table and probing it never hash a string again (the
    /// 1M audit spent 5 % of its CPU rehashing URLs).
    hashes: Vec<u64>,
    table: HashTable<u32>,
}

impl std::fmt::Debug for Interner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interner")
            .field("len", &self.len())
            .finish()
    }
}

/// The hash the interner keys a string by.
pub fn hash(s: &str) -> u64 {
    FxBuildHasher.hash_one(s)
}

impl Interner {
    pub fn new() -> Interner {
        Interner::default()
    }

    /// An interner with room for `strings` strings of `bytes` bytes in all.
    pub fn with_capacity(strings: usize, bytes: usize) -> Interner {
        Interner {
            arena: String::with_capacity(bytes),
            ends: Vec::with_capacity(strings),
            hashes: Vec::with_capacity(strings),
            table: HashTable::with_capacity(strings),
        }
    }

    /// Makes room for `strings` more strings of `bytes` bytes in all.
    pub fn reserve(&mut self, strings: usize, bytes: usize) {
        self.arena.reserve(bytes);
        self.ends.reserve(strings);
        self.hashes.reserve(strings);
        let hashes = &self.hashes;
        self.table.reserve(strings, |&id| hashes[id as usize]);
    }

    /// Gives back what growing left unused.
    pub fn shrink_to_fit(&mut self) {
        self.arena.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.hashes.shrink_to_fit();
        let hashes = &self.hashes;
        self.table.shrink_to_fit(|&id| hashes[id as usize]);
    }

    /// Bytes of all strings interned.
    pub fn bytes(&self) -> usize {
        self.arena.len()
    }

    /// The hash of the string with id `id` (as [`hash`] gives it).
    pub fn hash_of(&self, id: u32) -> u64 {
        self.hashes[id as usize]
    }

    /// The string with id `id`.
    pub fn resolve(&self, id: u32) -> &str {
        let i = id as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.arena[start..self.ends[i] as usize]
    }

    /// The id of `s`, if interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let h = hash(s);
        self.table
            .find(h, |&id| {
                self.hashes[id as usize] == h && self.resolve(id) == s
            })
            .copied()
    }

    /// [`Interner::get`] for a string whose [`hash`] is known.
    pub fn get_hashed(&self, s: &str, h: u64) -> Option<u32> {
        self.table
            .find(h, |&id| {
                self.hashes[id as usize] == h && self.resolve(id) == s
            })
            .copied()
    }

    /// The id of `s`, interning it if new; `true` when it was new.
    pub fn intern(&mut self, s: &str) -> (u32, bool) {
        self.intern_hashed(s, hash(s))
    }

    /// [`Interner::intern`] for a string whose [`hash`] is known (from another interner).
    pub fn intern_hashed(&mut self, s: &str, h: u64) -> (u32, bool) {
        debug_assert_eq!(h, hash(s));
        let (hashes, ends, arena) = (&self.hashes, &self.ends, &self.arena);
        let same = |&id: &u32| {
            let i = id as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] as usize };
            hashes[i] == h && &arena[start..ends[i] as usize] == s
        };
        if let Some(&id) = self.table.find(h, same) {
            return (id, false);
        }
        let id = u32::try_from(self.ends.len()).expect("fewer than 4 billion strings");
        self.arena.push_str(s);
        let end = u32::try_from(self.arena.len()).expect("interned strings under 4 GiB");
        self.ends.push(end);
        self.hashes.push(h);
        let hashes = &self.hashes;
        self.table
            .insert_unique(h, id, |&other| hashes[other as usize]);
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
