"""The helpdesk Flask application.

``create_app`` only builds: it reads settings, binds extensions in a visible
order and registers blueprints.  It never migrates, polls or touches the
network; that work lives in CLI commands and background tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from helpdesk.config import load_settings
from helpdesk.params import MAX_ID, DatabaseId

__all__ = ["MAX_ID", "create_app"]


def create_app(
    env: Mapping[str, str] | None = None,
    *,
    instance_path: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Flask:
    """Build an app from ``env`` (default: the process environment)."""
    settings = load_settings(env, instance_path)
    app = Flask(__name__, instance_path=str(settings.instance_path))
    app.url_map.converters["int"] = DatabaseId
    app.config.update(
        HELPDESK_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=settings.attachment_max_bytes + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Sessions are permanent (see the sign-in view) and re-signed on each request, so the cookie lives
        # as long as the idle lifetime; the session record (helpdesk.signin.records) is what really ends it.
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
        REMEMBER_COOKIE_HTTPONLY=True,
        # Over HTTPS the cookies never travel in clear text (HELPDESK_HTTPS, on when the public URL is https)
        SESSION_COOKIE_SECURE=settings.https,
        # and the session cookie is named __Host-…: browsers then refuse one set without Secure, for another
        # path or by a sibling subdomain, so nothing else on the domain can plant or shadow it
        SESSION_COOKIE_NAME="__Host-session" if settings.https else "session",
        REMEMBER_COOKIE_SECURE=settings.https,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).resolve().parent.parent / "translations"),
        WTF_CSRF_TIME_LIMIT=None,
    )
    if overrides:
        app.config.update(overrides)
    if settings.trusted_proxies:
        # Behind nginx every request comes from 127.0.0.1: sign-in throttling and audit need the client's
        # address, and links the scheme the browser used. Only as many hops as configured are believed.
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from helpdesk import extensions, models, tasks  # models: every table registered before binding
    from helpdesk.db import configure_sqlite

    assert models.__all__

    from helpdesk import params

    params.init_app(app)  # first of the request hooks: nothing reads a parameter before it is checked
    extensions.db.init_app(app)
    with app.app_context():
        configure_sqlite(extensions.db.engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(Path(__file__).parent / "migrations"))
    extensions.login_manager.init_app(app)
    from helpdesk.signin import cookie

    cookie.init_app(app)  # each signed-in request keeps its session record alive
    extensions.csrf.init_app(app)
    from helpdesk.signin import passwords

    passwords.init_app(app)  # after the overrides: only a test app may hash cheaply
    from helpdesk.api import ratelimit

    ratelimit.init_app(app)
    from helpdesk import i18n

    extensions.babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    from helpdesk import realtime  # noqa: F401 - its handlers must be declared before init_app replays them

    # SocketIO keeps server options between init_app calls; a queue from an earlier app must not leak in.
    extensions.socketio.server_options.pop("client_manager", None)
    extensions.socketio.init_app(
        app,
        message_queue=settings.redis_url,
        async_mode="threading",
        cors_allowed_origins=_realtime_origins(settings.public_url),
    )
    tasks.configure(app)
    from helpdesk.outbox import relay

    relay.init_app(app)  # built, not started: serve, worker and the first Socket.IO connection start it

    from helpdesk import cli, listeners, outbound, querybudget
    from helpdesk.accounts.admin_views import bp as useradmin_bp
    from helpdesk.accounts.views import bp as accounts_bp
    from helpdesk.admin.views import bp as admin_bp
    from helpdesk.api import routes as api_routes
    from helpdesk.api import views as api_views
    from helpdesk.api.token_views import bp as apitokens_bp
    from helpdesk.api.views import bp as api_bp
    from helpdesk.audit.views import bp as audit_bp
    from helpdesk.backup.views import bp as backup_bp
    from helpdesk.channelaccounts.views import bp as channels_bp
    from helpdesk.customers.views import bp as customers_bp
    from helpdesk.errors import views as errors
    from helpdesk.home.views import bp as home_bp
    from helpdesk.hooks.tickets import bp as webhook_in_bp
    from helpdesk.hooks.views import bp as hooks_bp
    from helpdesk.inbox import fts  # noqa: F401 - registers the hook that indexes new messages for search
    from helpdesk.inbox.views import bp as inbox_bp
    from helpdesk.macros.views import bp as macros_bp
    from helpdesk.notifications.views import bp as notifications_bp
    from helpdesk.reports.views import bp as reports_bp
    from helpdesk.settings.views import bp as settings_bp
    from helpdesk.signin.two_factor_views import bp as two_factor_bp
    from helpdesk.signin.views import bp as signin_bp
    from helpdesk.sla.views import bp as sla_bp
    from helpdesk.tickets.translation_views import bp as ticket_translation_bp
    from helpdesk.tickets.views import bp as tickets_bp
    from helpdesk.translation.views import bp as translationadmin_bp
    from helpdesk.vendor.views import bp as vendor_bp
    from helpdesk.webhooks.views import bp as webhookadmin_bp

    listeners.load()
    app.register_blueprint(accounts_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(inbox_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(ticket_translation_bp)
    app.register_blueprint(customers_bp)
    app.register_blueprint(settings_bp)
    app.register_blueprint(signin_bp)
    app.register_blueprint(two_factor_bp)
    app.register_blueprint(vendor_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(sla_bp)
    assert api_routes.MODULES  # every module that adds routes to the API blueprint, imported
    app.register_blueprint(api_bp)
    app.register_blueprint(api_routes.docs_views.page_bp)
    api_views.init_cors(app)
    app.register_blueprint(macros_bp)
    app.register_blueprint(hooks_bp)
    app.register_blueprint(webhook_in_bp)
    app.register_blueprint(channels_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(useradmin_bp)
    app.register_blueprint(audit_bp)
    app.register_blueprint(apitokens_bp)
    app.register_blueprint(webhookadmin_bp)
    app.register_blueprint(backup_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(translationadmin_bp)
    cli.register(app)
    errors.init_app(app)
    querybudget.init_app(app)
    outbound.init_app(app)
    _security_headers(app)
    return app


def _realtime_origins(public_url: str | None) -> list[str] | None:
    """Browsers on other sites may not open the live inbox's socket with the agent's cookie.

    ``None`` is Engine.IO's same-origin check (the page's own scheme and
    host); behind a proxy the public address is the origin pages come from.
    """
    if not public_url:
        return None
    parts = urlsplit(public_url)
    return [f"{parts.scheme}://{parts.netloc}"]


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # The web process, the task consumer and pollers all write: wait for locks instead of failing.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True}


def _signed_in() -> bool:
    """Whether the response is someone's own page; when the database cannot say (it is down), assume so."""
    import sqlalchemy as sa
    from flask import request
    from flask_login import current_user

    if request.headers.get("Authorization"):
        return True
    if request.endpoint in (None, "static", "vendor.asset"):
        return False
    try:
        return bool(current_user.is_authenticated)
    except sa.exc.DBAPIError:
        return True


def _security_headers(app: Flask) -> None:
    @app.after_request
    def add_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if _signed_in():  # a page for one user: no shared or back-button cache may keep it
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["HELPDESK_SETTINGS"].https:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response
