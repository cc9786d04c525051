"""What a frame says: `Scan`, `DecodeError` and the label vocabulary (`scan`), barcode text to a
scan (`decoder`, with GS1 element strings, HRI and Digital Links in `gs1` and in-store
variable-measure numbers in `rcn`), RFID EPCs (`epc`), and `tallyman decode` (`cli`). Pure
functions, no I/O and no state; a site's choices (its SKU pattern, its RCN layouts) arrive as
`decoder.DecodeOptions`. Below it sits only `edge.devices`, which it has no need to import;
beside that it uses the wire contract's GTIN and location checks, biip and pyepc. The rules:
docs/scanning.md.
"""
