"""Settings come from the environment, strictly, with production-safe defaults."""

import pytest

from tests.config.helpers import PRODUCTION_ENV, manage


def test_production_configuration_passes_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, clean=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_when_mail_would_not_be_delivered():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "EMAIL_URL"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env, clean=True)

    assert result.returncode != 0
    assert "trellis.W001" in result.stderr


def test_check_deploy_refuses_demo_districts():
    """A demo district lets administrators in without MFA: production must never have one."""
    env = {**PRODUCTION_ENV, "TRELLIS_DEMO_DISTRICTS": "demo"}
    result = manage("check", "--deploy", env=env, clean=True)

    assert result.returncode != 0
    assert "trellis.E003" in result.stderr


def test_secret_key_is_required_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage("check", env=env, clean=True)

    assert result.returncode == 2
    assert result.stderr.strip() == "trellis: SECRET_KEY is required when DEBUG is off"


@pytest.mark.parametrize("value", [None, "", "trellis.example.org"])
def test_site_url_is_required_when_debug_is_off(value):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SITE_URL"}
    if value is not None:
        env["SITE_URL"] = value
    result = manage("check", env=env, clean=True)

    assert result.returncode == 2
    assert "SITE_URL is required when DEBUG is off" in result.stderr
    assert "Traceback" not in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text(PRODUCTION_ENV["SECRET_KEY"] + "\n")
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={**env, "SECRET_KEY_FILE": str(secret)},
        clean=True,
    )

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("value", ["maybe", "2", "enabled"])
def test_a_boolean_that_is_not_a_boolean_is_an_error(value):
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": value}, clean=True)

    assert result.returncode == 2
    assert "DEBUG must be true or false" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_defaults_to_off():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env={k: v for k, v in PRODUCTION_ENV.items() if k != "DEBUG"},
        clean=True,
    )

    assert result.stdout.strip() == "False", result.stderr


def test_https_settings_are_on_in_production():
    code = (
        "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0)"
    )
    result = manage("shell", "--no-imports", "-c", code, env=PRODUCTION_ENV, clean=True)

    assert result.stdout.split() == ["True"] * 4, result.stderr


def test_malformed_database_url_names_the_variable():
    result = manage("check", env={**PRODUCTION_ENV, "DATABASE_URL": "mysql://x@y/z"}, clean=True)

    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_gives_one_line_naming_database_url():
    env = {
        **PRODUCTION_ENV,
        "DATABASE_URL": "postgres://trellis_app@127.0.0.1:1/trellis",
        "DATABASE_OWNER_URL": "postgres://trellis_owner@127.0.0.1:1/trellis",
    }
    result = manage("migrate", env=env, clean=True)

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("trellis: cannot reach the database named by DATABASE_URL")


def test_unreachable_redis_gives_one_line_naming_redis_url(settings):
    import os

    # The database is the test run's own (it answers); only Redis is wrong.
    env = {"REDIS_URL": "redis://127.0.0.1:1/0", "DEBUG": "true"}
    if not os.environ.get("DATABASE_URL"):
        env["TRELLIS_LOCAL_DIR"] = str(settings.LOCAL_DIR)
    result = manage("run", "--port", "8799", env=env)

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("trellis: cannot reach the Redis named by REDIS_URL"), result.stderr
    assert "Traceback" not in result.stderr


# --- The development secret key --------------------------------------------------------------

OLD_PUBLIC_KEY = "django-insecure-trellis-development-key-never-used-in-production"
PRINT_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"


def _development_env(local_dir, **extra):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    return {**env, "DEBUG": "true", "TRELLIS_LOCAL_DIR": str(local_dir), **extra}


def _key(env) -> str:
    result = manage("shell", "--no-imports", "-c", PRINT_KEY, env=env, clean=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_development_key_is_random_per_installation_private_and_kept(tmp_path):
    import stat
    from concurrent.futures import ThreadPoolExecutor

    first, second = tmp_path / "one", tmp_path / "two"

    with ThreadPoolExecutor(2) as pool:  # two processes starting together agree
        together = list(pool.map(_key, [_development_env(first)] * 2))
    again = _key(_development_env(first))
    elsewhere = _key(_development_env(second))

    key_file = first / "secret_key"
    assert together[0] == together[1] == again
    assert together[0] != OLD_PUBLIC_KEY
    assert len(together[0]) >= 50
    assert elsewhere != together[0]  # another installation, another key
    assert key_file.read_text().strip() == together[0]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in first.iterdir() if p.name.startswith(".")] == []  # no leftovers


def test_a_secret_key_given_in_development_is_used_and_nothing_is_generated(tmp_path):
    given = "a-development-key-from-the-environment-" + "k" * 20

    key = _key(_development_env(tmp_path, SECRET_KEY=given))

    assert key == given
    assert not (tmp_path / "secret_key").exists()
