"""Builds the optional C extensions inspect_kit._sha256x (the draw's SHA-256; see its source) and
inspect_kit._csvx (a registry import's CSV blocks; see inspect_kit/registry/fast_csv.py).

The metadata stays in pyproject.toml. The extensions are optional: where no C compiler is found the
install goes on, inspect_kit.sha256_kernel falls back to hashlib and registry imports read every
block with csv.reader (the same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "inspect_kit._sha256x",
            sources=["inspect_kit/_sha256x.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "inspect_kit._csvx",
            sources=["inspect_kit/_csvx.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
    ]
)
