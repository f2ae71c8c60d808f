//! The tree math against a reference written straight from RFC 9162 §2.1 (recursion over the leaves).
use super::*;
use proptest::prelude::*;
use std::collections::HashMap;

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => empty_root(),
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

fn ref_path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = ref_path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = ref_path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

fn ref_subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = ref_subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = ref_subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn leaves(n: usize) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect()
}

/// Builds the node store the way the sequencer does: leaves pushed one by one into a frontier,
/// restarting it from the store at every `batch`.
fn store(d: &[Hash], batch: usize) -> HashMap<NodeId, Hash> {
    let mut nodes = HashMap::new();
    let mut i = 0;
    while i < d.len() {
        for (j, h) in d.iter().enumerate().take(i) {
            nodes.insert(
                NodeId {
                    level: 0,
                    index: j as u64,
                },
                *h,
            );
        }
        let mut f = Frontier::new(i as u64, &mut |id| nodes[&id]);
        let mut emitted = Vec::new();
        for h in &d[i..(i + batch).min(d.len())] {
            f.push(*h, &mut |id, h| emitted.push((id, h)));
        }
        nodes.extend(emitted);
        i = (i + batch).min(d.len());
        assert_eq!(f.root(), mth(&d[..i]));
    }
    for (j, h) in d.iter().enumerate() {
        nodes.insert(
            NodeId {
                level: 0,
                index: j as u64,
            },
            *h,
        );
    }
    nodes
}

#[test]
fn empty_and_small_trees_match_the_rfc() {
    assert_eq!(
        hex::encode(empty_root()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let d = leaves(7);
    let nodes = store(&d, 3);
    for n in 0..=7u64 {
        assert_eq!(root(n, &mut |id| nodes[&id]), mth(&d[..n as usize]), "size {n}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn proofs_match_the_reference(n in 1usize..=2000, a in 0usize..2000, b in 0usize..2000, batch in 1usize..300) {
        let d = leaves(n);
        let nodes = store(&d, batch);
        let mut get = |id: NodeId| nodes[&id];
        let size = (b % n) + 1;
        let index = a % size;
        let tree = &d[..size];
        let r = mth(tree);
        prop_assert_eq!(root(size as u64, &mut get), r);
        let p = inclusion_proof(index as u64, size as u64, &mut get);
        prop_assert_eq!(&p, &ref_path(index, tree));
        prop_assert!(verify_inclusion(index as u64, size as u64, &d[index], &p, &r));
        if !p.is_empty() {
            let mut bad = p.clone();
            bad[0][0] ^= 1;
            prop_assert!(!verify_inclusion(index as u64, size as u64, &d[index], &bad, &r));
        }
        prop_assert!(!verify_inclusion(index as u64, size as u64, &leaf_hash(b"other"), &p, &r));
        let m = (a % size) + 1;
        let c = consistency_proof(m as u64, size as u64, &mut get);
        let expect = if m == size { vec![] } else { ref_subproof(m, tree, true) };
        prop_assert_eq!(&c, &expect);
        let mr = mth(&d[..m]);
        prop_assert!(verify_consistency(m as u64, size as u64, &mr, &r, &c));
        if m < size {
            prop_assert!(!verify_consistency(m as u64, size as u64, &leaf_hash(b"x"), &r, &c));
            prop_assert!(!verify_consistency(m as u64, size as u64, &mr, &leaf_hash(b"x"), &c));
        }
    }
}

#[test]
fn every_pair_of_small_sizes_verifies() {
    let d = leaves(70);
    let nodes = store(&d, 70);
    let mut get = |id: NodeId| nodes[&id];
    for n in 1..=70usize {
        let r = mth(&d[..n]);
        for i in 0..n {
            let p = inclusion_proof(i as u64, n as u64, &mut get);
            assert!(verify_inclusion(i as u64, n as u64, &d[i], &p, &r), "{i} in {n}");
        }
        for m in 1..=n {
            let c = consistency_proof(m as u64, n as u64, &mut get);
            assert!(
                verify_consistency(m as u64, n as u64, &mth(&d[..m]), &r, &c),
                "{m}..{n}"
            );
        }
    }
}
