#!/usr/bin/env python3
"""Registers a GoogleTest binary's tests with ctest in groups that share one process.

Every test process loads LibTorch, which costs about 1 s (2.5 s under the sanitizers) before the
first test runs; with one process per test, start-up took a large share of the test stages. Here the
tests of one suite run together, in chunks of at most --size tests, so a slow suite still spreads
over both cores. Tests that measure their own process (heap, page faults, wall time) or run long
match --alone and keep a ctest entry of their own, under their full name.

Run by ctest when it reads the test list (cmake/GTestGroups.cmake), as CMake's gtest_discover_tests
does in PRE_TEST mode: it lists the binary's tests and writes add_test / set_tests_properties lines.
Group names: the suite's name ("Families/FastInference"), with ".part2", ".part3"... when a suite
is split. Each group runs through run_gtest_group.sh, which also fails it unless exactly its own
number of tests ran.
"""
import argparse
import re
import subprocess
import sys


def bracket(text):
    """A CMake bracket argument holding `text` verbatim."""
    eq = "="
    while "]" + eq + "]" in text:
        eq += "="
    return "[" + eq + "[" + text + "]" + eq + "]"


def list_tests(exe, gtest_filter, timeout):
    cmd = [exe, "--gtest_list_tests"]
    if gtest_filter:
        cmd.append("--gtest_filter=" + gtest_filter)
    listing = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if listing.returncode != 0:
        raise RuntimeError("%s --gtest_list_tests exited with %d:\n%s%s"
                           % (exe, listing.returncode, listing.stdout, listing.stderr))
    suites = []  # [(suite, [test, ...])] in the binary's order
    for line in listing.stdout.splitlines():
        name = line.split("  #", 1)[0].rstrip()  # "  # GetParam() = ..." / "  # TypeParam = ..."
        if not name.strip():
            continue
        if not line.startswith(" "):
            if not name.endswith("."):
                continue  # a line the binary printed before its listing
            suites.append((name[:-1], []))
        elif suites:
            suites[-1][1].append(name.strip())
    return suites


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exe", required=True)
    parser.add_argument("--out", required=True, help="the CTest script to write")
    parser.add_argument("--runner", required=True, help="run_gtest_group.sh")
    parser.add_argument("--filter", default="", help="gtest filter applied before grouping")
    parser.add_argument("--alone", default="", help="regex on Suite.Test: these run on their own")
    parser.add_argument("--size", type=int, default=8, help="most tests in one group")
    parser.add_argument("--timeout", type=int, default=60, help="seconds for the listing")
    parser.add_argument("--property", action="append", default=[], nargs=2,
                        metavar=("NAME", "VALUE"), help="a ctest property of every test")
    args = parser.parse_args()

    alone = re.compile(args.alone) if args.alone else None
    entries = []  # (ctest name, [Suite.Test, ...], disabled)
    for suite, tests in list_tests(args.exe, args.filter, args.timeout):
        grouped = []
        for test in tests:
            full = suite + "." + test
            if test.startswith("DISABLED_") or suite.split("/")[-1].startswith("DISABLED_"):
                entries.append((full, [full], True))  # gtest skips these; ctest lists them as disabled
            elif alone and alone.search(full):
                entries.append((full, [full], False))
            else:
                grouped.append(full)
        chunks = [grouped[i:i + args.size] for i in range(0, len(grouped), args.size)]
        for index, chunk in enumerate(chunks):
            entries.append((suite if index == 0 else "%s.part%d" % (suite, index + 1), chunk, False))
    if not entries:
        raise RuntimeError("%s lists no tests (filter %r)" % (args.exe, args.filter))

    lines = ["# Written by tests/gtest_groups.py from %s --gtest_list_tests" % args.exe]
    for name, tests, disabled in entries:
        lines.append("add_test(%s %s %s %d %s)" % (
            bracket(name), bracket(args.runner), bracket(args.exe), len(tests), bracket(":".join(tests))))
        properties = [(key, value) for key, value in args.property] + ([("DISABLED", "TRUE")] if disabled else [])
        if properties:
            lines.append("set_tests_properties(%s PROPERTIES %s)" % (
                bracket(name), " ".join("%s %s" % (key, bracket(value)) for key, value in properties)))
    with open(args.out, "w") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
        print("gtest_groups: %s" % error, file=sys.stderr)
        sys.exit(1)
