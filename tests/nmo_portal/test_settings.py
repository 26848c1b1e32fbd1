import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "PATH": os.environ["PATH"],
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-that-is-long-and-random-Qx7!pL2#vN9@kR4$mZ8^wT3&",
    "ALLOWED_HOSTS": "nmo.example.org",
    "DATABASE_URL": "sqlite:////tmp/nmo-check.sqlite3",
    "MINISTRY_API_TOKEN": "a-shared-ministry-secret-Hk3!pQ9#",
}

MOCK_REQUESTS = [
    ("get", "/ministry-mock/status/"),
    ("get", "/ministry-mock/api/v1/specialists/11223344595/records"),
    ("put", "/ministry-mock/api/v1/_faults"),
    ("post", "/ministry-mock/api/v1/_reset"),
]


def probe(requests, env):
    """The status codes the portal answers, asked in a process of its own with `env` as its environment (its
    settings, its URLconf), through Django's test client: over "HTTPS", to an allowed host, with the token."""
    script = f"""
from django.conf import settings
from django.test import Client, override_settings
# the portal's 404 page links its CSS through the manifest, which only collectstatic writes
override_settings(STORAGES={{**settings.STORAGES, "staticfiles": {{
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}}}).enable()
client = Client(HTTP_HOST="nmo.example.org")
auth = {{"Authorization": "Bearer {env["MINISTRY_API_TOKEN"]}"}}
for method, path in {requests!r}:
    response = getattr(client, method)(path, secure=True, headers=auth, content_type="application/json")
    print("probe", response.status_code)
"""
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return [int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("probe ")]


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_refuse_the_default_secret_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("token", [None, "", "dev-ministry-token"])
def test_production_settings_refuse_the_default_ministry_token(token):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "MINISTRY_API_TOKEN"}
    if token is not None:
        env["MINISTRY_API_TOKEN"] = token
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "MINISTRY_API_TOKEN" in result.stderr


def test_development_settings_keep_the_default_ministry_token():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key not in ("MINISTRY_API_TOKEN", "SECRET_KEY")}
    result = manage("check", env={**env, "DEBUG": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_with_production_settings_the_ministry_mock_is_not_part_of_the_portal(tmp_path):
    env = {**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    assert probe(MOCK_REQUESTS, env) == [404, 404, 404, 404]


def test_the_mock_is_mounted_in_a_production_portal_only_when_asked_and_the_deploy_check_says_so(tmp_path):
    env = {**PRODUCTION_ENV, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "MINISTRY_MOCK_MOUNTED": "1"}
    assert probe([("get", "/ministry-mock/status/")], env) == [200]
    check = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert check.returncode != 0
    assert "ministry_mock.W001" in check.stderr + check.stdout


def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_healthz_answers_when_the_database_and_redis_answer(client, db):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["checks"]["database"] == "ok"


def test_healthz_reports_redis_down_without_taking_the_portal_out_of_service(client, db, settings):
    """SPEC: activations go on with Redis down, so a load balancer must keep sending requests."""
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["redis"].startswith("error")


def test_healthz_fails_when_the_database_does_not_answer(client, db, monkeypatch):
    from django.db import connection
    from django.db.utils import OperationalError

    def refuse(*args, **kwargs):
        raise OperationalError("the server closed the connection")

    with monkeypatch.context() as patched:  # undone before the test database is torn down
        patched.setattr(connection, "cursor", refuse)
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "error: OperationalError"


@pytest.mark.django_db
def test_forms_refuse_a_post_without_the_csrf_token(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("accounts:organization_register"), {"name": "X", "inn": "7712345678"})
    assert response.status_code == 403


def test_every_periodic_task_names_a_task_the_workers_register():
    """Beat queues its tasks by name: a task moved or renamed without its schedule would never run again."""
    from django.conf import settings as django_settings

    from nmo_portal.celery import app

    app.loader.import_default_modules()  # what a worker does when it starts: every app's tasks module
    registered = set(app.tasks.keys())
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled, "the schedule is empty"
    assert scheduled <= registered, f"not registered: {sorted(scheduled - registered)}"
    # the ledger queues ministry_sync's delivery by name too
    from credits.tasks import DELIVERY_TASK

    assert DELIVERY_TASK in registered


def celery_and_database_settings(env):
    script = """
from django.conf import settings
from nmo_portal.celery import app
print("eager", app.conf.task_always_eager)
print("broker", app.conf.broker_url or "-")
print("sqlite", settings.DATABASES["default"].get("OPTIONS", {}).get("transaction_mode", "-"))
print("cache", settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1])
"""
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    pairs = (line.partition(" ")[::2] for line in result.stdout.splitlines())
    return {key: value for key, value in pairs if key in {"eager", "broker", "sqlite", "cache"}}


def test_make_run_sends_tasks_to_a_worker_through_folders_and_a_bare_runserver_runs_them_in_process(tmp_path):
    development = {"PATH": os.environ["PATH"], "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    bare = celery_and_database_settings(development)
    assert bare == {"eager": "True", "broker": "-", "sqlite": "IMMEDIATE", "cache": "LocMemCache"}
    broker = tmp_path / "broker"
    local = celery_and_database_settings(
        {**development, "LOCAL_WORKER": "1", "LOCAL_BROKER_DIR": str(broker), "LOCAL_CACHE_DIR": str(tmp_path / "c")}
    )
    # the worker's cache writes (the plan's version, the attempt counters) reach the web process through files
    assert local == {"eager": "False", "broker": "filesystem://", "sqlite": "IMMEDIATE", "cache": "FileBasedCache"}
    assert (broker / "queue").is_dir()
    named = celery_and_database_settings({**development, "LOCAL_WORKER": "1", "CELERY_BROKER_URL": "redis://h:6379/0"})
    assert (named["eager"], named["broker"]) == ("False", "redis://h:6379/0")  # a named broker wins


def worker_queues(command: list[str]) -> set[str] | None:
    """The queues a `celery worker` command line consumes; None when it names none (then it takes them all)."""
    if "-Q" not in command:
        return None
    return set(command[command.index("-Q") + 1].split(","))


def test_every_queue_has_a_worker_in_each_production_shape_and_long_jobs_go_to_their_own():
    """A queue that no worker consumes loses its tasks silently: docker-compose.yml and `make serve` each run a
    worker for every queue of CELERY_TASK_QUEUES, and the long jobs are routed away from the short tasks'."""
    import shlex

    import yaml
    from django.conf import settings as django_settings

    from nmo_portal.celery import app

    queues = set(django_settings.CELERY_TASK_QUEUES)
    assert queues == {"celery", "long"}
    app.loader.import_default_modules()  # a name in LONG_TASKS that no task has would route nothing
    assert set(django_settings.LONG_TASKS) <= set(app.tasks), set(django_settings.LONG_TASKS) - set(app.tasks)
    for name in django_settings.LONG_TASKS:
        assert app.amqp.router.route({}, name)["queue"].name == "long", name
    assert app.amqp.router.route({}, "credits.tasks.announce_new")["queue"].name == "celery"

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    commands = [
        service["command"] for service in compose["services"].values() if "worker" in service.get("command", [])
    ]
    consumed = set().union(*(worker_queues(command) or queues for command in commands))
    assert consumed == queues, commands

    serve = (ROOT / "Makefile").read_text().split("\nserve:")[1].split("\n\n")[0]
    lines = [shlex.split(line.strip(" \t\\&")) for line in serve.splitlines() if "celery -A nmo_portal worker" in line]
    assert len(lines) == 2, serve
    consumed = set().union(*(worker_queues(line) or queues for line in lines))
    assert consumed == queues, lines
