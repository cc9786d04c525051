"""The handheld page: what the device's screen shows, over HTTP on the device itself."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import Flask, Response, jsonify
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from edge.service import Edge

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Tallyman handheld</title>
<style>body{font:15px system-ui;margin:1rem}.ERR,.REJECTED{color:#b00020}.OK{color:#1b5e20}
.HELD{color:#8a5300;font-weight:bold}</style>
</head><body><h1 id="h">handheld</h1><p id="q"></p><ol id="l" reversed></ol><script>
async function r(){const s=await (await fetch('api/screen')).json();
document.getElementById('h').textContent=s.device+' @ '+s.site;
document.getElementById('q').textContent=`location ${s.loc??'-'} · mode ${s.mode} · `+
 `${s.queue} waiting for central · broker ${s.connected?'connected':'offline'}`;
const l=document.getElementById('l');l.replaceChildren();
for(const x of s.lines.slice().reverse()){const li=document.createElement('li');
li.className=x.level;li.textContent=x.level+' '+x.text;l.appendChild(li)}}
r();setInterval(r,1000)</script></body></html>"""


def create_app(edge: Edge) -> Flask:
    app = Flask("tallyman.handheld")

    @app.get("/")
    def index() -> Response:
        return Response(PAGE, mimetype="text/html")

    @app.get("/api/screen")
    def screen() -> Response:
        with edge.screen.lock:
            lines = list(edge.screen.lines)
        return jsonify(
            device=edge.publisher.device,
            site=edge.publisher.site,
            loc=edge.session.loc,
            mode=edge.session.mode,
            queue=edge.outbox.queue_length(),
            connected=edge.publisher.connected,
            lines=lines,
            rejections=edge.outbox.rejections(),
        )

    return app


def serve(edge: Edge, host: str, port: int) -> None:
    """Serve the page on a daemon thread: it lives and dies with the edge process."""
    server = make_server(host, port, create_app(edge), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"handheld page on http://{host}:{server.server_port}/", flush=True)
