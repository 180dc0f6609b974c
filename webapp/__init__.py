"""Visus web adapter: the app factory wires the pure domain packages to HTTP and Socket.IO.

Building the app has no side effects: it reads the configuration and registers the parts; it does
not touch the database or write a file, so any `flask --app webapp ...` command is safe. The work of
a server starting up (create the database or upgrade it, purge expired sessions, forget connections
of earlier runs, generate the secret key) is `webapp.startup.start_up`, which server.py calls.
"""

import os

from flask import Flask

from webapp import config
from webapp.extensions import csrf, db, login_manager, migrate, socketio

__all__ = ["create_app", "socketio", "db"]

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    settings = {**config.from_environ(), **config.FIXED, **(test_config or {})}
    app = Flask(__name__, instance_path=os.path.abspath(settings["INSTANCE_PATH"]))
    app.config.update(settings)
    if not app.config.get("SECRET_KEY"):  # None until start-up has made one (webapp/startup.py)
        app.config["SECRET_KEY"] = config.read_secret_key(app.instance_path)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(app.instance_path, "visus.sqlite")

    if app.config["SOCKETIO_ASYNC_MODE"] == "eventlet" and app.config["SQLALCHEMY_DATABASE_URI"].startswith(
        "postgresql"
    ):
        from webapp.schema import cooperative_postgresql

        cooperative_postgresql()
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."

    from webapp import (  # noqa: F401
        audit,
        auth,
        clinician,
        i18n,
        live,
        mail,
        main,
        models,
        patient,
        practice,
        privacy,
        reports,
        security,
    )

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(clinician.bp)
    app.register_blueprint(patient.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(privacy.bp)
    app.register_blueprint(practice.bp)
    i18n.init_app(app)  # `_()` in the patient's templates
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

    import webapp.schema  # noqa: F401  (sets SQLite's pragmas on every connection)

    privacy.retention_days(app)  # a bad VISUS_RETENTION_DAYS is refused now, not at the first purge
    mail.check_settings(app)  # a mail server without a sender address, likewise
    return app
