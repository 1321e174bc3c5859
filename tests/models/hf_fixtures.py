#!/usr/bin/python3
"""Hugging Face model fixtures for mpitune's tests, and a layout checker for its exports.

No model can be downloaded here, and Debian's python (torch 1.13) has neither transformers, peft
nor safetensors, so the tests make their own tiny random-weight checkpoints in the exact Hugging
Face layouts and compute reference logits with a plain-PyTorch forward (reference_models.py).

    /usr/bin/python3 hf_fixtures.py make OUTDIR [--only NAME ...]
        one folder per fixture (fixtures.py; README.md says what each is for); a fixture's
        folder is replaced as a whole, nothing else under OUTDIR is touched
    /usr/bin/python3 hf_fixtures.py make-large OUTDIR/llama_100m [--params 100M]
        one bf16 llama of about that many parameters, written tensor by tensor
    /usr/bin/python3 hf_fixtures.py check-export DIR --base BASEDIR [--adapter]
        checks an exported folder against the layout tables (check_export.py); prints one line
        per problem and exits 1, or prints a summary and exits 0
    /usr/bin/python3 hf_fixtures.py selftest
        checks the writer, the reference forward and check-export themselves; exit 1 on failure
Exit status 2 for a bad command line; 77 (ctest's "skipped") when make, make-large or
selftest cannot import torch.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def cmd_make(args):
    import fixtures
    start = time.monotonic()
    try:
        names = fixtures.make(args.outdir, args.only)
    except ValueError as e:
        print(f"hf_fixtures make: {e}", file=sys.stderr)
        return 2
    print(f"wrote {len(names)} fixtures under {args.outdir} in {time.monotonic() - start:.2f} s: "
          + ", ".join(names))
    return 0


def cmd_make_large(args):
    import fixtures
    try:
        params = fixtures.parse_count(args.params)
    except ValueError:
        print(f"hf_fixtures make-large: --params {args.params!r} is not a count like 100M",
              file=sys.stderr)
        return 2
    n, size, seconds = fixtures.make_large(args.folder, params)
    print(f"wrote {args.folder}: llama, {n / 1e6:.1f}M parameters, {size / 2**20:.0f} MiB bf16, "
          f"in {seconds:.1f} s")
    return 0


def cmd_check_export(args):
    import check_export
    problems, summary = check_export.check_export(args.dir, args.base, args.adapter)
    for p in problems:
        print(p)
    if problems:
        print(f"FAILED: {len(problems)} problem(s) in {args.dir}")
        return 1
    print(summary)
    return 0


def cmd_selftest(args):
    import selftest
    return selftest.run(verbose=args.verbose)


def main(argv):
    parser = argparse.ArgumentParser(prog="hf_fixtures.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("make", help="write the tiny fixtures")
    p.add_argument("outdir")
    p.add_argument("--only", nargs="+", metavar="NAME")
    p.set_defaults(run=cmd_make)
    p = sub.add_parser("make-large", help="write one large llama for a peak-memory benchmark")
    p.add_argument("folder")
    p.add_argument("--params", default="100M")
    p.set_defaults(run=cmd_make_large)
    p = sub.add_parser("check-export", help="check an exported folder's layout")
    p.add_argument("dir")
    p.add_argument("--base", required=True, help="the base model folder (its config.json)")
    p.add_argument("--adapter", action="store_true", help="DIR is a PEFT LoRA adapter")
    p.set_defaults(run=cmd_check_export)
    p = sub.add_parser("selftest", help="test this script")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(run=cmd_selftest)
    args = parser.parse_args(argv)
    if args.command != "check-export":  # check-export is standard library only
        try:
            import torch  # noqa: F401
        except ImportError as e:
            print(f"SKIP: {sys.executable} cannot import torch ({e}); "
                  "on Debian: apt-get install python3-torch", file=sys.stderr)
            return 77
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
