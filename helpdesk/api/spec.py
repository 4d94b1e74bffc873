"""The API's one schema source: pydantic models validate requests and responses and make the OpenAPI document.

SpecTree was chosen over APIFlask and flask-smorest because the API's bodies
were already pydantic models (the signed ticket webhook) and those two speak
marshmallow — a second schema language for the same shapes; over
flask-openapi3 because SpecTree decorates plain Flask blueprints instead of
asking for its own application class.  It emits OpenAPI 3.1, whose schemas
are the JSON Schema pydantic writes, with nothing translated in between.

A route opts in with ``@api_spec.validate(...)`` under its ``@api_auth``:
authentication runs first, then the body and query are checked (a bad one
is answered 422 in the API's one error shape, naming the field), then the
response is checked against its model — a response that breaks its own
schema is the server's fault and is logged and answered 500, never sent.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Request
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response as SpecResponse
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from helpdesk.api.errors import ApiError

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. `not_found`, `invalid`, `rate_limited`")
    message: str = Field(description="what is wrong and what to do next, in English")
    field: str | None = Field(description="the input at fault as a dotted path (`tags.0`), or null")


class ErrorBody(BaseModel):
    """Every error the API answers, whatever the status."""

    error: ErrorDetail


class ApiModel(BaseModel):
    """Request bodies refuse fields they do not know, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


#: The errors any authenticated route may answer, documented on every operation.
COMMON_ERRORS = (401, 404, 413, 429)


def responses(*errors: int, **ok: type[BaseModel] | None) -> SpecResponse:
    """A route's responses: ``responses(422, HTTP_200=TicketOut)`` plus the errors every route may give."""
    codes = {**ok}
    for status in (*COMMON_ERRORS, *errors):
        codes[f"HTTP_{status}"] = ErrorBody
    return SpecResponse(**codes)


def _field(loc: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "__root__")]
    return ".".join(parts) or None


def _before(
    request: Request, response: Any, error: Exception | None, instance: Any, *_: Any
) -> None:  # pragma: no cover - signature set by SpecTree
    """A request that fails its model is answered in the API's error shape, with the first field at fault."""
    if error is None:
        return
    errors = error.errors() if hasattr(error, "errors") else []
    first = errors[0] if errors else {}
    field = _field(first.get("loc", ()))
    where = "query parameter" if request.args and field in request.args else "field"
    text = first.get("msg", "invalid input")
    message = f"{where} {field!r}: {text}" if field else f"the body: {text}"
    raise ApiError(422 if request.method != "GET" else 400, "invalid", message, field)


def _after(request: Request, response: Any, error: Exception | None, instance: Any, *_: Any) -> None:
    """A response that breaks its own schema is a bug here: log it, answer 500, send nothing half-right."""
    if error is None:
        return
    log.error("API response of %s %s broke its schema: %s", request.method, request.path, error)
    raise ApiError(500, "internal_error", "the server could not handle the request")


api_spec = SpecTree(
    "flask",
    mode="strict",  # only the routes that declare their models; the HTML pages are not API
    title="Helpdesk API",
    version="1",
    description=(
        "Tickets, messages, customers, orders and events of the helpdesk, for integrations. "
        "Send `Authorization: Bearer <token>` (Admin → API tokens). Errors always have the shape "
        '`{"error": {"code", "message", "field"}}`. Guide with examples: docs/api.md.'
    ),
    security_schemes=[
        SecurityScheme(
            name="bearer",
            data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer", description="an API token"),
        )
    ],
    security={"bearer": []},
    before=_before,
    after=_after,
    validation_error_status=422,
    validation_error_model=ErrorBody,
    annotations=False,
    # Plain model names in the document (``TicketOut``, not ``TicketOut.3f2a1b0``): they must be unique, and are.
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)

#: Payload models of outbound webhook events, by event name, for the document's ``webhooks`` section.
WEBHOOK_EVENTS: dict[str, tuple[type[BaseModel], str]] = {}


def webhook_event(name: str, description: str) -> Any:
    """Class decorator: document a model as the payload of the outbound webhook event ``name``."""

    def register(model: type[BaseModel]) -> type[BaseModel]:
        WEBHOOK_EVENTS[name] = (model, description)
        return model

    return register


#: Operations validated outside SpecTree (the signed ticket webhook checks its signature over the raw body first),
#: added to the document as written: path → method → (operation, the models its ``$ref``s name).
UNVALIDATED_PATHS: dict[str, dict[str, tuple[dict[str, Any], tuple[type[BaseModel], ...]]]] = {}


def _add_schema(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    for key, value in schema.pop("$defs", {}).items():
        schemas.setdefault(key, value)
    schemas[model.__name__] = schema


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document: the validated routes, the signed ticket webhook, the outbound webhooks' payloads."""
    spec = dict(api_spec.spec)
    schemas = dict(spec.get("components", {}).get("schemas", {}))
    paths = dict(spec.get("paths", {}))
    for path, operations in UNVALIDATED_PATHS.items():
        paths[path] = {**paths.get(path, {}), **{method: op for method, (op, _) in operations.items()}}
        for _op, models in operations.values():
            for model in models:
                _add_schema(schemas, model)
    spec["paths"] = paths
    webhooks: dict[str, Any] = {}
    for name, (model, description) in sorted(WEBHOOK_EVENTS.items()):
        _add_schema(schemas, model)
        webhooks[name] = {
            "post": {
                "summary": description,
                "description": 'Signed `X-Helpdesk-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.',
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
                },
                "responses": {"2XX": {"description": "received; any other status is retried with back-off"}},
            }
        }
    spec["components"] = {**spec.get("components", {}), "schemas": schemas}
    if webhooks:
        spec["webhooks"] = webhooks
    return spec
