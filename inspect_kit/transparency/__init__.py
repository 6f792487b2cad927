"""The transparency log (透明日志): a hash chain over every record a notice or a verification relies on.

Each entry n holds the SHA-256 of its record's canonical content and of entry n−1, so an entry
hash printed on a notice (the head, ``N:HASH``) pins every record before it: a restored database
file, a deleted, truncated or rewritten record, or a missing entry is found by
``inspect log verify [--head N:HASH]``. Anchors: Certificate Transparency and Sigstore Rekor
publish tree heads the same way.

* ``chain``: pure — canonical JSON, content and entry hashes, checking a chain or a segment.
* ``store``: the database — append entries for new records, the head, verify against the records.
"""
