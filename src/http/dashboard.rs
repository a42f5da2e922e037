//! The browser dashboard: static HTML, CSS and JavaScript compiled into the
//! binary and served at `GET /` and `/assets/...`.
//!
//! Nothing is built at install time: the files under `dashboard/` are plain
//! ES modules, read with `include_bytes!`. Each answer carries a strict
//! Content-Security-Policy (scripts, styles and images from this origin only,
//! no inline code, connections back to this origin only, Trusted Types for
//! the DOM), so a symbol or message that reaches the page as data can never
//! run as code. The page's data comes from the JSON API and `/ws`, which keep
//! their token rule; these files are public (see [`super::auth`]).

use actix_web::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::{web, HttpResponse};

/// The policy on every dashboard answer. `connect-src 'self'` covers the
/// page's own `ws://` and `wss://` origin in current browsers.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'";

/// One static file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Where it is served.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

macro_rules! asset {
    ($path:literal, $file:literal, $type:expr) => {
        Asset {
            path: $path,
            content_type: $type,
            body: include_bytes!(concat!("dashboard/", $file)),
        }
    };
}

/// Every file of the dashboard.
pub const ASSETS: [Asset; 9] = [
    asset!("/", "index.html", HTML),
    asset!("/assets/app.css", "assets/app.css", CSS),
    asset!("/assets/app.js", "assets/app.js", JS),
    asset!("/assets/api.js", "assets/api.js", JS),
    asset!("/assets/dom.js", "assets/dom.js", JS),
    asset!("/assets/alerts.js", "assets/alerts.js", JS),
    asset!("/assets/feeds.js", "assets/feeds.js", JS),
    asset!("/assets/chart.js", "assets/chart.js", JS),
    asset!("/assets/icon.svg", "assets/icon.svg", SVG),
];

/// Registers a `GET` route for every asset.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for asset in ASSETS {
        cfg.route(asset.path, web::get().to(move || serve(asset)));
    }
}

async fn serve(asset: Asset) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(asset.content_type)
        .insert_header((CONTENT_SECURITY_POLICY, CSP))
        .insert_header((X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((REFERRER_POLICY, "no-referrer"))
        // Revalidate on every load: a new binary must not run old scripts.
        .insert_header((CACHE_CONTROL, "no-cache"))
        .body(asset.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_public_and_every_script_is_listed() {
        for asset in ASSETS {
            assert!(super::super::auth::is_public(asset.path), "{}", asset.path);
            assert!(!asset.body.is_empty(), "{}", asset.path);
        }
        // Each module the page imports must be served, or the page breaks.
        let served: Vec<&str> = ASSETS.iter().map(|a| a.path).collect();
        for asset in ASSETS.iter().filter(|a| a.content_type == JS) {
            let text = std::str::from_utf8(asset.body).expect("UTF-8");
            for line in text.lines().filter(|l| l.starts_with("import ")) {
                let Some(name) = line.split('"').nth(1) else {
                    panic!("{}: cannot read {line}", asset.path);
                };
                let path = format!("/assets/{}", name.trim_start_matches("./"));
                assert!(served.contains(&path.as_str()), "{path} is not served");
            }
        }
    }

    #[test]
    fn the_page_has_no_inline_code() {
        let html = std::str::from_utf8(ASSETS[0].body).expect("UTF-8");
        assert!(!html.contains("<style"), "inline style element");
        assert!(!html.contains(" style="), "inline style attribute");
        let handler = html.match_indices(" on").any(|(i, _)| {
            let rest = &html[i + 3..];
            let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
            name_len > 0 && rest[name_len..].starts_with('=')
        });
        assert!(!handler, "inline event handler");
        for script in html.split("<script").skip(1) {
            assert!(script
                .trim_start()
                .starts_with("type=\"module\" src=\"/assets/"));
        }
    }
}
