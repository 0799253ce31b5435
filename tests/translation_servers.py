"""In-test HTTP servers on 127.0.0.1 that speak the documented shapes of the translation APIs:

- OpenAI chat completions: POST /v1/chat/completions {model, messages} ->
  {choices: [{message: {role, content}}]}; GET /v1/models.
- LibreTranslate: POST /translate {q: [..], source, target, format, api_key} ->
  {translatedText: [..]}; GET /languages -> [{code, name, targets}]; 400 {error} for a language
  it does not have, 403 {error} for a bad key.
- DeepL: POST /v2/translate (Authorization: DeepL-Auth-Key) {text: [..], source_lang,
  target_lang, formality, tag_handling} -> {translations: [{detected_source_language, text}]};
  GET /v2/languages?type=source|target -> [{language, name}].

The "translation" is a marker (`ES:` + text) so tests can tell which text went where. A script of
status codes (`fail_next`) makes the next requests answer 429/500/401 or hang (timeouts).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

LIBRE_LANGUAGES = [
    {"code": "en", "name": "English", "targets": ["es", "fr"]},
    {"code": "es", "name": "Spanish", "targets": ["en"]},
    {"code": "fr", "name": "French", "targets": ["en"]},
]
DEEPL_SOURCES = [{"language": c, "name": n} for c, n in (("EN", "English"), ("ES", "Spanish"),
                                                          ("DE", "German"))]  # fmt: skip
DEEPL_TARGETS = [{"language": c, "name": n, "supports_formality": f}
                 for c, n, f in (("EN-US", "English (American)", False),
                                 ("ES", "Spanish", True), ("DE", "German", True))]  # fmt: skip


@dataclass
class FakeState:
    kind: str  # openai | libretranslate | deepl
    api_key: str = ""
    fail_next: list[int | str] = field(default_factory=list)  # status codes, or "hang"
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_posts: int = 0  # every POST (translate request) answers this status
    drop_line: bool = False  # openai: answer one line short for multi-line batches
    hang_seconds: float = 3.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def mark(text: str) -> str:
    return f"ES:{text}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _scripted(self) -> bool:
        state = self.server.state
        with state.lock:
            step = state.fail_next.pop(0) if state.fail_next else None
        if step is None:
            return False
        if step == "hang":
            time.sleep(state.hang_seconds)
            self._reply(200, {})
            return True
        status = int(step)
        headers = {"Retry-After": "0"} if status == 429 else {}
        self._reply(status, {"error": f"scripted {status}", "message": f"scripted {status}"},
                    headers)  # fmt: skip
        return True

    def _record(self, body: Any) -> None:
        state = self.server.state
        with state.lock:
            state.requests.append({"path": self.path, "method": self.command, "body": body,
                                   "auth": self.headers.get("Authorization")})  # fmt: skip

    def do_GET(self) -> None:
        self._record(None)
        if self._scripted():
            return
        kind, url = self.server.state.kind, urlsplit(self.path)
        if kind == "openai" and url.path == "/v1/models":
            self._reply(200, {"object": "list", "data": [{"id": "test-model", "object": "model"}]})
        elif kind == "libretranslate" and url.path == "/languages":
            self._reply(200, LIBRE_LANGUAGES)
        elif kind == "deepl" and url.path == "/v2/languages":
            if not self._deepl_auth():
                return
            which = parse_qs(url.query).get("type", ["source"])[0]
            self._reply(200, DEEPL_TARGETS if which == "target" else DEEPL_SOURCES)
        else:
            self._reply(404, {"error": "not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self._record(body)
        if self.server.state.fail_posts:
            self._reply(self.server.state.fail_posts, {"error": "scripted failure"})
            return
        if self._scripted():
            return
        kind, path = self.server.state.kind, urlsplit(self.path).path
        if kind == "openai" and path == "/v1/chat/completions":
            self._openai(body)
        elif kind == "libretranslate" and path == "/translate":
            self._libre(body)
        elif kind == "deepl" and path == "/v2/translate":
            if self._deepl_auth():
                self._deepl(body)
        else:
            self._reply(404, {"error": "not found"})

    # --- the three APIs ----------------------------------------------------------------------
    def _openai(self, body: dict[str, Any]) -> None:
        state = self.server.state
        if state.api_key and self.headers.get("Authorization") != f"Bearer {state.api_key}":
            self._reply(401, {"error": {"message": "Incorrect API key provided"}})
            return
        user = body["messages"][-1]["content"]
        asked = re.findall(r"^\[(\d+)\] (.*)$", user.split("lines:\n", 1)[-1].split("line:\n")[-1],
                           flags=re.M)  # fmt: skip
        lines = [f"[{n}] {mark(text)}" for n, text in asked]
        if state.drop_line and len(lines) > 1:
            lines = lines[:-1]
        content = "\n".join(lines)
        message = {"role": "assistant", "content": content}
        choice = {"index": 0, "finish_reason": "stop", "message": message}
        self._reply(200, {"id": "chatcmpl-1", "object": "chat.completion",
                          "model": body["model"], "choices": [choice]})  # fmt: skip

    def _libre(self, body: dict[str, Any]) -> None:
        state = self.server.state
        if state.api_key and body.get("api_key") != state.api_key:
            self._reply(403, {"error": "Invalid API key"})
            return
        pairs = {(e["code"], t) for e in LIBRE_LANGUAGES for t in e["targets"]}
        if (body.get("source"), body.get("target")) not in pairs:
            self._reply(400, {"error": f"{body.get('target')} is not supported as target language"})
            return
        q = body["q"]
        out = [mark(t) for t in q] if isinstance(q, list) else mark(q)
        self._reply(200, {"translatedText": out})

    def _deepl_auth(self) -> bool:
        want = f"DeepL-Auth-Key {self.server.state.api_key}"
        if self.headers.get("Authorization") != want:
            self._reply(403, {"message": "Authorization failure, check auth_key"})
            return False
        return True

    def _deepl(self, body: dict[str, Any]) -> None:
        sources = {e["language"] for e in DEEPL_SOURCES}
        targets = {e["language"] for e in DEEPL_TARGETS}
        if body.get("target_lang") not in targets or body.get("source_lang") not in sources:
            self._reply(400, {"message": "Value for 'target_lang' not supported."})
            return
        self._reply(200, {"translations": [{"detected_source_language": body["source_lang"],
                                            "text": mark(t)} for t in body["text"]]})  # fmt: skip


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeState) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = state


@contextmanager
def fake_provider(kind: str, *, api_key: str = "") -> Iterator[tuple[str, FakeState]]:
    """(base URL, state) of a running fake; the URL is what the provider's setting takes."""
    state = FakeState(kind=kind, api_key=api_key)
    server = _Server(state)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    base = f"http://{host}:{port}"
    try:
        yield (base + "/v1" if kind == "openai" else base), state
    finally:
        server.shutdown()
        server.server_close()
