//! An optional `Idempotency-Key` on a buyer's write other than a placement (a return): the
//! same key and body replay the first answer, another body under the key is 422, and a key
//! whose first request is still running is 409. Keys live in the placements' table and scope
//! (the buyer organisation), so a key names one intended request of the organisation,
//! whatever it is: a return under an order's key is 422, not a second meaning of the key.
use super::place::KEY_TTL_HOURS;
use super::queries;
use super::types::IdempotencyKey;
use crate::error::{AppError, AppResult};
use crate::services::now;
use sea_orm::ConnectionTrait;
use serde::{de::DeserializeOwned, Serialize};
use sha2::{Digest, Sha256};

pub(super) struct Keyed {
    scope: String,
    key: IdempotencyKey,
    hash: String,
}

impl Keyed {
    /// The key of `what` (the kind of write and the resource it acts on) with `body`, for the
    /// organisation `scope`.
    pub fn new(scope: &str, key: IdempotencyKey, what: &str, body: &impl Serialize) -> AppResult<Self> {
        let body = serde_json::to_string(body).map_err(AppError::internal)?;
        Ok(Self::hashing(scope, key, what, &body))
    }

    /// As [`Keyed::new`] over the request's text: SHA-256 of `what`, a newline and `body`.
    pub fn hashing(scope: &str, key: IdempotencyKey, what: &str, body: &str) -> Self {
        let mut h = Sha256::new();
        h.update(what.as_bytes());
        h.update(b"\n");
        h.update(body.as_bytes());
        Keyed {
            scope: scope.to_string(),
            key,
            hash: hex::encode(h.finalize()),
        }
    }

    /// The first answer, when a request with this key and body has finished; checked before the
    /// body is, since a retry of a write that succeeded may no longer pass its checks (a return
    /// of what is now already returned).
    pub async fn answered<T: DeserializeOwned>(&self, conn: &impl ConnectionTrait) -> AppResult<Option<T>> {
        let Some(r) = queries::find_key(conn, &self.scope, self.key.as_str()).await? else {
            return Ok(None);
        };
        if r.expires_at < now() {
            return Ok(None);
        }
        if r.request_hash != self.hash {
            return Err(AppError::field(
                "Idempotency-Key",
                "was already used with a different request body",
            ));
        }
        if r.response_status == 0 {
            return Err(still_running());
        }
        serde_json::from_str(&r.response_body)
            .map(Some)
            .map_err(AppError::internal)
    }

    /// Claims the key in the write's transaction, first: `None` when this request holds it now,
    /// else the answer to replay (on PostgreSQL a racing retry's claim waits for the first
    /// request's transaction, then finds its answer).
    pub async fn claim<T: DeserializeOwned>(&self, conn: &impl ConnectionTrait) -> AppResult<Option<T>> {
        if queries::claim_key(conn, &self.claim_at(now())).await? {
            return Ok(None);
        }
        self.replay(conn).await.map(Some)
    }

    /// The claim of the key made at `at`, for 24 hours.
    pub fn claim_at(&self, at: chrono::DateTime<chrono::Utc>) -> queries::KeyClaim<'_> {
        queries::KeyClaim {
            scope: &self.scope,
            key: self.key.as_str(),
            hash: &self.hash,
            at,
            expires: at + chrono::Duration::hours(KEY_TTL_HOURS),
        }
    }

    /// The answer to a request whose claim found the key live: the first answer, 422 for another
    /// body, 409 while the first request has not finished (its transaction is open elsewhere).
    pub async fn replay<T: DeserializeOwned>(&self, conn: &impl ConnectionTrait) -> AppResult<T> {
        self.answered(conn).await?.ok_or_else(still_running)
    }

    pub fn scope(&self) -> &str {
        &self.scope
    }

    pub fn key(&self) -> &str {
        self.key.as_str()
    }

    /// Stores the answer under the key, in the transaction that claimed it.
    pub async fn store(
        &self,
        conn: &impl ConnectionTrait,
        answer: &impl Serialize,
        resource_id: &str,
    ) -> AppResult<()> {
        let body = serde_json::to_string(answer).map_err(AppError::internal)?;
        queries::store_answer(conn, &self.scope, self.key.as_str(), body, resource_id.to_string()).await
    }
}

fn still_running() -> AppError {
    AppError::Conflict("a request with this Idempotency-Key is still being processed; retry later".into())
}
