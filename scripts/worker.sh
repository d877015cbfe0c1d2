#!/usr/bin/env bash
# One Celery worker for one queue: `scripts/worker.sh light`, `heavy` or `webhooks`.
# `make run` (scripts/run.sh), docker-compose.yml and bench/bench_load.py all start workers
# through this file, so they run alike.
#
# light:    ENHANCER_LIGHT_CONCURRENCY processes (default: one per core), ENHANCER_LIGHT_THREADS
#           threads each (default 1), so light jobs run side by side and together fill the cores.
# heavy:    ENHANCER_HEAVY_CONCURRENCY processes (default 1) with ENHANCER_HEAVY_THREADS threads
#           (default: all cores) at a lower CPU priority (nice 10): it uses every idle core, and
#           whenever a light job runs, the kernel gives the light job the core first. It loads
#           the upscale networks as it starts (ENHANCER_WARM_UP), so its first job does not wait
#           for the model conversion and compile (most of a minute on a fresh cache).
# webhooks: ENHANCER_WEBHOOK_CONCURRENCY threads (default 8) in one process: deliveries only
#           wait on partners' servers (each call is capped at ENHANCER_OUTBOUND_TIMEOUT in all),
#           so threads, not processes, and never a photo worker's slot.
# Further arguments go to `celery worker` (e.g. --loglevel=WARNING).
set -euo pipefail
queue=${1:?usage: scripts/worker.sh light|heavy|webhooks [celery worker options]}
shift
PY=${PY:-python}
cores=$(nproc 2>/dev/null || echo 1)
pool=prefork
case "$queue" in
  light)
    concurrency=${ENHANCER_LIGHT_CONCURRENCY:-$cores}
    threads=${ENHANCER_LIGHT_THREADS:-1}
    niceness=0
    ;;
  heavy)
    concurrency=${ENHANCER_HEAVY_CONCURRENCY:-1}
    threads=${ENHANCER_HEAVY_THREADS:-$cores}
    niceness=10
    export ENHANCER_WARM_UP=${ENHANCER_WARM_UP-photo-x4 fast-x4 fast-x2}
    ;;
  webhooks)
    concurrency=${ENHANCER_WEBHOOK_CONCURRENCY:-8}
    threads=1
    niceness=0
    pool=threads
    ;;
  *)
    echo "unknown queue $queue (light, heavy or webhooks)" >&2
    exit 2
    ;;
esac
export ENHANCER_THREADS=$threads OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads
# Metrics (apps/monitoring/celery_hooks.py): this worker's processes write to a folder of its
# own (a new private temporary one, removed when the worker stops, unless
# PROMETHEUS_MULTIPROC_DIR names one, emptied at start); ENHANCER_METRICS_PORT (unset: off)
# serves their sum.
if [ -z "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  PROMETHEUS_MULTIPROC_DIR=$(mktemp -d -t "enhancer-metrics-$queue.XXXXXX")
  export ENHANCER_METRICS_DIR_TEMPORARY=1
fi
export PROMETHEUS_MULTIPROC_DIR
exec nice -n "$niceness" "$PY" -m celery -A enhancer_site worker -Q "$queue" --pool "$pool" \
  --concurrency "$concurrency" -n "$queue@%h" --loglevel=INFO "$@"
