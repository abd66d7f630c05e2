"""Shared fixtures: the repository root and the memnet CLI binary.

The CLI is the one `cargo build` made: $MEMNET_CLI if set, else
target/release/memnet, else target/debug/memnet. Its absence is an error,
not a skip: the agreement tests are the point of this suite.
"""

import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def root():
    return ROOT


@pytest.fixture(scope="session")
def cli():
    env = os.environ.get("MEMNET_CLI")
    candidates = [pathlib.Path(env)] if env else [
        ROOT / "target" / "release" / "memnet",
        ROOT / "target" / "debug" / "memnet",
    ]
    for c in candidates:
        if c.is_file():
            return str(c)
    raise RuntimeError(
        "no memnet CLI binary: run `cargo build --release -p memnet` first or set MEMNET_CLI"
    )
