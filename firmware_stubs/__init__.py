"""Emulated devices on ptys for tests, demos and benchmarks: a serial barcode scanner
(`barcode`) and an M100-family UHF RFID reader (`rfid`) on the `pty` plumbing, and
`tallyman scanner` (`cli`) to drive either from stdin. They speak the bytes real devices speak,
using the edge's own framing and M100 definitions (`edge.devices`), which is all of Tallyman
they may import besides the shared ground.
"""
