"""Compact binary form of small numpy arrays (attention maps, votes) for BLOB columns.

Layout: 1 byte dtype code, 1 byte ndim, ndim x uint32 shape (little endian), then the raw data.
"""
from __future__ import annotations

import struct

import numpy as np

_DTYPES = {1: np.float16, 2: np.float32, 3: np.int16, 4: np.int32, 5: np.uint8}
_CODES = {np.dtype(v): k for k, v in _DTYPES.items()}


def encode_array(arr: np.ndarray | None) -> bytes | None:
    if arr is None:
        return None
    arr = np.ascontiguousarray(arr)
    code = _CODES.get(arr.dtype)
    if code is None:
        raise TypeError(f"cannot store arrays of dtype {arr.dtype}")
    header = struct.pack(f"<BB{arr.ndim}I", code, arr.ndim, *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()


def decode_array(blob: bytes | None) -> np.ndarray | None:
    if blob is None:
        return None
    code, ndim = struct.unpack_from("<BB", blob, 0)
    shape = struct.unpack_from(f"<{ndim}I", blob, 2)
    dtype = np.dtype(_DTYPES[code]).newbyteorder("<")
    return np.frombuffer(blob, dtype=dtype, offset=2 + 4 * ndim).reshape(shape).astype(_DTYPES[code])
