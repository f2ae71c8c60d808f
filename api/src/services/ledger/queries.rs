//! Every statement of the ledger capability.
use super::merkle::{Hash, NodeId};
use crate::domain::ReportGroup;
use crate::error::{AppError, AppResult};
use crate::services::sql;
use crate::services::writes::Writes;
use entity::{ledger_checkpoints as cps, ledger_entries, ledger_positions as pos, ledger_tree_nodes as nodes};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Select, Value,
};
use std::collections::HashMap;

/// Writes entries in one multi-row INSERT (`ins` is assigned by the database), deferred to
/// the caller's next statement.
pub(super) fn insert_entries(writes: &mut Writes, rows: Vec<ledger_entries::Model>) {
    if rows.is_empty() {
        return;
    }
    let rows = rows.into_iter().map(|m| {
        let mut a = ledger_entries::ActiveModel::from(m);
        a.ins = NotSet;
        a
    });
    writes.insert(ledger_entries::Entity::insert_many(rows).as_query());
}

/// Entries after `low_ins` that have no position yet, in insertion order.
pub(super) async fn unsequenced(
    conn: &impl ConnectionTrait,
    low_ins: i64,
    limit: u64,
) -> AppResult<Vec<ledger_entries::Model>> {
    Ok(ledger_entries::Entity::find()
        .filter(ledger_entries::Column::Ins.gt(low_ins))
        .filter(Expr::cust(
            "NOT EXISTS (SELECT 1 FROM ledger_positions p WHERE p.entry_id = ledger_entries.id)",
        ))
        .order_by_asc(ledger_entries::Column::Ins)
        .limit(limit)
        .all(conn)
        .await?)
}

pub(super) async fn low_ins(conn: &impl ConnectionTrait) -> AppResult<i64> {
    let row = conn
        .query_one_raw(sql(conn, "SELECT low_ins FROM ledger_tail WHERE id = 1", vec![]))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "low_ins")).transpose()?.unwrap_or(0))
}

pub(super) async fn set_low_ins(conn: &impl ConnectionTrait, v: i64) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        "UPDATE ledger_tail SET low_ins = $1 WHERE id = 1 AND low_ins < $1",
        vec![v.into()],
    ))
    .await?;
    Ok(())
}

pub async fn latest_checkpoint(conn: &impl ConnectionTrait) -> AppResult<Option<cps::Model>> {
    Ok(cps::Entity::find()
        .order_by_desc(cps::Column::TreeSize)
        .one(conn)
        .await?)
}

/// The newest checkpoint written before `at`.
pub(super) async fn checkpoint_before(
    conn: &impl ConnectionTrait,
    at: chrono::DateTime<chrono::Utc>,
) -> AppResult<Option<cps::Model>> {
    Ok(cps::Entity::find()
        .filter(cps::Column::CreatedAt.lt(at))
        .order_by_desc(cps::Column::TreeSize)
        .one(conn)
        .await?)
}

/// Checkpoints of size `>= from`, oldest first (at most `limit`, at most 10,000 in any case).
pub async fn checkpoints_from(conn: &impl ConnectionTrait, from: i64, limit: u64) -> AppResult<Vec<cps::Model>> {
    Ok(cps::Entity::find()
        .filter(cps::Column::TreeSize.gte(from))
        .order_by_asc(cps::Column::TreeSize)
        .limit(limit.min(10_000))
        .all(conn)
        .await?)
}

pub(super) async fn insert_sequenced(
    conn: &impl ConnectionTrait,
    positions: Vec<pos::Model>,
    new_nodes: Vec<nodes::Model>,
    checkpoint: cps::Model,
) -> AppResult<()> {
    for chunk in positions.chunks(1000) {
        pos::Entity::insert_many(chunk.iter().cloned().map(pos::ActiveModel::from))
            .exec_without_returning(conn)
            .await?;
    }
    for chunk in new_nodes.chunks(1000) {
        nodes::Entity::insert_many(chunk.iter().cloned().map(nodes::ActiveModel::from))
            .exec_without_returning(conn)
            .await?;
    }
    cps::Entity::insert(cps::ActiveModel::from(checkpoint))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

/// The hashes of the given complete subtrees: leaves from `ledger_positions`, the rest from
/// `ledger_tree_nodes`. A missing one is an error (the tree is incomplete or was cut).
pub(super) async fn node_hashes(conn: &impl ConnectionTrait, ids: &[NodeId]) -> AppResult<HashMap<NodeId, Hash>> {
    let mut out = HashMap::new();
    let seqs: Vec<i64> = ids
        .iter()
        .filter(|i| i.level == 0)
        .map(|i| i.index as i64 + 1)
        .collect();
    for chunk in seqs.chunks(500) {
        for p in pos::Entity::find()
            .filter(pos::Column::Seq.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            out.insert(
                NodeId {
                    level: 0,
                    index: (p.seq - 1) as u64,
                },
                parse(&p.leaf_hash)?,
            );
        }
    }
    let upper: Vec<&NodeId> = ids.iter().filter(|i| i.level > 0).collect();
    for chunk in upper.chunks(200) {
        let mut cond = sea_orm::Condition::any();
        for id in chunk {
            cond = cond.add(
                sea_orm::Condition::all()
                    .add(nodes::Column::Level.eq(id.level as i32))
                    .add(nodes::Column::Idx.eq(id.index as i64)),
            );
        }
        for n in nodes::Entity::find().filter(cond).all(conn).await? {
            out.insert(
                NodeId {
                    level: n.level as u32,
                    index: n.idx as u64,
                },
                parse(&n.hash)?,
            );
        }
    }
    if let Some(missing) = ids.iter().find(|i| !out.contains_key(i)) {
        return Err(AppError::Conflict(format!(
            "the ledger tree has no node at level {} index {}; it is incomplete or was altered",
            missing.level, missing.index
        )));
    }
    Ok(out)
}

/// The stored inner nodes (level >= 1) completed by the leaves at positions `from..=to`, as
/// stored (hex), one range of indexes per level: what `verify` compares with its recomputation.
pub(super) async fn nodes_completed(
    conn: &impl ConnectionTrait,
    from: u64,
    to: u64,
) -> AppResult<HashMap<NodeId, String>> {
    let mut cond = sea_orm::Condition::any();
    // Node (level, i) is completed by the leaf at position (i + 1) * 2^level.
    for level in 1..63u32 {
        let (lo, hi) = (from.div_ceil(1 << level), to >> level);
        if lo > hi {
            break;
        }
        cond = cond.add(
            sea_orm::Condition::all()
                .add(nodes::Column::Level.eq(level as i32))
                .add(nodes::Column::Idx.between(lo as i64 - 1, hi as i64 - 1)),
        );
    }
    let mut out = HashMap::new();
    for n in nodes::Entity::find().filter(cond).all(conn).await? {
        let id = NodeId {
            level: n.level as u32,
            index: n.idx as u64,
        };
        out.insert(id, n.hash);
    }
    Ok(out)
}

fn parse(h: &str) -> AppResult<Hash> {
    super::leaf::parse_hex(h).ok_or_else(|| AppError::Conflict("a stored ledger hash is malformed".into()))
}

/// Positions `from..=to` with their entries (None where an entry is missing), in order.
pub(super) async fn positioned(
    conn: &impl ConnectionTrait,
    from: i64,
    to: i64,
) -> AppResult<Vec<(pos::Model, Option<ledger_entries::Model>)>> {
    let ps = pos::Entity::find()
        .filter(pos::Column::Seq.gte(from))
        .filter(pos::Column::Seq.lte(to))
        .order_by_asc(pos::Column::Seq)
        .all(conn)
        .await?;
    let mut by_id: HashMap<String, ledger_entries::Model> = HashMap::new();
    let ids: Vec<String> = ps.iter().map(|p| p.entry_id.clone()).collect();
    for chunk in ids.chunks(500) {
        for e in ledger_entries::Entity::find()
            .filter(ledger_entries::Column::Id.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            by_id.insert(e.id.clone(), e);
        }
    }
    Ok(ps
        .into_iter()
        .map(|p| {
            let e = by_id.remove(&p.entry_id);
            (p, e)
        })
        .collect())
}

/// One sequenced entry with its seq.
pub(super) async fn entry_at(conn: &impl ConnectionTrait, seq: i64) -> AppResult<Option<ledger_entries::Model>> {
    let Some(p) = pos::Entity::find_by_id(seq).one(conn).await? else {
        return Ok(None);
    };
    Ok(ledger_entries::Entity::find()
        .filter(ledger_entries::Column::Id.eq(p.entry_id))
        .one(conn)
        .await?)
}

/// The seq of each of these entries that has one.
pub(super) async fn seqs_of(conn: &impl ConnectionTrait, ids: &[String]) -> AppResult<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        for p in pos::Entity::find()
            .filter(pos::Column::EntryId.is_in(chunk.to_vec()))
            .all(conn)
            .await?
        {
            out.insert(p.entry_id, p.seq);
        }
    }
    Ok(out)
}

/// (year, dimension, key, credit category, poverty status).
type RollupKey = (i32, ReportGroup, String, String, String);

/// Adds a batch's sums to the roll-up, one row per (year, dimension, key, category, status).
pub(super) async fn fold_rollup(conn: &impl ConnectionTrait, batch: &[ledger_entries::Model]) -> AppResult<()> {
    let mut sums: HashMap<RollupKey, (i64, i64)> = HashMap::new();
    for e in batch {
        for (dim, key) in [
            (ReportGroup::Buyer, e.buyer_org_id.clone()),
            (ReportGroup::Supplier, e.supplier_org_id.clone()),
            (ReportGroup::County, e.origin_county_code.clone()),
            (ReportGroup::Month, e.month.to_string()),
        ] {
            let s = sums
                .entry((
                    e.year,
                    dim,
                    key,
                    e.credit_category.clone(),
                    e.origin_poverty_status.clone(),
                ))
                .or_insert((0, 0));
            s.0 =
                s.0.checked_add(e.amount_fen)
                    .ok_or_else(|| AppError::internal("roll-up overflow"))?;
            s.1 += 1;
        }
    }
    let rows: Vec<_> = sums.into_iter().collect();
    let old = if conn.get_database_backend() == DbBackend::Postgres {
        "ledger_rollup."
    } else {
        ""
    };
    for chunk in rows.chunks(400) {
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        let mut tuples = Vec::with_capacity(chunk.len());
        for (i, ((year, dim, key, cat, status), (amt, n))) in chunk.iter().enumerate() {
            let b = i * 7;
            tuples.push(format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7
            ));
            values.extend([
                (*year).into(),
                (*dim).into(),
                key.clone().into(),
                cat.clone().into(),
                status.clone().into(),
                (*amt).into(),
                (*n).into(),
            ]);
        }
        let text = format!(
            "INSERT INTO ledger_rollup (year, dim, key, credit_category, origin_poverty_status, amount_fen, entry_count) \
             VALUES {} ON CONFLICT (year, dim, key, credit_category, origin_poverty_status) DO UPDATE \
             SET amount_fen = {old}amount_fen + excluded.amount_fen, entry_count = {old}entry_count + excluded.entry_count",
            tuples.join(", ")
        );
        conn.execute_raw(sql(conn, &text, values)).await?;
    }
    Ok(())
}

/// One page of entries with the view's filters applied, after `after_ins`, in insertion order.
pub(super) async fn page(
    conn: &impl ConnectionTrait,
    q: Select<ledger_entries::Entity>,
    after_ins: Option<i64>,
    limit: u64,
) -> AppResult<Vec<ledger_entries::Model>> {
    let mut q = q;
    if let Some(s) = after_ins {
        q = q.filter(ledger_entries::Column::Ins.gt(s));
    }
    Ok(q.order_by_asc(ledger_entries::Column::Ins)
        .limit(limit)
        .all(conn)
        .await?)
}

/// The last tree size `verify-ledger` checked, with its root.
pub async fn last_verified(conn: &impl ConnectionTrait) -> AppResult<Option<(i64, String)>> {
    let row = conn
        .query_one_raw(sql(
            conn,
            "SELECT tree_size, root_hash FROM ledger_verifications ORDER BY tree_size DESC LIMIT 1",
            vec![],
        ))
        .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("", "tree_size")?, r.try_get("", "root_hash")?)),
        None => None,
    })
}

pub async fn record_verified(conn: &impl ConnectionTrait, size: i64, root_hex: &str) -> AppResult<()> {
    conn.execute_raw(sql(
        conn,
        "INSERT INTO ledger_verifications (tree_size, root_hash, verified_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tree_size) DO NOTHING",
        vec![size.into(), root_hex.into(), crate::services::now().into()],
    ))
    .await?;
    Ok(())
}
