"""A worker's events reach Redis pub/sub complete and in order, a burst in one pipeline (worker/events.py)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

from flowdesk.worker.events import EventPublisher


class _Counting:
    """A redis.asyncio client that counts the round trips made through it."""

    def __init__(self, client) -> None:
        self.client = client
        self.trips = 0

    async def publish(self, channel, message):
        self.trips += 1
        return await self.client.publish(channel, message)

    def pipeline(self, transaction: bool = True):
        pipe = self.client.pipeline(transaction=transaction)
        execute = pipe.execute

        async def counted_execute(*args, **kwargs):
            self.trips += 1
            return await execute(*args, **kwargs)

        pipe.execute = counted_execute
        return pipe


def _listen(url: str, channel: str, got: list[dict], ready: threading.Event, stop: threading.Event) -> None:
    import redis

    client = redis.Redis.from_url(url)
    pubsub = client.pubsub()
    pubsub.subscribe(channel)
    ready.set()
    while not stop.is_set():
        message = pubsub.get_message(timeout=0.2)
        if message and message.get("type") == "message":
            got.append(json.loads(message["data"]))
    pubsub.close()
    client.close()


def test_a_burst_of_events_arrives_complete_in_order_and_in_few_round_trips(redis_server):
    import redis.asyncio as aioredis

    channel = "flowdesk:test-events"
    got: list[dict] = []
    ready, stop = threading.Event(), threading.Event()
    listener = threading.Thread(
        target=_listen, args=(redis_server.url, channel, got, ready, stop), daemon=True
    )
    listener.start()
    assert ready.wait(30)

    async def publish() -> int:
        client = _Counting(aioredis.Redis.from_url(redis_server.url))
        publisher = EventPublisher(client, channel, batch=100)
        task = asyncio.ensure_future(publisher.run())
        for i in range(450):  # a burst, queued while nothing is published yet
            publisher.put({"type": "node_finished", "sequence": i, "at": time.time()})
        await asyncio.sleep(0)
        publisher.put({"type": "execution_finished", "sequence": 450})
        deadline = time.monotonic() + 30
        while len(got) < 451 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.client.aclose()
        return client.trips

    trips = asyncio.run(publish())
    stop.set()
    listener.join(30)
    assert [e["sequence"] for e in got] == list(range(451))
    # 450 queued at once go as pipelines of at most 100 (5), then the last one: not 451 round trips
    assert trips <= 7
