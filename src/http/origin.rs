//! Only the dashboard's own pages may drive the API from a browser.
//!
//! A browser sends `Origin` with every WebSocket upgrade and every `POST` or
//! `DELETE`, whichever site the page came from. Without this check any web
//! page open in the same browser could pause the feeds on a loopback
//! tapewatch, change its subscriptions, or read its alerts over `/ws`
//! (cross-site WebSocket hijacking): loopback binds need no token. A request
//! whose `Origin` is not the server's own (the scheme-less authority equal to
//! `Host`) gets 403 with an empty body. Programs that send no `Origin`
//! (curl, the WebSocket clients in `examples/`) are not affected, and
//! `http.allowed_origins` names further origins, for a reverse proxy that
//! changes `Host`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, HOST, ORIGIN};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpResponse};

/// Origins allowed besides the server's own (`http.allowed_origins`).
#[derive(Debug, Clone, Default)]
pub struct Origins(Vec<String>);

impl Origins {
    /// The configured origins, compared without case.
    pub fn new(origins: &[String]) -> Origins {
        Origins(origins.iter().map(|o| o.to_ascii_lowercase()).collect())
    }
}

/// `http://HOST[:PORT]` or `https://...`: a scheme and an authority, no path.
pub fn is_origin(text: &str) -> bool {
    let authority = text
        .strip_prefix("http://")
        .or_else(|| text.strip_prefix("https://"));
    authority.is_some_and(|a| !a.is_empty() && !a.contains(['/', '?', '#', ' ', '@']))
}

/// Whether a request with this `Origin` (if any) and `Host` comes from the
/// server's own pages, from one of `extra`, or from no browser page at all.
pub fn allowed(origin: Option<&HeaderValue>, host: Option<&HeaderValue>, extra: &Origins) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if extra.0.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let Some(Ok(host)) = host.map(HeaderValue::to_str) else {
        return false;
    };
    let authority = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    authority.is_some_and(|a| !a.is_empty() && a.eq_ignore_ascii_case(host))
}

/// Middleware: refuses requests from other sites' pages with 403.
pub async fn same_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let headers = req.headers();
    let none = Origins::default();
    let extra = req
        .app_data::<web::Data<Origins>>()
        .map_or(&none, |d| d.get_ref());
    if allowed(headers.get(ORIGIN), headers.get(HOST), extra) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let refusal = HttpResponse::Forbidden().finish();
    Ok(req.into_response(refusal).map_into_right_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_own_origin_or_none_passes() {
        let h = |v: &'static str| Some(HeaderValue::from_static(v));
        let host = h("127.0.0.1:8787");
        let cases = [
            (None, host.clone(), true),
            (None, None, true),
            (h("http://127.0.0.1:8787"), host.clone(), true),
            (h("https://127.0.0.1:8787"), host.clone(), true),
            (h("http://127.0.0.1:8788"), host.clone(), false),
            (h("http://evil.example"), host.clone(), false),
            (h("http://127.0.0.1:8787.evil.example"), host.clone(), false),
            (h("null"), host.clone(), false),
            (h("127.0.0.1:8787"), host.clone(), false),
            (h("http://"), h(""), false),
            (h("http://127.0.0.1:8787"), None, false),
            (h("HTTP://TAPE.LOCAL"), h("tape.local"), false),
            (h("http://TAPE.LOCAL"), h("tape.local"), true),
        ];
        let none = Origins::default();
        for (origin, host, ok) in cases {
            assert_eq!(
                allowed(origin.as_ref(), host.as_ref(), &none),
                ok,
                "{origin:?} {host:?}"
            );
        }
        let proxy = Origins::new(&["https://Tape.Example.com".to_owned()]);
        let behind = h("127.0.0.1:8787");
        let origin = h("https://tape.example.com");
        assert!(allowed(origin.as_ref(), behind.as_ref(), &proxy));
        assert!(!allowed(origin.as_ref(), behind.as_ref(), &none));
        assert!(!allowed(
            h("https://other.example.com").as_ref(),
            behind.as_ref(),
            &proxy
        ));
    }

    #[test]
    fn configured_origins_are_scheme_and_host_only() {
        for (text, ok) in [
            ("https://tape.example.com", true),
            ("http://127.0.0.1:8787", true),
            ("https://tape.example.com/", false),
            ("tape.example.com", false),
            ("https://", false),
            ("ftp://tape.example.com", false),
            ("https://user@tape.example.com", false),
        ] {
            assert_eq!(is_origin(text), ok, "{text}");
        }
    }
}
