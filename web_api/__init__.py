"""The HTTP JSON API of ``tongxin serve`` (``/api/v1/``), installed as ``crm_web_api``.

A front end like the CLI: every request is one unit of work acting as the account of
its bearer token (:mod:`crm_core.services.api_tokens`), calling the same services, so
county scope and the confidentiality of talks apply exactly as on the command line. It
never reads or writes SQL itself. FastAPI builds the routes, validates the input (422
naming the field's path) and writes the OpenAPI document (``/api/v1/openapi.json``);
:mod:`crm_web_api.gateway` serves it from the feed server's own HTTP front.
"""

from crm_web_api.factory import make_api

__all__ = ["make_api"]
