//! Verification: recompute every leaf from its entry's fields, rebuild the tree
//! and compare each signed checkpoint's root on the way. The first bad position
//! is the first entry whose leaf does not match, or, where leaves match but a
//! root does not (entries reordered, inserted or removed together with their
//! hashes), the first position after the last checkpoint that still matched. The
//! stored inner nodes that proofs are served from are compared with the recomputed
//! ones too (where nothing else is bad, a changed node shows at the first position it covers).
use super::checkpoint::{self, VerifierKey};
use super::merkle::{empty_root, Frontier, Hash, NodeId};
use super::{leaf, queries};
use crate::error::AppResult;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerifyResult {
    /// How many entries were read and checked.
    pub entries: i64,
    /// The tree size verified up to (the latest checkpoint's unless asked for less).
    pub tree_size: i64,
    /// The recomputed root hash at `tree_size`, base64.
    pub root_hash: String,
    /// The same as `root_hash` (kept for clients of the hash chain).
    pub head_hash: String,
    pub ok: bool,
    /// The first position that does not verify, if any.
    pub first_bad_seq: Option<i64>,
}

/// Verifies the whole ledger against its latest checkpoint.
pub async fn verify(conn: &impl ConnectionTrait, vk: Option<&VerifierKey>) -> AppResult<VerifyResult> {
    verify_range(conn, vk, 0, None).await
}

/// Verifies positions after `since` up to `upto`: the tree's right edge at `since` is read
/// from the stored nodes and must give the root of the checkpoint of that size, so only
/// the entries after it are read. `vk`: check each checkpoint's signature too.
pub async fn verify_range(
    conn: &impl ConnectionTrait,
    vk: Option<&VerifierKey>,
    since: i64,
    upto: Option<i64>,
) -> AppResult<VerifyResult> {
    let latest = queries::latest_checkpoint(conn).await?;
    let latest_size = latest.as_ref().map_or(0, |c| c.tree_size);
    let target = upto.unwrap_or(latest_size).min(latest_size).max(0);
    let since = since.clamp(0, target);
    let mut first_bad: Option<i64> = None;
    // The checkpoints to compare with, read a page at a time as the walk reaches them.
    let mut exp = Checkpoints::new(vk, since, target);
    let mut frontier = if since == 0 {
        Frontier::default()
    } else {
        match queries::node_hashes(conn, &Frontier::ids(since as u64)).await {
            Ok(have) => Frontier::new(since as u64, &mut |id: NodeId| have[&id]),
            Err(_) => {
                bad(1, &mut first_bad);
                Frontier::default()
            }
        }
    };
    let mut last_matching = since;
    if let Some((s, root)) = exp.peek(conn, &mut first_bad).await? {
        if s == since && since > 0 {
            if Some(frontier.root()) != root {
                bad(1, &mut first_bad);
            }
            exp.pop();
        }
    }
    let mut count = 0i64;
    let mut node_bad: Option<i64> = None;
    let mut next = frontier.size() as i64 + 1;
    while next <= target {
        let to = (next + 4999).min(target);
        let rows = queries::positioned(conn, next, to).await?;
        if rows.is_empty() {
            bad(next, &mut first_bad);
            break;
        }
        let (mut completed, page_from) = (Vec::new(), frontier.size() + 1);
        for (p, e) in rows {
            count += 1;
            if p.seq != next {
                bad(next, &mut first_bad);
            }
            let stored = leaf::parse_hex(&p.leaf_hash);
            let recomputed = e.as_ref().and_then(|e| leaf::leaf_hash(e).ok());
            if recomputed.is_none() || recomputed != stored || e.as_ref().map(|e| &e.leaf_hash) != Some(&p.leaf_hash) {
                bad(p.seq, &mut first_bad);
            }
            // The stored leaf goes into the tree: an edited entry shows as its own position above,
            // edited stored hashes (or moved positions) as a root that no longer matches.
            frontier.push(stored.or(recomputed).unwrap_or_default(), &mut |id, h| {
                completed.push((id, h))
            });
            while let Some((s, root)) = exp.peek(conn, &mut first_bad).await? {
                if s > frontier.size() as i64 {
                    break;
                }
                if s == frontier.size() as i64 {
                    if Some(frontier.root()) != root {
                        bad(last_matching + 1, &mut first_bad);
                    } else {
                        last_matching = s;
                    }
                }
                exp.pop();
            }
            next = p.seq + 1;
        }
        // The stored inner nodes (which proofs are served from) must be the recomputed ones.
        let stored = queries::nodes_completed(conn, page_from, frontier.size()).await?;
        for (id, h) in completed {
            if stored.get(&id).and_then(|s| leaf::parse_hex(s)) != Some(h) {
                bad((id.index << id.level) as i64 + 1, &mut node_bad);
            }
        }
    }
    // Every checkpoint's signature is checked, also those past a walk that stopped early.
    while exp.peek(conn, &mut first_bad).await?.is_some() {
        exp.pop();
    }
    // A changed leaf changes every node above it: a node shows (at the first position it
    // covers) only where the leaves and roots are sound and the stored node alone is not.
    if first_bad.is_none() {
        first_bad = node_bad;
    }
    if (frontier.size() as i64) < target {
        bad(frontier.size() as i64 + 1, &mut first_bad);
    }
    let root = if frontier.size() == 0 {
        empty_root()
    } else {
        frontier.root()
    };
    let root_b64 = B64.encode(root);
    Ok(VerifyResult {
        entries: count,
        tree_size: target,
        root_hash: root_b64.clone(),
        head_hash: root_b64,
        ok: first_bad.is_none(),
        first_bad_seq: first_bad,
    })
}

/// Keeps the lowest bad position seen.
fn bad(seq: i64, first_bad: &mut Option<i64>) {
    if first_bad.is_none_or(|b| seq < b) {
        *first_bad = Some(seq);
    }
}

/// The checkpoints of sizes `since..=target` in order, read 5,000 at a time (a year holds
/// millions), each signature checked as its page is read: a bad one marks the position
/// after the last checkpoint whose signature held.
struct Checkpoints<'a> {
    vk: Option<&'a VerifierKey>,
    from: i64,
    target: i64,
    page: std::collections::VecDeque<(i64, Option<Hash>)>,
    exhausted: bool,
    last_good: i64,
}

impl<'a> Checkpoints<'a> {
    fn new(vk: Option<&'a VerifierKey>, since: i64, target: i64) -> Self {
        Self {
            vk,
            from: since,
            target,
            page: Default::default(),
            exhausted: false,
            last_good: since,
        }
    }

    /// The next checkpoint's size and root, reading the next page when this one is done.
    async fn peek(
        &mut self,
        conn: &impl ConnectionTrait,
        first_bad: &mut Option<i64>,
    ) -> AppResult<Option<(i64, Option<Hash>)>> {
        if self.page.is_empty() && !self.exhausted {
            let rows = queries::checkpoints_from(conn, self.from, 5000).await?;
            match rows.last().map(|c| c.tree_size) {
                Some(last) if last < self.target => self.from = last + 1,
                _ => self.exhausted = true,
            }
            for c in rows.into_iter().filter(|c| c.tree_size <= self.target) {
                let root = leaf::parse_hex(&c.root_hash);
                let signed_ok = self.vk.is_none_or(|vk| {
                    checkpoint::open(&c.note, vk).is_ok_and(|o| o.size == c.tree_size as u64 && Some(o.root) == root)
                });
                if signed_ok {
                    self.last_good = c.tree_size;
                } else {
                    bad(self.last_good + 1, first_bad);
                }
                self.page.push_back((c.tree_size, root));
            }
        }
        Ok(self.page.front().copied())
    }

    fn pop(&mut self) {
        self.page.pop_front();
    }
}

/// `assist-market verify-ledger`: from the last verified checkpoint on (whose recorded root
/// must still be the tree's at that size), or everything with `full`; records the tree
/// size verified when it verifies.
pub async fn verify_recorded(state: &crate::state::AppState, full: bool) -> AppResult<VerifyResult> {
    let vk =
        checkpoint::parse_verifier_key(&state.ledger_key.verifier_key()).map_err(crate::error::AppError::internal)?;
    let conn = &state.db;
    let since = match verified_prefix(conn).await? {
        Prefix::Changed if !full => {
            // The verified prefix changed since: say so, then check everything to locate it.
            let mut r = verify_range(conn, Some(&vk), 0, None).await?;
            r.ok = false;
            r.first_bad_seq = Some(r.first_bad_seq.unwrap_or(1));
            return Ok(r);
        }
        Prefix::Verified(size) if !full => size,
        _ => 0,
    };
    let r = verify_range(conn, Some(&vk), since, None).await?;
    if r.ok {
        let root = B64.decode(&r.root_hash).map_err(crate::error::AppError::internal)?;
        queries::record_verified(conn, r.tree_size, &hex::encode(root)).await?;
    }
    Ok(r)
}

/// What `verify-ledger` recorded, as the tree stands now.
enum Prefix {
    /// Nothing recorded.
    None,
    /// Positions `1..=size` verified, and the stored tree still has the root then recorded.
    Verified(i64),
    /// The stored tree's root at the recorded size is no longer the one recorded.
    Changed,
}

async fn verified_prefix(conn: &impl ConnectionTrait) -> AppResult<Prefix> {
    let Some((size, root)) = queries::last_verified(conn).await? else {
        return Ok(Prefix::None);
    };
    let now = super::proofs::root_at(conn, size).await.ok().map(hex::encode);
    Ok(if now.as_deref() == Some(root.as_str()) {
        Prefix::Verified(size)
    } else {
        Prefix::Changed
    })
}

/// Verifies positions `1..=upto` as `verify-ledger` does without `--full`: from the last
/// verified size (or `upto`, when that is less), checkpoint signatures included; from
/// position 1 when nothing was recorded or the recorded prefix changed since. So a check that
/// runs on every request (a reconciliation's) costs the entries since the last verification,
/// not the whole ledger; an edit inside a verified prefix is `verify-ledger --full`'s to find.
pub async fn verify_upto_recorded(conn: &impl ConnectionTrait, vk: &VerifierKey, upto: i64) -> AppResult<VerifyResult> {
    let since = match verified_prefix(conn).await? {
        Prefix::Verified(size) => size.min(upto),
        Prefix::None | Prefix::Changed => 0,
    };
    verify_range(conn, Some(vk), since, Some(upto)).await
}
