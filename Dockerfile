# Sambang: a Telegram bot for kepala desa to reach their Bupati.
# Long polling by default; webhook mode with: docker run ... sambang run --webhook https://host/path --port 8443
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SAMBANG_DB=/data/sambang.db \
    SAMBANG_BACKUP_DIR=/data/backups \
    MPLBACKEND=Agg

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY schedules ./schedules
COPY messages ./messages
RUN pip install --no-cache-dir . \
    && groupadd --system --gid 10001 sambang \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/sambang --create-home sambang \
    && mkdir -p /data/backups \
    && chown -R 10001:10001 /data \
    && chmod 700 /data /data/backups

# Not root: the bot only needs its database volume.
USER 10001:10001
WORKDIR /data
# The database, its WAL files and the daily backups live here: mount a volume so they outlive the container.
VOLUME ["/data"]
# Only used in webhook mode.
EXPOSE 8443

# Healthy while the database opens, the scheduler's heartbeat is recent, updates are polled and none waits unhandled
# for over a minute (webhook mode also serves /healthz).
HEALTHCHECK --interval=60s --timeout=10s --start-period=60s --retries=3 \
    CMD ["sambang", "health"]

# SIGTERM (docker stop) stops taking updates, finishes in-flight work and flushes state; give it time with
# `docker stop --time 30`.
STOPSIGNAL SIGTERM
CMD ["sambang", "run"]
