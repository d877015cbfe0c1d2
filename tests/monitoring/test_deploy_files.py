"""deploy/monitoring: Prometheus' configuration and alert rules, and the Grafana dashboard.

With Debian's ``prometheus`` package installed (``apt-get install prometheus``; .ci/run does),
``promtool`` checks the configuration and the rules, runs the rules' unit tests
(alerts_test.yml) and parses every dashboard query as PromQL. Without it those tests skip and
say so; the structural checks of the dashboard run either way.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml

from apps.common import metrics
from apps.monitoring.collector import DatabaseCollector
from tests.helpers import ROOT

MONITORING = ROOT / "deploy" / "monitoring"
DASHBOARD = MONITORING / "grafana" / "dashboards" / "enhancer.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)"
)
# Grafana's variables, as a query sent to Prometheus would have them.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
# Names PromQL functions and keywords use, which are not metrics.
PROMQL_WORDS = {
    "sum", "by", "without", "rate", "increase", "histogram_quantile", "or", "and", "unless",
    "vector", "le", "on", "ignoring", "group_left", "group_right", "avg", "max", "min", "count",
}


def promtool(*args: str, cwd=MONITORING) -> str:
    done = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def queries() -> list[str]:
    return [
        target["expr"]
        for panel in dashboard()["panels"]
        for target in panel.get("targets", [])
    ]


def _substituted(expr: str) -> str:
    for name, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


@pytest.fixture
def known_metrics(db) -> set[str]:
    """Every series name a scrape of the web side and a worker can show, plus Prometheus' own
    ``up``."""
    names = {"up"}
    for family in metrics.registry(DatabaseCollector()).collect():
        names.add(family.name)
        suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_count", "_sum"]}
        names.update(family.name + suffix for suffix in suffixes.get(family.type, []))
    return names


def _metric_names(expr: str) -> set[str]:
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "", without_strings)
    without_ranges = re.sub(r"\[[^\]]*\]", "", without_labels)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges))
    grouping = set()
    for clause in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", without_ranges):
        grouping.update(word.strip() for word in clause.split(","))
    return words - PROMQL_WORDS - grouping


@needs_promtool
def test_the_alert_rules_are_valid_and_fire_as_their_unit_tests_say():
    assert "SUCCESS" in promtool("check", "rules", "alerts.yml")
    assert "SUCCESS" in promtool("test", "rules", "alerts_test.yml")


@needs_promtool
def test_the_prometheus_configuration_is_valid(tmp_path):
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    # As mounted by docker-compose.yml: the rules beside it, the token file written at start.
    shutil.copy(MONITORING / "alerts.yml", tmp_path / "alerts.yml")
    (tmp_path / "token").write_text("t")
    config["rule_files"] = [str(tmp_path / "alerts.yml")]
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(tmp_path / "token")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml", cwd=tmp_path)


@needs_promtool
def test_every_dashboard_query_is_valid_promql(tmp_path):
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query{index}", "expr": _substituted(expr)}
        for index, expr in enumerate(queries())
    ]}]}
    (tmp_path / "dashboard_rules.yml").write_text(yaml.safe_dump(rules))
    assert f"SUCCESS: {len(queries())} rules found" in promtool("check", "rules", "dashboard_rules.yml", cwd=tmp_path)


def test_dashboard_and_alerts_only_use_metrics_the_service_exports(known_metrics):
    alerts = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    exprs = queries() + [rule["expr"] for group in alerts["groups"] for rule in group["rules"]]
    assert exprs
    for expr in exprs:
        unknown = _metric_names(_substituted(expr)) - known_metrics
        assert not unknown, f"{expr!r} uses {unknown}, which nothing exports"


def test_the_dashboard_is_a_well_formed_grafana_dashboard():
    board = dashboard()
    assert board["uid"] == "enhancer-overview" and board["title"] and board["schemaVersion"] >= 36
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    occupied: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]
        cells = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                 for y in range(grid["y"], grid["y"] + grid["h"])}
        assert not cells & occupied, f"{panel['title']} overlaps another panel"
        occupied |= cells
        if panel["type"] == "row":
            continue
        assert panel["type"] in {"timeseries", "stat", "bargauge", "table", "gauge"}, panel["type"]
        assert panel["datasource"]["uid"] == "enhancer-prometheus"
        assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids))


def test_compose_provisions_prometheus_and_grafana_in_the_monitoring_profile():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert services[name]["profiles"] == ["monitoring"]
        for volume in services[name]["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
    datasource = yaml.safe_load(
        (MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    assert datasource["uid"] == "enhancer-prometheus"
    provider = yaml.safe_load(
        (MONITORING / "grafana/provisioning/dashboards/enhancer.yml").read_text()
    )["providers"][0]
    assert any(v.endswith(":" + provider["options"]["path"] + ":ro") for v in services["grafana"]["volumes"])
    # The scrape targets are compose's own services, on the ports they are given.
    jobs = {job["job_name"]: job for job in
            yaml.safe_load((MONITORING / "prometheus.yml").read_text())["scrape_configs"]}
    (web,) = jobs["enhancer-web"]["static_configs"][0]["targets"]
    assert web == "web:8000" and "8000:8000" in services["web"]["ports"]
    (workers,) = jobs["enhancer-worker"]["dns_sd_configs"]
    assert set(workers["names"]) == {name for name in services if name.startswith("worker-")}
    for name in workers["names"]:
        assert str(workers["port"]) == services[name]["environment"]["ENHANCER_METRICS_PORT"]
