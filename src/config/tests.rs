use super::*;

#[test]
fn empty_file_gives_documented_defaults() {
    let c = Config::parse("").expect("empty config parses");
    assert_eq!(c.provider, "polygon");
    assert_eq!(c.feeds[0].url, "wss://socket.massive.com/stocks");
    assert_eq!(c.feeds[0].subscribe, vec!["T.*"]);
    assert_eq!(c.rest.base_url, "https://api.massive.com");
    c.validate("x").expect("defaults are valid");
}

#[test]
fn an_empty_feed_url_means_the_providers_own() {
    let c = Config::parse("provider = \"alpaca\"\n[[feeds]]\nname = \"iex\"\nurl = \"\"")
        .expect("parses");
    assert_eq!(
        c.feed_url(0).as_deref(),
        Some("wss://stream.data.alpaca.markets/v2/iex")
    );
    c.validate("f").expect("valid");
    let c = Config::parse("[[feeds]]\nname = \"nowhere\"\nurl = \"\"").expect("parses");
    let e = c
        .validate("f.toml")
        .expect_err("no default for that market");
    assert!(e.to_string().contains("feeds[0].url"), "{e}");
}

#[test]
fn errors_name_the_key() {
    let cases = [
        ("[detector]\nvolume_z = \"high\"", "detector.volume_z"),
        ("[pipeline]\nnope = 1", "pipeline"),
        ("[[feeds]]\nurl = 5", "feeds[0].url"),
    ];
    for (text, key) in cases {
        let (got, message) = Config::parse(text).expect_err(text);
        assert!(got.starts_with(key), "{text}: key {got} ({message})");
    }
    let c = Config::parse("[[feeds]]\nurl = \"http://x\"").expect("parses");
    let e = c.validate("f.toml").expect_err("http is not a feed url");
    assert!(e.to_string().contains("feeds[0].url"), "{e}");
    let c = Config::parse("[pipeline]\nsink_queue = 0").expect("parses");
    assert!(c.validate("f").is_err());
}

#[test]
fn http_needs_a_token_beyond_loopback_and_never_shows_it() {
    let c = Config::parse("[http]\nbind = \"0.0.0.0:8787\"").expect("parses");
    // The environment's token would satisfy the rule; only check without one.
    if std::env::var_os(crate::http::config::TOKEN_ENV).is_none() {
        let e = c.validate("f.toml").expect_err("no token");
        assert!(e.to_string().contains("http.token"), "{e}");
    }
    let c = Config::parse("[http]\nbind = \"0.0.0.0:8787\"\ntoken = \"t0k3n\"").expect("parses");
    c.validate("f.toml").expect("a token is given");
    assert!(!format!("{c:?}").contains("t0k3n"));
    let (key, _) = Config::parse("[http]\nbind = \"localhost\"").expect_err("not IP:port");
    assert!(key.starts_with("http.bind"), "{key}");
    let c = Config::parse("[http]\nclient_queue = 0").expect("parses");
    assert!(c.validate("f").is_err());
}

#[test]
fn the_example_file_is_valid_and_complete() {
    let text = include_str!("../../examples/tapewatch.toml");
    let c = Config::parse(text).expect("example parses");
    c.validate("examples/tapewatch.toml")
        .expect("example is valid");
    // Every key the program knows appears in the example, so the example
    // stays the documentation of the defaults.
    let defaults = toml::to_string(&Config::default()).expect("serialises");
    for line in defaults.lines().filter(|l| l.contains(" = ")) {
        let key = line.split(" = ").next().unwrap_or_default();
        assert!(
            text.contains(&format!("{key} =")),
            "examples/tapewatch.toml lacks `{key}`"
        );
    }
}
