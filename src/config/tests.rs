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

#[test]
fn values_that_parse_but_cannot_work_name_their_key() {
    let cases = [
        (
            "[[feeds]]\nname = \"stocks\"\nsubscribe = [\"T.*\", \"T.\"]",
            "feeds[0].subscribe[1]",
        ),
        (
            "provider = \"alpaca\"\n[[feeds]]\nname = \"iex\"\nsubscribe = [\"orderbooks:AAPL\"]",
            "feeds[0].subscribe[0]",
        ),
        (
            "[connection]\nhandshake_timeout_ms = 0",
            "connection.handshake_timeout_ms",
        ),
        (
            "[connection]\nping_after_ms = 0",
            "connection.ping_after_ms",
        ),
        (
            "[connection]\npong_timeout_ms = 0",
            "connection.pong_timeout_ms",
        ),
        (
            "[connection]\nack_timeout_ms = 0",
            "connection.ack_timeout_ms",
        ),
        (
            "[connection]\nmax_frame_bytes = 10",
            "connection.max_frame_bytes",
        ),
        (
            "[connection]\nbackoff_min_ms = 0",
            "connection.backoff_min_ms",
        ),
        (
            "[connection]\nbackoff_min_ms = 500\nbackoff_max_ms = 100",
            "connection.backoff_max_ms",
        ),
        ("[pipeline]\nhandler_queue = 0", "pipeline.handler_queue"),
        ("[pipeline]\nalert_ring = 0", "pipeline.alert_ring"),
        (
            "[pipeline]\nalert_ring = 18446744073709551615",
            "pipeline.alert_ring",
        ),
        ("[staleness]\nfactor = 0.5", "staleness.factor"),
        ("[staleness]\nfactor = nan", "staleness.factor"),
        ("[staleness]\nmin_samples = 0", "staleness.min_samples"),
        (
            "[staleness]\ncheck_interval_ms = 0",
            "staleness.check_interval_ms",
        ),
        (
            "[supervision]\ncheck_interval_ms = 0",
            "supervision.check_interval_ms",
        ),
        (
            "[supervision]\nmax_restarts = 0",
            "supervision.max_restarts",
        ),
        ("[supervision]\nwindow_s = 0", "supervision.window_s"),
        ("[detector]\nmax_symbols = 0", "detector.max_symbols"),
        (
            "[detector]\nmax_symbols = 18446744073709551615",
            "detector.max_symbols",
        ),
        ("[detector]\nsize_alpha = 1.5", "detector.size_alpha"),
        (
            "[detector]\nsweep_min_exchanges = 1",
            "detector.sweep_min_exchanges",
        ),
        (
            "[[detector.groups]]\nunderlyings = [\"SPY\"]\nsettings = { premim_min = 1 }",
            "detector.groups[0].settings.premim_min",
        ),
        (
            "[[detector.groups]]\nprefix = \"O:\"\n[[detector.groups]]\nasset_class = \"option\"\nsettings = { premium_min = 0 }",
            "detector.groups[1].settings.premium_min",
        ),
        (
            "[[detector.groups]]\nname = \"all\"\nsettings = { premium_min = 5 }",
            "detector.groups[0]",
        ),
        ("[rest]\ntimeout_ms = 0", "rest.timeout_ms"),
        (
            "[rest]\ntimeout_ms = 5000\ndeadline_ms = 100",
            "rest.deadline_ms",
        ),
        ("[rest]\nmax_in_flight = 0", "rest.max_in_flight"),
        ("[rest]\nretry_base_ms = 0", "rest.retry_base_ms"),
        (
            "[rest]\nretry_base_ms = 500\nretry_max_ms = 100",
            "rest.retry_max_ms",
        ),
        ("[rest]\nbase_url = \"ftp://x\"", "rest.base_url"),
        ("[http]\nmax_clients = 0", "http.max_clients"),
        (
            "[http]\nallowed_origins = [\"https://tape.example.com/dash\"]",
            "http.allowed_origins",
        ),
        (
            "[[feeds]]\nname = \"a\"\n[[feeds]]\nname = \"a\"",
            "feeds[1].name",
        ),
        ("[[feeds]]\nname = \" \"", "feeds[0].name"),
    ];
    for (text, key) in cases {
        let c = Config::parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let e = c.validate("f.toml").expect_err(text);
        let shown = e.to_string();
        assert!(
            shown.contains(&format!("`{key}`")) && shown.contains("f.toml"),
            "{text}: {shown}"
        );
    }
}

#[test]
fn values_at_their_limits_are_accepted() {
    let cases = [
        "[connection]\nbackoff_min_ms = 100\nbackoff_max_ms = 100",
        "[rest]\nmax_retries = 0\nretry_base_ms = 0",
        "[rest]\ntimeout_ms = 100\ndeadline_ms = 100",
        "[detector]\nmax_symbols = 5000000",
        "[staleness]\nfactor = 1.0",
        "[rest]\nqueue_capacity = 0",
        "[[feeds]]\nname = \"a\"\n[[feeds]]\nname = \"b\"",
    ];
    for text in cases {
        let c = Config::parse(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        c.validate("f.toml")
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn a_provider_without_feeds_gets_its_own_default_feed() {
    let mut c = Config::parse("provider = \"alpaca\"").expect("parses");
    c.settle_default_feed();
    assert_eq!(c.feeds[0].name, "iex");
    assert_eq!(
        c.feed_url(0).as_deref(),
        Some("wss://stream.data.alpaca.markets/v2/iex")
    );
    c.validate("f").expect("valid");
    // Configured feeds are left alone.
    let mut c = Config::parse(
        "provider = \"alpaca\"\n[[feeds]]\nname = \"sip\"\nurl = \"ws://127.0.0.1:1/v2/sip\"",
    )
    .expect("parses");
    c.settle_default_feed();
    assert_eq!(c.feeds[0].url, "ws://127.0.0.1:1/v2/sip");
    let mut c = Config::parse("provider = \"massive\"").expect("parses");
    c.settle_default_feed();
    assert_eq!(c.feeds[0].url, "wss://socket.massive.com/stocks");
}

#[test]
fn the_generic_examples_are_valid() {
    // Their secrets come from the environment; the check needs them set.
    std::env::set_var("FINNHUB_TOKEN", "test-token");
    std::env::set_var("KUCOIN_WS_TOKEN", "test-token");
    for (name, text) in [
        (
            "generic-finnhub.toml",
            include_str!("../../examples/generic-finnhub.toml"),
        ),
        (
            "generic-kucoin.toml",
            include_str!("../../examples/generic-kucoin.toml"),
        ),
    ] {
        let c = Config::parse(text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        c.validate(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn generic_protocol_errors_name_the_key() {
    let base = |extra: &str| {
        format!(
            "provider = \"generic\"\n[[feeds]]\nname = \"f\"\nurl = \"ws://127.0.0.1:1/\"\nsubscribe = [\"AAPL\"]\n\
             [generic.subscribe]\nmessage = '${{topics}}'\nunsubscribe = '${{topics}}'\n\
             [generic.data.trade]\nsymbol = \"/s\"\nprice = \"/p\"\nsize = \"/v\"\ntime = \"/t\"\n{extra}"
        )
    };
    let ok = Config::parse(&base("")).expect("parses");
    ok.validate("f")
        .expect("a minimal generic protocol is valid");
    let cases = [
        (
            "time_unit = \"fortnights\"",
            "generic.data.trade.time_unit",
            "not a time unit",
        ),
        (
            "[generic.data]\nevents = \"data\"",
            "generic.data.events",
            "RFC 6901",
        ),
        (
            "[[generic.handshake]]\nsend = '${capture.x}'",
            "generic.handshake[0].send",
            "captures `x`",
        ),
        (
            "[[generic.handshake]]\nsend = '${env:TAPEWATCH_TEST_UNSET_VARIABLE}'",
            "generic.handshake[0].send",
            "is not set",
        ),
    ];
    for (extra, key, why) in cases {
        let c = Config::parse(&base(extra)).unwrap_or_else(|e| panic!("{extra}: {e:?}"));
        match c.validate("f") {
            Err(ConfigError::Invalid {
                key: k, message, ..
            }) => {
                assert_eq!(k, key, "{extra}: {message}");
                assert!(message.contains(why), "{extra}: {message}");
            }
            other => panic!("{extra}: {other:?}"),
        }
    }
    let c = Config::parse("provider = \"generic\"").expect("parses");
    let err = c.validate("f").expect_err("needs [generic]");
    assert!(err.to_string().contains("key `generic`"), "{err}");
    let c = Config::parse(&base("").replace("generic\"\n", "polygon\"\n")).expect("parses");
    let err = c.validate("f").expect_err("[generic] without the provider");
    assert!(err.to_string().contains("only read with"), "{err}");
    let c = Config::parse(
        &base("").replace("127.0.0.1:1/", "h/?t=${env:TAPEWATCH_TEST_UNSET_VARIABLE}"),
    )
    .expect("parses");
    let err = c.validate("f").expect_err("an unset variable in the URL");
    assert!(err.to_string().contains("feeds[0].url"), "{err}");
}
