//! Reload (SIGHUP, `carecall reload`): dialplans, prompts and flag rules are loaded again and checked as
//! `carecall check` checks them; a set that passes is what new calls get, while calls in
//! progress keep the set they started with. A set that fails leaves the running one in place.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;

use super::{Assets, FlowFactory};
use crate::config::Config;
use crate::media::PromptSet;
use crate::report::FlagRules;

/// Reloads that replaced the set (`carecall_reloads_total{result="ok"}`).
pub static RELOADS_OK: AtomicU64 = AtomicU64::new(0);
/// Reloads refused, the running set kept (`carecall_reloads_total{result="failed"}`).
pub static RELOADS_FAILED: AtomicU64 = AtomicU64::new(0);

/// What a call follows and plays, fixed for the call's whole life.
pub(crate) struct CallSet {
    /// Builds the call's flow.
    pub flows: FlowFactory,
    /// The prompts its media plays.
    pub prompts: PromptSet,
    /// The report store, assessing the call's answers with the set's flag rules (`None`
    /// without a store).
    pub store: Option<crate::store::Store>,
    /// The set's flag rules: what its store assesses with, and what staff-entered reports
    /// and the flow simulator assess with while the set is in use.
    pub flag_rules: FlagRules,
}

/// How a reload went: the body of `carecall reload`'s answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ReloadReport {
    /// True when new calls get the new set.
    pub ok: bool,
    /// Prompts in the set now in use.
    pub prompts: usize,
    /// Dialplans in the set now in use (0 when the reload failed).
    pub dialplans: usize,
    /// Why the new set was refused, one line per problem (empty when `ok`).
    pub problems: Vec<String>,
}

impl super::EngineView {
    /// The flag rules of the set in use now: those the engine started with until a reload
    /// passes, then the reloaded ones (a refused reload changes nothing). New calls, reports
    /// staff enter and flow simulator sessions starting now are all assessed with these.
    pub fn flag_rules(&self) -> FlagRules {
        self.shared.current_set().flag_rules.clone()
    }

    /// Loads dialplans and prompts with `config` (`Err`: the configuration itself did not
    /// load, and says why) and, when every check passes, makes them the set new calls get.
    /// Otherwise the running set stays. Logs and counts the outcome either way.
    pub fn reload(&self, config: Result<Config, String>) -> ReloadReport {
        let started = crate::clock::now();
        let loaded = config.map_err(|e| vec![e]).and_then(|config| {
            let assets = Assets::load(&config).map_err(|e| e.0)?;
            let flows = assets.dialplan_flows().map_err(|e| e.0)?;
            Ok((assets, flows, config.store_options.flag_rules))
        });
        let ms = crate::clock::now().duration_since(started).as_millis() as u64;
        match loaded {
            Ok((assets, flows, rules)) => {
                let set = CallSet {
                    flows,
                    prompts: assets.prompts.clone(),
                    store: self
                        .shared
                        .store
                        .as_ref()
                        .map(|s| s.with_flag_rules(rules.clone())),
                    flag_rules: rules,
                };
                self.shared.replace_set(set);
                RELOADS_OK.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    prompts = assets.prompts.len(),
                    dialplans = assets.dialplans.len(),
                    ms,
                    active_calls = self.shared.active.load(Ordering::SeqCst),
                    "reload: new calls get the new dialplans, prompts and flag rules"
                );
                ReloadReport {
                    ok: true,
                    prompts: assets.prompts.len(),
                    dialplans: assets.dialplans.len(),
                    problems: Vec::new(),
                }
            }
            Err(problems) => {
                RELOADS_FAILED.fetch_add(1, Ordering::Relaxed);
                for problem in &problems {
                    tracing::warn!(problem = %problem, "reload refused");
                }
                tracing::warn!(
                    problems = problems.len(),
                    "reload refused: the running dialplans and prompts stay"
                );
                ReloadReport {
                    ok: false,
                    prompts: self.shared.current_set().prompts.len(),
                    dialplans: 0,
                    problems,
                }
            }
        }
    }
}

impl super::Shared {
    /// The set a call starting now follows.
    pub(crate) fn current_set(&self) -> Arc<CallSet> {
        self.set.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn replace_set(&self, set: CallSet) {
        *self.set.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(set);
    }
}
