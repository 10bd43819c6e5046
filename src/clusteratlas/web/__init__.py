"""The web application (issue 5): :func:`clusteratlas.web.app.create_app` builds it.

``api/`` holds the JSON API under ``/api/``. Nothing is built at import: no settings, engine
or app object exists until ``create_app`` is called.
"""
