"""The browser pages under ``/ui``: the journeys page and each journey drawn from its plan with live
counts. Server-rendered (Jinja2) with small ES modules; every asset is served from ``static/``."""
