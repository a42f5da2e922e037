//! JSON Pointers (RFC 6901), parsed and checked once when the configuration
//! is loaded, and the tries of pointers the frame walker follows.

/// Parses an RFC 6901 pointer into its reference tokens: `""` is the whole
/// document, anything else starts with `/`; `~1` is `/` and `~0` is `~`.
pub fn parse(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "`{pointer}` is not a JSON Pointer (RFC 6901): it must be empty or start with `/`"
        ));
    };
    rest.split('/')
        .map(|token| {
            let mut out = String::with_capacity(token.len());
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c != '~' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('0') => out.push('~'),
                    Some('1') => out.push('/'),
                    _ => {
                        return Err(format!(
                            "`{pointer}` is not a JSON Pointer (RFC 6901): `~` must be followed by 0 or 1"
                        ))
                    }
                }
            }
            Ok(out)
        })
        .collect()
}

/// The array index a token stands for: digits without a leading zero.
fn index_of(token: &str) -> Option<usize> {
    let leading_zero = token.len() > 1 && token.starts_with('0');
    if token.is_empty() || leading_zero || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}

/// One step down from a node.
#[derive(Debug, Clone)]
pub(super) struct Edge {
    /// The object key this edge follows.
    pub key: Box<str>,
    /// The array index it follows, when the token is one.
    pub index: Option<usize>,
    /// The node it leads to.
    pub to: usize,
}

/// A node of a [`Trie`]: where the walker must look below it, and the slot a
/// value found here goes into.
#[derive(Debug, Clone, Default)]
pub(super) struct Node {
    pub edges: Vec<Edge>,
    /// Slots filled with the value here: one, or two when a frame rule and
    /// an event field point at the same place of a frame that is one event.
    pub slots: Vec<usize>,
}

/// Every pointer one walk follows, merged by common prefix, so that a frame
/// is read once whatever the number of pointers, and values nobody points
/// at are skipped without being built.
#[derive(Debug, Clone)]
pub(super) struct Trie {
    pub nodes: Vec<Node>,
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            nodes: vec![Node::default()],
        }
    }
}

impl Trie {
    /// The node at `tokens`, created if needed.
    pub fn node(&mut self, tokens: &[String]) -> usize {
        let mut at = 0;
        for token in tokens {
            let found = self.nodes[at]
                .edges
                .iter()
                .find(|e| *e.key == **token)
                .map(|e| e.to);
            at = match found {
                Some(to) => to,
                None => self.node_below(at, token),
            };
        }
        at
    }

    /// The slot of the value at `tokens`: the one already given to the same
    /// pointer, or `*next` (which then moves on).
    pub fn slot(&mut self, tokens: &[String], next: &mut usize) -> usize {
        let node = self.node(tokens);
        if let Some(&slot) = self.nodes[node].slots.first() {
            return slot;
        }
        self.nodes[node].slots.push(*next);
        *next += 1;
        *next - 1
    }

    /// Copies the subtree of `src` at `from` under `to`, slots included.
    pub fn graft(&mut self, src: &Trie, from: usize, to: usize) {
        for slot in &src.nodes[from].slots {
            if !self.nodes[to].slots.contains(slot) {
                self.nodes[to].slots.push(*slot);
            }
        }
        for edge in &src.nodes[from].edges {
            let child = self.node_below(to, &edge.key);
            self.graft(src, edge.to, child);
        }
    }

    fn node_below(&mut self, at: usize, key: &str) -> usize {
        if let Some(to) = self.by_key(at, key) {
            return to;
        }
        let to = self.nodes.len();
        self.nodes.push(Node::default());
        self.nodes[at].edges.push(Edge {
            key: key.into(),
            index: index_of(key),
            to,
        });
        to
    }

    /// The node an object key leads to from `node`.
    #[inline]
    pub fn by_key(&self, node: usize, key: &str) -> Option<usize> {
        self.nodes[node]
            .edges
            .iter()
            .find(|e| &*e.key == key)
            .map(|e| e.to)
    }

    /// The node an array index leads to from `node`.
    #[inline]
    pub fn by_index(&self, node: usize, index: usize) -> Option<usize> {
        self.nodes[node]
            .edges
            .iter()
            .find(|e| e.index == Some(index))
            .map(|e| e.to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_follow_rfc_6901() {
        let ok: &[(&str, &[&str])] = &[
            ("", &[]),
            ("/", &[""]),
            ("/type", &["type"]),
            ("/data/0/p", &["data", "0", "p"]),
            ("/a~1b", &["a/b"]),
            ("/m~0n", &["m~n"]),
            ("/~01", &["~1"]),
        ];
        for (text, want) in ok {
            let want: Vec<String> = want.iter().map(|t| t.to_string()).collect();
            assert_eq!(parse(text), Ok(want), "{text}");
        }
        for bad in ["type", "/a~2", "/a~", "data/0"] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains("RFC 6901"), "{bad}: {err}");
        }
    }

    #[test]
    fn indexes_have_no_leading_zero() {
        assert_eq!(index_of("0"), Some(0));
        assert_eq!(index_of("12"), Some(12));
        assert_eq!(index_of("012"), None);
        assert_eq!(index_of("-1"), None);
        assert_eq!(index_of(""), None);
    }

    #[test]
    fn one_pointer_gets_one_slot() {
        let mut trie = Trie::default();
        let mut next = 0;
        let a = trie.slot(&parse("/data/p").unwrap(), &mut next);
        let b = trie.slot(&parse("/type").unwrap(), &mut next);
        let c = trie.slot(&parse("/data/p").unwrap(), &mut next);
        assert_eq!((a, b, c, next), (0, 1, 0, 2));
        let data = trie.by_key(0, "data").expect("data edge");
        assert!(trie.by_key(data, "p").is_some());
        assert!(trie.by_key(0, "p").is_none());
    }
}
