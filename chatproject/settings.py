"""Settings: embedded defaults with nothing set, production from the environment.

Every variable is documented in `.env.example` and docs/configuration.md.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():  # optional: no warning without one
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -----------------------------------------------------------------------

DEBUG = env.bool("DEBUG", default=False)
INSECURE_DEV_KEY = "django-insecure-local-development-only"
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_KEY)
if not DEBUG and SECRET_KEY in ("", INSECURE_DEV_KEY):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or still the development default while DEBUG is off. "
        "Set SECRET_KEY in the environment to a long random value, e.g. "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, "
        "or set DEBUG=1 for local development."
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "chat",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "chatproject.urls"
ASGI_APPLICATION = "chatproject.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Data -----------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
# Channels closes "old" connections before every WebSocket message it dispatches,
# so a connection that is not kept costs a reconnect per message: ~2 ms on SQLite,
# more on PostgreSQL, before the user's message can be stored (bench/README.md).
# PostgreSQL therefore draws from a pool (closing returns the connection to it);
# SQLite, a local file, keeps its connections.
_db = DATABASES["default"]
_db.setdefault("CONN_HEALTH_CHECKS", env.bool("CONN_HEALTH_CHECKS", default=True))
if _db["ENGINE"].endswith("postgresql") and env.bool("DATABASE_POOL", default=True):
    # Per process; mind the database's connection limit times the processes.
    _db.setdefault("OPTIONS", {}).setdefault(
        "pool",
        {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        },
    )
    _db["CONN_MAX_AGE"] = 0  # pooling and persistent connections exclude each other
elif _db["ENGINE"].endswith("sqlite3"):
    _db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=600))
    # WAL: a commit costs ~1.5 ms instead of ~15 (bench/turn_steps.py), and readers
    # do not block the writer.
    _db.setdefault("OPTIONS", {}).setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
else:
    _db.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Heroku-style Redis serves TLS (rediss://) with a self-signed certificate.
REDIS_SSL_CERT_REQS = env.str("REDIS_SSL_CERT_REQS", default="none")
# The first part of every Redis key and channel of this deployment, so that two
# deployments (staging and production, say) can share one Redis.
REDIS_KEY_PREFIX = env.str("REDIS_KEY_PREFIX", default="chat")


def _redis_host() -> dict:
    """channels-redis host entry; rediss:// gets the platform's certificate policy.
    The socket timeout must outlast channels-redis's 5 s blocking reads (redis-py
    8 defaults to 5 s, which closed every idle socket with 1011)."""
    host = {"address": REDIS_URL, "socket_timeout": 15, "client_name": "djchat:layer"}
    if REDIS_URL.startswith("rediss://"):
        host["ssl_cert_reqs"] = REDIS_SSL_CERT_REQS
    return host


if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "chat.delivery.layers.RedisChannelLayer",
            "CONFIG": {"hosts": [_redis_host()], "prefix": f"{REDIS_KEY_PREFIX}:asgi"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "chat-default",
    }
}

# --- Auth -----------------------------------------------------------------------

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "chat:index"
LOGOUT_REDIRECT_URL = "login"

# --- Locale and static ---------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security headers ----------------------------------------------------------

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Logging --------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "chat.logs.RedactSecretsFilter"}},
    "formatters": {
        "json": {"()": "chat.logs.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env.str("LOG_FORMAT", default="plain" if DEBUG else "json"),
            "filters": ["redact"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "openai": {"level": "WARNING"},
        # uvicorn's access log through our handler (JSON, secrets redacted), not
        # its own; daphne's goes through logging too (chatproject/access_log.py).
        "uvicorn.access": {"handlers": ["console"], "propagate": False},
    },
}

# --- The model ------------------------------------------------------------------

# An OpenAI-compatible endpoint: OpenAI itself, or llama.cpp, vLLM, Ollama.
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
# "openai" talks to the endpoint above; "demo" is the built-in, clearly labelled
# demo model. Default: openai when a key or base URL is set, demo otherwise.
LLM_BACKEND = env.str(
    "LLM_BACKEND", default="openai" if (OPENAI_API_KEY or OPENAI_BASE_URL) else "demo"
)
LLM_MODEL = env.str("LLM_MODEL", default="gpt-4o-mini")
LLM_TEMPERATURE = env.float("LLM_TEMPERATURE", default=0.7)
LLM_TOP_P = env.float("LLM_TOP_P", default=1.0)
# Reply cap in tokens; also the reply budget reserved when trimming history.
LLM_MAX_TOKENS = env.int("LLM_MAX_TOKENS", default=512)
# Seconds for the whole HTTP request to the provider, and for connecting.
LLM_TIMEOUT = env.float("LLM_TIMEOUT", default=60.0)
LLM_CONNECT_TIMEOUT = env.float("LLM_CONNECT_TIMEOUT", default=5.0)
# Retries before the first token (chat/llm/failover.py: the one retry layer).
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)
LLM_SYSTEM_PROMPT = env.str(
    "LLM_SYSTEM_PROMPT",
    default="You are a helpful, concise assistant. Answer in Markdown.",
)
# Bumped whenever the system prompt or message template changes meaningfully.
LLM_PROMPT_VERSION = env.str("LLM_PROMPT_VERSION", default="1")
# Context window of the model in tokens, used when trimming history.
LLM_CONTEXT_WINDOW = env.int("LLM_CONTEXT_WINDOW", default=8192)

# --- Chat -----------------------------------------------------------------------

# Longest accepted user message, in characters, after normalisation.
CHAT_MAX_MESSAGE_CHARS = env.int("CHAT_MAX_MESSAGE_CHARS", default=8000)
# Largest accepted WebSocket frame in bytes; bigger frames close the socket (1009).
CHAT_MAX_FRAME_BYTES = env.int("CHAT_MAX_FRAME_BYTES", default=65536)
# Largest conversation import accepted (our JSON or ChatGPT's conversations.json),
# in bytes; a bigger upload is refused with 413 before its body is read.
CHAT_IMPORT_MAX_BYTES = env.int("CHAT_IMPORT_MAX_BYTES", default=50 * 2**20)
# How long deltas are held to coalesce them into one frame, in milliseconds.
CHAT_COALESCE_MS = env.float("CHAT_COALESCE_MS", default=8.0)
# Open sockets per user (browser tabs); one more is refused with close code 4429.
CHAT_MAX_SOCKETS_PER_USER = env.int("CHAT_MAX_SOCKETS_PER_USER", default=10)
# Streaming rows older than this (seconds) with no live task are marked interrupted.
CHAT_STALE_STREAM_SECONDS = env.int("CHAT_STALE_STREAM_SECONDS", default=120)
# In DEBUG with no users, create a local account and print its credentials.
CHAT_CREATE_LOCAL_USER = env.bool("CHAT_CREATE_LOCAL_USER", default=DEBUG)
# Pause between the demo model's tokens, in milliseconds.
CHAT_DEMO_DELAY_MS = env.float("CHAT_DEMO_DELAY_MS", default=15.0)
# What the prompt-injection screen does with a match: block, flag (record and
# continue) or off.
CHAT_INJECTION_POLICY = env.str("CHAT_INJECTION_POLICY", default="block")
# Score at which the screen counts a message as an injection attempt (lower: stricter).
CHAT_INJECTION_THRESHOLD = env.float("CHAT_INJECTION_THRESHOLD", default=1.0)
# Which injection screens run (heuristics, classifier, judge; cheapest first) and
# how their verdicts combine: any (any one flags) or borderline (only heuristic
# scores from CHAT_INJECTION_BORDERLINE up to the threshold go to the others).
CHAT_INJECTION_BACKENDS = env.list("CHAT_INJECTION_BACKENDS", default=["heuristics"])
CHAT_INJECTION_COMBINE = env.str("CHAT_INJECTION_COMBINE", default="any")
CHAT_INJECTION_BORDERLINE = env.float("CHAT_INJECTION_BORDERLINE", default=0.3)
# When an optional screen fails: open (pass, flagged as unavailable) or closed.
CHAT_INJECTION_ON_FAILURE = env.str("CHAT_INJECTION_ON_FAILURE", default="open")
# The local classifier: a directory with model.onnx and tokenizer.json (supplied by
# the operator, never downloaded), and the probability that counts as an attempt.
CHAT_INJECTION_CLASSIFIER_PATH = env.str("CHAT_INJECTION_CLASSIFIER_PATH", default="")
CHAT_INJECTION_CLASSIFIER_THRESHOLD = env.float(
    "CHAT_INJECTION_CLASSIFIER_THRESHOLD", default=0.5
)
# The LLM judge: a catalogue model's key, and how long its verdict may take (s).
CHAT_INJECTION_JUDGE_MODEL = env.str("CHAT_INJECTION_JUDGE_MODEL", default="")
CHAT_INJECTION_JUDGE_TIMEOUT = env.float("CHAT_INJECTION_JUDGE_TIMEOUT", default=5.0)
# Also redact e-mail addresses and phone numbers from replies (secrets always are).
CHAT_REDACT_PII = env.bool("CHAT_REDACT_PII", default=False)
# Stop a reply nobody has followed for this many seconds (page closed, no other tab
# or SSE client): it is stored `cancelled` with its text. 0 lets every reply finish.
CHAT_UNWATCHED_REPLY_GRACE_SECONDS = env.float(
    "CHAT_UNWATCHED_REPLY_GRACE_SECONDS", default=0.0
)
# Let the conversation's model title it once the first reply completes (a small
# call, budgeted and in the ledger); off: the first line of the first message stays.
CHAT_TITLES = env.bool("CHAT_TITLES", default=True)
# The PostgreSQL text search configuration conversation search stems words with
# (english, french, german..., or simple for none); after changing it, run
# `manage.py search_index` to rebuild the index.
CHAT_SEARCH_LANGUAGE = env.str("CHAT_SEARCH_LANGUAGE", default="english")
# Seconds between saves of a streaming reply's partial text (what survives a crash).
# With Redis the reply's stream keeps every chunk sent, so the sweeper recovers it
# all; on the embedded default the checkpoint is all there is: once a second.
CHAT_CHECKPOINT_SECONDS = env.float(
    "CHAT_CHECKPOINT_SECONDS", default=5.0 if REDIS_URL else 1.0
)
# After SIGTERM, seconds replies in flight may take to finish before they are stored
# `interrupted` and sockets close with 4012; keep it under the platform's kill
# timeout (Heroku, Render, Dokku: 30 s) with room to store and close.
CHAT_SHUTDOWN_GRACE_SECONDS = env.float("CHAT_SHUTDOWN_GRACE_SECONDS", default=20.0)

# --- Model registry and token counting ------------------------------------------

# Model overrides or additions as a JSON object, inline or in a file (see
# chat/llm/registry.py for the fields): context window, output cap, prices.
CHAT_MODELS = env.str("CHAT_MODELS", default="")
CHAT_MODELS_FILE = env.str("CHAT_MODELS_FILE", default="")
# Where tiktoken's encoding files are looked for (never downloaded); without them
# token counts are a calibrated estimate that errs high.
# Empty or unset: tiktoken's own variables (so a cache tiktoken filled is found),
# else <BASE_DIR>/.cache/tiktoken.
CHAT_TIKTOKEN_CACHE_DIR = (
    env.str("CHAT_TIKTOKEN_CACHE_DIR", default="")
    or env.str("TIKTOKEN_CACHE_DIR", default="")
    or env.str("DATA_GYM_CACHE_DIR", default="")
    or str(BASE_DIR / ".cache" / "tiktoken")
)

# --- Resilience -----------------------------------------------------------------

# Fallbacks tried in order when the primary fails before its first token:
# comma-separated "model" (same endpoint) or "model@https://host/v1".
LLM_FALLBACKS = env.list("LLM_FALLBACKS", default=[])
# Exponential backoff with jitter between retries (seconds), before any text.
LLM_RETRY_BASE_DELAY = env.float("LLM_RETRY_BASE_DELAY", default=0.5)
LLM_RETRY_MAX_DELAY = env.float("LLM_RETRY_MAX_DELAY", default=8.0)
# A Retry-After longer than this fails fast (retryable) instead of waiting.
LLM_MAX_RETRY_AFTER = env.float("LLM_MAX_RETRY_AFTER", default=20.0)
# Seconds to the first token, and between chunks after it; 0 disables.
LLM_FIRST_TOKEN_TIMEOUT = env.float("LLM_FIRST_TOKEN_TIMEOUT", default=30.0)
LLM_CHUNK_GAP_TIMEOUT = env.float("LLM_CHUNK_GAP_TIMEOUT", default=20.0)
# Circuit breaker per model endpoint: failures in a row before it opens, and the
# cool-down before one probe is let through.
CHAT_BREAKER_FAILURES = env.int("CHAT_BREAKER_FAILURES", default=5)
CHAT_BREAKER_COOLDOWN = env.float("CHAT_BREAKER_COOLDOWN", default=30.0)

# --- Observability (docs/observability.md) -------------------------------------

# Bearer token for /metrics (staff sessions are always let in); empty: staff only.
CHAT_METRICS_TOKEN = env.str("CHAT_METRICS_TOKEN", default="")
# Seconds each /readyz check may take.
CHAT_READY_TIMEOUT = env.float("CHAT_READY_TIMEOUT", default=2.0)
# /readyz fails when the model endpoint does not answer (yes for a private server).
CHAT_READY_REQUIRES_MODEL = env.bool("CHAT_READY_REQUIRES_MODEL", default=False)
# LangSmith tracing of every model call: on only with both set.
LANGSMITH_TRACING = env.bool("LANGSMITH_TRACING", default=False)
LANGSMITH_API_KEY = env.str("LANGSMITH_API_KEY", default="")
LANGSMITH_ENDPOINT = env.str("LANGSMITH_ENDPOINT", default="")
LANGSMITH_PROJECT = env.str("LANGSMITH_PROJECT", default="")
# Keep prompts and replies out of traces (timings, usage, metadata still go).
CHAT_TRACE_HIDE_CONTENT = env.bool("CHAT_TRACE_HIDE_CONTENT", default=False)
# Admin link to a call's trace; {run_id} is replaced.
CHAT_TRACE_URL = env.str("CHAT_TRACE_URL", default="")

# --- Response cache (docs/cache.md) ---------------------------------------------

# Where replies are cached: off, memory, sqlite or redis. Empty: redis when REDIS_URL
# is set, memory otherwise.
CHAT_CACHE_BACKEND = env.str("CHAT_CACHE_BACKEND", default="")
# Seconds a cached reply lives (0: until evicted).
CHAT_CACHE_TTL = env.float("CHAT_CACHE_TTL", default=86400)
# Most entries kept (least recently used, or oldest on Redis, go first).
CHAT_CACHE_MAX_ENTRIES = env.int("CHAT_CACHE_MAX_ENTRIES", default=10000)
# Replies generated above this temperature are neither looked up nor stored.
CHAT_CACHE_MAX_TEMPERATURE = env.float("CHAT_CACHE_MAX_TEMPERATURE", default=1.0)
# "user": each user has their own entries; "shared": one entry per identical prompt
# for everyone (only when prompts hold nothing user-specific; see docs/cache.md).
CHAT_CACHE_SCOPE = env.str("CHAT_CACHE_SCOPE", default="user")
# The SQLite store's file (default: .cache/llm.sqlite3 next to manage.py).
CHAT_CACHE_SQLITE_PATH = env.str("CHAT_CACHE_SQLITE_PATH", default="")
# Prefix of every Redis key the cache writes.
CHAT_CACHE_NAMESPACE = env.str(
    "CHAT_CACHE_NAMESPACE", default=f"{REDIS_KEY_PREFIX}:llmcache"
)
# Seconds a cache read or write may take before it counts as a miss.
CHAT_CACHE_TIMEOUT = env.float("CHAT_CACHE_TIMEOUT", default=0.5)

# --- Limits (docs/limits.md) ----------------------------------------------------

# Master switch: off, every admission is granted without any bookkeeping (only for
# trusted single-user setups).
CHAT_LIMITS_ENABLED = env.bool("CHAT_LIMITS_ENABLED", default=True)
# Namespace of every Redis key (and of the in-process store's keys).
CHAT_LIMITS_KEY_PREFIX = env.str(
    "CHAT_LIMITS_KEY_PREFIX", default=f"{REDIS_KEY_PREFIX}:limits"
)
# Redis unreachable: "closed" refuses turns with `busy`; "local" limits per process.
CHAT_LIMITS_ON_REDIS_ERROR = env.str("CHAT_LIMITS_ON_REDIS_ERROR", default="closed")
# Seconds an in-flight slot and its budget reservation live without a heartbeat; a
# turn renews them every third of this, so only a dead process lets them lapse.
CHAT_LIMITS_LEASE_SECONDS = env.float("CHAT_LIMITS_LEASE_SECONDS", default=10.0)
# Per-user sliding windows, e.g. "10/1m,100/1h" (window in s, m, h or d); every rule
# must allow a request; empty turns the rate limit off. Admins override per user
# (Quota).
CHAT_RATE_LIMITS = env.list("CHAT_RATE_LIMITS", default=["10/1m"])
# Replies one user may have in flight (queued or streaming) at once.
CHAT_MAX_CONCURRENT_REPLIES = env.int("CHAT_MAX_CONCURRENT_REPLIES", default=1)
# Budgets per user and period (unset: none). Tokens are input plus output; cost is
# in the price table's currency (chat/llm/registry.py), USD by default.
CHAT_BUDGET_TOKENS_PER_DAY = env.int("CHAT_BUDGET_TOKENS_PER_DAY", default=None)
CHAT_BUDGET_TOKENS_PER_MONTH = env.int("CHAT_BUDGET_TOKENS_PER_MONTH", default=None)
CHAT_BUDGET_COST_PER_DAY = env.str("CHAT_BUDGET_COST_PER_DAY", default=None)
CHAT_BUDGET_COST_PER_MONTH = env.str("CHAT_BUDGET_COST_PER_MONTH", default=None)
# Seconds a user's Quota row is cached per process (admin edits apply after).
CHAT_QUOTA_CACHE_SECONDS = env.float("CHAT_QUOTA_CACHE_SECONDS", default=30.0)
# Towards each model endpoint, across all processes: requests in flight, requests
# per minute and tokens per minute (input estimate plus reply cap); unset: none.
CHAT_UPSTREAM_MAX_CONCURRENT = env.int("CHAT_UPSTREAM_MAX_CONCURRENT", default=None)
CHAT_UPSTREAM_RPM = env.int("CHAT_UPSTREAM_RPM", default=None)
CHAT_UPSTREAM_TPM = env.int("CHAT_UPSTREAM_TPM", default=None)
# Turns that may wait for an upstream slot at once; more are refused with `busy`.
CHAT_UPSTREAM_QUEUE_MAX = env.int("CHAT_UPSTREAM_QUEUE_MAX", default=100)
# Longest wait in that queue before a turn fails with `busy`.
CHAT_UPSTREAM_MAX_WAIT_SECONDS = env.float(
    "CHAT_UPSTREAM_MAX_WAIT_SECONDS", default=30.0
)
# How often a waiting turn looks at the queue (waiters in the same process are also
# woken at once when a slot frees).
CHAT_UPSTREAM_POLL_SECONDS = env.float("CHAT_UPSTREAM_POLL_SECONDS", default=0.1)
# Pause after a provider 429 that carries no Retry-After, and the longest pause a
# Retry-After may impose.
CHAT_UPSTREAM_DEFAULT_PAUSE_SECONDS = env.float(
    "CHAT_UPSTREAM_DEFAULT_PAUSE_SECONDS", default=2.0
)
CHAT_UPSTREAM_MAX_PAUSE_SECONDS = env.float(
    "CHAT_UPSTREAM_MAX_PAUSE_SECONDS", default=300.0
)

# --- Reliability (docs/operations.md) ---
# Seconds without a chunk before a reply's tabs get a `status` frame (0: never).
CHAT_STATUS_INTERVAL_SECONDS = env.float("CHAT_STATUS_INTERVAL_SECONDS", default=5.0)
# Redis connections per process: the main pool's cap (commands wait past it; the
# reply-stop subscription holds one), plus one stream reader. docs/deploy.md.
REDIS_MAX_CONNECTIONS = env.int("REDIS_MAX_CONNECTIONS", default=5)
# The channel layer's Redis connections per process (its receive loop holds one).
REDIS_CHANNEL_LAYER_MAX_CONNECTIONS = env.int(
    "REDIS_CHANNEL_LAYER_MAX_CONNECTIONS", default=3
)
# Pooled Redis connections unused this long are closed.
REDIS_IDLE_SECONDS = env.float("REDIS_IDLE_SECONDS", default=30.0)
# How long a reply's final save is retried while the database is unreachable.
CHAT_FINAL_SAVE_SECONDS = env.float("CHAT_FINAL_SAVE_SECONDS", default=120.0)

# --- The page ---
# Languages the page is translated into (locale/); the browser's Accept-Language, or
# the language picked in the page (a cookie), chooses among them.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
    "django.middleware.locale.LocaleMiddleware",
)

# --- Accounts (docs/security.md#accounts) ---------------------------------------

INSTALLED_APPS += [
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "accounts",
]
MIDDLEWARE += [
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffSecondFactorMiddleware",
]
# allauth's backend logs in by username or email and tells an inactive (blocked)
# account apart only once its password was right.
AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]

# Failed logins share Django's cache; with REDIS_URL it is Redis, so every process
# counts the same failures.
# Connections of that cache's one pool per process (chat/redis_cache.py).
REDIS_CACHE_MAX_CONNECTIONS = env.int("REDIS_CACHE_MAX_CONNECTIONS", default=1)
if REDIS_URL:
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": REDIS_KEY_PREFIX,
        "OPTIONS": {
            "pool_class": "chat.redis_cache.SharedPool",
            **(
                {"ssl_cert_reqs": REDIS_SSL_CERT_REQS}
                if REDIS_URL.startswith("rediss://")
                else {}
            ),
        },
    }

# Who may open an account: closed (staff create accounts), invite (links staff make
# in the admin) or open (anyone; email verified before the first chat).
# CHAT_SIGNUP_ENABLED=1/0 is read as open/closed when CHAT_SIGNUP is unset.
CHAT_SIGNUP = env.str(
    "CHAT_SIGNUP",
    default=(
        ("open" if env.bool("CHAT_SIGNUP_ENABLED") else "closed")
        if env.str("CHAT_SIGNUP_ENABLED", default="")
        else ("open" if DEBUG else "closed")
    ),
)
# Open sign-up only for these email domains (comma-separated; empty: any).
CHAT_SIGNUP_EMAIL_DOMAINS = env.list("CHAT_SIGNUP_EMAIL_DOMAINS", default=[])
# Sign-ups one client address may make per hour.
CHAT_SIGNUPS_PER_ADDRESS_PER_HOUR = env.int(
    "CHAT_SIGNUPS_PER_ADDRESS_PER_HOUR", default=5
)
# Failed logins that lock an account, and from one client address, within the
# lockout window (seconds); a lock lifts as its oldest failure leaves the window.
CHAT_LOGIN_MAX_FAILURES = env.int("CHAT_LOGIN_MAX_FAILURES", default=10)
CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS = env.int(
    "CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS", default=30
)
CHAT_LOGIN_LOCKOUT_SECONDS = env.int("CHAT_LOGIN_LOCKOUT_SECONDS", default=900)
# Proxies in front of the app that append to X-Forwarded-For (Heroku's router: 1);
# 0 ignores the header, so a client cannot forge its address.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("ALLAUTH_TRUSTED_PROXY_COUNT", default=0)
# Or one header a trusted proxy sets to the client address (e.g. CF-Connecting-IP).
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str(
    "ALLAUTH_TRUSTED_CLIENT_IP_HEADER", default=None
)
# Outgoing email (password reset, verification) as one URL: consolemail:// in
# development, smtp+tls://user:password@host:587 in production (default: a mail
# server on localhost, as Django's own default).
EMAIL_URL = env.str(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)


def _mailer(url: str) -> dict:
    """EMAIL_URL (django-environ's syntax) as a MAILERS entry (Django 6.1)."""
    parsed = environ.Env.email_url_config(url)
    options = {}
    if parsed["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        options = {
            "host": parsed["EMAIL_HOST"],
            "port": parsed["EMAIL_PORT"],
            "username": parsed["EMAIL_HOST_USER"],
            "password": parsed["EMAIL_HOST_PASSWORD"],
            "use_tls": parsed.get("EMAIL_USE_TLS", False),
            "use_ssl": parsed.get("EMAIL_USE_SSL", False),
            "timeout": 10,
        }
    return {"BACKEND": parsed["EMAIL_BACKEND"], "OPTIONS": options}


MAILERS = {"default": _mailer(EMAIL_URL)}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="djchat <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Staff must have a second factor (TOTP) to use the admin.
CHAT_MFA_REQUIRED_FOR_STAFF = env.bool("CHAT_MFA_REQUIRED_FOR_STAFF", default=False)
# OpenID Connect providers as a JSON list of {"id", "name", "server_url",
# "client_id", "secret"} (Keycloak, Entra ID, Google, Okta...).
CHAT_OIDC_PROVIDERS = env.json("CHAT_OIDC_PROVIDERS", default=[])
# Hide password login and sign-up: accounts come only through single sign-on.
CHAT_SSO_ONLY = env.bool("CHAT_SSO_ONLY", default=False)

ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
# No username on the sign-up form: a taken one would say the account exists.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_FORMS = {
    "login": "accounts.forms.LoginForm",
    "signup": "accounts.forms.SignupForm",
}
ACCOUNT_PREVENT_ENUMERATION = True
# Sessions last SESSION_COOKIE_AGE, as before allauth: no "remember me" box.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_LOGOUT_ON_PASSWORD_RESET = True
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"{CHAT_LOGIN_MAX_FAILURES_PER_ADDRESS}/{CHAT_LOGIN_LOCKOUT_SECONDS}s/ip,"
        f"{CHAT_LOGIN_MAX_FAILURES}/{CHAT_LOGIN_LOCKOUT_SECONDS}s/key"
    ),
    "signup": f"{CHAT_SIGNUPS_PER_ADDRESS_PER_HOUR}/1h/ip",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "djchat"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": p["id"],
                "name": p.get("name", p["id"]),
                "client_id": p["client_id"],
                "secret": p.get("secret", ""),
                "settings": {"server_url": p["server_url"]},
            }
            for p in CHAT_OIDC_PROVIDERS
        ],
    }
}

# --- Tools the model can call (docs/tools.md) -----------------------------------
# Tool names enabled for every tool-capable catalogue model, comma-separated:
# `python`, `web_fetch`, `mcp:<server>:<tool>` (or `mcp:<server>:*`); empty: none.
CHAT_TOOLS = env.list("CHAT_TOOLS", default=[])
# Whether the model seeded from LLM_MODEL is tool-capable.
LLM_TOOLS = env.bool("LLM_TOOLS", default=False)
# Tool calls one turn may make, in all its model rounds.
CHAT_TOOL_MAX_CALLS = env.int("CHAT_TOOL_MAX_CALLS", default=8)
# Wall time of one tool call before it fails with a tool error.
CHAT_TOOL_TIMEOUT_SECONDS = env.float("CHAT_TOOL_TIMEOUT_SECONDS", default=30.0)
# Tokens (input plus output, all rounds) a turn's tool loop may spend.
CHAT_TOOL_MAX_TOKENS = env.int("CHAT_TOOL_MAX_TOKENS", default=50_000)
# Characters of a tool result given to the model, and shown in the page.
CHAT_TOOL_RESULT_MAX_CHARS = env.int("CHAT_TOOL_RESULT_MAX_CHARS", default=20_000)
CHAT_TOOL_DISPLAY_CHARS = env.int("CHAT_TOOL_DISPLAY_CHARS", default=2_000)
# Characters of tool-call arguments accepted from the model.
CHAT_TOOL_MAX_ARGUMENT_CHARS = env.int("CHAT_TOOL_MAX_ARGUMENT_CHARS", default=50_000)
# A tool result the injection screen flags: `quote` (as data, with a warning) or
# `drop` (the model sees only the warning).
CHAT_TOOL_FLAGGED = env.str("CHAT_TOOL_FLAGGED", default="quote")
# The Python sandbox (Monty): execution seconds, heap bytes, printed bytes, and
# bytes written to its scratch directory per run.
CHAT_PYTHON_TIME_SECONDS = env.float("CHAT_PYTHON_TIME_SECONDS", default=5.0)
CHAT_PYTHON_MEMORY_BYTES = env.int("CHAT_PYTHON_MEMORY_BYTES", default=64 * 2**20)
CHAT_PYTHON_OUTPUT_BYTES = env.int("CHAT_PYTHON_OUTPUT_BYTES", default=64 * 2**10)
CHAT_PYTHON_SCRATCH_BYTES = env.int("CHAT_PYTHON_SCRATCH_BYTES", default=8 * 2**20)
# Web fetch: bytes read, seconds for the whole fetch, redirects followed.
CHAT_FETCH_MAX_BYTES = env.int("CHAT_FETCH_MAX_BYTES", default=2 * 2**20)
CHAT_FETCH_TIMEOUT_SECONDS = env.float("CHAT_FETCH_TIMEOUT_SECONDS", default=10.0)
CHAT_FETCH_MAX_REDIRECTS = env.int("CHAT_FETCH_MAX_REDIRECTS", default=5)
# MCP servers, a JSON object: {"name": {"url": ..., "headers": {"H": "ENV_NAME"}}}
# or {"name": {"command": ..., "args": [...]}}; header values name environment
# variables that hold the secrets.
CHAT_MCP_SERVERS = env.json("CHAT_MCP_SERVERS", default={})
# Seconds a process keeps an MCP server's tool listing (listing starts a stdio
# server); a server that listed nothing is asked again after at most 10 s.
CHAT_MCP_LIST_SECONDS = env.float("CHAT_MCP_LIST_SECONDS", default=300.0)

# --- API keys, the OpenAI-compatible API and the site budget (docs/api.md) -------

# Caps on what all users spend together per day and month (docs/limits.md); unset:
# none. Cost in the price table's currency (USD), tokens are input plus output.
CHAT_SITE_BUDGET_COST_PER_DAY = env.str("CHAT_SITE_BUDGET_COST_PER_DAY", default=None)
CHAT_SITE_BUDGET_COST_PER_MONTH = env.str(
    "CHAT_SITE_BUDGET_COST_PER_MONTH", default=None
)
CHAT_SITE_BUDGET_TOKENS_PER_DAY = env.int(
    "CHAT_SITE_BUDGET_TOKENS_PER_DAY", default=None
)
CHAT_SITE_BUDGET_TOKENS_PER_MONTH = env.int(
    "CHAT_SITE_BUDGET_TOKENS_PER_MONTH", default=None
)
# Share of a site cap (0-1) from which the admin shows a warning banner.
CHAT_SITE_BUDGET_WARN_RATIO = env.float("CHAT_SITE_BUDGET_WARN_RATIO", default=0.8)
# Largest body POST /v1/chat/completions accepts, in bytes (413 beyond).
CHAT_API_MAX_BODY_BYTES = env.int("CHAT_API_MAX_BODY_BYTES", default=1_000_000)

# --- Web server and stream path (docs/deploy.md) --------------------------------

# The HTTP client under the openai SDK: "aiohttp" (less CPU per streamed token,
# chat/llm/transport.py) or "httpx" (the SDK's own).
LLM_HTTP_CLIENT = env.str("LLM_HTTP_CLIENT", default="aiohttp")
if LLM_HTTP_CLIENT not in ("aiohttp", "httpx"):
    raise ImproperlyConfigured("LLM_HTTP_CLIENT must be aiohttp or httpx")

# --- Catalogue (docs/configuration.md#the-model-catalogue) -----------------------

# Longest custom instructions or per-conversation system prompt, in characters.
CHAT_SYSTEM_PROMPT_MAX_CHARS = env.int("CHAT_SYSTEM_PROMPT_MAX_CHARS", default=4000)
