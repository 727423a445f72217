"""The layout of an evidence package (a WACZ 1.1.1 file): its files, and which vouches for which.

Names in the ZIP:

    archive/<source stem>-export.warc.gz   the chosen records of warcs/<source>, each gzip
                                           member copied byte for byte (same record ids,
                                           digests and record hashes), warcinfo first
    indexes/index.cdx.gz                   CDXJ (cdxj-indexer), sorted SURT keys, gzip blocks
    indexes/index.idx                      the first key and place of each of those blocks
    pages/pages.jsonl                      json-pages-1.0: one page per article and source
    provenance/provenance.json             how each capture was made
    datapackage.json                       WACZ 1.1.1: sha256 and size of every file above
    datapackage-digest.json                {path, hash, signedData?, timestamps?}

Order of trust. `datapackage.json` lists the hash of every other file; its own sha256 is the
package digest, written to `datapackage-digest.json`. The optional signature (`signedData`,
the anonymous WACZ form) and RFC 3161 tokens (`timestamps`, each a base64 DER time-stamp
response whose message imprint is that digest) are both over the digest and stored in
`datapackage-digest.json`: they are made after the datapackage, so, like the digest itself,
they sit outside its list of resources (a token cannot be listed in the manifest it stamps).
So each token covers every file, transitively; the signature does not cover the tokens, nor
they the signature: each verifies on its own.
"""

WACZ_VERSION = "1.1.1"
PROVENANCE_FORMAT = "preserve-provenance-1"
ARCHIVE_DIR = "archive"
INDEX_PATH = "indexes/index.cdx.gz"
IDX_PATH = "indexes/index.idx"
PAGES_PATH = "pages/pages.jsonl"
PROVENANCE_PATH = "provenance/provenance.json"
DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
STORED_PREFIXES = ("archive/", "indexes/")  # stored as they are in the ZIP, never recompressed
