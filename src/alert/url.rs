//! The webhook address, checked once at config load: `http://host[:port]/path[?query]`.
//!
//! Plain HTTP only: carecall compiles no TLS stack, so a receiver reached over HTTPS sits behind
//! the health centre's own reverse proxy or a local relay. Credentials in the URL are refused
//! (they would end up in logs and error messages).

use std::fmt;

use hyper::Uri;

/// Why a webhook URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// Not a URL at all.
    #[error("not a URL: {0}")]
    Malformed(String),
    /// A scheme other than `http`.
    #[error("scheme {0:?} is not supported: use http:// (put HTTPS behind a local proxy)")]
    Scheme(String),
    /// No host.
    #[error("the URL has no host")]
    NoHost,
    /// `user:password@` in the URL.
    #[error("credentials in the URL are not allowed")]
    Credentials,
}

/// A checked `http://` webhook URL.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    uri: Uri,
}

impl WebhookUrl {
    /// Parses and checks `text`; see [`WebhookUrlError`] for what is refused.
    pub fn parse(text: &str) -> Result<WebhookUrl, WebhookUrlError> {
        let uri: Uri = text
            .trim()
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| WebhookUrlError::Malformed(e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => return Err(WebhookUrlError::Scheme(other.to_owned())),
            None => return Err(WebhookUrlError::Scheme(String::new())),
        }
        let authority = uri.authority().ok_or(WebhookUrlError::NoHost)?;
        if authority.as_str().contains('@') {
            return Err(WebhookUrlError::Credentials);
        }
        if authority.host().is_empty() {
            return Err(WebhookUrlError::NoHost);
        }
        Ok(WebhookUrl { uri })
    }

    /// The URI to request.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The `Host` header value (`host[:port]`).
    pub fn host_header(&self) -> &str {
        self.uri.authority().map_or("", |a| a.as_str())
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.uri)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({})", self.uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_urls_with_a_host_are_accepted() {
        let ok = WebhookUrl::parse("http://10.0.0.5:9000/carecall/alerts?centre=minato").unwrap();
        assert_eq!(ok.host_header(), "10.0.0.5:9000");
        assert_eq!(ok.uri().path(), "/carecall/alerts");
        assert_eq!(
            WebhookUrl::parse("http://pager.example")
                .unwrap()
                .host_header(),
            "pager.example"
        );
        assert_eq!(
            WebhookUrl::parse("https://pager.example/a"),
            Err(WebhookUrlError::Scheme("https".into()))
        );
        assert!(matches!(
            WebhookUrl::parse("/alerts"),
            Err(WebhookUrlError::Scheme(_))
        ));
        assert!(matches!(
            WebhookUrl::parse("http://"),
            Err(WebhookUrlError::Malformed(_))
        ));
        assert!(matches!(
            WebhookUrl::parse("not a url"),
            Err(WebhookUrlError::Malformed(_))
        ));
        assert_eq!(
            WebhookUrl::parse("http://u:secret@pager.example/"),
            Err(WebhookUrlError::Credentials)
        );
    }
}
