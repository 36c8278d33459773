//! Whole-plan checks that need every step: reachability from the start, questions present
//! for a questions step, identification that cannot loop.

use std::ops::Range;

use super::error::{Place, ProblemKind};
use super::model::{Step, StepIdx, StepKind};
use super::raw::Sink;

/// Reports every step no path from `start` reaches. Runs only when every step decoded, so
/// all edges are known (a step with a missing target still has its other edges).
pub(super) fn report_unreachable(
    sink: &mut Sink<'_>,
    edges: &[(StepIdx, StepIdx)],
    key_spans: &[(String, Range<usize>)],
    start: StepIdx,
) {
    let mut reached = vec![false; key_spans.len()];
    let mut todo = vec![start];
    while let Some(StepIdx(i)) = todo.pop() {
        if std::mem::replace(&mut reached[i], true) {
            continue;
        }
        todo.extend(
            edges
                .iter()
                .filter(|(from, _)| from.0 == i)
                .map(|(_, to)| *to),
        );
    }
    for ((name, span), reached) in key_spans.iter().zip(reached) {
        if !reached {
            let place = Place::Step(name.clone());
            sink.push(Some(span.clone()), &place, None, ProblemKind::Unreachable);
        }
    }
}

/// Checks that need the converted steps: a questions step needs questions to ask, and an
/// identify step must give up (`on_too_many_failures`) and send an unavailable store
/// (`on_unavailable`) to a step that is not itself an identification: with no ID keyed, that
/// one would fail at once, and loop or count a failure the caller never made.
pub(super) fn check_steps(
    sink: &mut Sink<'_>,
    steps: &[Option<Step>],
    key_spans: &[(String, Range<usize>)],
    no_questions: bool,
) {
    for (s, (name, span)) in steps.iter().zip(key_spans) {
        let place = Place::Step(name.clone());
        match s.as_ref().map(|s| &s.kind) {
            Some(StepKind::Questions { .. }) if no_questions => {
                let kind =
                    ProblemKind::Conflict("no questions to ask: include a question fragment");
                sink.push(Some(span.clone()), &place, None, kind);
            }
            Some(StepKind::Identify(i)) => {
                let exits = [
                    ("on_too_many_failures", i.on_too_many_failures),
                    ("on_unavailable", i.on_unavailable),
                ];
                for (field, to) in exits {
                    if is_identify(steps, to) {
                        let kind = ProblemKind::Conflict(
                            "must lead to a step that is not an identify step",
                        );
                        sink.push(Some(span.clone()), &place, Some(field), kind);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether the step at `idx` decoded as an identify step.
fn is_identify(steps: &[Option<Step>], idx: StepIdx) -> bool {
    matches!(
        steps.get(idx.0).and_then(Option::as_ref),
        Some(Step {
            kind: StepKind::Identify(_),
            ..
        })
    )
}
