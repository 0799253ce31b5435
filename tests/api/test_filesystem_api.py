"""Filesystem browsing: order, hidden entries, and the daemon's own permissions."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    for name in ("b-dir", "A-dir", ".hidden-dir"):
        (root / name).mkdir(parents=True)
    for name in ("z.mkv", "a.mkv", ".hidden.srt"):
        (root / name).write_text("x")
    return root


async def test_browse_lists_directories_first_sorted(client: httpx.AsyncClient, tree: Path) -> None:
    body = (await client.get("/api/filesystem/browse", params={"path": str(tree)})).json()
    assert body["current_path"] == str(tree)
    assert body["parent_path"] == str(tree.parent)
    assert [i["name"] for i in body["items"]] == ["A-dir", "b-dir", "a.mkv", "z.mkv"]
    first = body["items"][0]
    assert first == {
        "name": "A-dir",
        "path": str(tree / "A-dir"),
        "is_directory": True,
        "is_readable": True,
    }
    assert body["items"][2]["is_directory"] is False


async def test_hidden_entries_on_request(client: httpx.AsyncClient, tree: Path) -> None:
    params = {"path": str(tree), "show_hidden": "true"}
    names = [
        i["name"]
        for i in (await client.get("/api/filesystem/browse", params=params)).json()["items"]
    ]
    assert ".hidden-dir" in names and ".hidden.srt" in names
    dirs = (
        await client.get(
            "/api/filesystem/browse", params={"path": str(tree), "directories_only": "true"}
        )
    ).json()["items"]
    assert all(i["is_directory"] for i in dirs)


async def test_root_has_no_parent(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/filesystem/browse")).json()
    assert body["current_path"] == "/" and body["parent_path"] is None


@pytest.mark.parametrize(
    ("path", "status"),
    [("/definitely/not/here", 404), ("relative", 400)],
)
async def test_bad_paths(client: httpx.AsyncClient, path: str, status: int) -> None:
    resp = await client.get("/api/filesystem/browse", params={"path": path})
    assert resp.status_code == status
    assert resp.json()["detail"]


async def test_file_is_not_a_directory(client: httpx.AsyncClient, tree: Path) -> None:
    resp = await client.get("/api/filesystem/browse", params={"path": str(tree / "a.mkv")})
    assert resp.status_code == 400
    assert "not a directory" in resp.json()["detail"]


async def test_symlink_to_directory_browses_as_its_target(
    client: httpx.AsyncClient, tree: Path
) -> None:
    link = tree / "link"
    link.symlink_to(tree / "A-dir")
    body = (await client.get("/api/filesystem/browse", params={"path": str(tree)})).json()
    item = next(i for i in body["items"] if i["name"] == "link")
    assert item["is_directory"] is True
    inside = (await client.get("/api/filesystem/browse", params={"path": str(link)})).json()
    assert inside["current_path"] == str(tree / "A-dir")


def test_permission_denied_is_403_for_an_unprivileged_daemon() -> None:
    """Root reads everything, so run the browser as `nobody` against a 0700 folder (and a
    symlink to it from a readable folder: the link must not get around the permission)."""
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        _check_permissions_as_nobody(Path(tmp))


def _check_permissions_as_nobody(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    secret.chmod(0o700)
    public = tmp_path / "public"
    public.mkdir()
    (public / "sneaky").symlink_to(secret)
    tmp_path.chmod(0o755)
    for parent in tmp_path.parents:
        if parent.stat().st_mode & 0o001 == 0:
            pytest.skip(f"{parent} is not traversable by nobody")
    code = (
        "import json,sys\n"
        "from subtitler.system.filesystem import browse\n"
        "from subtitler.errors import SubtitlerError\n"
        "out=[]\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        browse(p); out.append(200)\n"
        "    except SubtitlerError as e:\n"
        "        out.append(e.status)\n"
        "print(json.dumps(out))\n"
    )
    cmd = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        sys.executable,
        "-c",
        code,
        str(secret),
        str(public / "sneaky"),
        str(public),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0 and "setpriv" in result.stderr:
        pytest.skip(f"cannot drop privileges here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [403, 403, 200]


async def test_common_paths_include_library_folders(client: httpx.AsyncClient, tree: Path) -> None:
    await client.put("/api/settings/library_paths", json={"value": [str(tree)]})
    items = (await client.get("/api/filesystem/common-paths")).json()
    assert items[0]["path"] == str(tree)
    assert {"name": "/", "path": "/", "is_directory": True, "is_readable": True} in items
    assert all(i["is_directory"] for i in items)
