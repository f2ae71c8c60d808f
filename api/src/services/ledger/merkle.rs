//! RFC 9162 §2.1 Merkle tree math, as pure functions: leaf and node hashes, the
//! right edge of a growing tree (`Frontier`), inclusion and consistency proofs
//! built from complete subtrees, and their verification (§2.1.3.2, §2.1.4.2).
//! Trees are read through a `get(NodeId)` callback that returns the hash of a
//! complete subtree, so that the caller decides where nodes come from.
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256()`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The complete subtree of `2^level` leaves that starts at leaf `index << level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u32,
    pub index: u64,
}

/// The largest power of two smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[start:end])`, from complete subtrees.
pub fn range_hash(start: u64, end: u64, get: &mut impl FnMut(NodeId) -> Hash) -> Hash {
    let n = end.saturating_sub(start);
    if n == 0 {
        return empty_root();
    }
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros();
        return get(NodeId {
            level,
            index: start >> level,
        });
    }
    let k = if n.is_power_of_two() { n / 2 } else { split(n) };
    let l = range_hash(start, start + k, get);
    let r = range_hash(start + k, end, get);
    node_hash(&l, &r)
}

/// The root of a tree of `size` leaves.
pub fn root(size: u64, get: &mut impl FnMut(NodeId) -> Hash) -> Hash {
    range_hash(0, size, get)
}

/// The audit path of leaf `index` in a tree of `size` leaves (RFC 9162 §2.1.3.1), bottom first.
/// Empty when `index >= size`.
pub fn inclusion_proof(index: u64, size: u64, get: &mut impl FnMut(NodeId) -> Hash) -> Vec<Hash> {
    let mut out = Vec::new();
    if index < size {
        path(index, 0, size, get, &mut out);
    }
    out
}

fn path(m: u64, start: u64, end: u64, get: &mut impl FnMut(NodeId) -> Hash, out: &mut Vec<Hash>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path(m, start, start + k, get, out);
        out.push(range_hash(start + k, end, get));
    } else {
        path(m - k, start + k, end, get, out);
        out.push(range_hash(start, start + k, get));
    }
}

/// The consistency proof between sizes `m <= n` (RFC 9162 §2.1.4.1); empty when `m == 0` or `m >= n`.
pub fn consistency_proof(m: u64, n: u64, get: &mut impl FnMut(NodeId) -> Hash) -> Vec<Hash> {
    let mut out = Vec::new();
    if m > 0 && m < n {
        subproof(m, 0, n, true, get, &mut out);
    }
    out
}

fn subproof(m: u64, start: u64, end: u64, b: bool, get: &mut impl FnMut(NodeId) -> Hash, out: &mut Vec<Hash>) {
    let n = end - start;
    if m == n {
        if !b {
            out.push(range_hash(start, end, get));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, start, start + k, b, get, out);
        out.push(range_hash(start + k, end, get));
    } else {
        subproof(m - k, start + k, end, false, get, out);
        out.push(range_hash(start, start + k, get));
    }
}

/// RFC 9162 §2.1.3.2.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    snode == 0 && r == *root
}

/// RFC 9162 §2.1.4.2. Sizes equal: the proof is empty and the roots match; size 0: any root.
pub fn verify_consistency(m: u64, n: u64, m_root: &Hash, n_root: &Hash, proof: &[Hash]) -> bool {
    if m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && m_root == n_root;
    }
    if m == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        path.push(*m_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut fnode, mut snode) = (m - 1, n - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return false;
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    fr == *m_root && sr == *n_root && snode == 0
}

/// The right edge of a tree: one complete subtree per set bit of its size, largest first.
#[derive(Clone, Debug, Default)]
pub struct Frontier {
    size: u64,
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The subtrees that make up the right edge of a tree of `size` leaves, largest first.
    pub fn ids(size: u64) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut offset = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                out.push(NodeId {
                    level,
                    index: offset >> level,
                });
                offset += 1u64 << level;
            }
        }
        out
    }

    /// The right edge of a tree of `size` leaves from the hashes of [`Frontier::ids`].
    pub fn new(size: u64, get: &mut impl FnMut(NodeId) -> Hash) -> Frontier {
        let nodes = Frontier::ids(size).into_iter().map(|id| (id.level, get(id))).collect();
        Frontier { size, nodes }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf; `emit` receives every subtree of level >= 1 that it completes.
    pub fn push(&mut self, leaf: Hash, emit: &mut impl FnMut(NodeId, Hash)) {
        let index = self.size;
        let mut h = leaf;
        let mut level = 0u32;
        while let Some(&(l, left)) = self.nodes.last() {
            if l != level {
                break;
            }
            self.nodes.pop();
            h = node_hash(&left, &h);
            level += 1;
            emit(
                NodeId {
                    level,
                    index: index >> level,
                },
                h,
            );
        }
        self.nodes.push((level, h));
        self.size += 1;
    }

    /// The tree's root.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some(&(_, mut r)) = it.next() else {
            return empty_root();
        };
        for (_, h) in it {
            r = node_hash(h, &r);
        }
        r
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop)]
mod tests;
