"""Settings for the НМО Portal, read from the environment.

Every default runs with nothing installed: SQLite, local-memory cache, console e-mail and Celery tasks
run in-process. Production sets DATABASE_URL, REDIS_URL, SECRET_KEY and DEBUG=0.
"""

import json
import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] and friends be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

DEFAULT_SECRET_KEY = "insecure-dev-key-change-me-for-anything-but-a-laptop"  # noqa: S105 - refused below whenever DEBUG is off
SECRET_KEY = env_str("SECRET_KEY", DEFAULT_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEFAULT_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY in the environment: DEBUG is off and the key is the default.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
USE_X_FORWARDED_FOR = env_bool("USE_X_FORWARDED_FOR", False)
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "accounts",
    "events",
    "modules",
    "review",
    "credits",
    "codes",
    "learning_plan",
    "societies",
    "statuses",
    "ministry_sync",
    "ministry_mock",
    # The project itself, last: its `seed_demo` command is the composition root of the demo data, the one place
    # besides the URL configuration and the API router that may import every app.
    "nmo_portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "nmo_portal.middleware.RequestBoundsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "nmo_portal.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "nmo_portal.middleware.RequestContextMiddleware",
    "nmo_portal.middleware.UserTimezoneMiddleware",
]

# The Ministry mock runs as its own service on its own port with ROOT_URLCONF=ministry_mock.urls.
ROOT_URLCONF = env_str("ROOT_URLCONF", "nmo_portal.urls")
WSGI_APPLICATION = "nmo_portal.wsgi.application"
ASGI_APPLICATION = "nmo_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.roles",
                "statuses.context_processors.commission",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A Celery worker writes beside the web process (`make run`): WAL lets readers go on while one writes, the
    # timeout makes a writer wait for the lock instead of failing with «database is locked», and IMMEDIATE
    # takes the write lock when a transaction begins, because a read lock upgraded to a write lock mid-way
    # fails at once whatever the timeout.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        "timeout": env_int("SQLITE_TIMEOUT_SECONDS", 20),
        "transaction_mode": "IMMEDIATE",
        **DATABASES["default"].get("OPTIONS", {}),
    }
    # An index's INCLUDE columns (PostgreSQL's covering indexes, issue 18) are left out on SQLite, and that is
    # what is wanted: its tables are small.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # nmo_portal.cache: Django's Redis cache that answers as a miss while Redis is down; the timeouts keep a
    # Redis that hangs from holding requests.
    CACHES = {
        "default": {
            "BACKEND": "nmo_portal.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

# django-allauth: e-mail is the login, and nobody signs in before confirming it.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"
ACCOUNT_FORMS = {"login": "accounts.login_form.LoginForm"}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
# Subjects are prefixed with the portal's name in the recipient's language (accounts.adapters, nmo_portal.mail).
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
# allauth's "login_failed" limit counts failures per account alone, so a stranger could lock the owner out, and
# its "login" limit (every sign-in, per address) refuses everyone while Redis is down (its cache lock is never
# taken); accounts.signin limits failures per address and per (address, account) instead, on the admin's
# sign-in too, and lets sign-in go on without Redis.
ACCOUNT_RATE_LIMITS = {"login_failed": None, "login": None}
SIGNIN_FAILURES_PER_IP_ACCOUNT = env_int("SIGNIN_FAILURES_PER_IP_ACCOUNT", 5)
SIGNIN_FAILURES_PER_IP = env_int("SIGNIN_FAILURES_PER_IP", 30)
SIGNIN_WINDOW_SECONDS = env_int("SIGNIN_WINDOW_SECONDS", 900)

LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# One unambiguous date format per language (27.11.2026 / 27 Nov 2026): see nmo_portal/formats/.
FORMAT_MODULE_PATH = ["nmo_portal.formats"]
USE_I18N = True
TIME_ZONE = "Europe/Moscow"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Generated files (the whole-event certificates, later the portfolio's) go to the "private" storage: outside
# MEDIA_ROOT, never served by URL, read back only by views that check who asks. With web and workers on several
# machines point it at a shared object store (README, "Files").
PRIVATE_FILES_ROOT = Path(env_str("PRIVATE_FILES_ROOT", str(BASE_DIR / "private-files")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": env_str("PRIVATE_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(env_str("PRIVATE_STORAGE_OPTIONS", "{}"))
        if env_str("PRIVATE_STORAGE_BACKEND")
        else {"location": str(PRIVATE_FILES_ROOT)},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"

EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if env_str("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "НМО Portal <noreply@nmo-portal.local>")
# The name e-mails come from, open with and are signed by; translated unless set here.
PORTAL_NAME = env_str("PORTAL_NAME") or _("НМО Portal")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Celery: production names a broker (REDIS_URL or CELERY_BROKER_URL). `make run` sets LOCAL_WORKER instead: tasks go
# to the worker it starts through kombu's filesystem transport, message files in LOCAL_BROKER_DIR, so long work
# runs in the background with nothing installed. With neither, tasks run in-process (a bare `manage.py runserver`).
LOCAL_WORKER = env_bool("LOCAL_WORKER", False)
LOCAL_BROKER_DIR = Path(env_str("LOCAL_BROKER_DIR", str(BASE_DIR / ".broker")))
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL) or ("filesystem://" if LOCAL_WORKER else "")
if LOCAL_WORKER and not REDIS_URL:
    # The worker is a process of its own: what it changes in the cache (the plan's version after a delivery or a
    # link, the attempt counters) must reach the web process, which a per-process memory cache would not do.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(Path(env_str("LOCAL_CACHE_DIR", str(BASE_DIR / ".cache")))),
        }
    }
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Long jobs (a list of codes, certificate files and their mail, portfolio files, survey invitations, the society
# reports: seconds to minutes each at national scale) go to a queue of their own, so that a worker busy with them
# never holds back the per-second announcements and the Ministry deliveries. A worker started without -Q consumes
# both queues (make run, the tests); production runs one worker per queue (docker-compose.yml, make serve).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {"celery": {}, "long": {}}
LONG_TASKS = (
    "codes.issuance.issue_batch",
    "codes.certificates.build_event_certificates",
    "codes.certificates.mail_certificates",
    "codes.certificates.mail_due_certificates",  # the sweep mails the due lists itself, thousands of PDFs each
    "learning_plan.export.build_portfolio_export",
    "societies.surveys.send_survey_invitations",
    "societies.report_prepared.prepare_society_report",
)
CELERY_TASK_ROUTES = {name: {"queue": "long"} for name in LONG_TASKS}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "nmo_portal.openapi.PortalAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "nmo_portal.api.exception_handler",
    # Every API throttle's rate, by its scope (a throttle class names only its scope): "number/second|minute|
    # hour|day", counted per person or API key's creator.
    "DEFAULT_THROTTLE_RATES": {
        "codes_issue": env_str("API_THROTTLE_CODES_ISSUE", "60/hour"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "НМО Portal API",
    "DESCRIPTION": "Continuing medical education register: activities, reviews, ИКП codes, learning plans.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI served from our own static files: the docs work without internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # One name for the review status wherever it appears (an activity's status, a transition's from and to).
    "ENUM_NAME_OVERRIDES": {
        "ActivityStatusEnum": "review.models.Status",
        "LedgerKindEnum": "credits.models.CreditEntry.Kind",
        "IssuanceKindEnum": "codes.models.IssuanceBatch.Kind",
        "IssuanceStateEnum": "codes.models.IssuanceBatch.State",
        "CodeStatusEnum": "codes.models.IcpCode.Status",
        "ActivityKindEnum": [("event", "event"), ("module", "module")],
    },
}

# Domain settings.
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 14)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# Production hardening: `manage.py check --deploy` is clean with DEBUG off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts, styles and everything else only from the portal's own files,
# no inline script or style anywhere (templates keep them in static/). Images may be data: URIs (Swagger UI's
# icons). The API docs page relaxes style-src for itself (nmo_portal.api).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Review rules (SPEC.md "Activities and their review").
EVENT_SUBMISSION_LEAD_DAYS = env_int("EVENT_SUBMISSION_LEAD_DAYS", 30)
MAX_CREDITS_PER_EVENT_DAY = env_int("MAX_CREDITS_PER_EVENT_DAY", 6)
REVIEW_SLA_DAYS = env_int("REVIEW_SLA_DAYS", 14)

# ИКП codes (SPEC.md "ИКП"): failed activation attempts allowed per window, and issuance.
ICP_FAILED_ATTEMPTS_PER_ACCOUNT = env_int("ICP_FAILED_ATTEMPTS_PER_ACCOUNT", 10)
ICP_FAILED_ATTEMPTS_PER_IP = env_int("ICP_FAILED_ATTEMPTS_PER_IP", 30)
ICP_ATTEMPT_WINDOW_SECONDS = env_int("ICP_ATTEMPT_WINDOW_SECONDS", 3600)
# Issuances up to this many codes are written during the request; larger ones go to Celery with progress.
ICP_SYNC_ISSUE_LIMIT = env_int("ICP_SYNC_ISSUE_LIMIT", 1000)
ICP_MAX_CODES_PER_ISSUE = env_int("ICP_MAX_CODES_PER_ISSUE", 100_000)
# Certificates of an attendee list are e-mailed once the event has ended; a periodic task looks this often.
CERTIFICATES_MAIL_EVERY_SECONDS = env_int("CERTIFICATES_MAIL_EVERY_SECONDS", 300)
# A whole-event certificates file asked for and not started this long after (its message never reached a worker),
# or started and not finished after the timeout (the worker was lost), is queued again by the periodic sweep.
CERTIFICATES_BUILD_GRACE_SECONDS = env_int("CERTIFICATES_BUILD_GRACE_SECONDS", 120)
CERTIFICATES_BUILD_TIMEOUT_SECONDS = env_int("CERTIFICATES_BUILD_TIMEOUT_SECONDS", 3600)

# Uploads (attendee lists, completion reports, later any uploaded file): bounded before they are parsed
# (nmo_portal.spreadsheets). A workbook's parts are counted unpacked; what openpyxl parses whole (shared strings,
# styles) is held to UPLOAD_MAX_PART_BYTES, the streamed sheet only to the total.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_UNCOMPRESSED_BYTES = env_int("UPLOAD_MAX_UNCOMPRESSED_BYTES", 32 * 1024 * 1024)
UPLOAD_MAX_PART_BYTES = env_int("UPLOAD_MAX_PART_BYTES", 8 * 1024 * 1024)
UPLOAD_MAX_ROWS = env_int("UPLOAD_MAX_ROWS", 100_000)
UPLOAD_MAX_COLUMNS = env_int("UPLOAD_MAX_COLUMNS", 100)
UPLOAD_MAX_CELL_CHARS = env_int("UPLOAD_MAX_CELL_CHARS", 10_000)
# A request body larger than this is answered 413 before it is read (nmo_portal.middleware.RequestBoundsMiddleware):
# an upload and its form, or the API's largest JSON (an attendee list of ICP_MAX_ATTENDEES_PER_REQUEST).
REQUEST_MAX_BYTES = env_int("REQUEST_MAX_BYTES", UPLOAD_MAX_BYTES + 1024 * 1024)
# Attendees in one API request (POST /api/v1/events/{id}/codes/); larger lists are uploaded as a file.
ICP_MAX_ATTENDEES_PER_REQUEST = env_int("ICP_MAX_ATTENDEES_PER_REQUEST", 50_000)
# Django's own: form fields (not files) held in memory, and files kept in memory before going to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)
FILE_UPLOAD_MAX_MEMORY_SIZE = env_int("FILE_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# The Ministry portal (edu.rosminzdrav.ru), stood in for by ministry_mock. In development (`make run`) the
# mock answers inside the dev server itself at /ministry-mock/; anywhere else it is not part of the portal
# (it would hand out doctors' records to whoever holds its token) and runs alone on its own port
# (ROOT_URLCONF=ministry_mock.urls: `make mock`, docker-compose's ministry-mock), unless asked for explicitly.
MINISTRY_MOCK_MOUNTED = env_bool("MINISTRY_MOCK_MOUNTED", DEBUG)
# A newcomer who signs up in the demo is not known to the mock, and could not link the account: with DEBUG on,
# the mock registers a specialist for a valid СНИЛС the first time it is asked to link one. Never in production:
# the mock checks DEBUG itself too, whatever this says.
MINISTRY_MOCK_REGISTERS_NEWCOMERS = DEBUG and env_bool("MINISTRY_MOCK_REGISTERS_NEWCOMERS", True)
MINISTRY_API_URL = env_str(
    "MINISTRY_API_URL", SITE_URL + "/ministry-mock" if MINISTRY_MOCK_MOUNTED else "http://127.0.0.1:8001"
).rstrip("/")
DEFAULT_MINISTRY_API_TOKEN = "dev-ministry-token"  # noqa: S105 - refused below whenever DEBUG is off
MINISTRY_API_TOKEN = env_str("MINISTRY_API_TOKEN") or DEFAULT_MINISTRY_API_TOKEN
if not DEBUG and MINISTRY_API_TOKEN == DEFAULT_MINISTRY_API_TOKEN:
    raise ImproperlyConfigured(
        "Set MINISTRY_API_TOKEN in the environment: DEBUG is off and the Ministry token is the default."
    )
MINISTRY_TIMEOUT_SECONDS = float(env_str("MINISTRY_TIMEOUT_SECONDS", "5"))
MINISTRY_MAX_ATTEMPTS = env_int("MINISTRY_MAX_ATTEMPTS", 8)
MINISTRY_RETRY_BASE_SECONDS = float(env_str("MINISTRY_RETRY_BASE_SECONDS", "10"))
MINISTRY_RESEND_EVERY_SECONDS = env_int("MINISTRY_RESEND_EVERY_SECONDS", 60)
# The records the Ministry holds for a doctor, read for the portfolio: at most this many (a longer answer is
# refused and the last reading kept), and read again at most once in so many minutes per doctor.
MINISTRY_HELD_RECORDS_MAX = env_int("MINISTRY_HELD_RECORDS_MAX", 10_000)
MINISTRY_HELD_REFRESH_MINUTES = env_int("MINISTRY_HELD_REFRESH_MINUTES", 10)
# A ledger row not announced this long after it was written is announced by the periodic sweep: nobody took it,
# or its e-mail failed. Longer than a busy worker's queue, so that the sweep does not race the poll.
ANNOUNCE_GRACE_SECONDS = env_int("ANNOUNCE_GRACE_SECONDS", 300)
# With a worker (a broker configured), new ledger rows are found by the worker rather than sent to it by each
# request: beat runs credits.tasks.announce_new this often, which e-mails the doctor and hands the record to the
# Ministry. Without a broker (tasks in-process) the request announces its row after commit instead.
ANNOUNCE_POLL_SECONDS = float(env_str("ANNOUNCE_POLL_SECONDS", "1"))
# Delivered outbox rows (the Ministry has the record and the doctor the e-mail) are kept this many days, then
# removed by a nightly task, credits.tasks.prune_delivered_outbox; the ledger and the audit rows are kept.
OUTBOX_RETENTION_DAYS = env_int("OUTBOX_RETENTION_DAYS", 90)
# The hour (in TIME_ZONE) of the night at which the retention runs.
OUTBOX_RETENTION_HOUR = env_int("OUTBOX_RETENTION_HOUR", 3)
# Periodic accreditation: the filing window opens so many months before the document expires (12 by the sources
# found; one source says 90 days). Portfolio files: each PDF at most this size, scans bounded like every upload.
ACCREDITATION_WINDOW_MONTHS = env_int("ACCREDITATION_WINDOW_MONTHS", 12)
PORTFOLIO_PDF_MAX_BYTES = env_int("PORTFOLIO_PDF_MAX_BYTES", 10 * 1024 * 1024)
PORTFOLIO_SCAN_MAX_BYTES = env_int("PORTFOLIO_SCAN_MAX_BYTES", UPLOAD_MAX_BYTES)
PORTFOLIO_MAX_SCANS = env_int("PORTFOLIO_MAX_SCANS", 50)
# The society report's figures are prepared in the background and kept (societies.report_prepared): a page or
# API call that finds them older than this many minutes shows them as of when and queues a new preparation.
SOCIETY_REPORT_MAX_AGE_MINUTES = env_int("SOCIETY_REPORT_MAX_AGE_MINUTES", 60)
# The hour (in TIME_ZONE) of the night at which every society's reports of this year and the last are prepared.
SOCIETY_REPORT_HOUR = env_int("SOCIETY_REPORT_HOUR", 2)
# The hour (in TIME_ZONE) at which the daily accreditation reminders go out.
ACCREDITATION_REMINDERS_HOUR = env_int("ACCREDITATION_REMINDERS_HOUR", 9)
# Status programmes: reminders go out so many days before a status expires, each once per status (the daily run
# is at the accreditation reminders' hour).
STATUS_REMINDER_DAYS = tuple(int(days) for days in env_list("STATUS_REMINDER_DAYS", "180,30"))
# The hour (in TIME_ZONE) on Mondays at which the weekly digest of the societies' announcements goes out.
ANNOUNCEMENT_DIGEST_HOUR = env_int("ANNOUNCEMENT_DIGEST_HOUR", 8)
CELERY_BEAT_SCHEDULE = {
    "resend-undelivered-ministry-records": {
        "task": "ministry_sync.services.resend_undelivered",
        "schedule": MINISTRY_RESEND_EVERY_SECONDS,
    },
    "announce-new-credit-entries": {
        "task": "credits.tasks.announce_new",
        "schedule": ANNOUNCE_POLL_SECONDS,
        # a run not started by the next one's time is dropped: the next one takes its rows
        "options": {"expires": max(ANNOUNCE_POLL_SECONDS * 2, 1.0)},
    },
    "announce-missed-credit-entries": {
        "task": "credits.tasks.announce_missed",
        "schedule": MINISTRY_RESEND_EVERY_SECONDS,
    },
    "mail-certificates-of-ended-events": {
        "task": "codes.certificates.mail_due_certificates",
        "schedule": CERTIFICATES_MAIL_EVERY_SECONDS,
    },
    "build-missed-certificates-files": {
        "task": "codes.certificates.build_missed_certificates",
        "schedule": CERTIFICATES_BUILD_GRACE_SECONDS,
    },
    # Daily, in the morning of the register's zone: each reminder is sent once per doctor, kind and document,
    # so a run missed or repeated sends nothing twice.
    "send-accreditation-reminders": {
        "task": "learning_plan.reminders.send_accreditation_reminders",
        "schedule": crontab(hour=ACCREDITATION_REMINDERS_HOUR, minute=0),
    },
    # Daily, with the accreditation reminders: a status's reminder before expiry, once per status and lead.
    "send-status-reminders": {
        "task": "statuses.reminders.send_status_reminders",
        "schedule": crontab(hour=ACCREDITATION_REMINDERS_HOUR, minute=5),
    },
    # Nightly: the delivered outbox rows past OUTBOX_RETENTION_DAYS, in short runs that queue each other.
    "prune-delivered-outbox-records": {
        "task": "credits.tasks.prune_delivered_outbox",
        "schedule": crontab(hour=OUTBOX_RETENTION_HOUR, minute=30),
    },
    # Nightly: every society's reports of this year and the last, each a task of its own.
    "prepare-society-reports": {
        "task": "societies.report_prepared.prepare_society_reports",
        "schedule": crontab(hour=SOCIETY_REPORT_HOUR, minute=15),
    },
    # Weekly, on Monday morning of the register's zone: the week before's announcements, each digest at most
    # once per doctor and week, so a run missed or repeated sends nothing twice.
    "send-announcement-digests": {
        "task": "societies.digest.send_announcement_digests",
        "schedule": crontab(day_of_week=1, hour=ANNOUNCEMENT_DIGEST_HOUR, minute=0),
    },
}
# A request that enqueues a task must not hang when the broker is down: the outbox keeps the work.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Publishing fails at once instead of retrying for seconds inside a doctor's request; workers still
# reconnect on their own (broker_connection_retry).
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 0,
    "interval_start": 0,
    "interval_step": 0,
    "interval_max": 0,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # One folder for what is sent and what is read (the web process and the worker share it), one for the
    # exchanges' bindings; the worker looks for new files twice a second.
    for folder in ("queue", "control"):
        (LOCAL_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(LOCAL_BROKER_DIR / "queue"),
        "data_folder_out": str(LOCAL_BROKER_DIR / "queue"),
        "control_folder": str(LOCAL_BROKER_DIR / "control"),
        "polling_interval": 0.5,
    }
