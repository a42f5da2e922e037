//! The reading of single HTTP answers, without a server.

use super::*;

fn done(a: Attempt) -> LookupResult {
    match a {
        Attempt::Done(r) => r,
        Attempt::Retry { error, .. } => panic!("unexpected retry: {error}"),
    }
}

#[test]
fn answers_are_classified() {
    let ok = br#"{"status":"OK","results":{"ticker":"NVDA"}}"#.to_vec();
    let v = done(classify(StatusCode::OK, None, &Some(ok))).expect("ok");
    assert_eq!(*v, serde_json::json!({"ticker": "NVDA"}));
    let bare = done(classify(StatusCode::OK, None, &Some(b"[1]".to_vec()))).expect("ok");
    assert_eq!(
        *bare,
        serde_json::json!([1]),
        "without `results` the whole body is kept"
    );
    let garbage = done(classify(StatusCode::OK, None, &Some(b"{oops".to_vec())));
    assert!(matches!(garbage, Err(LookupError::Failed(m)) if m.contains("invalid JSON")));
    let denied = br#"{"status":"ERROR","error":"Unknown API Key"}"#.to_vec();
    let denied = done(classify(StatusCode::UNAUTHORIZED, None, &Some(denied)));
    assert_eq!(
        denied,
        Err(LookupError::Failed("HTTP 401: Unknown API Key".into()))
    );
    let huge = done(classify(StatusCode::OK, None, &None));
    assert!(matches!(huge, Err(LookupError::Failed(m)) if m.contains("larger")));
    let after = Some(Duration::from_secs(2));
    let busy = classify(StatusCode::SERVICE_UNAVAILABLE, after, &Some(Vec::new()));
    assert!(
        matches!(busy, Attempt::Retry { after: Some(d), error: LookupError::Failed(m) }
        if d == Duration::from_secs(2) && m == "HTTP 503: Service Unavailable")
    );
}

#[test]
fn retry_after_takes_whole_seconds_only() {
    let mut h = HeaderMap::new();
    assert_eq!(retry_after(&h), None);
    h.insert(RETRY_AFTER, " 3 ".parse().expect("header value"));
    assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
    h.insert(
        RETRY_AFTER,
        "Wed, 21 Oct 2015 07:28:00 GMT"
            .parse()
            .expect("header value"),
    );
    assert_eq!(retry_after(&h), None);
}

#[test]
fn the_key_is_scrubbed_from_errors() {
    let key = ApiKey::new("sekrit");
    let echoed = LookupError::Failed("HTTP 401: bad key sekrit".into());
    assert_eq!(
        redact(echoed, &key),
        LookupError::Failed("HTTP 401: bad key [redacted]".into())
    );
}
