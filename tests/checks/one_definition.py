"""No type is defined twice in one namespace across the project's libraries (an ODR violation
the linker does not report). Scans model/, analysis/, service/, render/, ui/ and app/ for namespace-scope
definitions (`struct X {`, `class X : ... {`, `enum class X {`, unindented as the style has them;
`struct X::Impl {` counts as the nested X::Impl),
tracking `namespace a::b {` / `namespace {` / `}  // namespace` lines; types in anonymous
namespaces are local to their file and skipped. Exit 1 with the duplicates listed.
usage: one_definition.py SOURCE_DIR"""
import pathlib
import re
import sys

DEFINITION = re.compile(r"^(?:struct|class|enum class|enum struct|union)\s+(\w+(?:::\w+)*)\b[^;]*\{")
OPEN = re.compile(r"^namespace\s*([\w:]*)\s*\{")
CLOSE = re.compile(r"^\}\s*//\s*namespace")


def definitions(path):
    stack = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        opened = OPEN.match(line)
        if opened:
            stack.append(opened.group(1) or "<anonymous>")
            continue
        if CLOSE.match(line) and stack:
            stack.pop()
            continue
        found = DEFINITION.match(line)
        if found and "<anonymous>" not in stack:
            yield "::".join(stack), found.group(1), number


def main():
    root = pathlib.Path(sys.argv[1])
    seen = {}
    for folder in ("model", "analysis", "service", "render", "ui", "app"):
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in (".h", ".cpp"):
                for namespace, name, line in definitions(path):
                    seen.setdefault((namespace, name), []).append(f"{path.relative_to(root)}:{line}")
    twice = {key: places for key, places in seen.items() if len(places) > 1}
    for (namespace, name), places in sorted(twice.items()):
        print(f"{namespace}::{name} is defined {len(places)} times: {', '.join(places)}")
    print(f"one_definition: {len(seen)} namespace-scope types, {len(twice)} defined more than once")
    return 1 if twice else 0


if __name__ == "__main__":
    sys.exit(main())
