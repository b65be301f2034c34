"""Settings for the RAM Onboarding Portal, read from the environment.

Development is the default (DEBUG on, SQLite, mail to files). The demo (PORTAL_DEMO, `make run`) keeps development's
conveniences with DEBUG off. Production is DEBUG=False without the demo, which requires SECRET_KEY and ALLOWED_HOSTS
from the environment and turns on every HTTPS protection.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded database and demo mail live here


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# The demo is what a newcomer meets: DEBUG is off there unless asked for (`DEBUG=true make run`), so that a wrong
# address or an error shows the portal's own page (templates/404.html, 500.html…), not Django's debug pages, which
# would also list its settings and URL patterns. It keeps development's conveniences: a development key, local host
# names, plain HTTP, static files straight from the apps and mail to files.
PORTAL_DEMO = env_bool("PORTAL_DEMO", False)
DEBUG = env_bool("DEBUG", not PORTAL_DEMO)
_on_this_machine = DEBUG or PORTAL_DEMO  # development or the demo, never a production server

if _on_this_machine:
    SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-do-not-use-in-production-0123456789")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    # The demo's conveniences (a known key, cookies over plain HTTP) must not reach a server that others can open.
    if PORTAL_DEMO and not DEBUG and not set(ALLOWED_HOSTS) <= {"127.0.0.1", "localhost", "testserver", "[::1]"}:
        raise ImproperlyConfigured(
            "PORTAL_DEMO is for this machine only: ALLOWED_HOSTS may name only 127.0.0.1, localhost or [::1] with it."
        )
else:
    SECRET_KEY = env_str("SECRET_KEY")
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must name this portal's host when DEBUG is off.")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_tasks_db",
    "django_otp.plugins.otp_totp",
    "django_otp_webauthn",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "portal",
    "accounts",
    "projects",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.RequestIdMiddleware",
    "accounts.api.endpoint.RamApiMiddleware",
    "portal.middleware.RejectNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "portal.middleware.SignInRequiredMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
                "accounts.context_processors.navigation",
            ],
        },
    },
]

# SQLite is the embedded default; DATABASE_URL (e.g. postgres://…) selects a real server.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so that two requests cannot both read a
    # row, both decide, and both write (SQLite has no SELECT … FOR UPDATE).
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["OPTIONS"]["timeout"] = 20
    # WAL lets readers run beside the writer; synchronous=NORMAL is durable across application crashes
    # and loses at most the last commits on power loss, the usual trade for an embedded database.
    DATABASES["default"]["OPTIONS"]["init_command"] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    # Tests use a file too (not shared-cache memory, whose table locks fail instead of waiting), so that
    # threaded tests and the live server see the same locking as the real thing.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that asks the socket before it asks the server (portal/postgresql).
    DATABASES["default"]["ENGINE"] = "portal.postgresql"
    # Parameters bound on the server, and statements a connection runs often prepared once (psycopg prepares one
    # after its fifth run): PostgreSQL then plans the signed API's few statements once per connection rather than at
    # every call, where planning took ten times as long as running them (benchmarks/signed_api.py).
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env_bool("DB_SERVER_SIDE_BINDING", True)
    # Django leaves psycopg's prepared statements off (for poolers like PgBouncer in transaction mode): on here, with
    # connections kept (DB_CONN_MAX_AGE); DB_PREPARE_THRESHOLD=0 turns them off behind such a pooler.
    _prepare = env_int("DB_PREPARE_THRESHOLD", 5)
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = _prepare or None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.PortalBackend"]
LOGIN_URL = "accounts:owner-sign-in"

# Argon2id first, at OWASP's parameters (19 MiB, 2 iterations, parallelism 1).
PASSWORD_HASHERS = ["accounts.hashers.OwaspArgon2idHasher"]

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 6 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if not _on_this_machine:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Probes from inside (the load balancer, the orchestrator) ask over plain HTTP; they carry nothing secret.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind a TLS proxy the client's address is the proxy's X-Forwarded-For, believed only from these addresses
# (accounts.gates.client_ip): a client cannot forge its address by sending the header itself.
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")

# Django's built-in Content Security Policy: nothing from other origins, no inline script or style
# except the nonce'd inline scripts the pages need.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if _on_this_machine
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = _on_this_machine
WHITENOISE_AUTOREFRESH = _on_this_machine  # (whitenoise's default is DEBUG's, off in the demo)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# English and Simplified Chinese, each named in itself on the language picker. A page's language is the signed-in
# person's own choice, else this browser's (its cookie), else what the browser asks for (portal.middleware).
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
# Compiled by `make` (msgfmt); only the .po files are committed. EXTRA_LOCALE_PATHS (comma-separated) come first: a
# translator's catalogue under way, tried on the pages before it joins locale/.
LOCALE_PATHS = [*env_list("EXTRA_LOCALE_PATHS"), BASE_DIR / "locale"]
USE_I18N = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = not _on_this_machine
TIME_ZONE = "UTC"
USE_TZ = True

# Mail: files in development unless EMAIL_HOST is set; SMTP (a local relay by default) in production.
_smtp_host = os.environ.get("EMAIL_HOST", "" if _on_this_machine else "localhost")
if _smtp_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp_host,
                "port": env_int("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", False),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "RAM Onboarding Portal <portal@localhost>")

# Every handler, and the development server's request log where its records are made, redacts the secret
# parameters of query strings (portal.redaction): the RAM SDKs send passwords there. The "django" loggers are
# configured here so that none of Django's own handlers, which would not redact, stays attached.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "portal.redaction.RedactSecretsFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_secrets"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_secrets"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": LOG_LEVEL, "propagate": False},
        "django.server": {
            "handlers": ["django.server"],
            "filters": ["redact_secrets"],
            "level": LOG_LEVEL,
            "propagate": False,
        },
        # Django's template engine logs, at DEBUG, every variable it cannot resolve together with the whole context,
        # which on a one-time page holds the secrets: it never logs below INFO here.
        "django.template": {"level": "INFO"},
        # fpdf2's font subsetting narrates every PDF at INFO.
        "fontTools": {"level": "WARNING"},
    },
}
# Error reports (the debug page, the administrators' email) hide those parameters too.
DEFAULT_EXCEPTION_REPORTER = "portal.redaction.PortalExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.redaction.PortalExceptionReporterFilter"

# django-otp: a failed code doubles the wait before the next try.
OTP_TOTP_ISSUER = "RAM Onboarding Portal"
OTP_TOTP_THROTTLE_FACTOR = 1

# Secrets at rest (AccessKey secrets, sealed packet secrets): AES-256-GCM keys from the environment,
# "<version>:<base64 32 bytes>,…" newest first; never from the database or SECRET_KEY. The demo keeps one
# in an ignored file that `manage.py demo_keyring` writes. A missing or unusable keyring stops start-up.
PORTAL_KEYRING_FILE = Path(os.environ.get("PORTAL_KEYRING_FILE", VAR_DIR / "keyring"))
PORTAL_KEYRING = os.environ.get("PORTAL_KEYRING", "") or (
    PORTAL_KEYRING_FILE.read_text().strip() if PORTAL_KEYRING_FILE.is_file() else ""
)

# The product's own settings.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Passkeys' origins: the configured one where WebAuthn can use it (https, or http on localhost; an IP address can
# be no relying party), and the origin each request reached (accounts.passkeys).
OTP_WEBAUTHN_ALLOWED_ORIGINS = [
    PORTAL_BASE_URL if PORTAL_BASE_URL.startswith(("https://", "http://localhost")) else "http://localhost"
]
PORTAL_DOMAIN_SUFFIX = os.environ.get("PORTAL_DOMAIN_SUFFIX", "onaliyun.com")
PORTAL_SELF_SIGN_UP = env_bool("PORTAL_SELF_SIGN_UP", False)
PORTAL_MAX_USERS_PER_CREATE = 50
PORTAL_MAX_IMPORT_ROWS = 10_000  # people one CSV import may hold
PORTAL_IMPORT_STALLED_SECONDS = env_int("PORTAL_IMPORT_STALLED_SECONDS", 120)  # then another worker resumes it
PORTAL_MAX_USERS_PER_BULK_ACTION = 1000  # users one bulk action of the Users table may change, in one request
# Background work (accounts/tasks.py) on Django's tasks framework, kept in the database: the same PostgreSQL or
# SQLite as everything else, run by `manage.py run_worker`, one process or many.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Rows per page of each list (portal.paging.page_of).
PORTAL_PAGE_SIZES = {"users": 50, "projects": 50, "members": 50, "packets": 100, "audit_events": 50}
PORTAL_MAX_ACCESS_KEYS_PER_USER = env_int("PORTAL_MAX_ACCESS_KEYS_PER_USER", 2)
PORTAL_MAX_MFA_DEVICES = env_int("PORTAL_MAX_MFA_DEVICES", 8)  # per person (AWS IAM's limit), passkeys included
# Passkeys (django-otp-webauthn): the relying party and origin are the host the person reached (accounts.passkeys);
# a passkey is a second factor here, never a way in on its own.
OTP_WEBAUTHN_HELPER_CLASS = "accounts.passkeys.PortalWebAuthnHelper"
OTP_WEBAUTHN_RP_ID_CALLABLE = "accounts.passkeys.rp_id"
OTP_WEBAUTHN_RP_NAME = "RAM Onboarding Portal"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# User groups per account, and groups per RAM user (RAM's default quotas).
PORTAL_MAX_GROUPS = env_int("PORTAL_MAX_GROUPS", 50)
PORTAL_MAX_GROUPS_PER_USER = env_int("PORTAL_MAX_GROUPS_PER_USER", 5)
# Signed API calls per AccessKey in any second (0: no limit); beyond, Throttling.User, which the SDKs retry.
PORTAL_API_CALLS_PER_SECOND = env_int("PORTAL_API_CALLS_PER_SECOND", 100)
PORTAL_ALIAS_HOLD_DAYS = 30  # a released enterprise alias is kept from other accounts this long
PORTAL_CLAIM_LINK_HOURS = env_int("PORTAL_CLAIM_LINK_HOURS", 72)
# How long an invitation link works (the person chooses their password with it); it can be sent again after.
PORTAL_INVITATION_HOURS = env_int("PORTAL_INVITATION_HOURS", 168)
# The credential report's finding "not used for N days" (an active AccessKey unused, or never used, this long).
PORTAL_UNUSED_KEY_DAYS = env_int("PORTAL_UNUSED_KEY_DAYS", 90)
# DejaVu (Debian's fonts-dejavu-core, installed by `make`) covers the scripts of most names on the sheets.
PORTAL_PDF_FONT_DIR = os.environ.get("PORTAL_PDF_FONT_DIR", "/usr/share/fonts/truetype/dejavu")
# Noto Sans CJK (Debian's fonts-noto-cjk, installed by `make`) for the Chinese, Japanese and Korean names; its Bold
# collection is expected beside it.
PORTAL_PDF_CJK_FONT = os.environ.get("PORTAL_PDF_CJK_FONT", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
PORTAL_MAIL_RETRY_SECONDS = env_int("PORTAL_MAIL_RETRY_SECONDS", 60)  # first retry; doubles, up to an hour
