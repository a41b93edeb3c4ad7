"""A stand-in for the model's process, for failures the real model cannot be made to show.

Run as ``python tests/fake_model_server.py MODE --port N [llama_cpp.server options]``.
Modes:
- ``sigill``: dies at once with SIGILL, as a llama.cpp build for another CPU does.
- ``hang``: never listens (a start that hangs).
- ``stall``: serves /v1/models and answers the one-token self-test, then streams one piece
  of an answer and stops sending (a model that hangs mid-answer).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    alias = "ivb-local"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": self.alias, "object": "model"}]})
        self._send(body.encode(), "application/json")

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not request.get("stream"):
            reply = {
                "id": "x", "object": "chat.completion", "created": 0, "model": self.alias,
                "choices": [{"index": 0, "finish_reason": "length",
                             "message": {"role": "assistant", "content": "Ja"}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            }  # fmt: skip
            self._send(json.dumps(reply).encode(), "application/json")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        piece = {
            "id": "x", "object": "chat.completion.chunk", "created": 0, "model": self.alias,
            "choices": [{"index": 0, "delta": {"content": "De gemeenten "}, "finish_reason": None}],
        }  # fmt: skip
        self.wfile.write(f"data: {json.dumps(piece)}\n\n".encode())
        self.wfile.flush()
        time.sleep(3600)  # stalls: no further byte

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["sigill", "hang", "stall"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--model_alias", default="ivb-local")
    args, _ = parser.parse_known_args()
    if args.mode == "sigill":
        os.kill(os.getpid(), signal.SIGILL)
    if args.mode == "hang":
        time.sleep(3600)
    _Handler.alias = args.model_alias
    ThreadingHTTPServer(("127.0.0.1", args.port), _Handler).serve_forever()


if __name__ == "__main__":
    sys.exit(main())
