"""``ketaclinic manage protocol_load FILE...`` (or ``--shipped``): validate and store protocol versions."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ketaclinic.core.errors import ProtocolError
from ketaclinic.protocols.files import protocol_file_read
from ketaclinic.protocols.services import protocol_load, protocols_load_shipped


class Command(BaseCommand):
    help = "Load protocol documents (YAML/JSON) into the clinic's versioned protocol library."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*")
        parser.add_argument("--shipped", action="store_true", help="Load the protocols ketaclinic ships.")

    def handle(self, *args: object, files: list[str], shipped: bool, **options: object) -> None:
        try:
            if shipped:
                for pv in protocols_load_shipped():
                    self.stdout.write(f"{pv.protocol_id} v{pv.version}: loaded")
            for path in files:
                pv, created = protocol_load(
                    document=protocol_file_read(path), user=None, source_name=str(path)
                )
                self.stdout.write(
                    f"{pv.protocol_id} v{pv.version}: {'loaded' if created else 'already loaded'}"
                )
        except ProtocolError as exc:
            raise CommandError(exc.message) from None
