# subtitler, CPU image: Debian ffmpeg, non-root user (PUID/PGID), data in the /config volume.
#   docker build -t subtitler .
#   docker run -d -p 8000:8000 -e PUID=1000 -e PGID=1000 -v ./config:/config -v /media:/media subtitler
# The web UI, built with the same script the run command uses (scripts/build-frontend).
FROM node:20-bookworm-slim AS ui
WORKDIR /src
COPY scripts/build-frontend /src/scripts/build-frontend
COPY frontend/ /src/frontend/
RUN bash /src/scripts/build-frontend --force

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# The same Debian packages CI installs, through the same script and list (scripts/install-system).
COPY scripts/ /app/scripts/
RUN bash /app/scripts/install-system /app/scripts/system-packages.txt \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

# The Python packages from the lock, and nothing else: requirements/daemon.txt (the daemon and its embedded models; exact
# versions with hashes, made by scripts/lock, the versions CI tests), before the source so code
# edits keep that layer. pip and setuptools first, from requirements/build.txt.
WORKDIR /app
COPY requirements/ /app/requirements/
RUN pip install --no-cache-dir --require-hashes -r requirements/build.txt \
    && pip install --no-cache-dir --require-hashes -r requirements/daemon.txt

# The daemon itself, not editable (the installed package is what runs), without dependencies (the
# lock brought them) or an isolated build. The copy of the lock is what `subtitler version
# --verbose` and /api/system/about compare the installed versions with.
COPY . /app
COPY --from=ui /src/subtitler/static/ /app/subtitler/static/
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && { echo "# installed from requirements/daemon.txt: image"; cat requirements/daemon.txt; } \
        > /usr/local/subtitler-lock.txt \
    && rm -rf /app/build

# The account the daemon runs as; docker/entrypoint.sh moves it to PUID/PGID at start.
RUN groupadd --gid 1000 subtitler \
    && useradd --no-log-init --uid 1000 --gid subtitler --home-dir /config --no-create-home \
        --shell /usr/sbin/nologin subtitler \
    && mkdir -p /config \
    && chown subtitler:subtitler /config \
    && install -m 0755 /app/docker/entrypoint.sh /usr/local/bin/docker-entrypoint

ENV SUBTITLER_DATA_DIR=/config \
    SUBTITLER_HOST=0.0.0.0 \
    SUBTITLER_PORT=8000 \
    PUID=1000 \
    PGID=1000

VOLUME /config
EXPOSE 8000
WORKDIR /config

# No curl in slim: python's urllib. An HTTP error (503 when the database is unreachable) exits 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('SUBTITLER_PORT', '8000'), timeout=4)"]

# SIGTERM stops the daemon gracefully within Docker's default 10 s before SIGKILL: uvicorn
# closes open connections (2 s), then the daemon's stop() gives each part its share of 8 s and
# cancels, and names in its log, any part that has not stopped (subtitler.system.stopping).
STOPSIGNAL SIGTERM

ENTRYPOINT ["/usr/local/bin/docker-entrypoint"]
CMD ["subtitler", "serve"]
