"""Pure parts of the integrations: each fixture parsed to what it means, path mappings both ways,
the signature recipe, body decoding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from subtitler.integrations.parsers import PARSERS, MalformedWebhook, decode_body
from subtitler.integrations.paths import pick_view, their_views, to_ours, to_theirs
from subtitler.integrations.signing import signature, verify

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "webhooks"
EP = "/tv/The Expanse/Season 01/The Expanse - S01E01 - Dulcinea WEBDL-1080p.mkv"


def load(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.mark.parametrize(
    ("sender", "name", "kind", "paths", "ids"),
    [
        ("sonarr", "sonarr_download.json", "import", [EP], []),
        ("sonarr", "sonarr_download_upgrade.json", "import", [EP.replace("WEBDL", "Bluray")], []),
        ("sonarr", "sonarr_rename.json", "import", [EP], []),
        ("sonarr", "sonarr_test.json", "test", [], []),
        ("sonarr", "sonarr_grab.json", "ignored", [], []),
        (
            "radarr",
            "radarr_download.json",
            "import",
            ["/movies/Arrival (2016)/Arrival (2016) Bluray-1080p.mkv"],
            [],
        ),
        ("radarr", "radarr_test.json", "test", [], []),
        ("jellyfin", "jellyfin_item_added_all_properties.json", "import", ["/data" + EP], []),
        (
            "jellyfin",
            "jellyfin_item_added_template.json",
            "import",
            [],
            ["5f0e4a8c9d3b4c2a8e1f7a6b5c4d3e2f"],
        ),
        (
            "jellyfin",
            "jellyfin_playback_start_template.json",
            "playback",
            [],
            ["9a8b7c6d5e4f40312a1b2c3d4e5f6071"],
        ),
        ("jellyfin", "jellyfin_item_added_season.json", "ignored", [], []),
        (
            "emby",
            "emby_library_new.json",
            "import",
            ["/mnt/media/movies/Arrival (2016)/Arrival (2016) Bluray-1080p.mkv"],
            [],
        ),
        ("emby", "emby_playback_start.json", "playback", [], ["40123"]),
        ("emby", "emby_test.json", "test", [], []),
        ("plex", "plex_library_new.json", "import", [], ["4321"]),
        ("plex", "plex_media_play.json", "playback", [], ["5555"]),
        (
            "tautulli",
            "tautulli_added.json",
            "import",
            ["/data/movies/Arrival (2016)/Arrival (2016) Bluray-1080p.mkv"],
            [],
        ),
        ("tautulli", "tautulli_played.json", "playback", ["/data" + EP], []),
    ],
)
def test_fixtures_parse(
    sender: str, name: str, kind: str, paths: list[str], ids: list[str]
) -> None:
    inbound = PARSERS[sender](load(name))
    assert (inbound.kind, inbound.paths, inbound.item_ids) == (kind, paths, ids)
    if kind == "ignored":
        assert inbound.reason


def test_sonarr_import_complete_lists_every_file() -> None:
    body = load("sonarr_download.json")
    body["eventType"] = "ImportComplete"
    second = {**body["episodeFile"], "path": EP.replace("E01", "E02")}  # type: ignore[dict-item]
    body["episodeFiles"] = [body.pop("episodeFile"), second]
    assert PARSERS["sonarr"](body).paths == [EP, EP.replace("E01", "E02")]


def test_bodies() -> None:
    plex = load("plex_media_play.json")
    boundary = "----plexboundary"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="payload"\r\n'
        f"Content-Type: application/json\r\n\r\n{json.dumps(plex)}\r\n--{boundary}--\r\n"
    ).encode()
    assert decode_body(f"multipart/form-data; boundary={boundary}", raw) == plex
    assert decode_body("text/plain; charset=utf-8", b'{"a": 1}') == {"a": 1}  # Jellyfin's default
    assert decode_body("application/x-www-form-urlencoded", b"data=%7B%22a%22%3A1%7D") == {"a": 1}
    for content_type, raw in (
        ("application/json", b""),
        ("application/json", b"[1]"),
        ("application/json", b"{nope"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="thumb"\r\n\r\nx\r\n--x--\r\n',
        ),
    ):
        with pytest.raises(MalformedWebhook):
            decode_body(content_type, raw)


def test_path_mappings() -> None:
    m = [["/tv", "/media/tv"], ["/tv/anime", "/media/anime"], ["D:\\Movies", "/media/movies"]]
    assert to_ours("/tv/Show/e.mkv", m) == "/media/tv/Show/e.mkv"
    assert to_ours("/tv/anime/x.mkv", m) == "/media/anime/x.mkv"  # longest prefix wins
    assert to_ours("/tvshows/x.mkv", m) is None  # whole components only
    assert to_ours("D:\\Movies\\Film (2020)\\film.mkv", m) == "/media/movies/Film (2020)/film.mkv"
    assert to_ours("/anything", []) == "/anything"  # no mappings: same paths on both sides
    assert to_theirs("/media/movies/F/f.mkv", m) == "D:\\Movies\\F\\f.mkv"
    assert to_theirs("/elsewhere/f.mkv", m) == "/elsewhere/f.mkv"
    views = their_views(["/media/tv/a.mkv"], [["/tv", "/media/tv"], ["/data/tv", "/media/tv"]])
    assert views == [["/tv/a.mkv"], ["/data/tv/a.mkv"], ["/media/tv/a.mkv"]]
    assert pick_view(views, ["/data/tv"]) == ["/data/tv/a.mkv"]
    assert pick_view(views, ["/music"]) is None
    assert pick_view(views, []) == ["/tv/a.mkv"]


def test_signature_recipe() -> None:
    body = b'{"event":"job.completed"}'
    header = signature("s3cret", body, timestamp=1_700_000_000)
    assert header == (
        "t=1700000000,v1="
        + __import__("hmac").new(b"s3cret", b"1700000000." + body, "sha256").hexdigest()
    )
    fresh = signature("s3cret", body)
    assert verify("s3cret", body, fresh)
    assert not verify("other", body, fresh)
    assert not verify("s3cret", body + b" ", fresh)
    assert not verify("s3cret", body, header)  # too old: a replay
    assert not verify("s3cret", body, "garbage")
