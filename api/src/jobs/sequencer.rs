//! The ledger's sequencer loop: every `ledger_sequence_ms`, the process holding the
//! `ledger-sequencer` lease (a `job_locks` row renewed while held, so one leader at a
//! time across processes) sequences the committed entries and signs a checkpoint. It looks
//! at the recent entries each tick, at the last hour's every `ledger_wide_scan_secs`, and at
//! every entry when it becomes the leader.
use crate::services::ledger::sequencer::Scan;
use crate::state::AppState;
use std::time::{Duration, Instant};

pub async fn run(state: AppState) {
    let every = Duration::from_millis(state.settings.ledger_sequence_ms.clamp(10, 1000));
    let lease = chrono::Duration::seconds(5);
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let wide_every = Duration::from_secs(state.settings.ledger_wide_scan_secs.max(1));
    let mut last_wide = Instant::now();
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
        // A new leader first scans every entry, in case a stopped one left some behind; then
        // now and then the last hour, for an entry committed after the low-water mark passed it.
        let scan = if !was_leader {
            Scan::Full
        } else if last_wide.elapsed() >= wide_every {
            Scan::Wide
        } else {
            Scan::Recent
        };
        if scan != Scan::Recent {
            last_wide = Instant::now();
        }
        was_leader = true;
        if let Err(e) = crate::services::ledger::sequencer::sequence_batched(
            &state.db,
            &state.ledger_key,
            scan,
            state.settings.ledger_sequence_batch,
        )
        .await
        {
            tracing::warn!(error = %e, "ledger sequencing failed");
        }
    }
}
