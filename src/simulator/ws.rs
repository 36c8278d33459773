//! The WebSocket and audio handlers: the only file of the simulator that names axum types.
//! The staff route table (`crate::http::routes`) mounts them at `/api/v1/simulator/ws` and
//! `/api/v1/simulator/audio/{lang}/{file}`; on a router of its own, mount them with the
//! `Arc<SimContext>` as the state:
//!
//! ```ignore
//! Router::new()
//!     .route("/sim/ws", get(simulator::ws::socket_route))
//!     .route("/sim/audio/{lang}/{file}", get(simulator::ws::prompt_audio))
//!     .with_state(sim)
//! ```

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::connection::{Connection, MAX_MESSAGE_BYTES};
use super::gate::Refusal;
use super::protocol::SimEvent;
use super::SimContext;
use crate::lang::Language;

/// A ready-made route handler: checks the origin and the connection limits of the context
/// ([`SimContext::with_limits`]), upgrades with a message size limit and runs
/// [`serve_socket`]. Use it when the router's state is the `Arc<SimContext>`; otherwise call
/// [`admit_and_upgrade`] from your own handler.
pub async fn socket_route(
    State(ctx): State<Arc<SimContext>>,
    Peer(peer): Peer,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let limits = ctx.limits.clone();
    admit_and_upgrade(ctx, &limits, peer, &headers, ws)
}

/// The peer's IP address when the server was started with connect info
/// (`into_make_service_with_connect_info::<SocketAddr>`), else `None`.
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Peer(info))
    }
}

/// Refuses a foreign `Origin` (403) or a connection beyond `limits` (503), otherwise upgrades
/// and serves the socket; its slot is held until the socket closes.
pub fn admit_and_upgrade(
    ctx: Arc<SimContext>,
    limits: &crate::config::SimulatorLimits,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let slot = match ctx.admit(limits, peer, text(header::ORIGIN), text(header::HOST)) {
        Ok(slot) => slot,
        Err(Refusal::ForeignOrigin) => {
            tracing::info!("simulator connection from a foreign origin refused");
            return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
        }
        Err(Refusal::TooMany) => {
            tracing::info!("simulator connection refused: too many open");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, "10")],
                "too many simulator connections\n",
            )
                .into_response();
        }
    };
    ws.max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| async move {
            serve_socket(socket, ctx).await;
            drop(slot);
        })
}

/// Runs one page's simulator connection until the page closes it: sends `hello`, then
/// answers every text message with the events it causes (see [`super::protocol`]). Binary
/// messages are answered with an `error` event; keys and answers are never logged.
pub async fn serve_socket(mut socket: WebSocket, ctx: Arc<SimContext>) {
    let mut connection = Connection::new(ctx.clone());
    if send(&mut socket, &[ctx.hello()]).await.is_err() {
        return;
    }
    while let Some(Ok(message)) = socket.recv().await {
        let events = match message {
            Message::Text(text) => connection.on_text(text.as_str(), crate::clock::now()),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
            Message::Binary(_) => vec![SimEvent::Error {
                message: "send JSON text messages".into(),
            }],
        };
        if send(&mut socket, &events).await.is_err() {
            break;
        }
    }
    tracing::debug!("simulator connection closed");
}

async fn send(socket: &mut WebSocket, events: &[SimEvent]) -> Result<(), axum::Error> {
    for event in events {
        let text = serde_json::to_string(event).unwrap_or_default();
        socket.send(Message::Text(text.into())).await?;
    }
    Ok(())
}

/// `GET …/{lang}/{id}.wav`: the prompt as an 8 kHz, 16-bit WAV file; 404 for an unknown
/// language, prompt or a name not ending in `.wav`.
pub async fn prompt_audio(
    State(ctx): State<Arc<SimContext>>,
    Path((lang, file)): Path<(String, String)>,
) -> Response {
    let wav = lang.parse::<Language>().ok().and_then(|lang| {
        let id = file.strip_suffix(".wav")?;
        ctx.prompt_wav(lang, id)
    });
    match wav {
        Some(bytes) => (
            [
                (header::CONTENT_TYPE, "audio/wav"),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such prompt").into_response(),
    }
}
