# One image for the web server and the Celery workers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ENHANCER_VAR_DIR=/var/lib/enhancer MEDIA_ROOT=/var/lib/enhancer/media \
    ENHANCER_MODEL_DIR=/var/lib/enhancer/models STATIC_ROOT=/app/staticfiles

RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 enhancer \
 && mkdir -p /var/lib/enhancer && chown enhancer /var/lib/enhancer

WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip setuptools && mkdir -p enhancer_site && pip install -e .
COPY . .
RUN DJANGO_DEBUG=true python manage.py collectstatic --noinput -v0

USER enhancer
EXPOSE 8000
CMD ["gunicorn", "enhancer_site.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
