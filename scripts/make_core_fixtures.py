#!/usr/bin/env python3
"""Regenerates tests/fixtures/npy: small .npy files written by NumPy itself, so the C++ .npy
reader and writer are checked against the reference implementation. Run with Debian's python3:
    /usr/bin/python3 scripts/make_core_fixtures.py
"""
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "npy")


def main():
    os.makedirs(OUT, exist_ok=True)
    a = (np.arange(6, dtype=np.float32) * 0.5 - 1.0).reshape(2, 3)
    np.save(os.path.join(OUT, "f32_2x3.npy"), a)
    np.save(os.path.join(OUT, "f64_4.npy"), np.array([0.0, 1.0, 2.5, 3.25], dtype=np.float64))
    np.save(os.path.join(OUT, "i32_3.npy"), np.array([7, -8, 9], dtype=np.int32))
    np.save(os.path.join(OUT, "f32_big_endian.npy"), a.astype(">f4"))
    np.save(os.path.join(OUT, "f32_fortran.npy"), np.asfortranarray(np.ones((2, 3), np.float32)))
    with open(os.path.join(OUT, "f32_2x3.npy"), "rb") as f:
        data = f.read()
    with open(os.path.join(OUT, "f32_truncated.npy"), "wb") as f:
        f.write(data[:-8])


if __name__ == "__main__":
    main()
