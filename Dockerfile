# kana-server for a team: PostgreSQL driver included; `serve` applies the migrations when it starts.
# Build: docker build -t kana-server .   Run with PostgreSQL: compose.yaml, docs/deploy.md.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY kana_server ./kana_server
RUN pip install -c constraints.txt ".[postgres]" \
    && rm -rf /src \
    && useradd --system --home-dir /data --create-home kana

USER kana
WORKDIR /data

# Listen on every interface of the container; the database comes from KANA_DATABASE_URL.
ENV KANA_HOST=0.0.0.0 \
    KANA_PORT=4000 \
    KANA_DATABASE_URL=sqlite+aiosqlite:////data/kana.db
EXPOSE 4000

HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_kana/health' % os.environ.get('KANA_PORT', '4000'), timeout=2)"]

CMD ["kana-server", "serve"]
