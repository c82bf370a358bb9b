# syntax=docker/dockerfile:1
# The dashboard image: gunicorn serving dashboard.wsgi:server as a non-root user. The same image runs the one-shot
# migration (`dashboard migrate`) and the refresh scheduler (`dashboard scheduler`): see compose.yaml.
# Not built on the machine these files were written on (no Docker engine there): see docs/SCALING.md.
FROM python:3.11-slim-bookworm

# Chart and report exports render with kaleido, which needs a Chromium; leave it out for a smaller image that
# serves pages and the API only: docker build --build-arg WITH_CHROMIUM=false .
ARG WITH_CHROMIUM=true

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8050

RUN if [ "$WITH_CHROMIUM" = "true" ]; then \
        apt-get update \
        && apt-get install -y --no-install-recommends chromium \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, in their own layer: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Editable, so the packages are imported from /app and the app finds /app/assets next to them.
COPY . .
RUN pip install --no-deps -e . && chown -R root:root /app && chmod -R a+rX /app

USER app
EXPOSE 8050

HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('PORT', '8050'), timeout=4)" || exit 1

CMD ["gunicorn", "--config", "dashboard/gunicorn_conf.py", "dashboard.wsgi:server"]
