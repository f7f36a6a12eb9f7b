"""A loopback HTTP receiver for notifications (SPEC §25): records every request (headers and the
raw body) and answers from a script, so tests can see retries, order and concurrency."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int  # what the receiver answered
    at: float = field(default_factory=time.monotonic)

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


Script = Callable[["Received"], int]


class Receiver:
    """`answer(received) -> status` decides each reply (default 200); `hold` (an Event), when
    set on the receiver, makes requests wait until it is set, counting how many wait at once."""

    def __init__(self, answer: Script | None = None) -> None:
        self.answer: Script = answer or (lambda _r: 200)
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.hold: threading.Event | None = None
        self.hold_seconds = 0.0
        self.arrived = threading.Semaphore(0)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.active += 1
                    receiver.max_active = max(receiver.max_active, receiver.active)
                receiver.arrived.release()
                try:
                    if receiver.hold is not None:
                        receiver.hold.wait(30)
                    if receiver.hold_seconds:
                        time.sleep(receiver.hold_seconds)
                    item = Received(self.path, headers, body, 0)
                    item.status = receiver.answer(item)
                    with receiver.lock:
                        receiver.received.append(item)
                finally:
                    with receiver.lock:
                        receiver.active -= 1
                reply = b'{"ok": true}'
                self.send_response(item.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.hold is not None:
            self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def statuses(self) -> list[int]:
        return [r.status for r in self.received]
