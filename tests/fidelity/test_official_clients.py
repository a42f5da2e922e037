"""Proof that tapewatch's simulator is faithful: the official, unmodified
Python clients of both vendors accept it.

Runs the built `tapewatch sim` (path in TAPEWATCH_BIN, default
target/debug/tapewatch) on 127.0.0.1, port 0, in four configurations, and
checks with polygon-api-client and alpaca-py that:
1. polygon's WebSocketClient authenticates on `/stocks` and `/options` and
   parses the first trades into EquityTrade models equal to the script's;
2. polygon's RESTClient parses an OptionsContract and TickerDetails;
3. alpaca-py's StockDataStream receives Trade and Quote models of AAPL
   through its handlers, in msgpack, equal to the script's;
4. a wrong key gives each client the error it expects from the real service.

Prints one PASS/FAIL line per check and `N passed, N failed` last; exits
non-zero on any failure. Run it through scripts/fidelity.
"""

import sys
import time
import traceback

import check_alpaca
import check_polygon
from sim_process import SimProcess

# (simulator flags, [(check name, check function)]): one simulator per group.
# The Polygon feeds are paced: polygon's client closes the socket from inside
# its message callback, and meanwhile websockets stops reading once 16 frames
# wait unread, so a feed faster than the close handshake would bury the echo
# of the client's Close frame behind frames nobody reads (a client limit that
# the real, equally fast, feed would hit too). `--script-time` keeps the
# script's event times, which the checks compare with `--print-script`.
GROUPS = [
    (
        ["--rate", "200", "--script-time"],
        [
            ("polygon WebSocketClient stocks", check_polygon.check_ws_stocks),
            ("polygon WebSocketClient options", check_polygon.check_ws_options),
            ("polygon RESTClient", check_polygon.check_rest),
        ],
    ),
    (
        ["--key", "right"],
        [
            ("polygon WebSocketClient wrong key", check_polygon.check_ws_wrong_key),
            ("polygon RESTClient wrong key", check_polygon.check_rest_wrong_key),
        ],
    ),
    (
        ["--provider", "alpaca", "--total", "20000"],
        [("alpaca-py StockDataStream", check_alpaca.check_stream)],
    ),
    (
        ["--provider", "alpaca", "--key", "right", "--secret", "right"],
        [("alpaca-py StockDataStream wrong key", check_alpaca.check_stream_wrong_key)],
    ),
]


def run_group(flags, checks, results):
    """Starts one simulator, runs its checks, and always stops it."""
    try:
        with SimProcess(*flags) as sim:
            for name, check in checks:
                started = time.monotonic()
                try:
                    detail = check(sim)
                    results.append((name, True, detail))
                except Exception as error:  # noqa: BLE001 - every failure is reported
                    detail = f"{type(error).__name__}: {error}"
                    if not isinstance(error, AssertionError):
                        detail += "\n" + traceback.format_exc()
                    results.append((name, False, detail))
                took = time.monotonic() - started
                ok, detail = results[-1][1], results[-1][2]
                print(f"{'PASS' if ok else 'FAIL'} {name} ({took:.1f} s): {detail}", flush=True)
    except Exception as error:  # noqa: BLE001 - a simulator that will not start fails its checks
        for name, _ in checks:
            if not any(r[0] == name for r in results):
                results.append((name, False, f"simulator: {error}"))
                print(f"FAIL {name}: simulator {' '.join(flags)}: {error}", flush=True)


def main():
    results = []
    for flags, checks in GROUPS:
        run_group(flags, checks, results)
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
