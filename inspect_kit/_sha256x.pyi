# Types of the C extension inspect_kit/_sha256x.c (see its header comment).
from collections.abc import Sequence
from typing import Any, Literal

import numpy.typing as npt
from _typeshed import ReadableBuffer

Buffer = ReadableBuffer | npt.NDArray[Any]

def hash_strs(
    prefix: bytes,
    messages: list[str] | tuple[str, ...],
    threads: int,
    chunk: int,
    digests: bool,
    keys: bool,
    impl: int,
) -> tuple[bytes | None, bytes | None]: ...
def hash_packed(
    prefix: bytes,
    data: Buffer,
    offsets: Buffer,
    threads: int,
    chunk: int,
    digests: bool,
    keys: bool,
    impl: int,
) -> tuple[bytes | None, bytes | None]: ...
def hash_counters(prefix: bytes, first: int, n: int, threads: int, chunk: int, impl: int) -> bytes: ...
def tickets_of(block: Buffer, indexes: Sequence[int]) -> list[str]: ...
def sort_keys(keys: Buffer) -> tuple[bytes, bytes, list[int]]: ...
def accelerated() -> str | None: ...
def frame_chunk(
    rows: Sequence[tuple[str, str]] | Sequence[Sequence[str]], last: str | None
) -> tuple[bytes, dict[str, int]] | Literal[False] | None: ...
def frame_split(data: Buffer, last: str | None) -> tuple[str, int, list[tuple[str, bytes, bytes]]] | None: ...
def json_lines(prefixes: Sequence[bytes], columns: Sequence[Sequence[Any]], suffix: bytes) -> bytes | None: ...
def offsets_of(parts: Sequence[Buffer]) -> bytes: ...
def packed_take(data: Buffer, offsets: Buffer, indices: Sequence[int]) -> list[str]: ...
