"""`tallyman device add ID --site SITE [--broker-dir DIR]`: broker credentials for one handheld."""

from __future__ import annotations

import argparse
import subprocess
import sys

from central.access.broker import BrokerDir


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="tallyman device")
    sub = p.add_subparsers(dest="cmd", required=True)
    add = sub.add_parser("add", help="create or re-key a device's broker login and ACL")
    add.add_argument("device")
    add.add_argument("--site", required=True)
    add.add_argument("--broker-dir", default="var/broker", help="the broker's config folder")
    add.add_argument("--port", type=int, default=1883)
    ls = sub.add_parser("list", help="registered devices")
    ls.add_argument("--broker-dir", default="var/broker")
    args = p.parse_args(argv)
    broker = BrokerDir(args.broker_dir, port=getattr(args, "port", 1883))
    if args.cmd == "list":
        for device, site in sorted(broker.devices().items()):
            print(f"{device}\t{site}")
        return 0
    broker.init()
    try:
        url = broker.add_device(args.device, args.site)
    except (ValueError, subprocess.CalledProcessError, FileNotFoundError) as exc:
        print(f"tallyman device: {exc}", file=sys.stderr)
        return 1
    print(f"device {args.device} at {args.site}; its broker URL (shown once):\n{url}")
    return 0


from tallyman.console import passthrough as _passthrough  # noqa: E402

command = _passthrough(main, "device")
