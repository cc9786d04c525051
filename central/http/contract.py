"""The API's contract: what each route takes and answers, declared once as msgspec Structs.

Why one declaration: the route decodes its body and query through the same model that the
OpenAPI document (`central.http.openapi`) is generated from, so the document cannot drift from
what the code accepts, and a refused request names the field that was wrong. Why msgspec and
not pydantic: it was already a dependency of central, and on the reservation path (the one
route with a throughput target) decoding and validating a body through a Struct costs about a
microsecond, less than the `json.loads` it replaces (figures in docs/api.md).

`endpoint(...)` is the one decorator a route needs: it checks the bearer token's role (through
`central.access.tokens.require_role`), decodes and validates the body and the query into the
declared models, passes them to the view as `body=` and `query=`, and records the declaration
on the view for the document.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from flask import request
from msgspec import Meta

from central.access.tokens import require_role
from central.http.errors import ApiError
from tallyman import wire

T = TypeVar("T")

#: Where `endpoint` leaves its declaration on the view function.
ATTR = "api_endpoint"


class Error(msgspec.Struct):
    """Every refusal: a stable code for programs and a sentence for people."""

    error: Annotated[str, Meta(description="stable code, e.g. bad_request, insufficient_stock")]
    detail: Annotated[str, Meta(description="what was wrong, naming the field when a field was")]


# --- types shared by the capabilities' models ---------------------------------------------------

#: A site id: the same rule as `tallyman.wire.valid_id` (sites become MQTT topic levels).
SiteId = Annotated[
    str,
    Meta(pattern=wire.ID_PATTERN, description="a site id, e.g. DC1", examples=["DC1"]),
]
#: A positive whole quantity; planning sends whole floats such as 12.0, kept as given.
WholeQty = (
    Annotated[int, Meta(gt=0, le=1_000_000_000)]
    | Annotated[float, Meta(gt=0, le=1_000_000_000, multiple_of=1)]
)
#: Any amount that is a number (a setting, a cost), kept as an int or a float as given.
Number = int | float
Note = Annotated[str, Meta(max_length=1000, description="free text for the audit trail")]


class NoteBody(msgspec.Struct, omit_defaults=True):
    """The optional body of a decision (approve, reject, cancel, …): a note for the record."""

    note: Note | None = None


# --- declaring a route ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """What a route takes and answers; the OpenAPI document is built from these."""

    summary: str
    roles: tuple[str, ...] = ()
    body: type | None = None
    body_required: bool = True
    query: type | None = None
    response: Any = None
    status: tuple[int, ...] = (200,)
    errors: tuple[int, ...] = ()


#: Every declaration made, routed or not: the completeness test checks each one has a route.
DECLARED: list[Endpoint] = []


def endpoint(
    summary: str | None = None,
    *,
    roles: tuple[str, ...] = (),
    body: type | None = None,
    body_required: bool = True,
    query: type | None = None,
    response: Any = None,
    status: int | tuple[int, ...] = 200,
    errors: tuple[int, ...] = (),
) -> Callable[[Callable], Callable]:
    """Declare a route (see the module docstring). `summary` defaults to the view docstring's
    first paragraph; `roles` empty means open (reads); admin always passes a role check; `status`
    lists the success codes, the first the usual one; `errors` the refusals beyond those that
    follow from the declaration (400 for a body or query, 401/403 for roles, 404 for a path)."""

    def wrap(view: Callable) -> Callable:
        first = (view.__doc__ or "").strip().split("\n\n")[0]
        spec = Endpoint(
            summary=summary or " ".join(first.split()).rstrip(".") or view.__name__,
            roles=roles,
            body=body,
            body_required=body_required,
            query=query,
            response=response,
            status=status if isinstance(status, tuple) else (status,),
            errors=errors,
        )
        DECLARED.append(spec)

        @functools.wraps(view)
        def decoded(*args: Any, **kwargs: Any) -> Any:
            if body is not None:
                kwargs["body"] = read_body(body, body_required)
            if query is not None:
                kwargs["query"] = read_query(query)
            return view(*args, **kwargs)

        guarded = require_role(*roles)(decoded) if roles else decoded
        setattr(guarded, ATTR, spec)
        return guarded

    return wrap


def declared(view: Callable) -> Endpoint | None:
    """The declaration of a view function, if it has one."""
    return getattr(view, ATTR, None)


# --- decoding ----------------------------------------------------------------------------------

NO_BODY = "send a JSON body (Content-Type: application/json)"


@functools.cache
def decoder(model: type[T]) -> msgspec.json.Decoder[T]:
    return msgspec.json.Decoder(model)


def decode(model: type[T], raw: bytes) -> T:
    """`raw` JSON as `model`, or ApiError 400 bad_request whose detail names the field."""
    try:
        return decoder(model).decode(raw)
    except msgspec.ValidationError as exc:
        raise ApiError(400, "bad_request", explain(exc, model)) from None
    except msgspec.DecodeError as exc:
        raise ApiError(400, "bad_request", f"the body is not JSON: {exc}") from None


def read_body(model: type[T], required: bool = True) -> T:
    """This request's body as `model`. An empty body is refused when required, else it is the
    model's defaults (a decision without a note)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ApiError(400, "bad_request", NO_BODY)
        return model()
    return decode(model, raw)


def read_query(model: type[T]) -> T:
    """This request's query string as `model` (text converted to the declared types). An empty
    value counts as not given, and parameters the model does not name are ignored, as before."""
    args = {k: v for k, v in request.args.items() if v != ""}
    try:
        return msgspec.convert(args, model, strict=False)
    except msgspec.ValidationError as exc:
        raise ApiError(400, "bad_request", explain(exc, model)) from None


def explain(exc: msgspec.ValidationError, model: type | None = None) -> str:
    """msgspec's message with the field first (`lines[0].qty: expected `int` >= 1`), and the
    valid values when a choice was wrong (`channel: invalid enum value 'fax' (one of …)`)."""
    message, _, where = str(exc).partition(" - at `$")
    where = where.removesuffix("`").lstrip(".")
    if not where:
        return message
    detail = f"{where}: {message[:1].lower()}{message[1:]}"
    if model is not None and message.startswith("Invalid enum value"):
        choices = _choices(model, where)
        if choices:
            detail += f" (one of {', '.join(map(str, choices))})"
    return detail


def _choices(model: type, where: str) -> list[Any]:
    """The enum at `where` (`lines[0].kind`) in the model's JSON schema, if there is one."""
    schema = msgspec.json.schema(model)
    defs = schema.get("$defs", {})

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = defs[node["$ref"].rsplit("/", 1)[1]]
        return node

    def step(node: dict[str, Any], part: str) -> dict[str, Any]:
        for option in [node, *node.get("anyOf", ())]:
            option = resolve(option)
            if part == "[...]" and "additionalProperties" in option:
                return resolve(option["additionalProperties"])
            if part.startswith("[") and "items" in option:
                return resolve(option["items"])
            if part in option.get("properties", {}):
                return resolve(option["properties"][part])
        return {}

    node = resolve(schema)
    for part in re.findall(r"\[[^\]]*\]|[^.\[\]]+", where):
        node = step(node, part)
    for option in [node, *node.get("anyOf", ())]:
        if "enum" in resolve(option):
            return list(resolve(option)["enum"])
    return []


def as_dict(value: msgspec.Struct) -> dict[str, Any]:
    """A decoded model as the plain dict the services take (fields left unset are omitted, so a
    service's own default applies)."""
    out: dict[str, Any] = msgspec.to_builtins(value)
    return out
