#!/usr/bin/env python3
"""The Python peer of tapewatch's benchmark.

The pattern of Polygon's article "Pattern for Non-Blocking WebSocket and REST
Calls in Python", built on the official client (polygon-api-client): the
WebSocketClient's processor only puts each message list into an asyncio.Queue;
a consumer task takes them off, runs a per-symbol volume-spike check (the same
rule and thresholds as tapewatch's default: 50 trades of warm-up, a trade at
least 10 times the running mean size), and on an anomaly enqueues a REST
lookup; a third task runs those lookups with RESTClient in a ThreadPoolExecutor.

It connects to the benchmark's generator on loopback, stops after N events (or
when the generator closes the connection), and prints one line on stdout:
`events=N seconds=S anomalies=A rest_ok=R rest_failed=F`, where S runs from the
first message handed to the processor to the last event handled.
"""

import argparse
import asyncio
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from polygon import RESTClient, WebSocketClient
from polygon.websocket.models import Market

WARMUP_TRADES = 50
VOLUME_MULTIPLE = 10.0
SIZE_ALPHA = 0.05


class ApiCallHandler:
    """Runs REST lookups off the event loop, in a thread pool."""

    def __init__(self, rest_base):
        self.api_call_queue = asyncio.Queue()
        self.executor = ThreadPoolExecutor()
        self.client = RESTClient(
            api_key="bench",
            base=rest_base,
            connect_timeout=2.0,
            read_timeout=5.0,
            retries=0,
        )
        self.ok = 0
        self.failed = 0

    async def enqueue_api_call(self, ticker):
        await self.api_call_queue.put(ticker)

    async def start_processing_api_calls(self):
        loop = asyncio.get_running_loop()
        while True:
            ticker = await self.api_call_queue.get()
            try:
                await loop.run_in_executor(
                    self.executor, self.client.get_ticker_details, ticker
                )
                self.ok += 1
            except Exception as e:  # the article logs and carries on
                self.failed += 1
                logging.error("Error processing API call for %s: %s", ticker, e)


class MessageHandler:
    """Consumes queued message lists: detection, and REST on anomalies."""

    def __init__(self, api_call_handler, target):
        self.handler_queue = asyncio.Queue()
        self.api_call_handler = api_call_handler
        self.target = target
        self.state = {}
        self.events = 0
        self.anomalies = 0
        self.first = None
        self.last = None
        self.done = asyncio.Event()

    async def add(self, message_response):
        if self.first is None:
            self.first = time.perf_counter()
        await self.handler_queue.put(message_response)

    async def start_handling(self):
        while True:
            message_response = await self.handler_queue.get()
            try:
                for trade in message_response:
                    self.events += 1
                    if self.check(trade.symbol, trade.size or 0.0):
                        self.anomalies += 1
                        await self.api_call_handler.enqueue_api_call(trade.symbol)
            except Exception as e:
                logging.error("Error handling message: %s", e)
            self.last = time.perf_counter()
            if self.events >= self.target:
                self.done.set()

    def check(self, symbol, size):
        """Volume spike against an exponentially weighted mean size."""
        s = self.state.get(symbol)
        if s is None:
            s = self.state[symbol] = [0, 0.0]
        trades, mean = s
        spike = trades >= WARMUP_TRADES and mean > 0 and size >= VOLUME_MULTIPLE * mean
        alpha = max(SIZE_ALPHA, 1.0 / (trades + 1))
        s[1] = mean + alpha * (size - mean)
        s[0] = trades + 1
        return spike


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rest-port", type=int, required=True)
    parser.add_argument("--events", type=int, required=True)
    args = parser.parse_args()

    api = ApiCallHandler(f"http://127.0.0.1:{args.rest_port}")
    handler = MessageHandler(api, args.events)
    client = WebSocketClient(
        api_key="bench",
        feed=f"127.0.0.1:{args.port}",
        market=Market.Stocks,
        secure=False,
        subscriptions=["T.*"],
        max_reconnects=0,
    )
    stream = asyncio.create_task(client.connect(handler.add, open_timeout=10))
    consumer = asyncio.create_task(handler.start_handling())
    rest = asyncio.create_task(api.start_processing_api_calls())
    finished = asyncio.create_task(handler.done.wait())
    await asyncio.wait({stream, finished}, return_when=asyncio.FIRST_COMPLETED)
    # The generator may close right after its last frame: let the consumer
    # finish what the processor already queued.
    while not handler.done.is_set() and not handler.handler_queue.empty():
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    seconds = (handler.last or 0.0) - (handler.first or 0.0)
    print(
        f"events={handler.events} seconds={seconds:.6f} anomalies={handler.anomalies}"
        f" rest_ok={api.ok} rest_failed={api.failed}",
        flush=True,
    )
    for task in (stream, consumer, rest, finished):
        task.cancel()
    api.executor.shutdown(wait=False, cancel_futures=True)
    if stream.done() and not stream.cancelled() and stream.exception():
        print(f"stream ended with: {stream.exception()!r}", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
