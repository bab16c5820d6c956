"""``validate_zip``: the complete verdict on an uploaded code zip, in memory, without touching the disk.

The headers are checked first (``manifest``), then every entry is decompressed in bounded chunks and thrown
away, so a zip whose headers lie is rejected here too, not later on whichever machine first unpacks it.
"""

from __future__ import annotations

from lambdahost.code.inflate import UnzippedBudget, drain
from lambdahost.code.limits import DEFAULT_LIMITS, ZipLimits
from lambdahost.code.manifest import ZipManifest, read_manifest
from lambdahost.core.ids import Clock, wall_clock
from lambdahost.core.model import CodePackage


def validate_zip(data: bytes, limits: ZipLimits = DEFAULT_LIMITS, *, clock: Clock = wall_clock) -> CodePackage:
    """Summarise a valid code zip; ``InvalidParameterValue`` naming the problem (and entry) otherwise."""
    manifest = read_manifest(data, limits)
    budget = UnzippedBudget(limits)
    for entry in manifest.entries:
        drain(data, entry, budget)
    return package_of(manifest, clock())


def package_of(manifest: ZipManifest, created_at: float) -> CodePackage:
    return CodePackage(
        sha256_hex=manifest.sha256_hex,
        size=manifest.size,
        unzipped_size=manifest.unzipped_size,
        entries=len(manifest.entries),
        created_at=created_at,
    )
