"""Getting movements to central exactly once: the durable SQLite `outbox` that every event is
committed to before the operator hears "OK", and the MQTT `publisher` that sends the outbox in
batches and deletes only what central's ack covers. It works on wire-format events and needs
nothing of the edge's layers below it (session, decoding, devices); it uses the wire contract,
`tallyman.net` and paho-mqtt.
"""
