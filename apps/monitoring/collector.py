"""Metrics read from the database at scrape time: queue depth and age, time to drain, running
jobs, live workers and the cost model's drift.

Computed when Prometheus asks rather than counted in processes: the numbers are the database's
(shared by every web and worker process on every machine), so there is nothing to sum across
processes and nothing lost when a process dies. Registered only on the web side's ``/metrics``.
"""

from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily

from . import state


class DatabaseCollector:
    def collect(self):
        queues = state.queues()
        depth = GaugeMetricFamily("enhancer_queue_depth", "Jobs waiting in the queue.",
                                  labels=["queue"])
        oldest = GaugeMetricFamily(
            "enhancer_queue_oldest_age_seconds",
            "Age of the oldest job waiting in the queue (0 when none waits).", labels=["queue"])
        drain = GaugeMetricFamily(
            "enhancer_queue_drain_seconds",
            "Estimated seconds for the queue's workers to finish what is queued and running.",
            labels=["queue"])
        running = GaugeMetricFamily("enhancer_jobs_running", "Jobs running now.",
                                    labels=["queue"])
        alive = GaugeMetricFamily(
            "enhancer_workers_alive",
            "Worker processes serving the queue whose heartbeat is recent.", labels=["queue"])
        for queue in queues:
            depth.add_metric([queue.name], queue.depth)
            oldest.add_metric([queue.name], queue.oldest_age_seconds)
            drain.add_metric([queue.name], queue.drain_seconds)
            running.add_metric([queue.name], queue.running)
            alive.add_metric([queue.name], queue.workers_alive)
        yield from (depth, oldest, drain, running, alive)

        drift = GaugeMetricFamily(
            "enhancer_cost_drift_ratio",
            "Mean actual/estimated run time of the last day's succeeded jobs per cost-model row.",
            labels=["key"])
        rate = GaugeMetricFamily(
            "enhancer_cost_seconds_per_megapixel", "The cost model's rate per row.",
            labels=["key"])
        for row in state.cost_drift():
            # Keys are the cost table's rows: operation, path and parameters, a bounded set.
            rate.add_metric([row.row.key], row.row.seconds_per_megapixel)
            if row.ratio is not None:
                drift.add_metric([row.row.key], row.ratio)
        yield from (drift, rate)
