//! The staff page (issue 6 part 3): `web/staff.html`, `web/staff.js`, `web/staff-text.js`,
//! `web/staff-views.js` and `web/style.css`, and
//! the flow simulator's `web/simulator.html` and `web/simulator.js`, compiled into the engine so no file or CDN is needed at run time. The page itself holds no
//! data; it calls the JSON API with the session cookie (docs/api.md).

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

const STAFF_HTML: &str = include_str!("../../web/staff.html");
const STAFF_JS: &str = include_str!("../../web/staff.js");
/// The staff page's texts in Japanese and English (also read by a test of the problem codes).
pub(super) const STAFF_TEXT_JS: &str = include_str!("../../web/staff-text.js");
/// The staff page's charts, answers per day, reason cells and live calls panel.
const STAFF_VIEWS_JS: &str = include_str!("../../web/staff-views.js");
const STYLE_CSS: &str = include_str!("../../web/style.css");
/// The flow simulator's page (served by [`super::simulator`]).
pub(super) const SIMULATOR_HTML: &str = include_str!("../../web/simulator.html");
/// The flow simulator's script.
pub(super) const SIMULATOR_JS: &str = include_str!("../../web/simulator.js");

/// `GET /`: the staff page.
pub async fn root() -> Redirect {
    Redirect::to("/staff")
}

/// `GET /staff`.
pub async fn staff_html() -> Response {
    page("text/html; charset=utf-8", STAFF_HTML)
}

/// `GET /staff/staff.js`.
pub async fn staff_js() -> Response {
    page("text/javascript; charset=utf-8", STAFF_JS)
}

/// `GET /staff/staff-text.js`.
pub async fn staff_text_js() -> Response {
    page("text/javascript; charset=utf-8", STAFF_TEXT_JS)
}

/// `GET /staff/staff-views.js`.
pub async fn staff_views_js() -> Response {
    page("text/javascript; charset=utf-8", STAFF_VIEWS_JS)
}

/// `GET /staff/style.css`.
pub async fn style_css() -> Response {
    page("text/css; charset=utf-8", STYLE_CSS)
}

pub(super) fn page(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // Everything the page loads comes from this server; no inline script or style.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_files_of_this_server() {
        for text in [
            STAFF_HTML,
            STAFF_JS,
            STAFF_TEXT_JS,
            STAFF_VIEWS_JS,
            STYLE_CSS,
            SIMULATOR_HTML,
            SIMULATOR_JS,
        ] {
            assert!(!text.contains("http://") || text.contains("http://www.w3.org/2000/svg"));
            assert!(!text.contains("https://"), "no external request");
        }
        for file in [
            "/staff/staff.js",
            "/staff/staff-text.js",
            "/staff/staff-views.js",
            "/staff/style.css",
        ] {
            assert!(STAFF_HTML.contains(file), "{file}");
        }
        assert!(
            SIMULATOR_HTML.contains("/staff/staff-text.js"),
            "reason words"
        );
    }

    /// Every reason code a report can carry (see `FlagReason::code`), the question ones for
    /// each SPEC question. The match makes a new variant a compile error here.
    fn every_reason_code() -> Vec<String> {
        use crate::report::{FlagReason, QUESTION_ORDER};
        let mut all = vec![
            FlagReason::Fever,
            FlagReason::Spo2LowWithBreathlessness,
            FlagReason::Spo2Low,
            FlagReason::ImpairedConsciousness,
            FlagReason::CallbackRequested,
        ];
        for q in QUESTION_ORDER {
            all.push(FlagReason::Symptom(q.into()));
            all.push(FlagReason::Unanswered(q.into()));
        }
        for r in &all {
            match r {
                FlagReason::Fever
                | FlagReason::Spo2LowWithBreathlessness
                | FlagReason::Spo2Low
                | FlagReason::ImpairedConsciousness
                | FlagReason::CallbackRequested
                | FlagReason::Symptom(_)
                | FlagReason::Unanswered(_) => {}
            }
        }
        all.iter().map(FlagReason::code).collect()
    }

    /// The text of `const NAME = { ja: {…}, en: {…} }` in web/staff-text.js for `lang`.
    fn section<'a>(name: &str, lang: &str) -> &'a str {
        let start = STAFF_TEXT_JS
            .find(&format!("const {name} = {{"))
            .unwrap_or_else(|| panic!("web/staff-text.js has no {name}"));
        let block = &STAFF_TEXT_JS[start..];
        let block = &block[..block.find("\n  };").expect("the block ends")];
        let ja = block.find("ja: {").expect("ja");
        let en = block.find("en: {").expect("en");
        if lang == "ja" {
            &block[ja..en]
        } else {
            &block[en..]
        }
    }

    #[test]
    fn every_flag_reason_code_has_words_in_japanese_and_english() {
        for lang in ["ja", "en"] {
            let reasons = section("REASONS", lang);
            let questions = section("QUESTIONS", lang);
            for code in every_reason_code() {
                match code.split_once(':') {
                    Some((kind, question)) => {
                        assert!(
                            reasons.contains(&format!("\"{kind}:\": (q) =>")),
                            "web/staff-text.js REASONS.{lang} has no words for {kind}:"
                        );
                        assert!(
                            questions.contains(&format!("{question}: \"")),
                            "web/staff-text.js QUESTIONS.{lang} does not name {question} ({code})"
                        );
                    }
                    None => assert!(
                        reasons.contains(&format!("{code}: (")),
                        "web/staff-text.js REASONS.{lang} has no words for {code}"
                    ),
                }
            }
        }
    }
}
