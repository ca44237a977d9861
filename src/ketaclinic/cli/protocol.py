"""``ketaclinic protocol``: list, check and export the schema of protocol documents (no Django)."""

from __future__ import annotations

import argparse
import json

from ketaclinic.core.protocols import protocol_json_schema
from ketaclinic.protocols.files import protocol_file_read, shipped_protocols


def _list(args: argparse.Namespace) -> int:
    docs = shipped_protocols()
    rows = [
        {"id": d.id, "version": d.version, "title": d.title, "status": d.status, "sha256": d.sha256()}
        for d in docs.values()
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['id']:<28} v{r['version']:<3} {r['status']:<8} {r['title']}")
    return 0


def _check(args: argparse.Namespace) -> int:
    doc = protocol_file_read(args.file)
    out = {"id": doc.id, "version": doc.version, "valid": True, "sha256": doc.sha256()}
    print(json.dumps(out) if args.json else f"{args.file}: valid ({doc.id} v{doc.version})")
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(protocol_json_schema(), indent=2))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("protocol", help="List, check and describe protocol documents.")
    psub = p.add_subparsers(dest="protocol_command", required=True)
    lst = psub.add_parser("list", help="The protocols ketaclinic ships.")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=_list)
    chk = psub.add_parser("check", help="Validate a protocol file against the schema.")
    chk.add_argument("file")
    chk.add_argument("--json", action="store_true")
    chk.set_defaults(func=_check)
    sch = psub.add_parser("schema", help="Print the protocol JSON Schema.")
    sch.set_defaults(func=_schema)
