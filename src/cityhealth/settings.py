"""Settings, all read from the environment (see docs/configuration.md).

Development is the default so that `make demo` runs with nothing configured. With
CITYHEALTH_MODE=production the process refuses to start on a default secret, on DEBUG, or
without explicit allowed hosts.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

django_stubs_ext.monkeypatch()

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("CITYHEALTH_VAR_DIR", PROJECT_ROOT / "var"))
DATA_DIR = Path(os.environ.get("CITYHEALTH_DATA_DIR", PROJECT_ROOT / "data"))
NODE_MODULES_DIR = PROJECT_ROOT / "node_modules"

DEVELOPMENT_SECRET_KEY = "cityhealth-development-only-secret-key-do-not-use-in-production"  # noqa: S105 — refused in production


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


MODE = os.environ.get("CITYHEALTH_MODE", "development").strip().lower()
if MODE not in {"development", "production"}:
    raise ImproperlyConfigured("CITYHEALTH_MODE must be 'development' or 'production'")
PRODUCTION = MODE == "production"

SECRET_KEY = os.environ.get("CITYHEALTH_SECRET_KEY", DEVELOPMENT_SECRET_KEY)
DEBUG = _env_bool("CITYHEALTH_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = _env_list(
    "CITYHEALTH_ALLOWED_HOSTS",
    [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"],
)
CSRF_TRUSTED_ORIGINS = _env_list("CITYHEALTH_CSRF_TRUSTED_ORIGINS", [])

if PRODUCTION:
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "Production mode needs CITYHEALTH_SECRET_KEY: a secret of at least 32 characters "
            "that is not the development default."
        )
    if DEBUG:
        raise ImproperlyConfigured("Production mode refuses to start with CITYHEALTH_DEBUG on.")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("Production mode needs CITYHEALTH_ALLOWED_HOSTS.")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "cityhealth.web.admin_site.CityHealthAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "cityhealth.core",
    "cityhealth.geo",
    "cityhealth.facilities",
    "cityhealth.accounts",
    "cityhealth.people",
    "cityhealth.records",
    "cityhealth.insurance",
    "cityhealth.reception",
    "cityhealth.fhir",
    "cityhealth.emergency",
    "cityhealth.synth",
    "cityhealth.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cityhealth.web.middleware.VietnameseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cityhealth.web.middleware.DomainErrorPageMiddleware",
    # Outside the request's transaction: a refused or failed FHIR request keeps its row.
    "cityhealth.fhir.trail.AccessTrailMiddleware",
]

ROOT_URLCONF = "cityhealth.urls"
ASGI_APPLICATION = "cityhealth.asgi.application"
WSGI_APPLICATION = "cityhealth.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cityhealth.web.context_processors.navigation",
            ],
        },
    },
]

# --- Database ------------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = VAR_DIR / "cityhealth.sqlite3"
DATABASE_URL = os.environ.get("CITYHEALTH_DATABASE_URL", f"sqlite:///{DEFAULT_SQLITE_PATH}")


# The web server pools connections per process (`python -m cityhealth.serve` turns this on).
# Under ASGI Django runs each request's synchronous code in a thread of its own, and
# connections belong to a thread, so CONN_MAX_AGE cannot keep a connection past its request
# (it would only leak one per request: Django's documentation asks for 0 under ASGI and for
# the backend's pool instead). Without a pool every request opened a new connection: a new
# PostgreSQL backend process, or on SQLite a schema parse and a WAL checkpoint with fsync;
# that was most of the cost of a device's position report. Commands, the task worker and
# the tests keep their one connection anyway and need no pool.
DATABASE_POOL = _env_bool("CITYHEALTH_DATABASE_POOL", default=False)
# PostgreSQL: the most connections one process opens. A console's live stream holds one
# while it lasts, so this is well above the requests a process serves at once.
# SQLite: the most idle connections one process keeps.
DATABASE_POOL_SIZE = int(os.environ.get("CITYHEALTH_DATABASE_POOL_SIZE", "20"))


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=0))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if DATABASE_POOL:
            config["ENGINE"] = "cityhealth.db.sqlite"  # Django's, with the pool (see there)
        # WAL lets the web server and the worker read while one of them writes; IMMEDIATE
        # transactions take the write lock up front so concurrent writers queue instead of
        # failing with "database is locked" half-way through a transaction.
        config["OPTIONS"] = {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
        if DATABASE_POOL:
            config["OPTIONS"]["pool"] = {"max_idle": DATABASE_POOL_SIZE}
        name = config.get("NAME") or ""
        if name and name != ":memory:":
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        if os.environ.get("CITYHEALTH_TEST_SQLITE_IN_MEMORY", "1") == "1":
            config["TEST"] = {"NAME": None}
    else:
        config["TEST"] = {"NAME": os.environ.get("CITYHEALTH_TEST_DATABASE_NAME")}
        postgresql = config["ENGINE"] == "django.db.backends.postgresql"
        if postgresql:
            # Django's, with prepared statements where asked and an idle-aware pool check.
            config["ENGINE"] = "cityhealth.db.postgresql"
        if postgresql and DATABASE_POOL:
            # Django's own pool (psycopg_pool, from psycopg[pool]); a request waits at most
            # `timeout` seconds for a free connection. Health checks: a connection the
            # server dropped (a restart, a failover) is replaced before a request gets it.
            if importlib.util.find_spec("psycopg_pool") is None:
                # Refuse to start rather than fail every request.
                raise ImproperlyConfigured(
                    "CITYHEALTH_DATABASE_POOL needs psycopg_pool: install psycopg[pool]."
                )
            config.setdefault("OPTIONS", {})["pool"] = {
                "min_size": 2,
                "max_size": DATABASE_POOL_SIZE,
                "timeout": 10,
            }
            config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = True
    return config


DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"
SESSION_COOKIE_AGE = 12 * 60 * 60  # one working shift
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken

# --- Language and time ---------------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [PROJECT_ROOT / "src" / "cityhealth" / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Ho_Chi_Minh"  # shown to people; the database stores UTC (USE_TZ)

# --- Static files --------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it even before collectstatic
# Front-end libraries come from npm (package.json); only their built files are served.
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES_DIR / "htmx.org" / "dist"),
    ("vendor/leaflet", NODE_MODULES_DIR / "leaflet" / "dist"),
    ("vendor/chartjs", NODE_MODULES_DIR / "chart.js" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _env_bool("CITYHEALTH_MANIFEST_STATIC", default=PRODUCTION)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Background work -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("CITYHEALTH_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- FHIR bulk export and subscriptions ----------------------------------------------------
# Where `$export` writes its NDJSON files (outside the source tree; served only to the
# client that asked), how big one file may grow, how long one task run works before it
# hands over to the next, and after how long without a heartbeat a run counts as dead.
FHIR_EXPORT_DIR = Path(os.environ.get("CITYHEALTH_FHIR_EXPORT_DIR", VAR_DIR / "fhir-export"))
FHIR_EXPORT_FILE_BYTES = int(os.environ.get("CITYHEALTH_FHIR_EXPORT_FILE_BYTES", 64 * 2**20))
FHIR_EXPORT_SLICE_SECONDS = float(os.environ.get("CITYHEALTH_FHIR_EXPORT_SLICE_SECONDS", "60"))
FHIR_EXPORT_STALL_SECONDS = float(os.environ.get("CITYHEALTH_FHIR_EXPORT_STALL_SECONDS", "300"))
# Subscription rest-hook: how long a subscriber may take to answer, how many times a
# notification is tried, and the first wait between tries (doubled after each failure).
FHIR_SUBSCRIPTION_TIMEOUT_SECONDS = float(
    os.environ.get("CITYHEALTH_FHIR_SUBSCRIPTION_TIMEOUT_SECONDS", "10")
)
FHIR_SUBSCRIPTION_ATTEMPTS = int(os.environ.get("CITYHEALTH_FHIR_SUBSCRIPTION_ATTEMPTS", "5"))
FHIR_SUBSCRIPTION_RETRY_SECONDS = float(
    os.environ.get("CITYHEALTH_FHIR_SUBSCRIPTION_RETRY_SECONDS", "10")
)
# The most entries one batch or transaction Bundle may carry (a larger one is refused whole),
# and the most resources one conditional delete (`DELETE /{type}?…&_count=N`) may remove.
FHIR_BUNDLE_MAX_ENTRIES = int(os.environ.get("CITYHEALTH_FHIR_BUNDLE_MAX_ENTRIES", "10000"))
FHIR_CONDITIONAL_DELETE_MAX = int(os.environ.get("CITYHEALTH_FHIR_CONDITIONAL_DELETE_MAX", "100"))

# --- Shared record access -------------------------------------------------------------------
# How long an OAuth2 access token lives, and whether access-trail rows are committed without
# waiting for the disk on PostgreSQL (a database crash could then lose the last fraction of a
# second of read rows; writes and break-glass also go to the tamper-evident audit chain).
CITYHEALTH_ACCESS_TOKEN_SECONDS = int(os.environ.get("CITYHEALTH_ACCESS_TOKEN_SECONDS", "3600"))
# How long a worker process trusts a bearer token it has checked before looking it up again:
# the bound on honouring a revocation made in another process (`accounts.auth`).
CITYHEALTH_TOKEN_CACHE_SECONDS = float(os.environ.get("CITYHEALTH_TOKEN_CACHE_SECONDS", "5"))
CITYHEALTH_ACCESS_TRAIL_ASYNC_COMMIT = os.environ.get(
    "CITYHEALTH_ACCESS_TRAIL_ASYNC_COMMIT", "1"
).lower() not in ("0", "false", "off", "no")

# --- Health insurance: the social-security (VSS) gateway -----------------------------------
# "simulator" answers from the person registry inside the process (development and demo); a
# URL (https://egw.baohiemxahoi.gov.vn) is the real gateway; empty leaves every check pending.
INSURANCE_VSS_URL = os.environ.get("CITYHEALTH_VSS_URL", "" if PRODUCTION else "simulator")
# Facility account passwords (the account is "<insurance code>_BV"): one for all, and
# "01001=secret,01002=secret" for those that differ. Never committed: from the environment.
INSURANCE_VSS_PASSWORD = os.environ.get("CITYHEALTH_VSS_PASSWORD", "")
INSURANCE_VSS_PASSWORDS = dict(
    item.split("=", 1) for item in _env_list("CITYHEALTH_VSS_PASSWORDS", []) if "=" in item
)
INSURANCE_VSS_CONNECT_TIMEOUT_SECONDS = float(os.environ.get("CITYHEALTH_VSS_CONNECT_TIMEOUT", "3"))
INSURANCE_VSS_TIMEOUT_SECONDS = float(os.environ.get("CITYHEALTH_VSS_TIMEOUT", "8"))
# Tries after the first on a timeout or gateway error, the first wait (doubled each time).
INSURANCE_VSS_RETRIES = int(os.environ.get("CITYHEALTH_VSS_RETRIES", "2"))
INSURANCE_VSS_BACKOFF_SECONDS = float(os.environ.get("CITYHEALTH_VSS_BACKOFF_SECONDS", "0.5"))
# Failures in a row that open the circuit (no call for the cool-down, checks go pending).
INSURANCE_VSS_BREAKER_FAILURES = int(os.environ.get("CITYHEALTH_VSS_BREAKER_FAILURES", "5"))
INSURANCE_VSS_BREAKER_COOLDOWN_SECONDS = float(
    os.environ.get("CITYHEALTH_VSS_BREAKER_COOLDOWN_SECONDS", "30")
)
# Pending checks: first wait before the background re-check (doubled, at most an hour) and
# the most attempts before staff are left to check by hand.
INSURANCE_RECHECK_SECONDS = float(os.environ.get("CITYHEALTH_VSS_RECHECK_SECONDS", "60"))
INSURANCE_RECHECK_ATTEMPTS = int(os.environ.get("CITYHEALTH_VSS_RECHECK_ATTEMPTS", "10"))
# Who the gateway is told checks a card at a kiosk (hoTenCb / cccdCb): a staff member on
# the facility's registered list. The development values suit the simulator only.
INSURANCE_KIOSK_STAFF_NAME = os.environ.get(
    "CITYHEALTH_VSS_KIOSK_STAFF_NAME", "" if PRODUCTION else "NHÂN VIÊN KIOSK"
)
INSURANCE_KIOSK_STAFF_CITIZEN_ID = os.environ.get(
    "CITYHEALTH_VSS_KIOSK_STAFF_CITIZEN_ID", "" if PRODUCTION else "001090000001"
)

# --- Logging -------------------------------------------------------------------------------
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CITYHEALTH_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- cityhealth ----------------------------------------------------------------------------
CITYHEALTH_PROFILE = os.environ.get("CITYHEALTH_PROFILE", "hanoi")
CITYHEALTH_DEMO_PASSWORD = os.environ.get("CITYHEALTH_DEMO_PASSWORD", "demo-cityhealth-2026")
# Trained weights of the person matcher (`cityhealth train_matcher` writes them); without the
# file the matcher uses the prior it ships with.
CITYHEALTH_MATCHER_PATH = Path(os.environ.get("CITYHEALTH_MATCHER_PATH", VAR_DIR / "matcher.json"))
