"""Devices on a serial line: the port that survives unplugging, barcode framing, the M100 RFID
protocol and its tag filter. They turn bytes into frames (text, or an EPC) and send replies back;
what a frame means is for `edge.decoding`. Imports pyserial and the standard library, and
nothing else of the edge: the bottom layer, which `firmware_stubs` also builds its emulators on.
"""
