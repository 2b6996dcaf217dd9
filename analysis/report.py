#!/usr/bin/python3
"""exoderm report: plots and report.md of a run result or a sweep table.

usage: python3 analysis/report.py RESULT.h5 [-o FOLDER]
Exit codes: 0 done, 2 bad input (missing file, not an exoderm result), 1 anything else.
"""

import argparse
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import exoderm_report as er  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(prog="exoderm report", description=__doc__.splitlines()[1])
    parser.add_argument("result", help="run result or sweep table (HDF5)")
    parser.add_argument("-o", "--output", help="report folder (default: RESULT_report beside the result)")
    args = parser.parse_args(argv)
    try:
        result = er.load(args.result)
    except er.ReportError as e:
        print("exoderm: bad input: %s" % e, file=sys.stderr)
        return 2
    try:
        er.make_report(result, args.output)
    except BrokenPipeError:  # stdout closed early (e.g. piped into head): the files are written
        sys.stderr.close()
        return 0
    except OSError as e:
        print("exoderm: report: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
