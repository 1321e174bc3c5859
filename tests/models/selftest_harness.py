"""The self-test harness shared by selftest*.py: a registry of checks, a tolerance comparison,
and one set of fixtures made on first use (in the run's temporary folder) for the checks that
read real fixture folders."""

import torch

CHECKS = []
FIXTURE_ROOT = None  # set by selftest.run to a folder inside its temporary directory
_made = False


def check(fn):
    """Registers fn(tmp) as a check; it fails by raising (AssertionError or any other)."""
    CHECKS.append(fn)
    return fn


def close(a, b, atol=1e-5, what=""):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    err = (a - b).abs().max().item() if a.numel() else 0.0
    assert err <= atol, f"{what}: max abs difference {err:.3g} > {atol:g}"


def fixture_dir():
    """Every fixture, made once per run with `make` into FIXTURE_ROOT."""
    global _made
    import fixtures
    if not _made:
        fixtures.make(FIXTURE_ROOT)
        _made = True
    return FIXTURE_ROOT
