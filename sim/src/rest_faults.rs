//! Injected REST errors ([`super::Faults::rest_statuses`]) with the bodies the
//! real service sends (protocols.md §3.3): 401 and 429 carry an `error`
//! field, 403 and 404 a `message` field. The service's 5xx bodies are not
//! documented; the simulator answers them like its other errors, with
//! `"status":"ERROR"` and the status's reason phrase as `error`.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::json;

use super::rest::respond_json;

/// The body of a 429 from the real service.
pub const RATE_LIMIT_ERROR: &str = "You've exceeded the maximum requests per minute, \
     please wait or upgrade your subscription to continue.";

/// The answer for an injected `status`, or None for 200, which means "answer
/// normally". A number that is not an HTTP status counts as 500. A 429 carries
/// `Retry-After: retry_after_s` when that is set.
pub(super) fn injected_error(
    status: u16,
    request_id: &str,
    retry_after_s: Option<u64>,
) -> Option<HttpResponse> {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match status {
        StatusCode::OK => return None,
        StatusCode::TOO_MANY_REQUESTS => {
            json!({"status": "ERROR", "request_id": request_id, "error": RATE_LIMIT_ERROR})
        }
        StatusCode::UNAUTHORIZED => {
            json!({"status": "ERROR", "request_id": request_id, "error": "Unknown API Key"})
        }
        StatusCode::FORBIDDEN => json!({
            "status": "NOT_AUTHORIZED",
            "request_id": request_id,
            "message": "You are not entitled to this data. Please upgrade your plan at https://massive.com/pricing",
        }),
        StatusCode::NOT_FOUND => {
            json!({"status": "NOT_FOUND", "request_id": request_id, "message": "Not found."})
        }
        other => json!({
            "status": "ERROR",
            "request_id": request_id,
            "error": other.canonical_reason().unwrap_or("Internal Server Error"),
        }),
    };
    let mut response = respond_json(status, request_id, body);
    if let (StatusCode::TOO_MANY_REQUESTS, Some(seconds)) = (status, retry_after_s) {
        if let Ok(value) = seconds.to_string().parse() {
            response
                .headers_mut()
                .insert(actix_web::http::header::RETRY_AFTER, value);
        }
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_services_bodies() {
        assert_eq!(
            RATE_LIMIT_ERROR,
            "You've exceeded the maximum requests per minute, please wait or upgrade your subscription to continue."
        );
        let answer = |status| injected_error(status, "id", Some(3)).map(|r| r.status().as_u16());
        assert_eq!(answer(429), Some(429));
        assert_eq!(answer(503), Some(503));
        assert_eq!(answer(7), Some(500));
        assert_eq!(answer(200), None);
        let limited = injected_error(429, "id", Some(3));
        let retry_after = limited
            .as_ref()
            .and_then(|r| r.headers().get("retry-after"))
            .and_then(|v| v.to_str().ok());
        assert_eq!(retry_after, Some("3"));
        let unlimited = injected_error(429, "id", None);
        assert!(unlimited.is_some_and(|r| !r.headers().contains_key("retry-after")));
    }
}
