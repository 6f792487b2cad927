"""Builds the optional C extension inspect_kit._sha256x (the draw's SHA-256; see its source).

The metadata stays in pyproject.toml. The extension is optional: where no C compiler is found the
install goes on, and inspect_kit.sha256_kernel falls back to hashlib (the same digests, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "inspect_kit._sha256x",
            sources=["inspect_kit/_sha256x.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
