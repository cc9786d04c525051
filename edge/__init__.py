"""The edge: one device's service, from a serial scanner or RFID reader to central's broker.

Its modules are layered in the order the data flows, and each imports only those below it:
`main` (`tallyman edge`: settings, wiring, start and stop) → `handheld` (the device's web page) →
`service` (what happens to a frame, a tag or an ack) → `delivery/` (outbox, publisher) →
`session` (the scan state machine) → `decoding/` (scan, GS1, EPC) → `devices/` (serial port,
framing, M100 RFID). Beside `tallyman`'s shared ground (the wire contract, config, console, net)
the edge imports nothing of central or the simulator, and no package of the `[central]` or
`[sim]` extras: a handheld installs `tallyman[edge]` only.
"""
