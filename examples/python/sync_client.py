"""A blocking tapewatch client (no asyncio): subscribe to alerts, look a
contract up and print the answer to that request, then print alerts as they
come. With --last, watch the last trade of a few symbols instead, as a live
table redrawn while reading slowly on purpose: `last:` is a state topic, so
the server sends each symbol's newest value whenever the client can take one,
and a client this slow never falls behind or gets disconnected.

    pip install -r requirements.txt
    python sync_client.py [ws://127.0.0.1:8787/ws] [O:NVDA261218C00500000]
    python sync_client.py --last AAPL,NVDA,MSFT [ws://127.0.0.1:8787/ws] [--pause 0.5]

Set TAPEWATCH_TOKEN when the server requires a token.

Every request carries an "id" and its reply carries the same id. Replies can
come after pushes, or after the replies to later requests (a contract lookup
goes over REST), so the client reads until it sees the id it waits for and
keeps whatever arrives meanwhile.
"""

import json
import os
import sys
import time

import websocket  # the websocket-client package

DEFAULT_URL = "ws://127.0.0.1:8787/ws"


class Client:
    def __init__(self, url):
        token = os.environ.get("TAPEWATCH_TOKEN", "").strip()
        headers = [f"Authorization: Bearer {token}"] if token else []
        self.ws = websocket.create_connection(url, header=headers, timeout=30)
        self.last_id = 0
        self.kept = []  # pushes that arrived while waiting for a reply

    def request(self, action, **fields):
        """Sends one request and returns its reply, matched by id."""
        self.last_id += 1
        request_id = self.last_id
        self.ws.send(json.dumps({"id": request_id, "action": action, **fields}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == request_id:
                if not message["ok"]:
                    raise RuntimeError(f"{action} failed: {message['error']}")
                return message
            self.kept.append(message)

    def pushes(self):
        """Yields pushes: those kept aside first, then each as it arrives."""
        while self.kept:
            yield self.kept.pop(0)
        self.ws.settimeout(None)
        while True:
            yield json.loads(self.ws.recv())


def show(push):
    data = push.get("data", {})
    if data.get("type") == "alert":
        print(f"ALERT  #{data['id']:<5} {data['kind']:<13} {data['symbol']:<24} "
              f"observed {data['observed']:g} vs baseline {data['baseline']:.1f}")
    elif data.get("type") == "enrichment":
        print(f"  ENRICH #{data['alert_id']:<5} {data['status']}")
    elif push.get("id") is not None and not push.get("ok"):
        print(f"request {push['id']} failed: {push.get('error')}")


def watch_last(url, symbols, pause):
    """Shows the last trade of each symbol, redrawn after every push, and
    sleeps `pause` seconds per message to play a slow, blocking consumer."""
    client = Client(url)
    topics = [f"last:{s}" for s in symbols]
    print("topics:", client.request("subscribe", topics=topics)["topics"])
    rows = {}  # symbol -> (data, was it a snapshot)
    pushes = 0
    redraw = sys.stdout.isatty()
    for push in client.pushes():
        topic = push.get("topic", "")
        if not topic.startswith("last:"):
            continue
        data = push["data"]
        old = rows.get(data["symbol"])
        # The server never sends an older value after a newer one.
        if old and (data["time_ms"], data.get("sequence") or 0) < (
                old[0]["time_ms"], old[0].get("sequence") or 0):
            print(f"older value after a newer one for {data['symbol']}!")
        rows[data["symbol"]] = (data, push.get("snapshot", False))
        pushes += 1
        now_ms = time.time() * 1000

        def row(symbol):
            d, snapshot = rows[symbol]
            age = f"{(now_ms - d['time_ms']) / 1000:.1f}s"
            return (f"{symbol:<24} {d['price']:>10.2f} {d['size']:>8g} "
                    f"{d['day_volume']:>12g} {d['day_trades']:>8} {age:>8}"
                    + ("  (snapshot)" if snapshot else ""))

        if redraw:
            header = (f"{'symbol':<24} {'price':>10} {'size':>8} {'day volume':>12} "
                      f"{'trades':>8} {'age':>8}")
            table = "\n".join([header] + [row(s) for s in sorted(rows)])
            print(f"\x1b[H\x1b[J{table}\n{pushes} pushes read, one every {pause}s at most",
                  flush=True)
        else:
            print(row(data["symbol"]), flush=True)
        time.sleep(pause)


def main():
    args = sys.argv[1:]
    if args and args[0] == "--last":
        if len(args) < 2:
            sys.exit("usage: sync_client.py --last SYM[,SYM...] [URL] [--pause SECONDS]")
        symbols = [s.strip() for s in args[1].split(",") if s.strip()]
        rest = args[2:]
        pause = 0.5
        if "--pause" in rest:
            i = rest.index("--pause")
            pause = float(rest[i + 1])
            del rest[i:i + 2]
        url = rest[0] if rest else DEFAULT_URL
        try:
            watch_last(url, symbols, pause)
        except KeyboardInterrupt:
            pass
        except websocket.WebSocketConnectionClosedException:
            print("the server closed the connection")
        return
    url = args[0] if args else DEFAULT_URL
    ticker = args[1] if len(args) > 1 else "O:NVDA261218C00500000"
    client = Client(url)
    print("topics:", client.request("subscribe", topics=["alerts"])["topics"])
    contract = client.request("contract", ticker=ticker)["contract"]
    print(f"{ticker}: {contract.get('contract_type')} strike {contract.get('strike_price')} "
          f"expires {contract.get('expiration_date')}")
    try:
        for push in client.pushes():
            show(push)
    except KeyboardInterrupt:
        pass
    except websocket.WebSocketConnectionClosedException:
        print("the server closed the connection")
    finally:
        client.ws.close()


if __name__ == "__main__":
    main()
