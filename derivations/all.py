"""Run every derivation script with the same options: tables, figures, the custom-schedule, data and SD3-shift
examples.

python derivations/all.py [--fast] [--out DIR] [--pdf]
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _common as C
import custom_schedule
import data_targets
import figures
import sd3_shift
import tables


def main(argv=None) -> int:
    args = C.parse_args(__doc__.splitlines()[0], argv, pdf="compile the LaTeX outputs with pdflatex")
    common = ["--out", args.out] + (["--fast"] if args.fast else [])
    pdf = ["--pdf"] if args.pdf else []
    scripts = ((tables, pdf), (figures, []), (custom_schedule, pdf), (data_targets, []), (sd3_shift, []))
    for script, extra in scripts:
        code = script.main(common + extra)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
