"""Visus web adapter: the app factory wires the pure domain packages to HTTP and Socket.IO."""
import os

from flask import Flask

from webapp.config import Config, load_secret_key
from webapp.extensions import csrf, db, login_manager, migrate, socketio

__all__ = ["create_app", "socketio", "db"]

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "visus.sqlite")

    if app.config["SOCKETIO_ASYNC_MODE"] == "eventlet" and app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        from webapp.schema import cooperative_postgresql

        cooperative_postgresql()
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."

    from webapp import audit, auth, clinician, live, main, models, patient, privacy, reports, security  # noqa: F401

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(clinician.bp)
    app.register_blueprint(patient.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(privacy.bp)
    security.init_app(app)  # headers, rate limits (after the blueprints: it limits their views)

    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config.get("REDIS_URL"),
        # Every event of the protocol is small; a large one is refused rather than buffered.
        max_http_buffer_size=app.config.get("SOCKETIO_MAX_MESSAGE_BYTES", 100_000),
        cors_allowed_origins=security.socketio_origins(app),
    )
    security.harden_socketio(app, socketio)  # headers on /socket.io/, reserved event names refused

    if app.config.get("PROXIES"):  # behind nginx: the client's address and scheme, not the proxy's
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXIES"], x_proto=app.config["PROXIES"])

    from webapp.schema import upgrade_if_behind  # also sets SQLite's pragmas on every connection

    if app.config.get("AUTO_MIGRATE", True):
        upgrade_if_behind(app)
    privacy.purge_at_startup(app)  # VISUS_RETENTION_DAYS
    return app
