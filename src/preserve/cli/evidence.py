"""Commands of evidence: verify, export, keygen, verify-package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from preserve.cli.options import emit_json, json_option, open_archive
from preserve.errors import UsageError
from preserve.times import parse_user_time, utc_now

if TYPE_CHECKING:
    pass


@click.command()
@click.option(
    "--since",
    help="Only read WARC files closed at or after this time (ISO 8601); "
    "every file is still looked for, and the chain checked in full.",
)
@click.option(
    "--head",
    "heads",
    multiple=True,
    metavar="HASH",
    help="A chain head noted down earlier (from verify, or an exported package) that must "
    "still be an entry of the chain (repeatable).",
)
@json_option
@click.pass_context
def verify(ctx: click.Context, since: str | None, heads: tuple[str, ...], as_json: bool) -> None:
    """Check the whole archive: every WARC record (gzip members, lengths, digests), every
    database row against its record, missing, extra, renamed or unfinished files, and the
    hash chain of the log. Exits 1 if anything is wrong.

    \b
    Example:
      preserve verify
      preserve verify --since 2026-11-01 --json
      preserve verify --head sha256:52aaba36…   # a head noted down at an export
    """
    from preserve.evidence.verify import render
    from preserve.evidence.verify import verify as verify_archive
    from preserve.store.chain import is_hash

    for noted in heads:
        if not is_hash(noted):
            raise UsageError(
                f"--head {noted!r}: a chain head is spelled as verify prints it, "
                "sha256: and 64 hexadecimal digits"
            )
    archive = open_archive(ctx, create=False, writes=False)
    try:
        result = verify_archive(archive, since=parse_user_time(since), heads=heads)
    finally:
        archive.close()
    if as_json:
        emit_json(result.to_json())
    else:
        click.echo(render(result), nl=False)
    if not result.ok:
        ctx.exit(1)


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--wacz",
    "wacz_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The package to write.",
)
@click.option(
    "--sign",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sign the package digest with this key (from `preserve keygen`).",
)
@click.option(
    "--timestamp",
    "tsa_urls",
    multiple=True,
    metavar="TSA_URL",
    help="Get an RFC 3161 time-stamp token over the package digest from this "
    "time-stamping authority (repeatable).",
)
@click.option("--title", help="The package's title [default: from the first article].")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@json_option
@click.pass_context
def export(
    ctx: click.Context,
    urls: tuple[str, ...],
    wacz_path: Path,
    key_path: Path | None,
    tsa_urls: tuple[str, ...],
    title: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Write an evidence package (WACZ 1.1.1): every capture of the article(s) and of the
    sources they cite, with the provenance of each, optionally signed and time-stamped.

    \b
    Example:
      preserve export https://example.org/2016/10/some-article --wacz evidence.wacz \\
          --sign preserve-signing-key.pem --timestamp https://freetsa.org/tsr
    """
    from preserve.evidence.export import export as export_package
    from preserve.evidence.keys import load_private_key

    for tsa in tsa_urls:
        if not tsa.lower().startswith(("http://", "https://")):
            raise UsageError(f"--timestamp {tsa!r} is not an http(s) URL")
    if wacz_path.exists() and not force:
        raise UsageError(f"{wacz_path} already exists (use --force to overwrite it)")
    if not wacz_path.resolve().parent.is_dir():
        raise UsageError(f"no such folder: {wacz_path.resolve().parent}")
    key = load_private_key(key_path) if key_path is not None else None
    archive = open_archive(ctx, create=False, writes=False)
    try:
        exported = export_package(
            archive, urls, wacz_path, now=utc_now(), key=key, tsa_urls=tsa_urls, title=title
        )
    finally:
        archive.close()
    result, logged = exported.package, exported.logged
    if as_json:
        emit_json(
            {
                **result.to_json(),
                "logged": {
                    "export_id": int(logged.row_id),
                    "chain_entry": logged.seq,
                    "chain_head": logged.entry_hash,
                }
                if logged
                else None,
            }
        )
        return
    click.echo(f"Wrote {wacz_path} ({result.size} bytes, sha256:{result.sha256})")
    click.echo(
        f"  {result.pages} pages, {result.captures} captures, {result.records} WARC "
        f"records in {result.warcs} file(s)"
    )
    click.echo(f"  package digest {result.digest}")
    if result.signed_by:
        click.echo(f"  signed by key {result.signed_by}")
    for stamp in result.timestamps:
        click.echo(f"  time-stamped {stamp['genTime']} by {stamp['tsa']}")
    if logged:
        click.echo(
            f"  logged in the archive as export {logged.row_id}: chain entry {logged.seq}, "
            f"head {logged.entry_hash}"
        )
    else:
        click.echo("  not logged in the archive: it is read-only here")
    click.echo(f"Check it with: preserve verify-package {wacz_path}")


@click.command()
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="preserve-signing-key.pem",
    show_default=True,
    help="Where to write the private key (PEM, mode 0600).",
)
def keygen(out_path: Path) -> None:
    """Make an ECDSA P-256 key to sign evidence packages with (`export --sign`). The public
    key is written beside it and printed: hand it to whoever will verify your packages, by
    a channel they trust.

    \b
    Example:
      preserve keygen --out ~/.preserve/signing-key.pem
    """
    from preserve.evidence.keys import fingerprint, generate_key, public_key_b64

    key = generate_key(out_path)
    public = public_key_b64(key)
    name = out_path.name[:-4] if out_path.name.endswith(".pem") else out_path.name
    public_path = out_path.with_name(name + ".pub.pem")
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        + "\n".join(public[i : i + 64] for i in range(0, len(public), 64))
        + "\n-----END PUBLIC KEY-----\n"
    )
    try:
        public_path.write_text(pem, encoding="ascii")
    except OSError as exc:
        raise UsageError(f"cannot write {public_path}: {exc.strerror}") from exc
    click.echo(f"Wrote the private key {out_path} (mode 0600): keep it secret.")
    click.echo(f"Wrote the public key {public_path}.")
    click.echo(f"Public key: {public}")
    click.echo(f"Fingerprint: {fingerprint(public)}")


@click.command("verify-package")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tsa-root",
    "tsa_roots",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A certificate (PEM or DER) trusted to anchor time-stamp tokens "
    "(repeatable; a PEM file may hold a root and intermediates).",
)
@click.option(
    "--public-key",
    help="The key the package must be signed with: a PEM file "
    "(public or private key) or the base64 public key `keygen` printed.",
)
@json_option
@click.pass_context
def verify_package_command(
    ctx: click.Context,
    file: Path,
    tsa_roots: tuple[Path, ...],
    public_key: str | None,
    as_json: bool,
) -> None:
    """Check an evidence package offline: every file's hash and size, the WARC records, the
    package digest, the signature and each time-stamp token; say what each check proves.
    Exits 1 if any check fails.

    \b
    Example:
      preserve verify-package evidence.wacz --tsa-root tsa-root.pem
    """
    from preserve.evidence.keys import load_public_key_arg
    from preserve.evidence.packagecheck import report_text, verify_package
    from preserve.evidence.timestamps import load_roots

    roots = load_roots(tsa_roots)
    expected = load_public_key_arg(public_key) if public_key is not None else None
    result = verify_package(file, roots, expected)
    if as_json:
        emit_json(result.to_json())
    else:
        click.echo(report_text(result), nl=False)
    if not result.ok:
        ctx.exit(1)


COMMANDS = (verify, export, keygen, verify_package_command)
