//! The flow simulator's routes in the staff route table (and so in the OpenAPI document):
//! its page, the WebSocket that drives the real dialplan interpreter and the prompt audio.
//! They answer 404 on a server started without a simulator (the API tests' own server).
//!
//! Public like the page's static files: a simulated call reads and writes no personal data
//! (identification accepts only the fictional demo patients, answers are stored nowhere).

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use super::pages::{page, SIMULATOR_HTML, SIMULATOR_JS};
use super::{ApiError, AppState};
use crate::simulator::ws;

/// `GET /simulator`: the simulator page.
pub async fn html() -> Response {
    page("text/html; charset=utf-8", SIMULATOR_HTML)
}

/// `GET /simulator/simulator.js`.
pub async fn js() -> Response {
    page("text/javascript; charset=utf-8", SIMULATOR_JS)
}

/// `GET /simulator/style.css` (the staff page's stylesheet).
pub async fn css() -> Response {
    super::pages::style_css().await
}

/// `GET /api/v1/simulator/ws`: upgrades to the simulator's WebSocket. A browser page of
/// another origin than this server's (and `[http] simulator_origins`) gets 403; a connection
/// beyond `simulator_max_connections` (in all) or `simulator_max_per_source` gets 503.
pub async fn socket(
    State(state): State<AppState>,
    ws::Peer(peer): ws::Peer,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    match state.simulator() {
        Some(ctx) => {
            let limits = &state.config().simulator;
            ws::admit_and_upgrade(ctx, limits, peer, &headers, upgrade)
        }
        None => ApiError::NotFound.into_response(),
    }
}

/// `GET /api/v1/simulator/audio/{lang}/{file}`: one prompt as WAV.
pub async fn audio(State(state): State<AppState>, path: Path<(String, String)>) -> Response {
    match state.simulator() {
        Some(ctx) => ws::prompt_audio(State(ctx), path).await,
        None => ApiError::NotFound.into_response(),
    }
}
