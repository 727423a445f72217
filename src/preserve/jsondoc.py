"""JSON documents written as their items come: one document on stdout for a million results,
byte for byte as `json.dumps(document, indent=2)` would write it, without holding them."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

Write = Callable[[str], None]  # writes text as given, adding no newline


def dumps(document: Any) -> str:
    """The one spelling of a JSON document preserve prints: indented, UTF-8 as is."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=str)


def write_document(write: Write, document: Any) -> None:
    write(dumps(document) + "\n")


def write_with_list(write: Write, head: dict[str, Any], key: str, items: Iterable[Any]) -> None:
    """`{**head, key: [items…]}`, written as the items come."""
    opening = dumps(head)
    write(opening[: -len("\n}")] + f',\n  "{key}": [')
    separator = "\n"
    empty = True
    for item in items:
        # json.dumps escapes every newline inside strings, so these are its own line breaks.
        write(separator + "    " + dumps(item).replace("\n", "\n    "))
        separator, empty = ",\n", False
    write("]\n}\n" if empty else "\n  ]\n}\n")


def write_list(write: Write, key: str, items: Iterator[dict[str, Any]]) -> None:
    """`{key: [items…]}`, an item a line, written a thousand items at a time."""
    write(f'{{\n  "{key}": [')
    separator = "\n    "
    while chunk := list(itertools.islice(items, 1000)):
        # One C-speed dumps per thousand items, then a line per item: "}, {" occurs only
        # between items, since no value (codes, times, canonical URLs) holds a space.
        text = json.dumps(chunk, ensure_ascii=False, default=str)[1:-1]
        write(separator + text.replace("}, {", "},\n    {"))
        separator = ",\n    "
    write("\n  ]\n}\n")


class CompactList:
    """`{**head, key: [items…]}` with an item a line, for items that come in batches whose
    head is known only when the first batch comes (a check's run starts lazily)."""

    def __init__(self, write: Write, key: str) -> None:
        self.write = write
        self.key = key
        self.opened = False

    def add(self, head: dict[str, Any], items: Iterable[dict[str, Any]]) -> None:
        entries = ",\n    ".join(json.dumps(i, ensure_ascii=False, default=str) for i in items)
        if not entries:
            return
        if not self.opened:
            opening = json.dumps(head, indent=2, ensure_ascii=False, default=str)
            self.write(opening[: -len("\n}")] + f',\n  "{self.key}": [\n    ' + entries)
            self.opened = True
        else:
            self.write(",\n    " + entries)

    def close(self, head: dict[str, Any]) -> None:
        """End the document; `head` with an empty list if nothing came."""
        if self.opened:
            self.write("\n  ]\n}\n")
        else:
            write_document(self.write, {**head, self.key: []})
