"""The shape of the code (docs/architecture.md): layers that only point down, no import cycles, imports at
the top of their module, migrations frozen, modules a newcomer can read. The rules live in pyproject.toml
([tool.importlinter] and [tool.ketaclinic.architecture]); these tests make `make test` hold them."""

from __future__ import annotations

import ast
import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "ketaclinic"
RULES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ketaclinic"]["architecture"]


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def _is_migration(name: str) -> bool:
    return ".migrations." in name


def test_import_contract_holds():
    """lint-imports over the layers in pyproject.toml: every import points down."""
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run(
        [str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


def test_no_import_cycles_between_modules():
    """No module imports, through any chain, a module that imports it back (a cycle is how a lower module
    ends up depending on a higher one, and why imports used to hide inside functions)."""
    graph = grimp.build_graph("ketaclinic", cache_dir=None)
    modules = sorted(m for m in graph.modules if not _is_migration(m))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = [0]

    def imported(module: str) -> set[str]:
        # A package's __init__ re-exporting its own modules is not a cycle with them.
        return {
            m
            for m in graph.find_modules_directly_imported_by(module)
            if not _is_migration(m) and not module.startswith(m + ".")
        }

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in imported(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for module in modules:
        if module not in index:
            visit(module)
    assert not cycles, cycles


def _local_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    found += [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    found.append(node.module or "")
    return found


def test_imports_are_made_at_the_top_of_a_module_except_where_the_contract_says_why():
    allowed: dict[str, dict[str, str]] = RULES["local_imports"]
    found = {name: sorted(set(_local_imports(path))) for name, path in _modules() if not _is_migration(name)}
    unexplained = {name: [m for m in mods if m not in allowed.get(name, {})] for name, mods in found.items()}
    assert not {k: v for k, v in unexplained.items() if v}
    stale = {name: m for name, mods in allowed.items() for m in mods if m not in found.get(name, [])}
    assert not stale, "listed in pyproject.toml but no longer imported inside a function"
    assert all(len(reason) > 20 for mods in allowed.values() for reason in mods.values())


def test_migrations_import_only_django_and_the_frozen_guards():
    """A migration replays the same way forever: it may not import code that can change."""
    for name, path in _modules():
        if not _is_migration(name) or path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                modules = (
                    [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                )
                for module in modules:
                    assert (
                        module.split(".")[0] in {"django", "uuid", "datetime", "decimal"}
                        or module == "ketaclinic.base.db_guards"
                    ), (name, module)


def test_the_database_guards_migrations_use_are_frozen():
    """Changing a trigger means a new module and a new migration, never an edit that old migrations would
    replay differently: the file's digest is pinned."""
    digest = hashlib.sha256((PACKAGE / "base" / "db_guards.py").read_bytes()).hexdigest()
    assert digest == RULES["db_guards_sha256"]


def test_no_module_is_longer_than_a_newcomer_can_read():
    """Demo data (long lists of made-up patients, not logic) aside, every module fits the limit."""
    limit = RULES["max_module_lines"]
    long = {
        name: n
        for name, path in _modules()
        if not _is_migration(name)
        and name not in RULES["long_modules"]
        and (n := len(path.read_text().splitlines())) > limit
    }
    assert not long


def test_every_record_known_outside_the_database_takes_its_external_id_from_one_base():
    from django.apps import apps

    from ketaclinic.base.models import ExternalIdentity

    by_hand = [
        m.__name__
        for m in apps.get_models()
        if m.__module__.startswith("ketaclinic.")
        and any(f.name == "external_id" for f in m._meta.get_fields())
        and not issubclass(m, ExternalIdentity)
    ]
    assert by_hand == []


# What a service does that a selector never does: save, delete, lock, audit, queue or send.
WRITE_CALLS = {
    "save", "create", "update", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create",
    "select_for_update", "audit_record", "audit_anonymous_refusal", "enqueue", "send", "send_mail",
    "set", "add", "remove", "clear",
}  # fmt: skip


def _service_modules() -> dict[str, ast.Module]:
    return {
        name: ast.parse(path.read_text())
        for name, path in _modules()
        if (".services." in name or name.endswith(".services")) and path.name != "__init__.py"
    }


def _reads_in_services(modules: dict[str, ast.Module]) -> list[str]:
    """Public functions of service modules that neither write nor call a function that writes
    (transitively, by name, over every service module's functions)."""
    functions = {
        (mod, node.name): node
        for mod, tree in modules.items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    }

    def called(node: ast.FunctionDef) -> set[str]:
        return {
            c.func.attr if isinstance(c.func, ast.Attribute) else c.func.id
            for c in ast.walk(node)
            if isinstance(c, ast.Call) and isinstance(c.func, ast.Attribute | ast.Name)
        }

    def atomic(node: ast.FunctionDef) -> bool:
        return any("atomic" in ast.unparse(d) for d in node.decorator_list)

    writers = {key for key, node in functions.items() if atomic(node) or called(node) & WRITE_CALLS}
    while True:
        names = {name for _, name in writers}
        more = {key for key, node in functions.items() if key not in writers and called(node) & names}
        if not more:
            break
        writers |= more
    return sorted(
        f"{mod}.{name}"
        for (mod, name) in functions
        if not name.startswith("_") and (mod, name) not in writers
    )


def test_service_modules_hold_only_actions_that_write():
    """Services write, selectors read: a read or a formatter in a service module belongs in selectors."""
    assert _reads_in_services(_service_modules()) == []


def test_the_services_rule_finds_a_read_in_a_service_module():
    tree = ast.parse(
        "def plan_of(p):\n    return p.plans.first()\n\n"
        "@transaction.atomic\ndef plan_sign(p):\n    return p\n\n"
        "def _store(p):\n    p.save()\n\n"
        "def plan_close(p):\n    _store(p)\n"
    )
    assert _reads_in_services({"ketaclinic.plans.services": tree}) == ["ketaclinic.plans.services.plan_of"]
