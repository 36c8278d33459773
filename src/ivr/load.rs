//! Loading dialplan files: TOML text → checked [`Dialplan`], with question fragments included
//! and whole-plan checks (start, reachability, questions present and unique). Every problem in
//! every file is collected before the load fails.

use std::collections::HashSet;
use std::io;
use std::ops::Range;
use std::path::Path;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::check::{check_steps, report_unreachable};
use super::convert::{defaults, Resolver};
use super::convert_question::question;
use super::convert_step::{decode_step, step};
use super::error::{DialplanErrors, Place, ProblemKind};
use super::model::{Dialplan, InputPolicy, Question, Step, StepIdx};
use super::raw::{decode, RawDefaults, RawHeader, Sink};

/// Reads and checks the dialplan at `path` and the question fragments it includes (paths
/// relative to its folder). `prompt_known` says whether the catalogue has a prompt id in every
/// language. Returns every problem found, or the checked dialplan.
pub fn load_file(
    path: &Path,
    prompt_known: &dyn Fn(&str) -> bool,
) -> Result<Dialplan, DialplanErrors> {
    let source = std::fs::read_to_string(path).map_err(|e| unreadable(path, &e))?;
    parse(
        path,
        &source,
        &|p: &Path| std::fs::read_to_string(p),
        prompt_known,
    )
}

/// Loads every dialplan in `dir`: each `*.toml` file with a `[dialplan]` table, in file-name
/// order. Other `*.toml` files are fragments, checked where they are included. Problems of
/// all files are returned together.
pub fn load_dir(
    dir: &Path,
    prompt_known: &dyn Fn(&str) -> bool,
) -> Result<Vec<Dialplan>, DialplanErrors> {
    let entries = std::fs::read_dir(dir).map_err(|e| unreadable(dir, &e))?;
    let mut paths: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    let mut plans = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let source = match std::fs::read_to_string(&path) {
            Ok(s) => s,
            Err(e) => {
                problems.extend(unreadable(&path, &e).0);
                continue;
            }
        };
        let is_fragment =
            DeTable::parse(&source).is_ok_and(|t| !t.get_ref().contains_key("dialplan"));
        if is_fragment {
            continue;
        }
        match parse(
            &path,
            &source,
            &|p: &Path| std::fs::read_to_string(p),
            prompt_known,
        ) {
            Ok(plan) => plans.push(plan),
            Err(e) => problems.extend(e.0),
        }
    }
    if problems.is_empty() {
        Ok(plans)
    } else {
        Err(DialplanErrors(problems))
    }
}

/// Checks the dialplan `source` (named `path` in problems; includes are read with `read`
/// relative to `path`'s folder). Pure apart from `read`.
pub fn parse(
    path: &Path,
    source: &str,
    read: &dyn Fn(&Path) -> io::Result<String>,
    prompt_known: &dyn Fn(&str) -> bool,
) -> Result<Dialplan, DialplanErrors> {
    let mut problems = Vec::new();
    let file = path.display().to_string();
    let mut sink = Sink {
        file: &file,
        src: source,
        problems: &mut problems,
    };
    let plan = flow(&mut sink, path, read, prompt_known);
    in_file_order(&mut problems);
    match plan {
        Some(plan) if problems.is_empty() => Ok(plan),
        _ => Err(DialplanErrors(problems)),
    }
}

/// Sorts problems by line within each file, files in the order they first had a problem.
fn in_file_order(problems: &mut [super::error::Problem]) {
    let mut files: Vec<String> = Vec::new();
    for p in problems.iter() {
        if !files.contains(&p.file) {
            files.push(p.file.clone());
        }
    }
    problems.sort_by_key(|p| (files.iter().position(|f| *f == p.file), p.line));
}

fn unreadable(path: &Path, e: &io::Error) -> DialplanErrors {
    let mut problems = Vec::new();
    let file = path.display().to_string();
    let mut sink = Sink {
        file: &file,
        src: "",
        problems: &mut problems,
    };
    let kind = ProblemKind::Unreadable {
        path: file.clone(),
        reason: e.kind().to_string(),
    };
    sink.push(None, &Place::File, None, kind);
    DialplanErrors(problems)
}

/// One flow file → its dialplan, or `None` after recording why not.
fn flow(
    sink: &mut Sink<'_>,
    path: &Path,
    read: &dyn Fn(&Path) -> io::Result<String>,
    prompt_known: &dyn Fn(&str) -> bool,
) -> Option<Dialplan> {
    let mut root = document(sink)?;
    let header = root.remove("dialplan");
    let raw_defaults = root.remove("defaults");
    let raw_steps = root.remove("steps");
    let inline_questions = root.remove("questions");
    for key in root.keys() {
        let expected = "dialplan, defaults, steps, questions".to_owned();
        let kind = ProblemKind::UnknownKey { expected };
        sink.push(Some(key.span()), &Place::File, Some(key.get_ref()), kind);
    }
    let header: Option<RawHeader> = match header {
        Some(v) => decode(sink, &Place::Section("dialplan".to_owned()), v),
        None => {
            sink.push(None, &Place::File, Some("dialplan"), ProblemKind::Missing);
            None
        }
    };
    let raw_defaults = raw_defaults
        .and_then(|v| decode::<RawDefaults>(sink, &Place::Section("defaults".to_owned()), v));
    let entries = step_entries(sink, raw_steps);
    let names = entries
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.get_ref().clone(), StepIdx(i)))
        .collect();
    let r = Resolver {
        names,
        prompt_known,
        edges: Default::default(),
    };
    let base = defaults(sink, &r, raw_defaults.unwrap_or_default());

    let mut questions = Questions::default();
    if let Some(v) = inline_questions {
        questions.add_array(sink, &r, &base, v);
    }
    for inc in header.iter().flat_map(|h| &h.include) {
        include(sink, path, inc, read, &r, &base, &mut questions);
    }

    let key_spans: Vec<(String, Range<usize>)> = entries
        .iter()
        .map(|(n, _)| (n.get_ref().clone(), n.span()))
        .collect();
    let mut all_decoded = true;
    let steps: Vec<Option<Step>> = entries
        .into_iter()
        .map(|(name, value)| {
            let place = Place::Step(name.get_ref().clone());
            let raw = decode_step(sink, &place, value);
            all_decoded &= raw.is_some();
            let kind = step(sink, &place, &r, &base, raw?)?;
            Some(Step {
                id: name.into_inner(),
                kind,
            })
        })
        .collect();
    let dialplan = Place::Section("dialplan".to_owned());
    let start = header
        .as_ref()
        .and_then(|h| r.target(sink, &dialplan, "start", &h.start));
    if let (Some(start), true) = (start, all_decoded) {
        report_unreachable(sink, &r.edges.into_inner(), &key_spans, start);
    }
    check_steps(sink, &steps, &key_spans, questions.list.is_empty());
    let steps: Vec<Step> = steps.into_iter().collect::<Option<_>>()?;
    let (header, start) = (header?, start?);
    Some(Dialplan {
        id: header.id.into_inner(),
        version: header.version,
        start,
        steps,
        questions: questions.list.into_iter().collect::<Option<_>>()?,
    })
}

/// Parses a file's text into its top-level table, or records the syntax error.
fn document<'s>(sink: &mut Sink<'s>) -> Option<toml::de::DeTable<'s>> {
    match DeTable::parse(sink.src) {
        Ok(t) => Some(t.into_inner()),
        Err(e) => {
            let kind = ProblemKind::Syntax(e.message().trim().to_owned());
            sink.push(e.span(), &Place::File, None, kind);
            None
        }
    }
}

/// The `[steps]` table's entries in file order.
fn step_entries<'s>(
    sink: &mut Sink<'_>,
    steps: Option<Spanned<DeValue<'s>>>,
) -> Vec<(Spanned<String>, Spanned<DeValue<'s>>)> {
    let Some(steps) = steps else {
        sink.push(None, &Place::File, Some("steps"), ProblemKind::Missing);
        return Vec::new();
    };
    let span = steps.span();
    let DeValue::Table(table) = steps.into_inner() else {
        let kind = ProblemKind::BadValue("expected a table of steps".to_owned());
        sink.push(Some(span), &Place::File, Some("steps"), kind);
        return Vec::new();
    };
    let mut entries: Vec<_> = table
        .into_iter()
        .map(|(k, v)| (Spanned::new(k.span(), k.into_inner().into_owned()), v))
        .collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    entries
}

/// The questions of a plan as they are converted (`None` = a broken one, already reported).
#[derive(Default)]
struct Questions {
    list: Vec<Option<Question>>,
    seen: HashSet<String>,
}

impl Questions {
    /// Converts one `questions = [...]` / `[[questions]]` array of the file in `sink`.
    fn add_array(
        &mut self,
        sink: &mut Sink<'_>,
        r: &Resolver<'_>,
        base: &InputPolicy,
        value: Spanned<DeValue<'_>>,
    ) {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            let kind =
                ProblemKind::BadValue("expected an array of tables ([[questions]])".to_owned());
            sink.push(Some(span), &Place::File, Some("questions"), kind);
            return;
        };
        for item in items.iter().cloned() {
            let id = item
                .get_ref()
                .get("id")
                .map(|id| (id.get_ref().as_str(), id.span()));
            if let Some((Some(id), at)) = id {
                if !self.seen.insert(id.to_owned()) {
                    let place = Place::Question(id.to_owned());
                    let kind = ProblemKind::DuplicateQuestion(id.to_owned());
                    sink.push(Some(at), &place, Some("id"), kind);
                }
            }
            let q = question(sink, r, base, self.list.len(), item);
            self.list.push(q);
        }
    }
}

/// Reads an included question fragment and adds its questions; problems name the fragment.
fn include(
    sink: &mut Sink<'_>,
    path: &Path,
    inc: &Spanned<String>,
    read: &dyn Fn(&Path) -> io::Result<String>,
    r: &Resolver<'_>,
    base: &InputPolicy,
    questions: &mut Questions,
) {
    let inc_path = path.parent().unwrap_or(Path::new("")).join(inc.get_ref());
    let source = match read(&inc_path) {
        Ok(s) => s,
        Err(e) => {
            let place = Place::Section("dialplan".to_owned());
            let kind = ProblemKind::Unreadable {
                path: inc.get_ref().clone(),
                reason: e.kind().to_string(),
            };
            sink.push(Some(inc.span()), &place, Some("include"), kind);
            return;
        }
    };
    let file = inc_path.display().to_string();
    let mut inner = Sink {
        file: &file,
        src: &source,
        problems: &mut *sink.problems,
    };
    let Some(mut root) = document(&mut inner) else {
        return;
    };
    let list = root.remove("questions");
    for key in root.keys() {
        inner.push(
            Some(key.span()),
            &Place::File,
            Some(key.get_ref()),
            ProblemKind::NotAFragment,
        );
    }
    match list {
        Some(v) => questions.add_array(&mut inner, r, base, v),
        None => inner.push(None, &Place::File, Some("questions"), ProblemKind::Missing),
    }
}
