# Sambang: a Telegram bot for kepala desa to reach their Bupati.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SAMBANG_DB=/data/sambang.db \
    MPLBACKEND=Agg

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY schedules ./schedules
COPY messages ./messages
RUN pip install --no-cache-dir . \
    && useradd --system --create-home --uid 10001 sambang \
    && mkdir -p /data \
    && chown sambang:sambang /data

USER sambang
VOLUME ["/data"]

HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["sambang", "health"]

CMD ["sambang", "run"]
