"""Fidelity checks with alpaca-py, unmodified: its StockDataStream against the
simulated `/v2/iex` feed (alpaca-py always speaks msgpack), and with a key and
secret the simulator refuses.

alpaca-py's `run()` blocks, so the stream runs on a thread; its handlers and
a handler on its logger tell the main thread what happened, and every wait
has a timeout. Each check raises AssertionError with a message naming what
differed.
"""

import logging
import threading
import time
from datetime import datetime, timezone

from alpaca.data.live import StockDataStream
from alpaca.data.models import Quote, Trade

from check_polygon import expect
from sim_process import script_trades

DATA_TIMEOUT_S = 30
STOP_TIMEOUT_S = 10
WANTED = 5
LOGGER = "alpaca.data.live.websocket"
# The SIP participant letters the simulator gives the script's exchange ids.
EXCHANGE_LETTERS = {1: "A", 4: "D", 8: "K", 10: "N", 11: "P", 12: "Q", 15: "V", 19: "U"}


class LogCapture(logging.Handler):
    """Keeps alpaca-py's log records and signals when one contains `text`."""

    def __init__(self, text):
        super().__init__(logging.INFO)
        self.text = text
        self.seen = threading.Event()
        self.messages = []

    def emit(self, record):
        message = record.getMessage()
        self.messages.append(message)
        if self.text in message:
            self.seen.set()

    def __enter__(self):
        logger = logging.getLogger(LOGGER)
        self.saved = (logger.level, logger.propagate)
        logger.setLevel(logging.INFO)
        # Its errors come with tracebacks; keep them off the report.
        logger.propagate = False
        logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        logger = logging.getLogger(LOGGER)
        logger.removeHandler(self)
        logger.setLevel(self.saved[0])
        logger.propagate = self.saved[1]
        return False


def run_until(stream, event, timeout):
    """Runs the stream on a thread until `event` is set or `timeout` passes,
    then stops it; returns whether the event was set."""
    thread = threading.Thread(target=stream.run, daemon=True)
    thread.start()
    happened = event.wait(timeout)
    # stop() needs the stream's event loop, which run() creates first thing;
    # retry briefly in case the thread has not got that far.
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while True:
        try:
            stream.stop()
            break
        except AttributeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    thread.join(STOP_TIMEOUT_S)
    expect(not thread.is_alive(), f"the stream did not stop within {STOP_TIMEOUT_S} s")
    return happened


def check_stream(sim):
    """Typed trades and quotes of AAPL reach the handlers; the trades equal
    the script's first AAPL trades, with timezone-aware timestamps."""
    stream = StockDataStream("key", "secret", url_override=f"ws://{sim.host}/v2/iex")
    trades, quotes = [], []
    enough = threading.Event()

    async def on_trade(trade):
        trades.append(trade)
        if len(trades) >= WANTED and len(quotes) >= WANTED:
            enough.set()

    async def on_quote(quote):
        quotes.append(quote)
        if len(trades) >= WANTED and len(quotes) >= WANTED:
            enough.set()

    stream.subscribe_trades(on_trade, "AAPL")
    stream.subscribe_quotes(on_quote, "AAPL")
    with LogCapture("subscribed to") as log:
        got = run_until(stream, enough, DATA_TIMEOUT_S)
    expect(got, f"{len(trades)} trades and {len(quotes)} quotes in {DATA_TIMEOUT_S} s")
    echoes = [m for m in log.messages if m.startswith("subscribed to")]
    expect(echoes and "trades: ['AAPL']" in echoes[0], f"subscription logs {echoes}")
    expect(all(isinstance(t, Trade) for t in trades), "handlers get Trade models")
    expect(all(isinstance(q, Quote) for q in quotes), "handlers get Quote models")
    expected = [t for t in script_trades(400, "stocks") if t["symbol"] == "AAPL"]
    for n, (got, want) in enumerate(zip(trades, expected)):
        stamp = got.timestamp
        expect(isinstance(stamp, datetime), f"trade {n}: timestamp {stamp!r}")
        expect(stamp.utcoffset() == timezone.utc.utcoffset(None), f"trade {n}: {stamp!r} not UTC")
        millis = round(stamp.timestamp() * 1000)
        fields = {
            "symbol": (got.symbol, "AAPL"),
            "price": (got.price, want["price"]),
            "size": (got.size, want["size"]),
            "timestamp": (millis, want["time_ms"]),
            "id": (got.id, want["trade_id"]),
            "exchange": (got.exchange, EXCHANGE_LETTERS[want["exchange"]]),
            "tape": (got.tape, "C"),
        }
        for field, (have, wanted) in fields.items():
            expect(have == wanted, f"trade {n}: {field} {have!r} != script {wanted!r}")
    for quote in quotes:
        expect(quote.symbol == "AAPL", f"quote of {quote.symbol}")
        expect(0 < quote.bid_price < quote.ask_price, f"quote {quote.bid_price}/{quote.ask_price}")
        expect(isinstance(quote.timestamp, datetime), f"quote timestamp {quote.timestamp!r}")
    return f"{len(trades)} Trade and {len(quotes)} Quote models; trades match the script"


def check_stream_wrong_key(sim):
    """A refused key and secret: alpaca-py logs `auth failed` (and would retry
    forever by design); the simulator counted the failed attempt."""
    stream = StockDataStream("wrong", "wrong", url_override=f"ws://{sim.host}/v2/iex")

    async def on_trade(trade):
        pass

    stream.subscribe_trades(on_trade, "AAPL")
    with LogCapture("auth failed") as log:
        seen = run_until(stream, log.seen, DATA_TIMEOUT_S)
    expect(seen, f"no `auth failed` logged in {DATA_TIMEOUT_S} s; logs {log.messages[-5:]}")
    stats = sim.stop()
    expect(stats is not None, "the simulator printed its counters")
    expect(stats["auth_attempts"] >= 1, f"auth attempts {stats['auth_attempts']}")
    expect(stats["auth_failures"] >= 1, f"auth failures {stats['auth_failures']}")
    return f"`auth failed` logged; simulator saw {stats['auth_failures']} failed auth(s)"
