"""Where the WARC files live: the archive's folder, or an S3-compatible object store."""
