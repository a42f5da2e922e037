//! Who may use the API: a bearer token, required whenever one is configured
//! and always when the server listens beyond loopback.
//!
//! The token is a [`Token`], which never prints: `Debug`, `Display` and
//! serialisation all show `[redacted]`. A request without the right
//! `Authorization: Bearer <token>` header gets 401 with an empty body, so a
//! caller learns nothing about why. Tokens are compared in constant time.
//!
//! Browsers cannot set `Authorization` on a WebSocket, so `/ws` also accepts
//! the token as a `Sec-WebSocket-Protocol` value, `bearer.<base64url of the
//! token>`, offered beside [`WS_PROTOCOL`] (which the server echoes). A header
//! keeps the token out of URLs and so out of access logs and browser history;
//! base64url keeps any token within the characters that header allows.
//!
//! The dashboard's static files are public: the page has to load before it
//! can ask for the token, and it holds no data of its own.

use std::fmt;
use std::net::SocketAddr;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    HeaderValue, AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL, WWW_AUTHENTICATE,
};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq;

/// Paths anyone may call: a liveness probe must work without credentials,
/// and the dashboard page must load to ask for the token.
pub const PUBLIC_PATHS: [&str; 2] = ["/health", "/"];

/// Prefix of the dashboard's static files, public like the page.
pub const PUBLIC_PREFIX: &str = "/assets/";

/// The WebSocket subprotocol of `/ws`, echoed when a client offers it.
pub const WS_PROTOCOL: &str = "tapewatch";

/// Prefix of the `Sec-WebSocket-Protocol` value that carries the token.
pub const WS_BEARER_PREFIX: &str = "bearer.";

/// Whether anyone may fetch `path`.
pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS.contains(&path) || path.starts_with(PUBLIC_PREFIX)
}

/// A secret API token. Only [`Auth`] looks at its text.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; surrounding whitespace is not part of it.
    pub fn new(token: impl Into<String>) -> Self {
        Token(token.into().trim().to_owned())
    }

    /// True for an empty (unusable) token.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token([redacted])")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Token {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Token {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Token::new)
    }
}

/// Why an access rule cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Listening beyond loopback without a token would open the API to anyone.
    #[error(
        "a token is required when binding {0}, which is not a loopback address \
         (set TAPEWATCH_TOKEN or http.token)"
    )]
    TokenRequired(SocketAddr),
}

/// The access rule of one server.
#[derive(Clone, Debug)]
pub struct Auth {
    token: Option<Token>,
}

impl Auth {
    /// The rule for a server bound to `bind`: with a token, every endpoint but
    /// `/health` needs it; without one, only a loopback address is allowed.
    pub fn for_bind(bind: SocketAddr, token: Option<Token>) -> Result<Auth, AuthError> {
        let token = token.filter(|t| !t.is_empty());
        if token.is_none() && !bind.ip().is_loopback() {
            return Err(AuthError::TokenRequired(bind));
        }
        Ok(Auth { token })
    }

    /// True when requests must carry the token.
    pub fn required(&self) -> bool {
        self.token.is_some()
    }

    /// Whether a request with this `Authorization` header (if any) to `path`
    /// may proceed.
    pub fn allows(&self, path: &str, header: Option<&HeaderValue>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        if is_public(path) {
            return true;
        }
        let Some(presented) = header.and_then(|h| bearer(h.as_bytes())) else {
            return false;
        };
        token.matches(presented)
    }

    /// Whether a WebSocket upgrade offering these `Sec-WebSocket-Protocol`
    /// values carries the token as `bearer.<base64url>`.
    pub fn allows_protocols<'a>(&self, headers: impl IntoIterator<Item = &'a HeaderValue>) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        headers
            .into_iter()
            .filter_map(|h| h.to_str().ok())
            .flat_map(|h| h.split(','))
            .filter_map(|p| p.trim().strip_prefix(WS_BEARER_PREFIX))
            .filter_map(|encoded| URL_SAFE_NO_PAD.decode(encoded).ok())
            .any(|presented| token.matches(&presented))
    }
}

impl Token {
    /// Constant time over the contents; only a length mismatch returns early.
    fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(presented).into()
    }
}

/// The credentials of a `Bearer` authorization value (scheme case-insensitive).
fn bearer(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer ";
    if value.len() <= SCHEME.len() || !value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    Some(value[SCHEME.len()..].trim_ascii())
}

/// Middleware: refuses requests the [`Auth`] in the app data does not allow,
/// with 401 and an empty body.
pub async fn require_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let allowed = match req.app_data::<web::Data<Auth>>() {
        Some(auth) => {
            auth.allows(req.path(), req.headers().get(AUTHORIZATION))
                || (req.path() == "/ws"
                    && auth.allows_protocols(req.headers().get_all(SEC_WEBSOCKET_PROTOCOL)))
        }
        // Without a rule nothing is served: failing closed beats failing open.
        None => false,
    };
    if allowed {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let refusal = HttpResponse::Unauthorized()
        .insert_header((WWW_AUTHENTICATE, "Bearer"))
        .finish();
    Ok(req.into_response(refusal).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("test address")
    }

    #[test]
    fn non_loopback_needs_a_token() {
        let cases = [
            ("127.0.0.1:8787", None, true),
            ("[::1]:0", None, true),
            ("0.0.0.0:0", None, false),
            ("192.0.2.1:80", Some(""), false),
            ("0.0.0.0:0", Some("t"), true),
        ];
        for (bind, token, ok) in cases {
            let got = Auth::for_bind(addr(bind), token.map(Token::new));
            assert_eq!(got.is_ok(), ok, "{bind} {token:?}");
        }
        let e = Auth::for_bind(addr("0.0.0.0:80"), None).expect_err("refused");
        assert!(e.to_string().contains("TAPEWATCH_TOKEN"), "{e}");
    }

    #[test]
    fn only_the_right_bearer_token_passes() {
        let auth = Auth::for_bind(addr("0.0.0.0:0"), Some(Token::new("s3cret"))).expect("ok");
        let h = |v: &'static str| HeaderValue::from_static(v);
        let cases = [
            ("/status", Some(h("Bearer s3cret")), true),
            ("/status", Some(h("bearer s3cret ")), true),
            ("/status", Some(h("Bearer s3cre")), false),
            ("/status", Some(h("Bearer s3cret2")), false),
            ("/status", Some(h("Basic s3cret")), false),
            ("/status", Some(h("Bearer ")), false),
            ("/status", None, false),
            ("/ws", None, false),
            ("/health", None, true),
        ];
        for (path, header, ok) in cases {
            assert_eq!(auth.allows(path, header.as_ref()), ok, "{path} {header:?}");
        }
        let open = Auth::for_bind(addr("127.0.0.1:0"), None).expect("ok");
        assert!(open.allows("/status", None));
        assert!(!open.required() && auth.required());
    }

    #[test]
    fn a_websocket_may_carry_the_token_as_a_protocol() {
        let auth = Auth::for_bind(addr("0.0.0.0:0"), Some(Token::new("s3cret/+="))).expect("ok");
        let encoded = URL_SAFE_NO_PAD.encode("s3cret/+=");
        let right = format!("tapewatch, bearer.{encoded}");
        let cases: [(&[&str], bool); 7] = [
            (&[&right], true),
            (&["tapewatch", &format!("bearer.{encoded}")], true),
            (&["tapewatch"], false),
            (&[], false),
            (&["bearer.s3cret/+="], false),
            (&["tapewatch, bearer.czNjcmV0"], false),
            (&["tapewatch, bearer.!!!"], false),
        ];
        for (values, ok) in cases {
            let headers: Vec<HeaderValue> = values
                .iter()
                .map(|v| HeaderValue::from_str(v).expect("header"))
                .collect();
            assert_eq!(auth.allows_protocols(&headers), ok, "{values:?}");
        }
        let open = Auth::for_bind(addr("127.0.0.1:0"), None).expect("ok");
        assert!(open.allows_protocols(&[]));
    }

    #[test]
    fn the_dashboard_is_public_and_its_data_is_not() {
        let auth = Auth::for_bind(addr("0.0.0.0:0"), Some(Token::new("t"))).expect("ok");
        for (path, ok) in [
            ("/", true),
            ("/assets/app.js", true),
            ("/health", true),
            ("/feeds", false),
            ("/alerts", false),
            ("/assetsx", false),
        ] {
            assert_eq!(auth.allows(path, None), ok, "{path}");
        }
    }

    #[test]
    fn the_token_never_prints() {
        let t = Token::new("hunter2");
        let shown = format!(
            "{t:?} {t} {:?} {}",
            Auth {
                token: Some(t.clone())
            },
            serde_json::to_string(&t).expect("serialises")
        );
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
