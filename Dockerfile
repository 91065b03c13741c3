# Souk server image: `docker build -t souk . && docker run -p 8000:8000 -v souk-data:/data souk`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SOUK_DATA_DIR=/data \
    SOUK_HOST=0.0.0.0 \
    SOUK_PORT=8000

# Fonts for printed signs: Latin/Greek/Cyrillic/Arabic (DejaVu) and CJK (Droid fallback).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-droid-fallback \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 souk
WORKDIR /app

COPY pyproject.toml README.md ./
COPY server ./server
COPY search ./search
COPY sync ./sync
COPY kiosk ./kiosk
COPY pwa ./pwa
COPY fixtures ./fixtures
RUN pip install --no-cache-dir . \
    && mkdir -p /data && chown souk:souk /data

USER souk
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=3)" || exit 1
CMD ["souk", "serve"]
