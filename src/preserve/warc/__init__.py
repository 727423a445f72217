"""WARC 1.1 files: writing records, reading one back, checking a file strictly."""
