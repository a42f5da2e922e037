//! The Alpaca stock streams the simulator serves in [`SimProvider::Alpaca`]
//! mode, `/v2/{iex,sip,delayed_sip,test}`, and the encoding a connection
//! chose with its upgrade's `Content-Type`.
//!
//! Every feed carries the stock script. `/v2/iex`, `/v2/sip` and
//! `/v2/delayed_sip` are views of one tape, so they share the script's
//! position as Polygon's `/stocks` connections do. `/v2/test` has a script
//! of its own and only the trades and quotes of its first instrument (AAPL),
//! renamed `FAKEPACA` as on Alpaca's always-on test stream, so that its
//! prices follow one plausible walk.
//!
//! [`SimProvider::Alpaca`]: super::SimProvider::Alpaca

use actix_web::http::header::CONTENT_TYPE;
use actix_web::HttpRequest;

use super::instruments::Market;
use super::sim_event::SimEvent;

/// The symbol of Alpaca's test stream.
pub const TEST_SYMBOL: &str = "FAKEPACA";

/// One Alpaca stock stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlpacaFeed {
    /// `/v2/iex`, the free IEX feed.
    Iex,
    /// `/v2/sip`, the consolidated feed.
    Sip,
    /// `/v2/delayed_sip`, the 15-minute delayed consolidated feed.
    DelayedSip,
    /// `/v2/test`, the test stream of `FAKEPACA`.
    Test,
}

impl AlpacaFeed {
    /// Every feed, in path order.
    pub const ALL: [AlpacaFeed; 4] = [
        AlpacaFeed::Iex,
        AlpacaFeed::Sip,
        AlpacaFeed::DelayedSip,
        AlpacaFeed::Test,
    ];

    /// The last path segment: `iex`, `sip`, `delayed_sip`, `test`.
    pub fn name(self) -> &'static str {
        match self {
            AlpacaFeed::Iex => "iex",
            AlpacaFeed::Sip => "sip",
            AlpacaFeed::DelayedSip => "delayed_sip",
            AlpacaFeed::Test => "test",
        }
    }

    /// The URL path, e.g. `v2/iex`, as [`super::SimHandle::ws_url`] takes it.
    pub fn path(self) -> String {
        format!("v2/{}", self.name())
    }

    /// Parses the last path segment, as produced by [`AlpacaFeed::name`].
    pub fn from_name(name: &str) -> Option<AlpacaFeed> {
        AlpacaFeed::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The script market the feed draws from: always stocks.
    pub fn market(self) -> Market {
        Market::Stocks
    }

    /// The event as this feed shows it, or None when the feed does not carry
    /// it: the test stream keeps only the first instrument, as `FAKEPACA`.
    pub(crate) fn view(self, event: SimEvent) -> Option<SimEvent> {
        if self != AlpacaFeed::Test {
            return Some(event);
        }
        let first = Market::Stocks.instruments().first()?.symbol;
        if event.symbol() != first {
            return None;
        }
        Some(match event {
            SimEvent::Trade(mut t) => {
                t.symbol = TEST_SYMBOL;
                SimEvent::Trade(t)
            }
            SimEvent::Quote(mut q) => {
                q.symbol = TEST_SYMBOL;
                SimEvent::Quote(q)
            }
        })
    }
}

/// How an Alpaca connection's frames are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Text frames of JSON: `Content-Type: application/json`, or none.
    Json,
    /// Binary frames of msgpack: `Content-Type: application/msgpack`.
    Msgpack,
}

impl Encoding {
    /// The encoding the upgrade request asks for. Anything but msgpack gets
    /// JSON, the service's default.
    pub fn of_request(req: &HttpRequest) -> Encoding {
        let asked = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(';').next())
            .map(str::trim);
        match asked {
            Some(mime) if mime.eq_ignore_ascii_case("application/msgpack") => Encoding::Msgpack,
            _ => Encoding::Json,
        }
    }
}

/// What an Alpaca connection is: which feed, in which encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AlpacaSession {
    /// The feed it connected to.
    pub feed: AlpacaFeed,
    /// The encoding of the frames it is sent.
    pub encoding: Encoding,
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;
    use crate::sim_event::SimTrade;

    #[test]
    fn feeds_round_trip_through_their_names() {
        for feed in AlpacaFeed::ALL {
            assert_eq!(AlpacaFeed::from_name(feed.name()), Some(feed));
            assert_eq!(feed.path(), format!("v2/{}", feed.name()));
        }
        assert_eq!(AlpacaFeed::from_name("crypto"), None);
    }

    #[test]
    fn the_content_type_picks_the_encoding() {
        let of = |value: Option<&str>| {
            let mut req = TestRequest::get();
            if let Some(value) = value {
                req = req.insert_header((CONTENT_TYPE, value));
            }
            Encoding::of_request(&req.to_http_request())
        };
        assert_eq!(of(None), Encoding::Json);
        assert_eq!(of(Some("application/json")), Encoding::Json);
        assert_eq!(of(Some("application/msgpack")), Encoding::Msgpack);
        assert_eq!(of(Some("Application/MsgPack; q=1")), Encoding::Msgpack);
    }

    #[test]
    fn the_test_feed_shows_only_fakepaca() {
        let trade = |symbol| {
            SimEvent::Trade(SimTrade {
                index: 0,
                symbol,
                exchange: 4,
                price: 1.0,
                size: 100,
                conditions: &[],
                time_ms: 0,
                sequence: 1,
                trade_id: 1,
                tape: 3,
            })
        };
        let shown = AlpacaFeed::Test.view(trade("AAPL"));
        assert_eq!(shown.map(|e| e.symbol()), Some(TEST_SYMBOL));
        assert_eq!(AlpacaFeed::Test.view(trade("MSFT")), None);
        let iex = AlpacaFeed::Iex.view(trade("MSFT"));
        assert_eq!(iex.map(|e| e.symbol()), Some("MSFT"));
    }
}
