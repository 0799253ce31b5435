#!/bin/sh
# Container entrypoint: move the `subtitler` account to PUID/PGID, make /config its own, then drop
# root with setpriv (util-linux) and exec the command (default: `subtitler serve`).
# Started as a non-root user (docker run --user), it cannot change accounts and just runs the command.
set -eu

PUID="${PUID:-1000}"
PGID="${PGID:-1000}"
DATA_DIR="${SUBTITLER_DATA_DIR:-/config}"

if [ "$#" -eq 0 ]; then
    set -- subtitler serve
fi

if [ "$(id -u)" -ne 0 ]; then
    exec "$@"
fi

case "$PUID$PGID" in
    *[!0-9]*)
        echo "entrypoint: PUID and PGID must be numeric (got PUID=$PUID PGID=$PGID)" >&2
        exit 2
        ;;
esac

if [ "$(id -g subtitler)" != "$PGID" ]; then
    groupmod --non-unique --gid "$PGID" subtitler
fi
if [ "$(id -u subtitler)" != "$PUID" ]; then
    usermod --non-unique --uid "$PUID" --gid "$PGID" subtitler
fi

mkdir -p "$DATA_DIR"
# Recursive only when the folder belongs to someone else (a fresh volume or a changed PUID/PGID):
# a data folder with models in it is large, and it is already ours on every later start.
if [ "$(stat -c %u:%g "$DATA_DIR")" != "$PUID:$PGID" ]; then
    chown -R "$PUID:$PGID" "$DATA_DIR"
fi

echo "entrypoint: running as uid=$PUID gid=$PGID: $*"
export HOME="$DATA_DIR" USER=subtitler LOGNAME=subtitler
exec setpriv --reuid="$PUID" --regid="$PGID" --init-groups --no-new-privs -- "$@"
