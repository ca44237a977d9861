"""The clinic's protocols: one versioned, schema-validated document format for the whole clinic.

A protocol document is a YAML (or JSON) file a clinic can edit and load. It has a header (id, version,
status, changelog, sources) and one section per part of the clinic's day: ``eligibility`` (screening),
``dosing`` (the dose engine), ``series`` (the plan's schedule), ``monitoring`` and ``discharge`` (infusion
sessions). There is exactly one format; new parts of the clinic add a section to :class:`ProtocolDocument`,
never a second format.
"""

from ketaclinic.core.protocols.document import (
    PROTOCOL_FORMAT,
    ProtocolDocument,
    parse_protocol,
    protocol_json_schema,
)

__all__ = ["PROTOCOL_FORMAT", "ProtocolDocument", "parse_protocol", "protocol_json_schema"]
