import numpy as np
import pytest

from vqa_studio.core.store.codec import decode_array, encode_array


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.int16, np.int32, np.uint8])
def test_round_trip(dtype):
    a = (np.arange(24).reshape(2, 3, 4) % 7).astype(dtype)
    b = decode_array(encode_array(a))
    assert b.dtype == a.dtype and b.shape == a.shape and np.array_equal(a, b)


def test_none_and_bad_dtype():
    assert encode_array(None) is None and decode_array(None) is None
    with pytest.raises(TypeError):
        encode_array(np.zeros(3, np.complex64))
