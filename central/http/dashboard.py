"""The dashboard at `/`: a single page over the public API (no data of its own)."""

from __future__ import annotations

from flask import Blueprint, Response

bp = Blueprint("dashboard", __name__)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tallyman</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:right}
td:first-child,th:first-child,td.t,th.t{text-align:left}
h1{font-size:1.3rem} h2{font-size:1.05rem;margin-top:1.5rem}
.bad{color:#b00020}
</style></head>
<body>
<h1>Tallyman — stock</h1>
<p id="health">loading…</p>
<h2>Stock per SKU × site</h2>
<table id="stock"><thead><tr><th>SKU</th><th class="t">site</th><th>on hand</th>
<th>reserved</th><th>available</th><th>in transit</th></tr></thead><tbody></tbody></table>
<h2>Open dead letters</h2>
<table id="dead"><thead><tr><th>id</th><th class="t">device</th><th>seq</th>
<th class="t">code</th><th class="t">detail</th></tr></thead><tbody></tbody></table>
<script>
function cell(v, cls){const td=document.createElement('td');td.textContent=v??'';
  if(cls)td.className=cls;return td}
function fill(id, rows, cols){const tb=document.querySelector('#'+id+' tbody');tb.replaceChildren();
  for(const r of rows){const tr=document.createElement('tr');
    cols.forEach(([k,cls])=>tr.appendChild(cell(r[k],cls)));tb.appendChild(tr)}}
async function refresh(){
  const h=await (await fetch('api/health')).json();
  document.getElementById('health').textContent=
    `broker ${h.broker_connected?'connected':'DISCONNECTED'} · ${h.movements_applied} movements`+
    ` · ${h.devices.length} devices · ${h.open_dead_letters} open dead letters`;
  const s=await (await fetch('api/stock?by=site&limit=200')).json();
  fill('stock', s.rows, [['sku'],['site','t'],['on_hand'],['reserved'],['available'],
    ['in_transit']]);
  const d=await (await fetch('api/dead-letters?limit=50')).json();
  fill('dead', d.rows, [['id'],['device','t'],['seq'],['code','t bad'],['detail','t']]);
}
refresh(); setInterval(refresh, 2000);
</script></body></html>
"""


@bp.get("/")
def index() -> Response:
    return Response(PAGE, mimetype="text/html")
