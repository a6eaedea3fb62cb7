"""docker-compose.yml is valid Compose and runs what docs/production.md says: Temporal's
server on PostgreSQL with one-shot schema and namespace jobs, the UI on our codec,
scalable stateless workers, secrets from files, the sandbox only in the demo profile.
Docker is not needed: the file is checked against the Compose Specification's schema
(tests/production/data/) and against Crossdock's settings."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from crossdock.config import Settings
from crossdock.startup import REQUIRED_SECRETS
from workflows.search import cli_flags

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(__file__).parent / "data" / "compose-spec.json"
CROSSDOCK = ("crossdock-migrate", "worker", "console", "sandbox", "demo-feed")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def test_the_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(compose))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_images_are_pinned_and_temporal_is_the_server_not_auto_setup(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: {image} is not pinned"
        assert "auto-setup" not in image and "temporalio/temporal" not in image
    assert services["temporal"]["image"].startswith("temporalio/server:")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    # One admin-tools version with the server it migrates for.
    server = services["temporal"]["image"].split(":")[1]
    assert services["temporal-schema"]["image"] == f"temporalio/admin-tools:{server}"


def test_every_dependency_exists_and_waits_for_the_right_condition(
    services: dict[str, Any],
) -> None:
    one_shot = {"temporal-schema", "temporal-namespace", "crossdock-migrate"}
    for name, service in services.items():
        for needed, how in service.get("depends_on", {}).items():
            assert needed in services, f"{name} depends on missing {needed}"
            condition = how["condition"]
            if needed in one_shot:
                assert condition == "service_completed_successfully", (name, needed)
            elif "healthcheck" in services[needed]:
                assert condition == "service_healthy", (name, needed)
    assert services["temporal"]["depends_on"] == {
        "temporal-schema": {"condition": "service_completed_successfully"}
    }
    for name in ("worker", "console"):
        assert set(services[name]["depends_on"]) == {"temporal-namespace", "crossdock-migrate"}


def test_the_schema_job_creates_and_migrates_both_databases(services: dict[str, Any]) -> None:
    job = services["temporal-schema"]
    assert job["command"] == ["/scripts/temporal-schema.sh"]
    script = (ROOT / "deploy" / "compose" / "temporal-schema.sh").read_text()
    assert "for db in temporal temporal_visibility" in script
    for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
        assert step in script
    assert job["environment"]["POSTGRES_SEEDS"] == "temporal-db"


def test_the_namespace_job_registers_every_search_attribute(services: dict[str, Any]) -> None:
    job = services["temporal-namespace"]
    registered = set(job["environment"]["SEARCH_ATTRIBUTES"].split())
    assert registered == set(cli_flags()[1::2])  # Name=Type, as workflows/search.py says
    crossdock_env = services["worker"]["environment"]
    assert job["environment"]["NAMESPACE"] == crossdock_env["CROSSDOCK_TEMPORAL_NAMESPACE"]


def test_the_ui_decodes_through_the_console_codec(services: dict[str, Any]) -> None:
    ui = services["temporal-ui"]["environment"]
    console_port = services["console"]["ports"][0].split(":")[-1]
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"http://localhost:{console_port}/codec"
    # The console allows the UI's origin (Settings.temporal_ui_origins).
    ui_port = services["temporal-ui"]["ports"][0].split(":")[-1]
    assert services["console"]["environment"]["CROSSDOCK_TEMPORAL_UI_PORT"] == ui_port


def test_crossdock_services_run_the_right_commands_with_known_settings(
    services: dict[str, Any],
) -> None:
    commands = {
        "crossdock-migrate": ["crossdock", "db", "upgrade"],
        "worker": ["python", "worker.py"],
        "console": ["crossdock", "intake"],
        "sandbox": ["crossdock", "sandbox"],
        "demo-feed": ["crossdock", "demo-feed"],
    }
    known = {f"CROSSDOCK_{field.upper()}" for field in Settings.model_fields}
    known.add("CROSSDOCK_SECRETS_DIR")
    for name in CROSSDOCK:
        service = services[name]
        assert service["command"] == commands[name]
        unknown = set(service["environment"]) - known
        assert not unknown, f"{name}: {unknown} are no Crossdock settings"
        assert service["environment"]["CROSSDOCK_SECRETS_DIR"] == "/run/secrets"


def test_secrets_come_from_files_and_no_state_is_shared(
    compose: dict[str, Any], services: dict[str, Any], tmp_path: Path
) -> None:
    needed = {f"crossdock_{field}" for field in ("codec_keys", *REQUIRED_SECRETS)}
    for name in CROSSDOCK:
        service = services[name]
        assert needed <= set(service["secrets"]), name
        # Secret file names are settings read through CROSSDOCK_SECRETS_DIR.
        for secret in service["secrets"]:
            assert secret.removeprefix("crossdock_") in Settings.model_fields, secret
    for name in ("worker", "console", "crossdock-migrate"):
        assert "volumes" not in services[name], f"{name} must keep no state of its own"
    # The script writes every file the compose file mounts.
    subprocess.run(
        ["sh", str(ROOT / "deploy" / "compose" / "make-secrets.sh"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for secret, source in compose["secrets"].items():
        assert source["file"] == f"./secrets/{secret}"
        assert (tmp_path / secret).stat().st_size > 0, secret


def test_workers_scale_and_report_readiness(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert "container_name" not in worker and "ports" not in worker  # --scale worker=4
    port = worker["environment"]["CROSSDOCK_WORKER_HTTP_PORT"]
    assert f"127.0.0.1:{port}/readyz" in " ".join(worker["healthcheck"]["test"])
    assert worker["environment"]["CROSSDOCK_TEMPORAL_METRICS_BIND"].endswith(":9001")


def test_the_sandbox_runs_only_in_the_demo_profile(services: dict[str, Any]) -> None:
    profiled = {name for name, s in services.items() if "demo" in s.get("profiles", [])}
    assert profiled == {"sandbox", "demo-feed"}
    assert services["worker"]["environment"]["CROSSDOCK_DEMO_PROFILE"] == (
        "${CROSSDOCK_DEMO_PROFILE:-false}"
    )
