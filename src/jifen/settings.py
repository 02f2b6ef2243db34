"""Django settings. Every value that varies by deployment is read here from the environment,
and nowhere else (see docs/deploy.md for the full list)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("JIFEN_VAR_DIR", Path.cwd() / "var")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    """JIFEN_SECRET_KEY, or a key generated once into var/secret_key and reused after."""
    if key := os.environ.get("JIFEN_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once must agree on one key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("JIFEN_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("JIFEN_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("JIFEN_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    # Only for its templates and static files: the API docs page then loads Swagger UI from
    # here, without a CDN or an inline script (the CSP allows neither).
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "jifen.core",
    "jifen.people",
    "jifen.integrations",
    "jifen.ledger",
    "jifen.earning",
    "jifen.mall",
    "jifen.activities",
    "jifen.library",
    "jifen.insights",
    "jifen.notifications",
    "jifen.demo",
    # Single sign-on and two-factor sign-in (docs/decisions/0020-sign-in-with-allauth.md).
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.dingtalk",
    "allauth.socialaccount.providers.feishu",
    "jifen.people.sso.wecom",
    "allauth.mfa",
]

MIDDLEWARE = [
    "jifen.core.observability.middleware.RequestObservabilityMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "jifen.core.security.RequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "jifen.core.middleware.ApiErrorShapeMiddleware",
    "jifen.core.middleware.SiteLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Admins who must use a second factor enrol before anything else (jifen.people.mfa).
    "jifen.people.mfa.middleware.RequireSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "jifen.urls"
WSGI_APPLICATION = "jifen.wsgi.application"
ASGI_APPLICATION = "jifen.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "jifen.web.context_processors.site",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'jifen.sqlite3'}"
DATABASE_URL = os.environ.get("JIFEN_DATABASE_URL", DEFAULT_DATABASE_URL)
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["OPTIONS"] = {
        # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so
        # two writers queue instead of failing half-way with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
elif _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].update(
        {
            "charset": "utf8mb4",
            "init_command": "SET sql_mode='STRICT_TRANS_TABLES'",
            "isolation_level": "read committed",
        }
    )
    _db["TEST"] = {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_unicode_ci"}
if _db["ENGINE"] != "django.db.backends.sqlite3":
    # Keep each server thread's connection between requests: opening one per request cost
    # about 2.5 ms and a new server process on PostgreSQL (docs/performance.md). The health
    # check replaces a connection the server closed meanwhile. 0 closes after each request.
    _db["CONN_MAX_AGE"] = int(os.environ.get("JIFEN_DB_CONN_MAX_AGE", "60"))
    _db["CONN_HEALTH_CHECKS"] = True
if _db["ENGINE"] == "django.db.backends.postgresql" and _env_bool(
        "JIFEN_DB_PREPARED_STATEMENTS", True):
    # Values bound by the server and statements run often prepared once per connection, so
    # PostgreSQL stops parsing and planning the same hot-path statements on every call
    # (about a third of its work per API order). Set JIFEN_DB_PREPARED_STATEMENTS=0 behind
    # a pooler in transaction mode that cannot carry prepared statements.
    _db.setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------------------
REDIS_URL = os.environ.get("JIFEN_REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("JIFEN_CACHE_PREFIX", "jifen"),
        }
    }
    CACHES["shared"] = CACHES["default"]
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Counters every process must see (failed sign-ins): in the database when there
        # is no Redis. ``jifen migrate`` creates its table.
        "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache",
                   "LOCATION": "jifen_shared_cache",
                   # Django's 300 would cull live counts under a spray of failures.
                   "OPTIONS": {"MAX_ENTRIES": 200_000}},
    }
# Whether a cache entry deleted by one process is gone for all (jifen.core.caching).
CACHE_IS_SHARED = bool(REDIS_URL)

# --- background tasks -----------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "people.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One sign-in policy for every password check (portal, API token, django-admin): the
# backend reserves an attempt per account and per client address before it checks the
# password (jifen.core.throttle). Failed sign-ins allowed per account, from anywhere, and per
# client address, over all accounts, in the window before a pause.
AUTHENTICATION_BACKENDS = ["jifen.people.backends.ThrottledModelBackend"]
LOGIN_THROTTLE_LIMIT = int(os.environ.get("JIFEN_LOGIN_THROTTLE_LIMIT", "5"))
LOGIN_THROTTLE_ADDRESS_LIMIT = int(os.environ.get("JIFEN_LOGIN_THROTTLE_ADDRESS_LIMIT", "20"))
LOGIN_THROTTLE_WINDOW = int(os.environ.get("JIFEN_LOGIN_THROTTLE_WINDOW", "900"))
# API calls per minute per caller (issue #16): an API key's own limit when it has one,
# else JIFEN_API_KEY_RATE_LIMIT; employee tokens get the higher JIFEN_API_TOKEN_RATE_LIMIT.
# 0 turns the limit off. Counted in the default cache (Redis when configured).
JIFEN_API_KEY_RATE_LIMIT = int(os.environ.get("JIFEN_API_KEY_RATE_LIMIT", "600"))
JIFEN_API_TOKEN_RATE_LIMIT = int(os.environ.get("JIFEN_API_TOKEN_RATE_LIMIT", "1200"))
# Where the attempts are counted without Redis: a table updated with conditional UPDATEs
# (Django's database cache cannot increment atomically).
THROTTLE_COUNTER_MODEL = "people.AttemptCounter"
# How many reverse proxies of ours stand in front of `jifen serve`: the client's address is
# read from X-Forwarded-For through that many hops, never further (jifen.core.client_address).
# 0: the header is ignored. Behind one TLS proxy, as docs/deploy.md sets up: 1.
TRUSTED_PROXIES = int(os.environ.get("JIFEN_TRUSTED_PROXIES", "0"))
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured("JIFEN_TRUSTED_PROXIES must be 0 or more.")
# Django's own admin at /django-admin/ (model-level editing for operators). The console
# covers the daily work; set JIFEN_DJANGO_ADMIN=0 to take it off the site.
DJANGO_ADMIN = _env_bool("JIFEN_DJANGO_ADMIN", True)
API_TOKEN_LIFETIME_HOURS = int(os.environ.get("JIFEN_API_TOKEN_LIFETIME_HOURS", "720"))

# --- single sign-on and two-factor (django-allauth; decision 0020) ----------------------
# Accounts come from HR (API, import, SCIM): nobody signs up, and a social login only links
# to an existing, active employee by the claim its provider is configured with.
ACCOUNT_ADAPTER = "jifen.people.sso.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "jifen.people.sso.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_EMAIL_NOTIFICATIONS = False
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
# WeCom's endpoints (tests point them at a fake server on 127.0.0.1).
SOCIALACCOUNT_PROVIDERS = {
    "wecom": {
        "AUTHORIZE_URL": os.environ.get(
            "JIFEN_WECOM_AUTHORIZE_URL", "https://open.weixin.qq.com/connect/oauth2/authorize"),
        "API_URL": os.environ.get("JIFEN_WECOM_API_URL", "https://qyapi.weixin.qq.com"),
    },
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_TOTP_ISSUER = os.environ.get("JIFEN_MFA_ISSUER", "jifen")
# http://127.0.0.1 in development and tests; browsers allow WebAuthn on localhost only.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Wrong second-factor codes: allauth counts them per account under "login_failed"
# (mfa-auth-user-<pk>); 5 per 15 minutes, as for passwords.
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"{LOGIN_THROTTLE_ADDRESS_LIMIT}/{LOGIN_THROTTLE_WINDOW}s/ip,"
                    f"{LOGIN_THROTTLE_LIMIT}/{LOGIN_THROTTLE_WINDOW}s/key",
}

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- static & media -------------------------------------------------------------------
STATIC_URL = "/static/"
# Where collectstatic puts the fingerprinted, compressed files WhiteNoise serves.
STATIC_ROOT = Path(os.environ.get("JIFEN_STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("JIFEN_MEDIA_ROOT", VAR_DIR / "media"))
# The embedded default runs without a reverse proxy, so Django serves uploads (logos, item
# images) itself unless JIFEN_SERVE_MEDIA=0 says a proxy does.
SERVE_MEDIA = _env_bool("JIFEN_SERVE_MEDIA", True)
# Uploaded spreadsheets (employees' details, unissued redemption codes) are never public:
# they go to their own storage outside MEDIA_ROOT, which nothing serves.
PRIVATE_ROOT = Path(os.environ.get("JIFEN_PRIVATE_ROOT", VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "imports": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": PRIVATE_ROOT}},
    # Outside DEBUG, pages link fingerprinted names (tabler.min.3f2a….css) that WhiteNoise
    # serves from STATIC_ROOT, pre-compressed (.br, .gz) and cached for a year as immutable.
    # `jifen serve` collects them when the sources changed (jifen.core.staticfiles).
    "staticfiles": {
        "BACKEND": "jifen.core.staticfiles.StaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# In DEBUG the files come straight from the source folders, re-read on each request.
WHITENOISE_USE_FINDERS = DEBUG
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- mail -----------------------------------------------------------------------------
EMAIL_HOST = os.environ.get("JIFEN_SMTP_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("JIFEN_SMTP_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("JIFEN_SMTP_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("JIFEN_SMTP_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("JIFEN_SMTP_TLS")
EMAIL_TIMEOUT = 15
DEFAULT_FROM_EMAIL = os.environ.get("JIFEN_MAIL_FROM", "jifen@localhost")
# Notifications that ask for it (e.g. low stock) also go out by e-mail once an SMTP host is
# configured; links in them start with JIFEN_BASE_URL.
JIFEN_MAIL_ENABLED = bool(os.environ.get("JIFEN_SMTP_HOST"))
JIFEN_BASE_URL = os.environ.get("JIFEN_BASE_URL", "").rstrip("/")

# --- IM platforms ------------------------------------------------------------------------
# The IM platforms' server APIs for direct messages (tests point them at 127.0.0.1).
JIFEN_WECOM_API_URL = os.environ.get("JIFEN_WECOM_API_URL", "https://qyapi.weixin.qq.com")
JIFEN_DINGTALK_API_URL = os.environ.get("JIFEN_DINGTALK_API_URL", "https://oapi.dingtalk.com")

# --- imports ----------------------------------------------------------------------------
# Days an uploaded spreadsheet is kept after its import was last touched (the job's counts
# and per-row errors stay).
JIFEN_IMPORT_RETENTION_DAYS = int(os.environ.get("JIFEN_IMPORT_RETENTION_DAYS", "30"))

# --- outbound calls (webhooks, suppliers, IM robots) -----------------------------------
# Hosts or networks (comma-separated: "hooks.internal,10.1.0.0/16") that outbound calls may
# reach although they are loopback or private; everything else private is refused.
JIFEN_OUTBOUND_ALLOW_HOSTS = [
    h.strip() for h in os.environ.get("JIFEN_OUTBOUND_ALLOW_HOSTS", "").split(",") if h.strip()
]

# --- security -------------------------------------------------------------------------
# One switch for a site that people reach over HTTPS, through a TLS proxy in front of
# `jifen serve` (docs/deploy.md): Django then believes the proxy's X-Forwarded-Proto (the
# proxy must set it on every request, overwriting the client's), marks the session and CSRF
# cookies Secure and sends HSTS. The proxy redirects plain HTTP itself, so Django does not.
# JIFEN_SECURE_COOKIES, the older name for part of this, still turns it on.
HTTPS = _env_bool("JIFEN_HTTPS", _env_bool("JIFEN_SECURE_COOKIES"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # A year, the host only (no subdomains, no preload list): 0 turns HSTS off.
    SECURE_HSTS_SECONDS = int(os.environ.get("JIFEN_HSTS_SECONDS", "31536000"))
SECURE_SSL_REDIRECT = False
# The proxy's redirect to HTTPS is what Django's deploy check W008 asks for.
SILENCED_SYSTEM_CHECKS = ["security.W008"]
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy on every answer (django-csp; decision 0014). Scripts only from
# our own static files: no inline script or handler, no eval (Alpine's CSP build, htmx with
# allowEval off). <style> elements only from our files or with the request's nonce (the
# site colour in base.html); style="" attributes stay allowed, since Tabler, htmx and ECharts
# set them. Images may be data: URIs (Tabler's form controls draw with them).
from csp.constants import NONCE  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "style-src-elem": ["'self'", NONCE],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Powerful browser features no page of ours uses are off for every page, so that injected
# markup cannot ask for them either (django-permissions-policy).
PERMISSIONS_POLICY = {
    feature: [] for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "geolocation", "gyroscope",
        "hid", "magnetometer", "microphone", "midi", "payment", "serial", "usb",
    )
}
# The largest request body a page takes (bigger ones get a 413 page before anything reads
# them): the form fields Django keeps in memory, plus room for an uploaded file of the
# largest size the uploads accept (20 MB) and its envelope.
REQUEST_BODY_MAX_SIZE = 21 * 1024 * 1024

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# One JSON object per line (jifen.core.observability.logs; docs/operations.md), secrets
# redacted; JIFEN_LOG_FORMAT=text for a terminal. The request and task lines are INFO
# records of their own loggers: JIFEN_REQUEST_LOG=off silences them.
LOG_FORMAT = os.environ.get("JIFEN_LOG_FORMAT", "json").strip().lower()
_REQUEST_LOG_LEVEL = ("WARNING" if os.environ.get("JIFEN_REQUEST_LOG", "on").strip().lower()
                      in ("off", "0", "no", "false") else "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "jifen.core.observability.logs.JsonFormatter"},
        "text": {"()": "jifen.core.observability.logs.TextFormatter",
                 "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler",
                             "formatter": "text" if LOG_FORMAT == "text" else "json"}},
    "root": {"handlers": ["console"], "level": os.environ.get("JIFEN_LOG_LEVEL", "WARNING")},
    "loggers": {"jifen.requests": {"level": _REQUEST_LOG_LEVEL},
                "jifen.tasks": {"level": _REQUEST_LOG_LEVEL}},
}

# --- metrics (/metrics) ----------------------------------------------------------------
# A scraper shows JIFEN_METRICS_TOKEN as a bearer token, or comes from an address in
# JIFEN_METRICS_ALLOW (comma-separated IPs or CIDRs); with neither set /metrics is a 404.
METRICS_TOKEN = os.environ.get("JIFEN_METRICS_TOKEN", "").strip()
METRICS_ALLOW = [ipaddress.ip_network(part.strip(), strict=False)
                 for part in os.environ.get("JIFEN_METRICS_ALLOW", "").split(",") if part.strip()]
