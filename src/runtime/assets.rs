//! Loading what the engine plays and follows: the prompt catalogue and recordings, and the
//! dialplans checked against the catalogue. Every problem is collected, so `carecall check`
//! can list them all and `serve` refuses to start with the whole list.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::call::{CallFlow, DialplanFlow, Direction};
use crate::config::Config;
use crate::ivr::Dialplan;
use crate::lang::Language;
use crate::media::{Catalogue, PromptSet};

/// Prompts and dialplans, ready for calls.
#[derive(Clone)]
pub struct Assets {
    /// Every prompt, decoded and encoded once.
    pub prompts: PromptSet,
    /// Dialplans by id (`health_call`, `automatic_call`).
    pub dialplans: HashMap<String, Arc<Dialplan>>,
}

/// Everything wrong with the prompts and dialplans, one line per problem, each naming its
/// file (and line, step and field where it has them).
#[derive(Debug, thiserror::Error)]
#[error("{} problem(s):\n  {}", .0.len(), .0.join("\n  "))]
pub struct AssetProblems(pub Vec<String>);

/// The dialplans the engine needs.
pub const REQUIRED_DIALPLANS: [&str; 2] = ["health_call", "automatic_call"];

impl Assets {
    /// Loads prompts from `config.prompts_dir` and dialplans from `config.dialplans_dir`.
    pub fn load(config: &Config) -> Result<Assets, AssetProblems> {
        let mut problems = Vec::new();
        let catalogue = read_catalogue(&config.prompts_dir, &mut problems);
        let known = |id: &str| {
            catalogue
                .as_ref()
                .is_some_and(|c| Language::ALL.iter().all(|&l| c.text(l, id).is_some()))
        };
        let dialplans = match crate::ivr::load_dir(&config.dialplans_dir, &known) {
            Ok(plans) => plans
                .into_iter()
                .map(|p| (p.id().to_owned(), Arc::new(p)))
                .collect::<HashMap<_, _>>(),
            Err(errors) => {
                problems.extend(errors.0.iter().map(|p| p.to_string()));
                HashMap::new()
            }
        };
        if problems.is_empty() {
            for id in REQUIRED_DIALPLANS {
                if !dialplans.contains_key(id) {
                    let dir = config.dialplans_dir.display();
                    problems.push(format!("{dir}: no dialplan with id `{id}`"));
                }
            }
        }
        let prompts = match PromptSet::load(&config.prompts_dir, &[] as &[&str]) {
            Ok(p) => Some(p),
            Err(e) => {
                let listed = e.problems();
                if listed.is_empty() {
                    problems.push(e.to_string());
                }
                problems.extend(listed.iter().map(|p| p.to_string()));
                None
            }
        };
        match prompts {
            Some(prompts) if problems.is_empty() => Ok(Assets { prompts, dialplans }),
            _ => Err(AssetProblems(problems)),
        }
    }
}

fn read_catalogue(dir: &Path, problems: &mut Vec<String>) -> Option<Catalogue> {
    let path = dir.join("catalogue.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            problems.push(format!("{}: cannot read: {e}", path.display()));
            return None;
        }
    };
    match Catalogue::parse(&text) {
        Ok((catalogue, _)) => Some(catalogue),
        Err(e) => {
            problems.push(format!("{}: {}", path.display(), e.to_string().trim_end()));
            None
        }
    }
}

impl Assets {
    /// The flows of a real engine: inbound calls follow `health_call`, outbound calls
    /// `automatic_call` (both checked present by [`Assets::load`]).
    pub fn dialplan_flows(&self) -> Result<super::FlowFactory, AssetProblems> {
        let plan = |id: &str| {
            self.dialplans
                .get(id)
                .cloned()
                .ok_or_else(|| AssetProblems(vec![format!("no dialplan with id `{id}`")]))
        };
        let (inbound, outbound) = (plan("health_call")?, plan("automatic_call")?);
        Ok(Arc::new(move |direction, language| {
            let plan = match direction {
                Direction::Inbound => inbound.clone(),
                Direction::Outbound => outbound.clone(),
            };
            Box::new(DialplanFlow::new(plan, language)) as Box<dyn CallFlow>
        }))
    }
}
