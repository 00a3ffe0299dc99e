"""A delivery receiver on loopback for tests: it plays the Inspectie's HTTPS endpoint.

It stores each delivery once per Idempotency-Key and answers a repeated key with the
first receipt. Its behaviour can be set per test: answer 200, answer 500 a number of
times, answer slowly, or drop the connection without an answer.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, token: str = "test-token"):
        self.token = token
        self.lock = threading.Lock()
        self.deliveries: dict[str, bytes] = {}
        self.receipts: dict[str, str] = {}
        self.posts: list[str] = []
        self.fail_next = 0
        self.delay_seconds = 0.0
        self.drop_next = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address
        return f"http://{host}:{port}/leveringen"

    def start(self) -> "Receiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                key = self.headers.get("Idempotency-Key", "")
                with receiver.lock:
                    receiver.posts.append(key)
                    drop = receiver.drop_next > 0
                    fail = not drop and receiver.fail_next > 0
                    if drop:
                        receiver.drop_next -= 1
                    elif fail:
                        receiver.fail_next -= 1
                if receiver.delay_seconds:
                    time.sleep(receiver.delay_seconds)
                if drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                if self.headers.get("Authorization") != f"Bearer {receiver.token}":
                    self._answer(401, {"error": "bad token"})
                    return
                if fail or not key:
                    self._answer(500, {"error": "try again"})
                    return
                with receiver.lock:
                    if key not in receiver.deliveries:
                        receiver.deliveries[key] = body
                        receiver.receipts[key] = f"INSP-{len(receiver.receipts) + 1:06d}"
                    receipt = receiver.receipts[key]
                self._answer(201, {"receipt": receipt})

            def _answer(self, status: int, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
