"""A UHF RFID reader of the MagicRF M100 / YRM100 / JRD-4035 family, emulated on a pty.

Why emulate the binary protocol byte for byte: the edge's RFID driver must cope with what these
modules really send — a notice per tag per inventory round (so the same tag many times a second),
RSSI that wanders, `no tag` errors on empty rounds — and with what goes wrong on the wire: noise,
frames split across reads, bad checksums, unplugging.

The frames themselves are built and parsed by `edge.devices.m100`, the protocol's one definition.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from edge.devices.m100 import (
    CMD_GET_POWER,
    CMD_INFO,
    CMD_INVENTORY,
    CMD_MULTI_INVENTORY,
    CMD_SET_POWER,
    CMD_STOP,
    END,
    ERR_COMMAND,
    ERR_NO_TAG,
    HEADER,
    TYPE_COMMAND,
    TYPE_RESPONSE,
    FrameParser,
    RfidFrame,
    build_frame,
    error_frame,
    pc_for,
    tag_notice,
)
from firmware_stubs.pty import PtyDevice

INFO = {0x00: b"M100 26dBm V1.0", 0x01: b"V2.3.5", 0x02: b"Tallyman stub"}

# Noise never contains the frame delimiters, so it cannot fake the start of a frame.
_NOISE = bytes(b for b in range(256) if b not in (HEADER, END))


# --- the reader ------------------------------------------------------------------------------


@dataclass
class Tag:
    epc: bytes
    rssi: int = -55  # dBm at the antenna; each read wanders a few dB around it


class RfidReaderStub(PtyDevice):
    """An M100-family reader on a pty, answering the host's commands from a thread.

    `on_command` hears a short name for every host command (also kept in `commands`).

    Put tags in the field with `add_tag`; the host's single or multiple inventory then reports
    them. `corrupt_next(n)` spoils the checksum of the next n notices, `split_frames` sends each
    frame in two writes, `noise(n)` adds garbage between frames.
    """

    noise_bytes = _NOISE

    def __init__(
        self,
        link: str | None = None,
        seed: int | None = None,
        round_interval: float = 0.02,
        on_command: Callable[[str], None] | None = None,
    ):
        self.tags: dict[bytes, Tag] = {}
        self.round_interval = round_interval
        self.split_frames = False
        self.power_cdbm = 2600
        self.on_command = on_command
        self.commands: list[str] = []
        self._corrupt = 0
        self._rounds_left = 0
        self._next_round = 0.0
        self._parser = FrameParser()
        self._stop = threading.Event()
        super().__init__(link, "RFID_M100_Stub", seed)
        self._thread = threading.Thread(target=self._run, name="rfid-stub", daemon=True)
        self._thread.start()

    # --- the field -------------------------------------------------------------------------

    def add_tag(self, epc_hex: str, rssi: int = -55) -> None:
        epc = bytes.fromhex(epc_hex)
        pc_for(epc)  # validates the length
        with self._lock:
            self.tags[epc] = Tag(epc, rssi)

    def remove_tag(self, epc_hex: str) -> None:
        with self._lock:
            self.tags.pop(bytes.fromhex(epc_hex), None)

    def clear_tags(self) -> None:
        with self._lock:
            self.tags.clear()

    def corrupt_next(self, n: int = 1) -> None:
        with self._lock:
            self._corrupt += n

    @property
    def inventory_running(self) -> bool:
        return self._rounds_left > 0

    # --- lifecycle -------------------------------------------------------------------------

    def unplug(self) -> None:
        with self._lock:
            self._rounds_left = 0  # a power cycle forgets a running inventory
            self._parser = FrameParser()
            super().unplug()

    def close(self) -> None:
        self._stop.set()
        self.unplug()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(1.0)

    # --- the firmware loop -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            wait = 0.05
            if self._rounds_left:
                wait = max(0.0, min(wait, self._next_round - time.monotonic()))
            self._fill(wait)
            with self._lock:
                data = bytes(self._rbuf)
                self._rbuf.clear()
            for frame in self._parser.feed(data):
                self._command(frame)
            if self._rounds_left and time.monotonic() >= self._next_round:
                self._next_round = time.monotonic() + self.round_interval
                self._rounds_left -= 1
                self._inventory_round()

    def _command(self, f: RfidFrame) -> None:
        if f.ftype != TYPE_COMMAND:
            self._log(f"ignored frame type {f.ftype:02X}")
            return
        if f.cmd == CMD_INVENTORY:
            self._log("single-inventory")
            self._inventory_round()
        elif f.cmd == CMD_MULTI_INVENTORY and len(f.params) == 3 and f.params[0] == 0x22:
            count = (f.params[1] << 8) | f.params[2]
            self._log(f"multi-inventory {count}")
            self._rounds_left = count
            self._next_round = time.monotonic()
        elif f.cmd == CMD_STOP:
            self._log("stop")
            self._rounds_left = 0
            self._send(build_frame(TYPE_RESPONSE, CMD_STOP, b"\x00"))
        elif f.cmd == CMD_INFO and len(f.params) == 1 and f.params[0] in INFO:
            self._log(f"info {f.params[0]}")
            self._send(build_frame(TYPE_RESPONSE, CMD_INFO, f.params + INFO[f.params[0]]))
        elif f.cmd == CMD_GET_POWER:
            self._log("get-power")
            self._send(
                build_frame(TYPE_RESPONSE, CMD_GET_POWER, self.power_cdbm.to_bytes(2, "big"))
            )
        elif f.cmd == CMD_SET_POWER and len(f.params) == 2:
            self.power_cdbm = int.from_bytes(f.params, "big")
            self._log(f"set-power {self.power_cdbm / 100:g}dBm")
            self._send(build_frame(TYPE_RESPONSE, CMD_SET_POWER, b"\x00"))
        else:
            self._log(f"unsupported command {f.cmd:02X} {f.params.hex()}")
            self._send(error_frame(ERR_COMMAND))

    def _inventory_round(self) -> None:
        with self._lock:
            tags = list(self.tags.values())
        if not tags:
            self._send(error_frame(ERR_NO_TAG))
            return
        for tag in tags:
            rssi = max(-99, min(-20, tag.rssi + self._rng.randint(-3, 3)))
            frame = tag_notice(tag.epc, rssi)
            with self._lock:
                if self._corrupt:
                    self._corrupt -= 1
                    frame = frame[:-2] + bytes([(frame[-2] + 1) & 0xFF]) + frame[-1:]
            self._send(frame)

    def _send(self, frame: bytes) -> None:
        try:
            self.write(frame, 2 if self.split_frames else 1)
        except OSError:
            pass  # unplugged mid-round: the bytes are lost, as on a real cable

    def _log(self, text: str) -> None:
        self.commands.append(text)
        if self.on_command is not None:
            self.on_command(text)
