"""The clinic's protocol library: the shipped protocol files and the versions a clinic has loaded.

``library/*.yaml`` are the protocols ketaclinic ships (clinic defaults with sources). Loading a file
(:func:`ketaclinic.protocols.files.protocol_file_read`) needs no Django, so the CLI and the
benchmarks read the same documents the web app stores; the Django models keep each loaded version.
"""
