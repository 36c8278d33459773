//! The prompt set: every catalogue prompt in every language, decoded, resampled and encoded to
//! G.711 once at start, then shared read-only by every call.
//!
//! Layout of the prompts folder:
//!
//! ```text
//! prompts/catalogue.toml
//! prompts/<lang>/<id>.<ext>     ext: wav, flac, mp3, ogg, oga (any case)
//! ```
//!
//! **Which file wins.** The repository ships synthesised `.wav` prompts. An operator replaces
//! one with a studio recording by dropping `<id>.flac`, `<id>.ogg`/`.oga` or `<id>.mp3` beside
//! it (or by overwriting the `.wav`). When several files exist for one id the order of
//! preference is FLAC, Ogg, OGA, MP3, WAV: any non-WAV file is taken as the studio recording.
//!
//! Files in a language folder that the catalogue does not list are ignored.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::catalogue::Catalogue;
use super::decode::{self, EncodedPrompt};
use super::error::{Problems, PromptError, PromptProblem};
use super::resample::Resamplers;
use crate::lang::Language;

/// Accepted extensions, most preferred first (studio formats before the synthesised WAV).
pub const EXTENSIONS: [&str; 5] = ["flac", "ogg", "oga", "mp3", "wav"];

/// Every prompt of every language, encoded once. Cloning shares the same data (one `Arc`).
#[derive(Debug, Clone, Default)]
pub struct PromptSet {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    catalogue: Catalogue,
    audio: [HashMap<String, EncodedPrompt>; 8],
}

impl PromptSet {
    /// Loads the prompts folder `dir` (holding `catalogue.toml` and one folder per language).
    ///
    /// Every id of the catalogue is loaded in each of its languages; each id of
    /// `required_ids` (the ids the dialplans play) must be in the catalogue in all eight
    /// languages. Languages are decoded in parallel, one scoped thread each.
    ///
    /// Errors: an unreadable or malformed catalogue fails at once; otherwise every problem
    /// (catalogue content, missing required id, missing folder or file, undecodable file) is
    /// collected into [`PromptError::Invalid`], naming the language and id or the path.
    pub fn load<S: AsRef<str>>(dir: &Path, required_ids: &[S]) -> Result<PromptSet, PromptError> {
        let path = dir.join("catalogue.toml");
        let text = std::fs::read_to_string(&path).map_err(|source| PromptError::ReadCatalogue {
            path: path.clone(),
            source,
        })?;
        let (catalogue, mut problems) =
            Catalogue::parse(&text).map_err(|source| PromptError::ParseCatalogue {
                path,
                source: Box::new(source),
            })?;
        for lang in Language::ALL {
            for id in required_ids.iter().map(AsRef::as_ref) {
                if catalogue.text(lang, id).is_none() {
                    problems.push(PromptProblem::NotInCatalogue {
                        lang,
                        id: id.into(),
                    });
                }
            }
        }

        let loaded = load_languages(dir, &catalogue);
        let mut audio: [HashMap<String, EncodedPrompt>; 8] = Default::default();
        for (lang, (prompts, lang_problems)) in Language::ALL.into_iter().zip(loaded) {
            audio[lang as usize] = prompts;
            problems.extend(lang_problems);
        }
        if !problems.is_empty() {
            return Err(PromptError::Invalid(Problems(problems)));
        }
        Ok(PromptSet {
            inner: Arc::new(Inner { catalogue, audio }),
        })
    }

    /// Builds a set from 8 kHz 16-bit samples, without files or catalogue text: for tests
    /// and simulators of other modules. A later entry for the same (language, id) wins.
    pub fn from_linear<I, S, V>(entries: I) -> PromptSet
    where
        I: IntoIterator<Item = (Language, S, V)>,
        S: Into<String>,
        V: AsRef<[i16]>,
    {
        let mut inner = Inner::default();
        for (lang, id, samples) in entries {
            let prompt = EncodedPrompt::from_linear(samples.as_ref());
            inner.audio[lang as usize].insert(id.into(), prompt);
        }
        PromptSet {
            inner: Arc::new(inner),
        }
    }

    /// The encoded prompt `id` in `lang`, or `None` if there is none. Cheap: one hash lookup.
    pub fn audio(&self, lang: Language, id: &str) -> Option<&EncodedPrompt> {
        self.inner.audio[lang as usize].get(id)
    }

    /// True when prompt `id` can be played in `lang` (for the dialplan checker).
    pub fn has(&self, lang: Language, id: &str) -> bool {
        self.inner.audio[lang as usize].contains_key(id)
    }

    /// The catalogue text of `id` in `lang`; `None` if the catalogue does not list it.
    pub fn text(&self, lang: Language, id: &str) -> Option<&str> {
        self.inner.catalogue.text(lang, id)
    }

    /// Every playable id in `lang`, in no particular order.
    pub fn ids(&self, lang: Language) -> impl Iterator<Item = &str> {
        self.inner.audio[lang as usize].keys().map(String::as_str)
    }

    /// The number of (language, id) prompts held.
    pub fn len(&self) -> usize {
        self.inner.audio.iter().map(HashMap::len).sum()
    }

    /// True when the set holds no prompt.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total audio held, in 8 kHz samples (bytes per law) over all prompts.
    pub fn total_samples(&self) -> usize {
        self.inner
            .audio
            .iter()
            .flat_map(HashMap::values)
            .map(EncodedPrompt::len)
            .sum()
    }
}

type LanguageResult = (HashMap<String, EncodedPrompt>, Vec<PromptProblem>);

/// Loads each language on its own scoped thread; results in [`Language::ALL`] order.
fn load_languages(dir: &Path, catalogue: &Catalogue) -> Vec<LanguageResult> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = Language::ALL
            .into_iter()
            .map(|lang| {
                let work = move || load_language(dir, lang, catalogue);
                std::thread::Builder::new()
                    .name(format!("prompts-{lang}"))
                    .spawn_scoped(scope, work)
                    .map_err(|_| work)
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| match handle {
                Ok(thread) => thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                // The thread could not be spawned: do the work here instead.
                Err(work) => work(),
            })
            .collect()
    })
}

fn load_language(dir: &Path, lang: Language, catalogue: &Catalogue) -> LanguageResult {
    let lang_dir = dir.join(lang.code());
    let mut prompts = HashMap::new();
    let files = match find_files(&lang_dir) {
        Ok(files) => files,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let problem = PromptProblem::MissingLanguageDir {
                lang,
                dir: lang_dir,
            };
            return (prompts, vec![problem]);
        }
        Err(source) => {
            let problem = PromptProblem::UnreadableDir {
                lang,
                dir: lang_dir,
                source,
            };
            return (prompts, vec![problem]);
        }
    };
    let mut problems = Vec::new();
    let mut resamplers = Resamplers::default();
    for id in catalogue.ids(lang) {
        let Some((_, path)) = files.get(id) else {
            problems.push(PromptProblem::MissingFile {
                lang,
                id: id.into(),
                dir: lang_dir.clone(),
            });
            continue;
        };
        match decode::encode_file(path, &mut resamplers) {
            Ok(prompt) => {
                prompts.insert(id.to_owned(), prompt);
            }
            Err(source) => problems.push(PromptProblem::Undecodable {
                path: path.clone(),
                source,
            }),
        }
    }
    (prompts, problems)
}

/// Lists `dir` once: for each file stem with an accepted extension, the preferred file and
/// its rank in [`EXTENSIONS`].
fn find_files(dir: &Path) -> io::Result<HashMap<String, (usize, PathBuf)>> {
    let mut best: HashMap<String, (usize, PathBuf)> = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let (Some(stem), Some(ext)) = (
            path.file_stem().and_then(|s| s.to_str()),
            path.extension().and_then(|e| e.to_str()),
        ) else {
            continue;
        };
        let Some(rank) = EXTENSIONS.iter().position(|e| e.eq_ignore_ascii_case(ext)) else {
            continue;
        };
        match best.get(stem) {
            Some((held, _)) if *held <= rank => {}
            _ => {
                best.insert(stem.to_owned(), (rank, path));
            }
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::testaudio::{flac, sine, tone_amplitude, wav, TempDir};
    use crate::rtp::g711::ulaw_decode;

    const IDS: [&str; 2] = ["hello", "goodbye"];

    /// A complete prompts folder: two prompts in all eight languages and one Japanese word,
    /// each a 0.5 s 440 Hz 8 kHz WAV.
    fn folder() -> TempDir {
        let dir = TempDir::new("set");
        let mut catalogue = String::new();
        for id in IDS {
            catalogue.push_str(&format!("[prompts.{id}]\n"));
            for lang in Language::ALL {
                catalogue.push_str(&format!("\"{lang}\" = \"{id} in {lang}\"\n"));
            }
        }
        catalogue.push_str("[words.ja]\nnum_1 = \"いち\"\n");
        std::fs::write(dir.path().join("catalogue.toml"), catalogue).unwrap();
        let audio = wav(8000, 1, &sine(8000, 440.0, 0.5, 0.3));
        for lang in Language::ALL {
            let lang_dir = dir.path().join(lang.code());
            std::fs::create_dir(&lang_dir).unwrap();
            for id in IDS {
                std::fs::write(lang_dir.join(format!("{id}.wav")), &audio).unwrap();
            }
        }
        std::fs::write(dir.path().join("ja/num_1.WAV"), &audio).unwrap();
        dir
    }

    fn problems(result: Result<PromptSet, PromptError>) -> Vec<String> {
        let err = result.unwrap_err();
        let listed: Vec<String> = err.problems().iter().map(ToString::to_string).collect();
        assert_eq!(err.to_string().lines().count(), listed.len() + 1);
        listed
    }

    #[test]
    fn a_complete_folder_loads_every_prompt_in_every_language() {
        let dir = folder();
        let set = PromptSet::load(dir.path(), &IDS).unwrap();
        assert_eq!(set.len(), 2 * 8 + 1);
        for lang in Language::ALL {
            for id in IDS {
                assert!(set.has(lang, id), "{lang} {id}");
                assert_eq!(set.audio(lang, id).unwrap().len(), 4000);
            }
        }
        assert!(set.has(Language::Ja, "num_1"));
        assert!(!set.has(Language::En, "num_1"));
        assert_eq!(set.text(Language::Yue, "hello"), Some("hello in yue"));
        assert_eq!(set.text(Language::Ja, "num_1"), Some("いち"));
        assert_eq!(set.ids(Language::Ja).count(), 3);
        assert_eq!(set.total_samples(), 17 * 4000);
    }

    #[test]
    fn every_missing_prompt_is_named_with_its_language() {
        let dir = folder();
        std::fs::remove_file(dir.path().join("ko/goodbye.wav")).unwrap();
        std::fs::remove_file(dir.path().join("es/hello.wav")).unwrap();
        std::fs::remove_dir_all(dir.path().join("pt")).unwrap();
        let listed = problems(PromptSet::load(dir.path(), &IDS));
        assert_eq!(listed.len(), 3, "{listed:#?}");
        assert!(
            listed[0].starts_with("prompt `goodbye` missing in ko: no "),
            "{listed:?}"
        );
        assert!(
            listed[1].starts_with("prompt `hello` missing in es: no "),
            "{listed:?}"
        );
        assert!(
            listed[2].starts_with("prompts for pt missing: no folder "),
            "{listed:?}"
        );
    }

    #[test]
    fn a_required_id_not_in_the_catalogue_is_named_in_each_language() {
        let dir = folder();
        let listed = problems(PromptSet::load(dir.path(), &["hello", "q_face"]));
        assert_eq!(listed.len(), 8);
        assert!(listed
            .contains(&"prompt `q_face` is required but not in the catalogue for zh-TW".into()));
    }

    #[test]
    fn a_studio_flac_overrides_the_synthesised_wav() {
        let dir = folder();
        // 1 s of 1 kHz at 48 kHz replaces the 0.5 s 440 Hz WAV in English only.
        let studio = flac(48_000, 1, &sine(48_000, 1000.0, 1.0, 0.5));
        std::fs::write(dir.path().join("en/hello.flac"), studio).unwrap();
        let set = PromptSet::load(dir.path(), &IDS).unwrap();
        let en = set.audio(Language::En, "hello").unwrap();
        assert_eq!(en.len(), 8000);
        let linear: Vec<i16> = en.pcmu[2000..6000]
            .iter()
            .map(|&c| ulaw_decode(c))
            .collect();
        assert!(tone_amplitude(&linear, 8000, 1000.0) > 14_000.0);
        assert!(tone_amplitude(&linear, 8000, 440.0) < 200.0);
        assert_eq!(set.audio(Language::Ja, "hello").unwrap().len(), 4000);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_its_path() {
        let dir = folder();
        let bad = dir.path().join("zh-CN").join("goodbye.mp3");
        std::fs::write(&bad, b"ID3 this is not an mp3 at all").unwrap();
        std::fs::write(dir.path().join("yue/hello.wav"), b"RIFF....WAVEjunk").unwrap();
        let listed = problems(PromptSet::load(dir.path(), &IDS));
        assert_eq!(listed.len(), 2, "{listed:#?}");
        assert!(
            listed[0].starts_with(&format!("{}: ", bad.display())),
            "{listed:?}"
        );
        assert!(listed[1].contains("yue/hello.wav: "), "{listed:?}");
    }

    #[test]
    fn catalogue_and_file_problems_are_listed_together() {
        let dir = folder();
        let path = dir.path().join("catalogue.toml");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("[prompts.extra]\nja = \"x\"\n");
        std::fs::write(&path, text).unwrap();
        let listed = problems(PromptSet::load(dir.path(), &IDS));
        // 7 languages lack text for `extra`, and all 8 lack its file.
        assert_eq!(listed.len(), 15, "{listed:#?}");
    }

    #[test]
    fn an_unreadable_or_malformed_catalogue_fails_at_once() {
        let dir = TempDir::new("nocat");
        let err = PromptSet::load::<&str>(dir.path(), &[]).unwrap_err();
        assert!(matches!(err, PromptError::ReadCatalogue { .. }));
        assert!(err.to_string().contains("catalogue.toml"));
        std::fs::write(dir.path().join("catalogue.toml"), "[prompts.x]\nja = 1\n").unwrap();
        let err = PromptSet::load::<&str>(dir.path(), &[]).unwrap_err();
        assert!(matches!(err, PromptError::ParseCatalogue { .. }));
    }
}
