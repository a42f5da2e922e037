//! Credentials that never leak into logs, errors or `Debug` output.

use std::fmt;

/// An API key. Its `Debug` and `Display` print `[redacted]`; only
/// [`ApiKey::expose`] returns the text, and only providers call it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the wire only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no key was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What a provider needs to authenticate: a key, and for some vendors a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The API key (Polygon) or key id (Alpaca).
    pub key: ApiKey,
    /// The secret, for providers that use one.
    pub secret: Option<ApiKey>,
    /// A Polygon/Massive key for REST enrichment when the feed's own key is
    /// not one (an Alpaca feed, for instance).
    pub rest: Option<ApiKey>,
}

impl Credentials {
    /// Credentials made of a key alone.
    pub fn key(key: ApiKey) -> Self {
        Credentials {
            key,
            secret: None,
            rest: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_key() {
        let creds = Credentials {
            key: ApiKey::new("supersecretkey"),
            secret: Some(ApiKey::new("othersecret")),
            rest: Some(ApiKey::new("resty")),
        };
        let shown = format!("{creds:?} {} {:?}", creds.key, creds.key);
        assert!(!shown.contains("supersecretkey"), "{shown}");
        assert!(!shown.contains("othersecret"), "{shown}");
        assert!(!shown.contains("resty"), "{shown}");
        assert_eq!(creds.key.expose(), "supersecretkey");
    }
}
