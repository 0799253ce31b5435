"""The `subtitler` command: serve, api-key, db upgrade, version."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from subtitler import __version__
from subtitler.config import Config, ConfigError, load_config

# uvicorn's wait for open connections (SSE, long polls) at SIGTERM, before the daemon's own stop
# (subtitler.system.stopping.STOP_TOTAL): together within Docker's 10 s grace.
GRACEFUL_CLOSE = 2

app = typer.Typer(help="subtitler: subtitles for a home media library.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _config(**overrides: object) -> Config:
    try:
        return load_config(**overrides)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (SUBTITLER_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (SUBTITLER_PORT)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data folder: DB, models, spool, logs (SUBTITLER_DATA_DIR)")
    ] = None,
) -> None:
    """Run the daemon: API, workers, scanner. SIGTERM/SIGINT stop it gracefully."""
    import uvicorn

    from subtitler.api import create_app
    from subtitler.daemon import Daemon
    from subtitler.logging_setup import configure_logging
    from subtitler.security.datalock import DataDirBusy
    from subtitler.security.dbfile import DatabaseUnusable, preflight
    from subtitler.security.redact import install_redaction
    from subtitler.security.spawn import make_spawn_safe

    make_spawn_safe()  # workers must not re-run this script (see subtitler.security.spawn)
    config = _config(host=host, port=port, data_dir=data_dir)
    config.ensure_dirs()
    daemon = Daemon(config)
    try:  # before logging opens files or recovery touches the queue, spool or database
        daemon.lock.acquire()
        if config.db_path is not None:
            preflight(config.db_path)
    except (DataDirBusy, DatabaseUnusable) as exc:
        daemon.lock.release()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    install_redaction()
    configure_logging(config.log_level, config.logs_dir)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(daemon),
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            proxy_headers=False,  # our auth decides whom to believe (trusted_proxies)
            server_header=False,
            timeout_graceful_shutdown=GRACEFUL_CLOSE,
            log_config=None,
        )
    )
    uvicorn_exit = server.handle_exit

    def handle_exit(sig: int, frame: Any) -> None:  # also a SIGTERM while start() still waits
        uvicorn_exit(sig, frame)
        daemon.interrupt_start()

    server.handle_exit = handle_exit  # type: ignore[method-assign]
    try:
        server.run()
    except SystemExit:  # uvicorn exits 3 when the lifespan fails
        if not daemon.fatal:
            raise
    if daemon.fatal:
        typer.echo(f"error: {daemon.fatal}", err=True)
        raise typer.Exit(code=2)
    if not daemon.started and not server.started:
        raise typer.Exit(code=1)


@app.command()
def worker(
    host: Annotated[str | None, typer.Option(help="Address of /health (SUBTITLER_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (SUBTITLER_PORT)")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data folder: models, spool, logs (SUBTITLER_DATA_DIR)")
    ] = None,
) -> None:
    """Run a workers-only node on the shared PostgreSQL queue (no scanner, no UI).

    Needs SUBTITLER_DATABASE_URL=postgresql+asyncpg://...; SUBTITLER_PATH_MAPPINGS maps the
    queue's paths to this machine's (`/media=/mnt/nas/media`, comma-separated)."""
    import uvicorn

    from subtitler.api.worker_app import create_worker_app
    from subtitler.cluster.worker_node import WorkerNode
    from subtitler.logging_setup import configure_logging

    config = _config(host=host, port=port, data_dir=data_dir)
    if not config.is_postgres:
        typer.echo(
            "error: workers need PostgreSQL: set SUBTITLER_DATABASE_URL="
            "postgresql+asyncpg://USER:PASSWORD@HOST/DB, the database the full node uses "
            "(a SQLite file serves one machine only)",
            err=True,
        )
        raise typer.Exit(code=2)
    config.ensure_dirs()
    configure_logging(config.log_level, config.logs_dir)
    node = WorkerNode(config)
    server = uvicorn.Server(
        uvicorn.Config(
            create_worker_app(node), host=config.host, port=config.port,
            log_level=config.log_level, proxy_headers=False, server_header=False,
            timeout_graceful_shutdown=GRACEFUL_CLOSE, log_config=None,
        )
    )  # fmt: skip
    node.on_fatal = lambda: setattr(server, "should_exit", True)
    server.run()
    if node.fatal:
        typer.echo(f"error: {node.fatal}", err=True)
        raise typer.Exit(code=2)
    if not server.started:
        raise typer.Exit(code=1)


@app.command("api-key")
def api_key(
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (SUBTITLER_DATA_DIR)")] = None,
    regenerate: Annotated[
        bool, typer.Option("--regenerate", help="Replace the key; a running daemon uses it at once")
    ] = False,
) -> None:
    """Print the API key (generating it on a fresh install)."""
    import os
    import signal

    from subtitler.security.datalock import holder_pid
    from subtitler.security.dbfile import DatabaseUnusable, preflight

    config = _config(data_dir=data_dir)
    try:
        if config.db_path is not None:
            preflight(config.db_path)
    except DatabaseUnusable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(asyncio.run(_read_api_key(config, regenerate=regenerate)))
    pid = holder_pid(config.data_dir) if regenerate else None
    if pid:
        os.kill(pid, signal.SIGHUP)  # the running daemon re-reads its settings
        typer.echo(f"the running daemon (pid {pid}) now uses the new key", err=True)


async def _read_api_key(config: Config, *, regenerate: bool = False) -> str:
    from subtitler.daemon import Daemon
    from subtitler.settings.service import generate_api_key

    daemon = Daemon(config)
    config.ensure_dirs()
    from subtitler.db.migrate import migrate

    await migrate(daemon.db, sqlite_file=config.db_path)
    await daemon.settings.init_defaults()
    if regenerate:
        await daemon.settings.update("api_key", generate_api_key())
    key = await daemon.settings.ensure_api_key()
    await daemon.db.dispose()
    return key


@db_app.command("upgrade")
def db_upgrade(
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (SUBTITLER_DATA_DIR)")] = None,
) -> None:
    """Apply database migrations (a SQLite file is backed up first). Takes the data-dir lock:
    never while a daemon runs on the same data folder (exit 2)."""
    from subtitler.db.migrate import BackupFailed
    from subtitler.security.datalock import DataDirBusy, DataDirLock
    from subtitler.security.dbfile import DatabaseUnusable, preflight

    config = _config(data_dir=data_dir)
    config.ensure_dirs()
    lock = DataDirLock(config.data_dir)
    try:
        lock.acquire()
        if config.db_path is not None:
            preflight(config.db_path)  # never migrate (and back up) a damaged file
        backup = asyncio.run(_upgrade(config))
    except (DataDirBusy, DatabaseUnusable, BackupFailed) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        lock.release()
    typer.echo(f"database is up to date{f' (backup: {backup})' if backup else ''}")


async def _upgrade(config: Config) -> str | None:
    from subtitler.db import Database
    from subtitler.db.migrate import migrate

    db = Database(config.effective_database_url)
    try:
        return await migrate(db, sqlite_file=config.db_path)
    finally:
        await db.dispose()


@db_app.command("check")
def db_check(
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (SUBTITLER_DATA_DIR)")] = None,
) -> None:
    """Run PRAGMA integrity_check on the SQLite database (exit 1 when damaged)."""
    from subtitler.security import dbfile

    config = _config(data_dir=data_dir)
    if config.db_path is None:
        typer.echo("error: the database is not SQLite; use the server's own tools", err=True)
        raise typer.Exit(code=2)
    if not config.db_path.exists():
        typer.echo(f"error: no database at {config.db_path}", err=True)
        raise typer.Exit(code=2)
    if config.db_path.stat().st_size == 0:
        problems = ["the file is empty (0 bytes)"]
    else:
        problems = dbfile.check(config.db_path)
    if not problems:
        typer.echo(f"ok: {config.db_path} passed the integrity check")
        return
    for problem in problems:
        typer.echo(f"damaged: {problem}", err=True)
    backup = dbfile.newest_backup(config.db_path)
    if backup:
        typer.echo(f"restore the newest backup with: subtitler db restore {backup}", err=True)
    raise typer.Exit(code=1)


@db_app.command("restore")
def db_restore(
    backup: Annotated[Path, typer.Argument(help="A backup file (subtitler.db.bak-*)")],
    data_dir: Annotated[Path | None, typer.Option(help="Data folder (SUBTITLER_DATA_DIR)")] = None,
) -> None:
    """Replace the database with a backup (the daemon must be stopped; the old file is kept)."""
    from subtitler.security import dbfile
    from subtitler.security.datalock import DataDirBusy, DataDirLock

    config = _config(data_dir=data_dir)
    if config.db_path is None:
        typer.echo("error: the database is not SQLite", err=True)
        raise typer.Exit(code=2)
    lock = DataDirLock(config.data_dir)
    try:
        lock.acquire()
        kept = dbfile.restore(config.db_path, backup)
    except (DataDirBusy, dbfile.DatabaseUnusable) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        lock.release()
    old = f" (old file: {kept})" if kept else ""
    typer.echo(f"restored {config.db_path} from {backup}{old}")


@app.command()
def transcribe(
    file: Annotated[Path, typer.Argument(help="A video or audio file")],
    language: Annotated[
        str | None, typer.Option(help="Audio language (any spelling); detected when absent")
    ] = None,
    target: Annotated[
        str | None, typer.Option(help="Subtitle language; English on other audio translates")
    ] = None,
    format: Annotated[
        str | None, typer.Option("--format", help="srt, vtt, ass, lrc, txt, json")
    ] = (None),
    model: Annotated[
        str | None, typer.Option(help="faster-whisper model name or a local model folder")
    ] = None,
    preset: Annotated[str, typer.Option(help="fast, balanced or best")] = "balanced",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing subtitle file")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="Data folder holding models/")] = None,
) -> None:
    """Write a subtitle for one file, in this process, with a progress bar."""
    from rich.console import Console

    from subtitler.errors import SubtitlerError
    from subtitler.workers.local import transcribe_file
    from subtitler.workers.models import configure_hub

    config = _config(data_dir=data_dir)
    config.ensure_dirs()
    configure_hub(allow_download=False)
    console = Console(stderr=True)
    try:
        result = transcribe_file(
            file=file, models_dir=config.models_dir, language=language, target=target,
            fmt=format, model=model, preset=preset, device=device, overwrite=overwrite,
            console=console,
        )  # fmt: skip
    except SubtitlerError as exc:
        typer.echo(f"error ({exc.code}): {exc.detail}", err=True)
        raise typer.Exit(code=1) from None
    if result.get("output_path"):
        typer.echo(result["output_path"])
    else:
        typer.echo("no speech found: nothing written", err=True)


@app.command()
def version(
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Also the Python, the lock and each dependency's version."
        ),
    ] = False,
) -> None:
    """Print the version (--verbose: with the locked and installed dependency versions)."""
    typer.echo(f"subtitler {__version__}")
    if not verbose:
        return
    import platform

    from subtitler.system.dependencies import lock_report

    report = lock_report()
    typer.echo(f"python {platform.python_version()} ({platform.platform(terse=True)})")
    if report["lock"] is None:
        typer.echo("lock: none (not installed by scripts/install); installed versions:")
    else:
        agreement = "matches" if report["matches_lock"] else "DIFFERS from"
        typer.echo(f"lock: {report['lock']} (installed {agreement} the lock)")
    for name, versions in report["packages"].items():
        installed = versions["installed"] or "missing"
        locked = versions.get("locked")
        note = f"  (locked {locked})" if locked is not None and locked != installed else ""
        typer.echo(f"  {name}=={installed}{note}")


if __name__ == "__main__":
    app()
