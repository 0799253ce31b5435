"""schemathesis 4 over the whole OpenAPI against a live daemon: no input may cause a 5xx, and
the keep-alive connection (one requests.Session for everything) must survive every reply.

Time-bounded: each operation gets a few generated cases, and once BUDGET_SECONDS have passed the
remaining cases return without a request. Every route is fuzzed: /api/events (a never-ending
event stream) is read up to its headers; the token routes are in (the `default` token, the API
key, cannot be revoked: 409), and a regenerated key is picked up from the reply. Only
/api/settings/{key} writes are kept away from the keys that would lock the fuzzer out.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.conftest import SUBTITLER, ServerProcess, start_server

pytestmark = pytest.mark.slow

BUDGET_SECONDS = 80.0
EXAMPLES = 60
LOCKOUT_KEYS = ("api_key", "auth_mode", "allowed_hosts", "max_workers", "min_free_disk_mib")
# Accepted uploads wait for a worker (none runs here): a short read timeout, few cases each.
UPLOAD_PATHS = ("/asr", "/detect-language", "/v1/audio/")
STREAM_PATHS = ("/api/events",)  # answers its headers, then streams for ever
REGENERATE = "/api/system/api-key/regenerate"
UPLOAD_EXAMPLES = 12
_outcomes: dict[str, int] = {
    "requests": 0, "no_worker": 0, "server_errors": 0, "uploads_waiting": 0, "key_rotations": 0,
    "unauthorized": 0,
}  # fmt: skip
_per_path: dict[str, int] = {}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, str]]:
    root = tmp_path_factory.mktemp("fuzz")
    srv = start_server(root / "data", env={"SUBTITLER_START_WORKERS": "false"})
    key = subprocess.run(
        [SUBTITLER, "api-key", "--data-dir", str(srv.data_dir)],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    library = root / "library"
    library.mkdir()
    (library / "Film.mkv").write_bytes(b"\x1a\x45\xdf\xa3 not a video")
    requests.post(
        f"{srv.url}/api/settings/bulk-update",
        json={"settings": {"max_workers": 1, "library_paths": [str(library)]}},
        headers={"X-Api-Key": key},
        timeout=10,
    ).raise_for_status()
    try:
        yield srv, key
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


def _locks_us_out(case: Any) -> bool:
    path_key = (case.path_parameters or {}).get("key")
    body = case.body if isinstance(case.body, dict) else {}
    bulk = body.get("settings") if isinstance(body.get("settings"), dict) else {}
    return path_key in LOCKOUT_KEYS or any(k in LOCKOUT_KEYS for k in bulk)


def test_no_input_causes_a_server_error(
    live: tuple[ServerProcess, str], session: requests.Session
) -> None:
    srv, key = live
    schema = schemathesis.openapi.from_url(f"{srv.url}/openapi.json")
    current = {"key": key}
    started = time.monotonic()
    failures: list[str] = []
    operations = 0

    def call(case: Any) -> None:
        if time.monotonic() - started > BUDGET_SECONDS or _locks_us_out(case):
            return
        # stream=True: an accepted upload (/asr) answers 200 at once and then heartbeats until
        # its job ends (no workers run here), so read the status and let the stream go.
        upload = case.path.startswith(UPLOAD_PATHS)
        _per_path[case.path] = _per_path.get(case.path, 0) + 1
        if upload and _per_path[case.path] > UPLOAD_EXAMPLES:
            return
        kwargs = case.as_transport_kwargs(base_url=srv.url, headers={"X-Api-Key": current["key"]})
        short = upload or case.path.startswith(STREAM_PATHS)
        try:
            response = session.request(**kwargs, stream=True, timeout=(5, 2) if short else 30)
        except requests.exceptions.ReadTimeout:
            if not short:
                raise
            _outcomes["uploads_waiting"] += 1  # accepted and queued: not a server error
            return
        try:
            _outcomes["requests"] += 1
            if case.path == REGENERATE and response.status_code == 200:
                current["key"] = response.json()["api_key"]  # the fuzzer rotated the key
                _outcomes["key_rotations"] += 1
            if response.status_code == 401:
                _outcomes["unauthorized"] += 1
            if response.status_code == 503 and "retry-after" in response.headers:
                # the fuzz daemon runs no worker: Bazarr's routes answer "try again later" by
                # design (503 no_worker with Retry-After), which is not a server error
                assert response.json()["code"] == "no_worker", response.text[:200]
                _outcomes["no_worker"] += 1
                return
            if response.status_code >= 500:
                _outcomes["server_errors"] += 1
                failures.append(
                    f"{case.method} {case.formatted_path} -> {response.status_code}: "
                    f"{response.text[:200]}"
                )
        finally:
            response.close()

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            call(case)

        fuzz()
    print(
        f"schemathesis: {operations} operations, {_outcomes} in {time.monotonic() - started:.0f} s"
    )
    assert operations > 40
    assert _outcomes["requests"] > 200, _outcomes
    assert not failures, "\n".join(failures[:20])
    assert "Traceback" not in srv.log(), srv.log()[-3000:]
    # The token routes were fuzzed and the API key (the `default` token) still opens the API.
    assert _per_path.get("/api/tokens/{token_id}", 0) > 0
    tokens = session.get(f"{srv.url}/api/tokens", headers={"X-Api-Key": current["key"]}, timeout=10)
    assert tokens.status_code == 200 and "default" in [t["name"] for t in tokens.json()]
