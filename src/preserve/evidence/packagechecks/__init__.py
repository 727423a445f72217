"""The checks of an evidence package, one module per part of it.

Its files, its records and index, the hash-chain entries in its provenance, and its digest
with what vouches for it (signature, time-stamps). Each adds its verdicts to a
`PackageReport`."""
