"""`tallyman workflow …`: purchase orders, transfers, reservations, counts, settings, tasks.

Why through the HTTP API and not the ledger file: reservations and on-order quantities live in
the running central's engine, and every write must pass the same role checks and land in the
same audit trail as the dashboard's. The token comes from --token or $TALLYMAN_TOKEN, the API
from --api or $TALLYMAN_API. Output is the API's JSON; exit status 1 with its error on refusal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any


def request(api: str, token: str | None, method: str, path: str, body: Any = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(api.rstrip("/") + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        try:
            err = json.loads(exc.read())
        except ValueError:
            err = {"error": str(exc.code), "detail": exc.reason}
        raise SystemExit(f"tallyman workflow: {err.get('error')}: {err.get('detail')}") from None
    except urllib.error.URLError as exc:
        raise SystemExit(f"tallyman workflow: cannot reach {api}: {exc.reason}") from None


def _lines(specs: list[str], fields: tuple[str, ...]) -> list[dict]:
    out = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) != len(fields):
            raise SystemExit(f"--line {spec!r}: expected {':'.join(f.upper() for f in fields)}")
        line = dict(zip(fields, parts, strict=True))
        line["qty"] = int(line["qty"])
        out.append(line)
    return out


def _file(path: str) -> Any:
    return json.loads(Path(path).read_text())


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tallyman workflow", description=__doc__.split("\n")[0])
    p.add_argument("--api", default=os.environ.get("TALLYMAN_API", "http://127.0.0.1:8080/api"))
    p.add_argument("--token", default=os.environ.get("TALLYMAN_TOKEN"))
    sub = p.add_subparsers(dest="doc", required=True)

    po = sub.add_parser("po", help="purchase orders").add_subparsers(dest="cmd", required=True)
    po.add_parser("list").add_argument("--status")
    for cmd in ("show", "submit", "approve", "reject", "cancel", "close", "send"):
        c = po.add_parser(cmd)
        c.add_argument("ref", help="PO number or id")
        c.add_argument("--note")
        if cmd == "send":
            c.add_argument("--channel", choices=("webhook", "file"))
    c = po.add_parser("create", help="a draft PO by hand")
    c.add_argument("--supplier", required=True)
    c.add_argument("--line", action="append", required=True, help="SKU:SITE:QTY (repeat)")
    c.add_argument("--submit", action="store_true")
    c = po.add_parser("from-proposal", help="a PO from a proposal JSON file (planning's draft PO)")
    c.add_argument("file")
    c.add_argument("--submit", action="store_true")

    to = sub.add_parser("transfer", help="transfer orders").add_subparsers(
        dest="cmd", required=True
    )
    to.add_parser("list").add_argument("--status")
    for cmd in ("show", "approve", "reject", "cancel", "dispatch", "complete"):
        c = to.add_parser(cmd)
        c.add_argument("ref")
        c.add_argument("--note")
    c = to.add_parser("create")
    c.add_argument("--from", dest="from_site", required=True)
    c.add_argument("--to", dest="to_site", required=True)
    c.add_argument("--line", action="append", required=True, help="SKU:QTY (repeat)")
    to.add_parser("from-suggestions").add_argument("file", help="JSON list of suggestions")
    c = to.add_parser("resolve")
    c.add_argument("ref")
    c.add_argument("discrepancy", type=int)
    c.add_argument("--resolution", required=True, choices=("write_off", "found", "claim", "accept"))
    c.add_argument("--note")

    res = sub.add_parser("reservation", help="reservations").add_subparsers(
        dest="cmd", required=True
    )
    res.add_parser("list").add_argument("--status")
    res.add_parser("show").add_argument("id", type=int)
    c = res.add_parser("create")
    for name in ("sku", "site", "channel"):
        c.add_argument(f"--{name}", required=True)
    c.add_argument("--qty", type=int, required=True)
    c.add_argument("--ttl", type=float, help="seconds")
    c = res.add_parser("fulfil")
    c.add_argument("id", type=int)
    c.add_argument("--as", dest="how", default="sale", choices=("sale", "pick", "handheld"))
    res.add_parser("cancel").add_argument("id", type=int)

    cnt = sub.add_parser("count", help="count approvals").add_subparsers(dest="cmd", required=True)
    cnt.add_parser("list").add_argument("--status", default="pending")
    for cmd in ("approve", "reject"):
        c = cnt.add_parser(cmd)
        c.add_argument("id", type=int)
        c.add_argument("--note")

    st = sub.add_parser("settings", help="workflow settings").add_subparsers(
        dest="cmd", required=True
    )
    st.add_parser("show")
    st.add_parser("set").add_argument("pairs", nargs="+", help="KEY=JSON, e.g. po_auto_send=false")
    sub.add_parser("tasks", help="open handheld tasks of a site").add_argument(
        "--site", required=True
    )
    return p


def run(args: argparse.Namespace) -> Any:
    call = lambda method, path, body=None: request(args.api, args.token, method, path, body)  # noqa: E731
    doc, cmd = args.doc, getattr(args, "cmd", None)
    if doc == "tasks":
        return call("GET", f"/tasks?site={urllib.parse.quote(args.site)}")
    if doc == "settings":
        if cmd == "show":
            return call("GET", "/workflow-settings")
        changes = {}
        for pair in args.pairs:
            key, _, value = pair.partition("=")
            changes[key] = json.loads(value)
        return call("PUT", "/workflow-settings", changes)
    base = {
        "po": "/purchase-orders",
        "transfer": "/transfers",
        "reservation": "/reservations",
        "count": "/counts",
    }[doc]
    if cmd == "list":
        query = f"?status={urllib.parse.quote(args.status)}" if args.status else ""
        return call("GET", base + query)
    if cmd == "show":
        return call("GET", f"{base}/{getattr(args, 'ref', None) or args.id}")
    if doc == "po" and cmd == "create":
        lines = _lines(args.line, ("sku", "site", "qty"))
        return call(
            "POST", base, {"supplier": args.supplier, "lines": lines, "submit": args.submit}
        )
    if doc == "po" and cmd == "from-proposal":
        return call("POST", f"{base}/from-proposal", {**_file(args.file), "submit": args.submit})
    if doc == "transfer" and cmd == "create":
        body = {
            "from_site": args.from_site,
            "to_site": args.to_site,
            "lines": _lines(args.line, ("sku", "qty")),
        }
        return call("POST", base, body)
    if doc == "transfer" and cmd == "from-suggestions":
        return call("POST", f"{base}/from-suggestions", {"suggestions": _file(args.file)})
    if doc == "transfer" and cmd == "resolve":
        body = {"resolution": args.resolution, "note": args.note}
        return call("POST", f"{base}/{args.ref}/discrepancies/{args.discrepancy}/resolve", body)
    if doc == "reservation" and cmd == "create":
        body = {"sku": args.sku, "site": args.site, "qty": args.qty, "channel": args.channel}
        if args.ttl:
            body["ttl_s"] = args.ttl
        return call("POST", base, body)
    if doc == "reservation":
        body = {"as": args.how} if cmd == "fulfil" else {}
        return call("POST", f"{base}/{args.id}/{cmd}", body)
    target = getattr(args, "ref", None) or getattr(args, "id", None)
    body: dict = {"note": args.note} if getattr(args, "note", None) else {}
    if cmd == "send" and args.channel:
        body["channel"] = args.channel
    return call("POST", f"{base}/{target}/{cmd}", body)


def main(argv: list[str]) -> int:
    print(json.dumps(run(parser().parse_args(argv)), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "workflow")
