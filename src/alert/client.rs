//! One POST to the webhook with hyper's HTTP/1 client, bounded by a timeout. Errors are
//! described without the body (which holds a HER-SYS ID).

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{header, Method, Request};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::url::WebhookUrl;
use crate::pii::Redacted;

/// Why a POST did not get a 2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The webhook answered with a status outside 2xx.
    #[error("HTTP {0}")]
    Status(u16),
    /// No answer (headers and body) within the timeout.
    #[error("no answer within {0} ms")]
    Timeout(u128),
    /// Connecting or talking to the webhook failed.
    #[error("{0}")]
    Transport(String),
}

impl PostError {
    /// The HTTP status, when the webhook answered.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            PostError::Status(s) => Some(*s),
            _ => None,
        }
    }
}

/// The webhook client: one connection pool, reused for every alert.
#[derive(Clone)]
pub struct WebhookClient {
    client: Client<HttpConnector, Full<Bytes>>,
    url: WebhookUrl,
    timeout: Duration,
    authorization: Option<Redacted<String>>,
}

/// Bodies of answers are read (to reuse the connection) up to this many bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

impl WebhookClient {
    /// A client for `url` whose every POST gives up after `timeout` and carries
    /// `Authorization: Bearer <token>` when a token is given.
    pub fn new(
        url: WebhookUrl,
        timeout: Duration,
        token: Option<&Redacted<String>>,
    ) -> WebhookClient {
        let mut connector = HttpConnector::new();
        connector.set_connect_timeout(Some(timeout));
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        WebhookClient {
            client,
            url,
            timeout,
            authorization: token.map(|t| Redacted::new(format!("Bearer {}", t.expose()))),
        }
    }

    /// POSTs `body` (JSON) with `Idempotency-Key: key`; returns the 2xx status.
    pub async fn post(&self, body: Vec<u8>, key: &str) -> Result<u16, PostError> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(self.url.uri().clone())
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("carecall/", env!("CARGO_PKG_VERSION")),
            )
            .header("Idempotency-Key", key);
        if let Some(auth) = &self.authorization {
            request = request.header(header::AUTHORIZATION, auth.expose().as_str());
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| PostError::Transport(e.to_string()))?;
        let exchange = async {
            let answer = self
                .client
                .request(request)
                .await
                .map_err(|e| PostError::Transport(describe(&e)))?;
            let status = answer.status().as_u16();
            let limited = http_body_util::Limited::new(answer.into_body(), MAX_ANSWER_BYTES);
            let _ = limited.collect().await;
            Ok(status)
        };
        let status = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| PostError::Timeout(self.timeout.as_millis()))??;
        if (200..300).contains(&status) {
            Ok(status)
        } else {
            Err(PostError::Status(status))
        }
    }
}

/// The error and its causes on one line ("client error (Connect): tcp connect error: …").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
