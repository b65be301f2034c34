"""moto's AWS emulator as a WSGI application, for gunicorn to serve beside the portal in benchmarks/signed_api.py
(the same server, settings and client for both)."""

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

application = DomainDispatcherApplication(create_backend_app)
