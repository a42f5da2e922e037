"""Fidelity checks with polygon-api-client, unmodified: its WebSocketClient
against the simulated `/stocks` and `/options` feeds, its RESTClient against
the simulated reference endpoints, and both with a key the simulator refuses.

Each check raises AssertionError with a message naming what differed.
"""

import asyncio
import json
from itertools import groupby

from polygon import RESTClient, WebSocketClient
from polygon.exceptions import AuthError, BadResponse
from polygon.rest.models import OptionsContract, TickerDetails
from polygon.websocket.models import EquityTrade, Market

from sim_process import script_trades

WS_TIMEOUT_S = 30
TRADES = 50


def expect(condition, message):
    """Fails the check with `message` unless `condition` holds."""
    if not condition:
        raise AssertionError(message)


def receive_trades(host, market, count, api_key="k"):
    """Connects polygon's WebSocketClient to the simulator, subscribed to
    `T.*`, and returns the parsed messages once `count` trades arrived; the
    client then closes the socket itself, which ends `connect` cleanly."""
    client = WebSocketClient(
        api_key=api_key,
        feed=host,
        market=market,
        secure=False,
        subscriptions=["T.*"],
        max_reconnects=0,
    )
    received = []

    async def processor(messages):
        received.extend(messages)
        if sum(isinstance(m, EquityTrade) for m in received) >= count:
            await client.close()

    async def run():
        await asyncio.wait_for(client.connect(processor), WS_TIMEOUT_S)

    asyncio.run(run())
    return received


def check_ws_trades(sim, market):
    """Typed trades arrive, equal to the script's first trades, with the
    invariants of the market."""
    name = market.value
    expected = script_trades(TRADES, name)
    received = receive_trades(sim.host, market, TRADES)
    trades = [m for m in received if isinstance(m, EquityTrade)]
    others = [type(m).__name__ for m in received if not isinstance(m, EquityTrade)]
    expect(not others, f"{name}: only trades were subscribed, also got {others[:5]}")
    expect(len(trades) >= TRADES, f"{name}: {len(trades)} trades, wanted {TRADES}")
    for n, (got, want) in enumerate(zip(trades, expected)):
        fields = {
            "symbol": (got.symbol, want["symbol"]),
            "price": (got.price, want["price"]),
            "size": (got.size, want["size"]),
            "timestamp": (got.timestamp, want["time_ms"]),
            "exchange": (got.exchange, want["exchange"]),
            "conditions": (got.conditions or [], want["conditions"]),
            "sequence_number": (got.sequence_number, want["sequence"]),
        }
        if name == "stocks":
            fields["id"] = (got.id, str(want["trade_id"]))
        for field, (have, wanted) in fields.items():
            expect(have == wanted, f"{name} trade {n}: {field} {have!r} != script {wanted!r}")
        expect(got.event_type == "T", f"{name} trade {n}: event_type {got.event_type!r}")
    for trade in trades:
        expect(trade.price > 0, f"{name}: price {trade.price} of {trade.symbol}")
        if name == "stocks":
            expect(trade.size % 100 == 0, f"stocks: odd size {trade.size}")
            expect(trade.tape in (1, 2, 3), f"stocks: tape {trade.tape}")
        else:
            expect(trade.symbol.startswith("O:"), f"options: symbol {trade.symbol}")
            expect(trade.id is None and trade.tape is None, "options trades carry no id or tape")
    by_symbol = sorted(trades, key=lambda t: t.symbol)
    for symbol, group in groupby(by_symbol, key=lambda t: t.symbol):
        times = [t.timestamp for t in group]
        expect(times == sorted(times), f"{name}: times of {symbol} go backwards: {times}")
    return f"{len(trades)} {name} trades match the script"


def check_ws_stocks(sim):
    return check_ws_trades(sim, Market.Stocks)


def check_ws_options(sim):
    return check_ws_trades(sim, Market.Options)


def check_rest(sim):
    """get_options_contract and get_ticker_details parse into their models."""
    client = RESTClient(api_key="k", base=f"http://{sim.host}", retries=0)
    contract = client.get_options_contract("O:NVDA261218C00500000")
    expect(isinstance(contract, OptionsContract), f"got {type(contract).__name__}")
    wanted = {
        "ticker": "O:NVDA261218C00500000",
        "underlying_ticker": "NVDA",
        "contract_type": "call",
        "strike_price": 500,
        "expiration_date": "2026-12-18",
        "shares_per_contract": 100,
    }
    for field, value in wanted.items():
        have = getattr(contract, field)
        expect(have == value, f"contract {field}: {have!r} != {value!r}")
    details = client.get_ticker_details("AAPL")
    expect(isinstance(details, TickerDetails), f"got {type(details).__name__}")
    expect(details.ticker == "AAPL", f"ticker {details.ticker!r}")
    expect(bool(details.name), "ticker details carry a name")
    expect(details.market == "stocks", f"market {details.market!r}")
    return "OptionsContract NVDA call 500 2026-12-18; TickerDetails AAPL"


def check_ws_wrong_key(sim):
    """A refused key makes connect raise AuthError, with no reconnect."""
    try:
        receive_trades(sim.host, Market.Stocks, 1, api_key="wrong")
    except AuthError as error:
        expect(str(error) == "authentication failed", f"AuthError({str(error)!r})")
        return "AuthError('authentication failed')"
    raise AssertionError("connect returned without raising AuthError")


def check_rest_wrong_key(sim):
    """A refused key makes the REST client raise BadResponse with the 401 body."""
    client = RESTClient(api_key="wrong", base=f"http://{sim.host}", retries=0)
    try:
        client.get_ticker_details("AAPL")
    except BadResponse as error:
        body = json.loads(str(error))
        expect(body.get("status") == "ERROR", f"body {body}")
        expect(body.get("error") == "Unknown API Key", f"body {body}")
        return f"BadResponse({body['error']!r})"
    raise AssertionError("get_ticker_details returned without raising BadResponse")
