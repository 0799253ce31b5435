"""Clients for the servers subtitler talks to: item-id -> path look-ups (Jellyfin, Emby, Plex),
"Test" (reach it with the token and list its libraries / root folders), and refresh requests.

Tokens travel in headers, never in a logged URL: Jellyfin and Emby get
`Authorization: MediaBrowser Token="..."` (Jellyfin 12 turns the legacy X-Emby-Token header off
by default; Emby also gets X-Emby-Token, which every Emby reads), Plex X-Plex-Token, the *arrs
X-Api-Key. Only Tautulli's API wants its key in the query, which is never logged.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

import httpx

from subtitler import __version__
from subtitler.errors import BadRequest, SubtitlerError
from subtitler.security.outbound import GuardedTransport

logger = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
PLEX_CONTAINERS = {"show", "season"}


class ServerError(SubtitlerError):
    status = 502
    code = "media_server_error"


_T = TypeVar("_T")
_P = ParamSpec("_P")


def shape_checked(
    method: Callable[Concatenate[Server, _P], Awaitable[_T]],
) -> Callable[Concatenate[Server, _P], Awaitable[_T]]:
    """A server answering JSON of another shape than expected (a proxy's page, an old or new
    version) is the server's fault: 502 `media_server_error`, never a 500."""

    @functools.wraps(method)
    async def wrapper(self: Server, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await method(self, *args, **kwargs)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError) as exc:
            raise ServerError(
                f"{self.name} at {self.url}: unexpected answer ({type(exc).__name__}: {exc})"
            ) from None

    return wrapper


def mediabrowser_auth(token: str) -> str:
    """The Authorization value Jellyfin (every version, 12 included) and Emby accept."""
    quoted = token.replace("\\", "").replace('"', "")
    return (
        f'MediaBrowser Client="subtitler", Device="subtitler", DeviceId="subtitler", '
        f'Version="{__version__}", Token="{quoted}"'
    )


@dataclass(frozen=True)
class Server:
    name: str  # jellyfin | emby | plex | sonarr | radarr | tautulli
    url: str
    token: str

    @classmethod
    def from_settings(cls, name: str, settings: Any) -> Server | None:
        url = str(settings.get(f"{name}_url") or "").rstrip("/")
        token = str(settings.get(f"{name}_api_key") or "")
        return cls(name, url, token) if url and token else None

    def headers(self) -> dict[str, str]:
        if self.name in ("jellyfin", "emby"):
            found = {"Authorization": mediabrowser_auth(self.token), "Accept": "application/json"}
            if self.name == "emby":
                found["X-Emby-Token"] = self.token
            return found
        if self.name == "plex":
            return {"X-Plex-Token": self.token, "Accept": "application/json"}
        return {"X-Api-Key": self.token, "Accept": "application/json"}

    async def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:  # fmt: skip
        where = f"{self.name} {method} {self.url}{path}"
        try:
            async with httpx.AsyncClient(
                timeout=TIMEOUT, follow_redirects=False, transport=GuardedTransport()
            ) as http:
                response = await http.request(
                    method, self.url + path, params=params, json=json, headers=self.headers()
                )
        except httpx.HTTPError as exc:
            raise ServerError(f"{where}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):
            raise ServerError(f"{where}: {response.status_code}, the token was refused")
        if response.status_code >= 400:
            raise ServerError(f"{where}: HTTP {response.status_code}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServerError(f"{where}: the answer is not JSON") from None

    # --- look-ups -----------------------------------------------------------------------------
    @shape_checked
    async def item_paths(self, item_id: str) -> list[str]:
        if self.name in ("jellyfin", "emby"):
            data = await self.call("GET", "/Items", params={"Ids": item_id, "Fields": "Path"})
            return [str(i["Path"]) for i in (data or {}).get("Items", []) if i.get("Path")]
        if self.name == "plex":
            data = await self.call("GET", f"/library/metadata/{item_id}")
            items = _plex_metadata(data)
            if items and str(items[0].get("type")) in PLEX_CONTAINERS:
                leaves = await self.call("GET", f"/library/metadata/{item_id}/allLeaves")
                items = _plex_metadata(leaves)
            return [
                str(part["file"])
                for item in items
                for media in item.get("Media", [])
                for part in media.get("Part", [])
                if part.get("file")
            ]
        if self.name == "tautulli":
            data = await self._tautulli("get_metadata", rating_key=item_id) or {}
            return [
                str(part["file"])
                for media in data.get("media_info") or []
                for part in media.get("parts") or []
                if part.get("file")
            ]
        raise BadRequest(f"{self.name} has no item look-up")

    # --- test ---------------------------------------------------------------------------------
    @shape_checked
    async def libraries(self) -> list[dict[str, Any]]:
        """[{name, paths}] as that server names its libraries (or root folders)."""
        if self.name in ("jellyfin", "emby"):
            data = await self.call("GET", "/Library/VirtualFolders")
            return [
                {"name": f.get("Name", ""), "paths": list(f.get("Locations") or [])}
                for f in data or []
            ]
        if self.name == "plex":
            return [
                {"name": d.get("title", ""), "id": str(d.get("key")),
                 "paths": [loc.get("path") for loc in d.get("Location", [])]}
                for d in await self._plex_sections()
            ]  # fmt: skip
        if self.name in ("sonarr", "radarr"):
            data = await self.call("GET", "/api/v3/rootfolder")
            return [{"name": f.get("path", ""), "paths": [f.get("path", "")]} for f in data or []]
        if self.name == "tautulli":
            return await self._tautulli_libraries()
        raise BadRequest(f"unknown server {self.name}")

    async def _tautulli(self, cmd: str, **params: str) -> Any:
        """Tautulli's API wants the key in the query: never logged, never in an error."""
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, transport=GuardedTransport()) as http:
                response = await http.get(
                    f"{self.url}/api/v2", params={"apikey": self.token, "cmd": cmd, **params}
                )
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ServerError(f"tautulli {cmd} at {self.url}: {type(exc).__name__}") from None
        answer = data.get("response", {}) if isinstance(data, dict) else {}
        if answer.get("result") != "success":
            raise ServerError(f"tautulli: {answer.get('message') or 'the API key was refused'}")
        return answer.get("data")

    async def _tautulli_libraries(self) -> list[dict[str, Any]]:
        data = await self._tautulli("get_libraries") or []
        return [{"name": lib.get("section_name", ""), "paths": []} for lib in data]

    async def _plex_sections(self) -> list[dict[str, Any]]:
        data = await self.call("GET", "/library/sections")
        return list(((data or {}).get("MediaContainer") or {}).get("Directory") or [])

    # --- refresh ------------------------------------------------------------------------------
    @shape_checked
    async def refresh(self, *, video: str, subtitle: str) -> str:
        """Ask the server to pick up a new subtitle; what was asked (for the job's log)."""
        if self.name in ("jellyfin", "emby"):
            updates = [
                {"Path": subtitle, "UpdateType": "Created"},
                {"Path": video, "UpdateType": "Modified"},
            ]
            await self.call("POST", "/Library/Media/Updated", json={"Updates": updates})
            return f"{self.name}: /Library/Media/Updated {video}"
        if self.name == "plex":
            folder = video.replace("\\", "/").rsplit("/", 1)[0]
            section = _plex_section_for(await self._plex_sections(), folder)
            if section is None:
                raise ServerError(f"plex: no library section holds {folder}")
            await self.call("GET", f"/library/sections/{section}/refresh", params={"path": folder})
            return f"plex: partial scan of section {section} at {folder}"
        raise BadRequest(f"{self.name} cannot refresh")


def _plex_metadata(data: Any) -> list[dict[str, Any]]:
    return list(((data or {}).get("MediaContainer") or {}).get("Metadata") or [])


def _plex_section_for(sections: list[dict[str, Any]], folder: str) -> str | None:
    best: tuple[int, str] | None = None
    for section in sections:
        for loc in section.get("Location", []):
            root = str(loc.get("path", "")).replace("\\", "/").rstrip("/")
            inside = root and (folder == root or folder.startswith(root + "/"))
            if inside and (best is None or len(root) > best[0]):
                best = (len(root), str(section.get("key")))
    return best[1] if best else None
