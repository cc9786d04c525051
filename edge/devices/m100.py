"""The serial protocol of M100-family UHF RFID modules (MagicRF M100, YRM100, JRD-4035), as bytes.

One definition for both ends of the cable: the edge's reader driver (`edge/devices/rfid_reader.py`)
and the reader stub (`firmware_stubs/rfid.py`) frame and parse with these functions; the tests pin
them to the bytes the module's manual gives, so the two ends cannot agree on a mistake.

Frame: BB type cmd PL_hi PL_lo params… checksum 7E, where type is
00 command, 01 response, 02 notice, and checksum = sum(type … last param) & 0xFF.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

HEADER = 0xBB
END = 0x7E
TYPE_COMMAND = 0x00
TYPE_RESPONSE = 0x01
TYPE_NOTICE = 0x02

CMD_INFO = 0x03
CMD_INVENTORY = 0x22
CMD_MULTI_INVENTORY = 0x27
CMD_STOP = 0x28
CMD_SET_POWER = 0xB6
CMD_GET_POWER = 0xB7
CMD_ERROR = 0xFF

ERR_NO_TAG = 0x15
ERR_COMMAND = 0x17


def checksum(body: bytes) -> int:
    """Sum of the bytes from `type` through the last parameter, & 0xFF."""
    return sum(body) & 0xFF


def build_frame(ftype: int, cmd: int, params: bytes = b"") -> bytes:
    body = bytes([ftype, cmd, len(params) >> 8, len(params) & 0xFF]) + params
    return bytes([HEADER]) + body + bytes([checksum(body), END])


def crc16_gen2(data: bytes) -> int:
    """EPC Gen2 CRC-16 (CRC-16/GENIBUS: poly 0x1021, init 0xFFFF, inverted), over PC + EPC."""
    crc = 0xFFFF
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc ^ 0xFFFF


def pc_for(epc: bytes) -> int:
    """Protocol Control word: EPC length in 16-bit words in bits 15..11, other bits 0."""
    if len(epc) % 2:
        raise ValueError("an EPC is a whole number of 16-bit words")
    return (len(epc) // 2) << 11


def tag_notice(epc: bytes, rssi: int, pc: int | None = None, crc: int | None = None) -> bytes:
    """`BB 02 22 PL RSSI PC(2) EPC(n) CRC(2) cs 7E` for one tag read."""
    pc = pc_for(epc) if pc is None else pc
    pc_epc = pc.to_bytes(2, "big") + epc
    crc = crc16_gen2(pc_epc) if crc is None else crc
    return build_frame(
        TYPE_NOTICE, CMD_INVENTORY, bytes([rssi & 0xFF]) + pc_epc + crc.to_bytes(2, "big")
    )


def error_frame(code: int) -> bytes:
    return build_frame(TYPE_RESPONSE, CMD_ERROR, bytes([code]))


def single_inventory() -> bytes:
    return build_frame(TYPE_COMMAND, CMD_INVENTORY)


def multi_inventory(count: int) -> bytes:
    return build_frame(TYPE_COMMAND, CMD_MULTI_INVENTORY, bytes([0x22, count >> 8, count & 0xFF]))


def stop_inventory() -> bytes:
    return build_frame(TYPE_COMMAND, CMD_STOP)


@dataclass(frozen=True)
class RfidFrame:
    ftype: int
    cmd: int
    params: bytes


class FrameParser:
    """Incremental M100 frame splitter; bad frames are counted and skipped, never raised.

    Resynchronises on the next 0xBB after a bad checksum or a missing 0x7E, the way the
    modules' own firmware does.
    """

    def __init__(self, max_params: int = 512):
        self.max_params = max_params
        self.bad = 0
        self.last_error = ""
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[RfidFrame]:
        self._buf += data
        out: list[RfidFrame] = []
        while True:
            start = self._buf.find(bytes([HEADER]))
            if start < 0:
                self._buf.clear()
                return out
            del self._buf[:start]
            if len(self._buf) < 5:
                return out
            plen = (self._buf[3] << 8) | self._buf[4]
            if plen > self.max_params:
                self._reject("length field too large")
                continue
            total = 5 + plen + 2
            if len(self._buf) < total:
                return out
            frame = bytes(self._buf[:total])
            body = frame[1 : 5 + plen]
            if frame[-1] != END:
                self._reject("no 0x7E end byte")
                continue
            if frame[-2] != checksum(body):
                self._reject(f"bad checksum {frame[-2]:02X}, expected {checksum(body):02X}")
                continue
            del self._buf[:total]
            out.append(RfidFrame(frame[1], frame[2], frame[5 : 5 + plen]))

    def _reject(self, reason: str) -> None:
        self.bad += 1
        self.last_error = reason
        del self._buf[:1]  # resync on the next header byte


class TagNotice(TypedDict):
    """One tag seen in an inventory round: signal (dBm), protocol control word, EPC, CRC check."""

    rssi: int
    pc: int
    epc: str  # upper-case hex
    crc_ok: bool


def parse_tag_notice(params: bytes) -> TagNotice:
    """Params of a tag notice → its fields; raises ValueError."""
    if len(params) < 5:
        raise ValueError("tag notice too short")
    rssi = params[0] - 256 if params[0] > 127 else params[0]
    pc = int.from_bytes(params[1:3], "big")
    n = (pc >> 11) * 2
    if len(params) != 1 + 2 + n + 2:
        raise ValueError(f"PC says {n} EPC bytes, notice carries {len(params) - 5}")
    epc = params[3 : 3 + n]
    crc = int.from_bytes(params[3 + n : 5 + n], "big")
    return {
        "rssi": rssi,
        "pc": pc,
        "epc": epc.hex().upper(),
        "crc_ok": crc == crc16_gen2(params[1 : 3 + n]),
    }
