//! The automatic-call loop of one node: plans each open slot (once across nodes), claims due
//! attempts up to the free trunk channels, checks each patient again at the moment of
//! dialling, dials through the trunks in turn, and stores each attempt's outcome with its
//! retry. Every decision is the sans-IO planner's and pacer's ([`crate::schedule`]); this
//! loop only reads the clock, the store and the SIP side. Which attempts start, and in which
//! order, is the one pacing policy of [`crate::schedule::claim`], which the store's claim
//! executes in SQL; claims are dialled in the order the store returns them.
//!
//! Several nodes on one PostgreSQL share the work through attempt leases; a node renews the
//! leases of its calls on the line, so only a dead node's attempts are taken over.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::{oneshot, Notify};

use super::session::{self, CallResult, Target};
use super::Shared;
use crate::domain::{AttemptId, CancelReason, Claim, Disposition, Finish, PatientId};
use crate::report::Slot;
use crate::schedule::{
    plan_day, trunk_failed, AttemptOutcome, DialCheck, NextStep, Pacer, PatientNow, TrunkPicker,
};
use crate::sip::SipEndpoint;
use crate::store::{Store, StoreError};

/// How often the loop looks for due attempts when nothing wakes it.
const TICK: Duration = Duration::from_millis(500);
/// How often each open slot is re-planned (patients added or changed by staff).
const REPLAN_AFTER: Duration = Duration::from_secs(300);
/// A slot is planned this long before its instant, so its first attempts are waiting.
const PLAN_AHEAD: Duration = Duration::from_secs(120);
/// How often attempts whose window closed are swept into backlog.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// How long a call staff asked for may wait to be dialled.
pub const CALL_NOW_WINDOW: Duration = Duration::from_secs(900);

/// Scheduler figures for `/metrics`.
#[derive(Debug, Default)]
pub struct SchedulerStats {
    /// Attempts claimed by this node.
    pub claimed: AtomicU64,
    /// Attempts dialled by this node.
    pub dialled: AtomicU64,
    /// Claimed attempts not dialled (cancelled by the last check).
    pub cancelled: AtomicU64,
    /// Claimed attempts given back (quiet hours, no free trunk).
    pub released: AtomicU64,
    /// Attempts swept as missed (their window closed first).
    pub missed: AtomicU64,
    /// Store operations of the scheduler that failed.
    pub store_errors: AtomicU64,
}

/// Scheduler figures of this process.
pub static STATS: SchedulerStats = SchedulerStats {
    claimed: AtomicU64::new(0),
    dialled: AtomicU64::new(0),
    cancelled: AtomicU64::new(0),
    released: AtomicU64::new(0),
    missed: AtomicU64::new(0),
    store_errors: AtomicU64::new(0),
};

struct Scheduler {
    shared: Arc<Shared>,
    sip: SipEndpoint,
    store: Store,
    pacer: Pacer,
    node: String,
    lease: Duration,
    trunks: Mutex<TrunkPicker>,
    /// Attempts on the line (their leases are renewed).
    on_line: Mutex<HashSet<AttemptId>>,
    wake: Notify,
}

/// Starts the loop; it stops when the engine starts draining.
pub(super) fn start(shared: Arc<Shared>, sip: SipEndpoint, store: Store) {
    let config = &shared.config;
    let scheduler = Arc::new(Scheduler {
        pacer: Pacer::new(config.schedule.clone()),
        node: config.calls.node_id.clone(),
        lease: config.calls.attempt_lease,
        trunks: Mutex::new(TrunkPicker::new(config.trunks.iter().map(|t| t.channels))),
        on_line: Mutex::new(HashSet::new()),
        wake: Notify::new(),
        shared,
        sip,
        store,
    });
    tracing::info!(
        node = %scheduler.node,
        zone = scheduler.pacer.config().time_zone_name(),
        "automatic calls scheduled"
    );
    tokio::spawn(scheduler.run());
}

impl Scheduler {
    async fn run(self: Arc<Self>) {
        let mut stop = self.shared.stop.subscribe();
        let mut planned: HashMap<Slot, SystemTime> = HashMap::new();
        let mut next_sweep = SystemTime::UNIX_EPOCH;
        let mut next_renew = crate::clock::wall_now() + self.lease / 3;
        loop {
            if self.shared.draining.load(Ordering::SeqCst) || *stop.borrow() {
                break;
            }
            let now = crate::clock::wall_now();
            self.plan_open_slots(now, &mut planned).await;
            if now >= next_sweep {
                next_sweep = now + SWEEP_EVERY;
                match self.store.sweep_missed_attempts(now).await {
                    Ok(0) => {}
                    Ok(n) => {
                        STATS.missed.fetch_add(n, Ordering::Relaxed);
                        tracing::warn!(attempts = n, "attempts missed their window (backlog)");
                    }
                    Err(e) => self.store_error("sweep missed attempts", &e),
                }
            }
            if now >= next_renew {
                next_renew = now + self.lease / 3;
                self.renew(now).await;
            }
            self.claim_and_dial(now).await;
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(TICK) => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!("automatic calls stopped: draining");
    }

    /// Plans every slot of today (and yesterday's still open) whose window is open or opens
    /// within [`PLAN_AHEAD`], once per [`REPLAN_AFTER`].
    async fn plan_open_slots(&self, now: SystemTime, planned: &mut HashMap<Slot, SystemTime>) {
        let config = self.pacer.config();
        let (today, _) = config.local(now);
        let yesterday =
            crate::report::date::Date::from_days_since_epoch(today.days_since_epoch() - 1);
        let mut due = Vec::new();
        for date in yesterday.into_iter().chain([today]) {
            for time in config.slot_times(date) {
                let slot = Slot { date, time };
                let at = config.instant(date, time);
                let open = at <= now + PLAN_AHEAD && now < at + config.window();
                let recent = planned.get(&slot).is_some_and(|t| now < *t + REPLAN_AFTER);
                if open && !recent {
                    due.push(slot);
                }
            }
        }
        planned.retain(|slot, _| slot.date >= yesterday.unwrap_or(today));
        if due.is_empty() {
            return;
        }
        let patients = match self.store.schedule_patients().await {
            Ok(p) => p,
            Err(e) => return self.store_error("read patients for the plan", &e),
        };
        for slot in due {
            let calls: Vec<_> = plan_day(config, &patients, slot.date)
                .into_iter()
                .filter(|c| c.slot == slot)
                .collect();
            let firsts = self.pacer.first_attempts(&calls);
            match self
                .store
                .plan_slot(&self.node, slot, &firsts, now, REPLAN_AFTER)
                .await
            {
                Ok(Some(new)) => {
                    tracing::info!(slot = %slot.time, calls = calls.len(), new, "slot planned");
                    planned.insert(slot, now);
                }
                Ok(None) => {
                    planned.insert(slot, now);
                }
                Err(e) => self.store_error("plan slot", &e),
            }
        }
    }

    async fn renew(&self, now: SystemTime) {
        let ids: Vec<AttemptId> = lock(&self.on_line).iter().copied().collect();
        if ids.is_empty() {
            return;
        }
        if let Err(e) = self
            .store
            .renew_leases(&self.node, &ids, now + self.lease)
            .await
        {
            self.store_error("renew leases", &e);
        }
    }

    async fn claim_and_dial(self: &Arc<Self>, now: SystemTime) {
        let admission = self
            .shared
            .config
            .calls
            .max_concurrent
            .saturating_sub(self.shared.active.load(Ordering::SeqCst));
        let free = lock(&self.trunks).free(now).min(admission);
        if free == 0 {
            return;
        }
        let limit = u32::try_from(free).unwrap_or(u32::MAX);
        let claims = match self
            .store
            .claim_due_attempts(&self.node, now, self.lease, limit)
            .await
        {
            Ok(c) => c,
            Err(e) => return self.store_error("claim attempts", &e),
        };
        STATS
            .claimed
            .fetch_add(claims.len() as u64, Ordering::Relaxed);
        for claim in claims {
            self.check_and_dial(claim, now).await;
        }
    }

    /// The last check before dialling (SPEC §4: stops at once, including queued calls).
    async fn check_and_dial(self: &Arc<Self>, claim: Claim, now: SystemTime) {
        let attempt = &claim.attempt;
        let patient = match self.store.patient_state(attempt.patient).await {
            Ok(p) => p,
            Err(e) => {
                self.store_error("read patient before dialling", &e);
                return self.release(&claim, now + Duration::from_secs(5)).await;
            }
        };
        let cancelled = |reason| DialCheck::Finish(Finish::Cancelled(reason));
        let check = match &patient {
            None => cancelled(CancelReason::NoLongerScheduled),
            // Staff may call any time, but never a number its answerer said is wrong.
            Some(p) if attempt.manual && p.number_blocked => cancelled(CancelReason::WrongNumber),
            Some(_) if attempt.manual => DialCheck::Dial,
            Some(p) => {
                let now_view = PatientNow {
                    settings: &p.settings,
                    last_complete_report: p.last_complete_report,
                    number_blocked: p.number_blocked,
                };
                self.pacer
                    .may_dial(&self.pacer.claimed_state(attempt), &now_view, now)
            }
        };
        match check {
            DialCheck::Dial => {}
            DialCheck::Wait { until } => return self.release(&claim, until).await,
            DialCheck::Finish(finish) => {
                STATS.cancelled.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    attempt = attempt.number,
                    reason = finish.label(),
                    "attempt not dialled"
                );
                if let Err(e) = self
                    .store
                    .cancel_claimed_attempt(claim.id, &self.node, finish, now)
                    .await
                {
                    self.store_error("cancel attempt", &e);
                }
                return;
            }
        }
        let Some(patient) = patient else { return };
        let Some(trunk) = lock(&self.trunks).take(now) else {
            return self.release(&claim, now).await;
        };
        let (done, result) = oneshot::channel();
        let target = Target {
            number: patient.phone,
            language: patient.language,
            patient: Some(attempt.patient),
            slot: Some((attempt.slot, attempt.number)),
            done: Some(done),
        };
        let call = self.shared.next_call.fetch_add(1, Ordering::Relaxed);
        STATS.dialled.fetch_add(1, Ordering::Relaxed);
        lock(&self.on_line).insert(claim.id);
        tokio::spawn(session::outbound(
            self.shared.clone(),
            self.sip.clone(),
            self.shared.config.trunks[trunk].clone(),
            target,
            call,
        ));
        let me = self.clone();
        tokio::spawn(async move {
            let result = result.await.ok();
            me.attempt_ended(claim, trunk, now, result).await;
        });
    }

    async fn release(&self, claim: &Claim, due: SystemTime) {
        STATS.released.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = self.store.release_attempt(claim.id, &self.node, due).await {
            self.store_error("release attempt", &e);
        }
    }

    /// Stores how the attempt ended and its retry, blocks a wrong number, frees the trunk.
    async fn attempt_ended(
        &self,
        claim: Claim,
        trunk: usize,
        started: SystemTime,
        result: Option<CallResult>,
    ) {
        let now = crate::clock::wall_now();
        let (outcome, call_id) = match &result {
            Some(r) => (
                AttemptOutcome::of_call(r.disposition, r.flow),
                Some(r.call_id.as_str()),
            ),
            None => (AttemptOutcome::NotAnswered(Disposition::Failed), None),
        };
        lock(&self.trunks).release(trunk, trunk_failed(outcome), now);
        let attempt = &claim.attempt;
        let step = if attempt.manual {
            match outcome {
                AttemptOutcome::WrongNumber => NextStep::StopNumber,
                _ => NextStep::Finish(Finish::Unreached),
            }
        } else {
            let mut state = self.pacer.claimed_state(attempt);
            state.start(started);
            self.pacer.after_attempt(&state, outcome, now)
        };
        let next = self.pacer.next_attempt(attempt, step);
        tracing::info!(
            attempt = attempt.number,
            outcome = outcome.label(),
            retry = next.is_some(),
            "attempt ended"
        );
        match self
            .store
            .finish_attempt_then(claim.id, &self.node, (outcome, call_id), next.as_ref(), now)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!("attempt was taken over by another node before it ended"),
            Err(e) => self.store_error("finish attempt", &e),
        }
        if step == NextStep::StopNumber {
            match self.store.block_number(attempt.patient, call_id, now).await {
                Ok(n) => {
                    tracing::info!(cancelled = n, "wrong number: number blocked, calls stopped")
                }
                Err(e) => self.store_error("block number", &e),
            }
        }
        lock(&self.on_line).remove(&claim.id);
        self.wake.notify_one();
    }

    fn store_error(&self, what: &str, e: &StoreError) {
        STATS.store_errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(operation = what, error = %e, "scheduler store operation failed");
    }
}

/// The average length of an automatic call assumed by the backlog estimate.
pub const AVERAGE_CALL: Duration = Duration::from_secs(90);

/// Every slot of local `date` with its planned calls and backlog at `now` (SPEC §4: staff
/// see when a slot cannot finish in its window). Slots not planned yet are counted from the
/// patients' settings. Capacity is this configuration's trunk channels.
pub async fn day_plan(
    store: &Store,
    config: &crate::config::Config,
    date: crate::report::date::Date,
    now: SystemTime,
) -> Result<
    (
        Vec<crate::store::AttemptRow>,
        Vec<crate::schedule::SlotBacklog>,
    ),
    StoreError,
> {
    let pacer = Pacer::new(config.schedule.clone());
    let rows = store.attempts_on(date).await?;
    let mut states = pacer.states_from_rows(rows.iter().map(|r| &r.attempt));
    let stored: HashSet<(Slot, PatientId)> = states
        .iter()
        .map(|s| (s.call.slot, s.call.patient))
        .collect();
    let patients = store.schedule_patients().await?;
    let unplanned: Vec<_> = plan_day(&config.schedule, &patients, date)
        .into_iter()
        .filter(|call| !stored.contains(&(call.slot, call.patient)))
        .collect();
    states.extend(pacer.planned_states(&unplanned));
    let channels = config.trunks.iter().map(|t| t.channels).sum();
    let backlog = pacer.backlog(&states, channels, AVERAGE_CALL, now);
    Ok((rows, backlog))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
