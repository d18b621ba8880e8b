"""Handing bytes from a worker thread to the event loop (api/streaming.py)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import IO

import pytest

from diplograph.api.streaming import (
    END,
    Cancelled,
    Channel,
    ChunkWriter,
    LoopChannel,
    StreamAborted,
    WriterStream,
)
from diplograph.loader.errors import NotFoundError, StoreError


async def _collect(stream: WriterStream) -> bytes:
    return b"".join([chunk async for chunk in stream.chunks()])


def test_a_chunk_writer_hands_over_full_chunks_and_the_rest_at_the_end() -> None:
    chunks: list[bytes] = []
    writer = ChunkWriter(chunks.append, size=4)
    writer.write(b"ab")
    writer.write(b"cdef")
    writer.write(b"g")
    writer.flush()
    assert chunks == [b"abcdef"]
    writer.finish()
    assert chunks == [b"abcdef", b"g"]


def test_a_writer_stream_delivers_everything_in_order() -> None:
    def write(output: IO[bytes]) -> None:
        for index in range(100):
            output.write(b"%05d" % index)

    async def scenario() -> bytes:
        stream = WriterStream(write, chunk_bytes=64, buffer_chunks=2)
        await stream.start()
        return await _collect(stream)

    assert asyncio.run(scenario()) == b"".join(b"%05d" % i for i in range(100))


def test_a_writer_that_writes_nothing_ends_at_once() -> None:
    async def scenario() -> bytes:
        stream = WriterStream(lambda output: None)
        await stream.start()
        return await _collect(stream)

    assert asyncio.run(scenario()) == b""


def test_a_writer_waits_for_a_slow_client_and_stops_when_it_leaves() -> None:
    written: list[int] = []
    finished = threading.Event()

    def write(output: IO[bytes]) -> None:
        try:
            for index in range(500):
                output.write(b"x" * 70_000)  # one chunk per write
                written.append(index)
        finally:
            finished.set()

    async def scenario() -> None:
        stream = WriterStream(write)
        await stream.start()
        chunks = stream.chunks()
        await chunks.__anext__()
        await asyncio.sleep(0.3)
        assert len(written) < 20  # bounded: the writer waits for the client
        await chunks.aclose()  # type: ignore[attr-defined]  # the client went away
        await asyncio.to_thread(finished.wait, 5)

    asyncio.run(scenario())
    assert finished.is_set()
    assert len(written) < 20


def test_an_error_before_any_output_is_raised_by_start_as_a_store_error() -> None:
    def write(output: IO[bytes]) -> None:
        raise OSError("disk on fire")

    async def scenario() -> None:
        await WriterStream(write, what="the dump").start()

    with pytest.raises(StoreError, match="the dump failed: disk on fire"):
        asyncio.run(scenario())


def test_a_diplograph_error_keeps_its_class() -> None:
    def write(output: IO[bytes]) -> None:
        raise NotFoundError("no such graph")

    async def scenario() -> None:
        await WriterStream(write).start()

    with pytest.raises(NotFoundError, match="no such graph"):
        asyncio.run(scenario())


def test_an_error_after_the_first_chunk_is_raised_while_streaming() -> None:
    def write(output: IO[bytes]) -> None:
        output.write(b"x" * 100)
        raise ValueError("broken serializer")

    async def scenario() -> list[bytes]:
        stream = WriterStream(write, chunk_bytes=10)
        await stream.start()
        received = []
        with pytest.raises(StoreError, match="broken serializer"):
            async for chunk in stream.chunks():
                received.append(chunk)
        return received

    assert asyncio.run(scenario()) == [b"x" * 100]


def test_a_client_that_stops_reading_is_given_up_on() -> None:
    finished = threading.Event()

    def write(output: IO[bytes]) -> None:
        try:
            for _ in range(100):
                output.write(b"x" * 20)
        finally:
            finished.set()

    async def scenario() -> None:
        stream = WriterStream(write, chunk_bytes=10, buffer_chunks=1, stall_seconds=0.2)
        await stream.start()
        chunks = stream.chunks()
        await chunks.__anext__()
        await asyncio.to_thread(finished.wait, 5)  # the writer gave up, nobody read
        assert finished.is_set()
        with pytest.raises(StreamAborted, match="stopped reading"):
            while True:
                await chunks.__anext__()

    asyncio.run(scenario())


def test_a_closed_channel_cancels_the_writer() -> None:
    async def scenario() -> None:
        channel = Channel(asyncio.get_running_loop(), capacity=1)
        await asyncio.to_thread(channel.put, b"a")
        assert await channel.get(1.0) == b"a"
        channel.close()
        with pytest.raises(Cancelled):
            await asyncio.to_thread(channel.put, b"b")

    asyncio.run(scenario())


def test_a_full_channel_gives_up_at_the_deadline() -> None:
    async def scenario() -> None:
        channel = Channel(asyncio.get_running_loop(), capacity=1)
        await asyncio.to_thread(channel.put, b"a")
        with pytest.raises(Cancelled):
            await asyncio.to_thread(channel.put, b"b", time.monotonic() + 0.1)
        assert await channel.get(1.0) == b"a"
        assert isinstance(await channel.get(1.0), StreamAborted)

    asyncio.run(scenario())


def test_the_end_marker_is_handed_over_like_a_chunk() -> None:
    async def scenario() -> object:
        channel = Channel(asyncio.get_running_loop(), capacity=1)
        await asyncio.to_thread(channel.put, END)
        return await channel.get(1.0)

    assert asyncio.run(scenario()) is END


# --- the channel whose writer is the event loop (the worker processes' relay) ------------------


def test_a_loop_channel_hands_items_over_in_order_and_says_when_it_is_full() -> None:
    async def scenario() -> list[object]:
        channel = LoopChannel(asyncio.get_running_loop(), 2)
        channel.put(b"a")
        assert channel.room()
        channel.put(b"b")
        assert not channel.room()
        return [await channel.get(1.0), await channel.get(1.0)]

    assert asyncio.run(scenario()) == [b"a", b"b"]


def test_a_loop_channel_writer_waits_for_room_until_the_request_takes_an_item() -> None:
    async def scenario() -> list[object]:
        channel = LoopChannel(asyncio.get_running_loop(), 1)
        channel.put(b"a")
        waiting = asyncio.ensure_future(channel.wait_room(time.monotonic() + 5.0))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # no room yet
        taken = await channel.get(1.0)
        await asyncio.wait_for(waiting, 1.0)
        channel.put(b"b")
        return [taken, await channel.get(1.0)]

    assert asyncio.run(scenario()) == [b"a", b"b"]


def test_a_loop_channel_writer_gives_up_on_a_request_that_takes_nothing() -> None:
    async def scenario() -> object:
        channel = LoopChannel(asyncio.get_running_loop(), 1)
        channel.put(b"a")
        with pytest.raises(Cancelled):
            await channel.wait_room(time.monotonic() + 0.05)
        assert channel.closed.is_set()
        await channel.get(1.0)  # the item it had
        return await channel.get(1.0)

    aborted = asyncio.run(scenario())
    assert isinstance(aborted, StreamAborted)


def test_a_loop_channel_closed_by_the_request_stops_a_waiting_writer() -> None:
    async def scenario() -> None:
        channel = LoopChannel(asyncio.get_running_loop(), 1)
        channel.put(b"a")
        waiting = asyncio.ensure_future(channel.wait_room(None))
        await asyncio.sleep(0.01)
        channel.close()
        with pytest.raises(Cancelled):
            await asyncio.wait_for(waiting, 1.0)
        with pytest.raises(Cancelled):
            channel.put(b"b")

    asyncio.run(scenario())


def test_a_loop_channel_that_stays_empty_times_out() -> None:
    async def scenario() -> None:
        channel = LoopChannel(asyncio.get_running_loop(), 1)
        await channel.get(0.01)

    with pytest.raises(TimeoutError):
        asyncio.run(scenario())
