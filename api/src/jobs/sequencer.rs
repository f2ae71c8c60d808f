//! The ledger's sequencer loop: every `ledger_sequence_ms`, the process holding the
//! `ledger-sequencer` lease (a `job_locks` row renewed while held, so one leader at a
//! time across processes) sequences the committed entries and signs a checkpoint.
use crate::state::AppState;
use std::time::Duration;

pub async fn run(state: AppState) {
    let every = Duration::from_millis(state.settings.ledger_sequence_ms.clamp(10, 1000));
    let lease = chrono::Duration::seconds(5);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut was_leader = false;
    loop {
        ticker.tick().await;
        let at = crate::services::now();
        let leader =
            match super::queries::take_lease(&state.db, "ledger-sequencer", &state.instance_id, at, at + lease).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "could not take the sequencer lease");
                    false
                }
            };
        if !leader {
            was_leader = false;
            continue;
        }
        // A new leader first scans every entry, in case a stopped one left some behind.
        let full = !was_leader;
        was_leader = true;
        if let Err(e) = crate::services::ledger::sequencer::sequence_batched(
            &state.db,
            &state.ledger_key,
            full,
            state.settings.ledger_sequence_batch,
        )
        .await
        {
            tracing::warn!(error = %e, "ledger sequencing failed");
        }
    }
}
