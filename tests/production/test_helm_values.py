"""deploy/helm: the official Temporal chart's values put both stores on PostgreSQL with
their password in a Secret, and Crossdock's chart sets only settings that exist."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from crossdock.config import Settings

HELM = Path(__file__).resolve().parents[2] / "deploy" / "helm"
KNOWN = {f"CROSSDOCK_{field.upper()}" for field in Settings.model_fields}


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def test_temporal_stores_are_postgres_with_secrets_and_the_namespace_is_created() -> None:
    values = _load(HELM / "temporal-values.yaml")
    config = values["server"]["config"]
    stores = config["persistence"]["datastores"]
    assert {stores[s]["sql"]["databaseName"] for s in ("default", "visibility")} == {
        "temporal",
        "temporal_visibility",
    }
    for store in stores.values():
        sql = store["sql"]
        assert sql["pluginName"] == "postgres12" and "password" not in sql
        assert sql["existingSecret"] and sql["manageSchema"] is True
    assert config["namespaces"]["namespace"] == [{"name": "crossdock", "retention": "30d"}]
    ui = {e["name"]: e["value"] for e in values["web"]["additionalEnv"]}
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert values["elasticsearch"]["enabled"] is False


def test_the_crossdock_chart_sets_only_known_settings() -> None:
    values = _load(HELM / "crossdock" / "values.yaml")
    assert set(values["env"]) <= KNOWN
    assert set(values["worker"]["tuning"]) <= KNOWN
    for template in (HELM / "crossdock" / "templates").glob("*"):
        for name in re.findall(r"\bCROSSDOCK_[A-Z_]+", template.read_text()):
            assert name in KNOWN | {"CROSSDOCK_SECRETS_DIR"}, f"{template.name}: {name}"
