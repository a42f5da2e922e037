"""A blocking tapewatch client (no asyncio): subscribe to alerts, look a
contract up and print the answer to that request, then print alerts as they
come.

    pip install -r requirements.txt
    python sync_client.py [ws://127.0.0.1:8787/ws] [O:NVDA261218C00500000]

Set TAPEWATCH_TOKEN when the server requires a token.

Every request carries an "id" and its reply carries the same id. Replies can
come after pushes, or after the replies to later requests (a contract lookup
goes over REST), so the client reads until it sees the id it waits for and
keeps whatever arrives meanwhile.
"""

import json
import os
import sys

import websocket  # the websocket-client package

URL = sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:8787/ws"
TICKER = sys.argv[2] if len(sys.argv) > 2 else "O:NVDA261218C00500000"


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


def main():
    client = Client(URL)
    print("topics:", client.request("subscribe", topics=["alerts"])["topics"])
    contract = client.request("contract", ticker=TICKER)["contract"]
    print(f"{TICKER}: {contract.get('contract_type')} strike {contract.get('strike_price')} "
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
