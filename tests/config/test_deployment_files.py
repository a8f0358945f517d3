"""docker-compose.yml and README.md agree with what the settings read."""

import re

import yaml

from tests.config.helpers import ROOT

SETTINGS = (ROOT / "config" / "settings.py").read_text()
README = (ROOT / "README.md").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())

# Every variable the settings read, by any of the helpers they use.
READ = set(
    re.findall(
        r"""(?:environ\.get|environ\[|env_bool|env_int|env_secret|env\.\w+)\(\s*["']([A-Z][A-Z0-9_]+)["']""",
        SETTINGS,
    )
)
READ |= set(re.findall(r"""os\.environ\[["']([A-Z][A-Z0-9_]+)["']\]""", SETTINGS))


def readme_table_variables():
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, flags=re.M))


def test_settings_read_the_variables_we_expect():
    assert {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= READ


def test_every_variable_the_settings_read_is_documented_in_the_readme():
    documented = readme_table_variables()

    assert READ - documented == set()
    assert documented - READ - {"SECRET_KEY_FILE"} == set(), (
        "README documents a variable nothing reads"
    )


def test_compose_has_every_service_the_readme_names():
    services = set(COMPOSE["services"])
    named = set(
        re.findall(
            r"^\| `([a-z]+)` \| ", README.split("## Running in production", 1)[1], flags=re.M
        )
    )

    assert {"postgres", "redis", "web", "worker", "beat", "mailpit"} <= services
    assert named and named <= services


def test_application_services_get_the_variables_production_needs():
    needed = {"DATABASE_URL", "DATABASE_OWNER_URL", "REDIS_URL", "EMAIL_URL", "ALLOWED_HOSTS"}
    for name in ("web", "worker", "beat"):
        service = COMPOSE["services"][name]
        environment = dict(COMPOSE["x-app-environment"], **service.get("environment", {}))
        assert needed <= set(environment), name
        assert "SECRET_KEY" in environment or "SECRET_KEY_FILE" in environment
        assert set(environment) <= READ | {"SECRET_KEY_FILE"}, name


def test_worker_consumes_every_queue_and_beat_runs_once():
    commands = {
        name: " ".join(s.get("command", []))
        if isinstance(s.get("command"), list)
        else s.get("command", "")
        for name, s in COMPOSE["services"].items()
    }
    consumed = set()
    queues_of = []
    for command in commands.values():
        if command.startswith("celery") and " worker " in command:
            queues = set(re.search(r"-Q (\S+)", command).group(1).split(","))
            consumed |= queues
            queues_of.append(queues)
    assert consumed == {"urgent", "default", "reports"}
    # The urgent queue has a worker of its own (issue 18): no reminder burst delays an alert.
    assert {"urgent"} in queues_of
    assert all(queues == {"urgent"} for queues in queues_of if "urgent" in queues)
    assert COMPOSE["services"]["beat"].get("deploy", {}).get("replicas", 1) == 1
