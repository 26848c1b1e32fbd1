"""The apps stand in layers: no two apps import each other, directly or round a circle of apps.

Every import counts, at module level or inside a function, and so do lazy model references (a string
"app.Model" such as a ForeignKey's target, `apps.get_model`): they tie the apps together just the same. A lower
part that must make a higher one act sends a signal, calls a registry, or queues a task by its name.
The project's composition roots may import every app: the URL configuration, the API router, the settings, and
the demo data command. Migrations follow the models and are not read.
"""

import ast
import re
from collections import defaultdict
from pathlib import Path

from django.apps import apps as django_apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
COMPOSITION_ROOTS = {
    "nmo_portal/urls.py",
    "nmo_portal/api.py",
    "nmo_portal/settings.py",
    "nmo_portal/management/commands/seed_demo.py",
}
# The apps from the bottom up, as README's "Layout" lists them: each imports only apps before it.
LAYERS = [
    "nmo_portal",
    "accounts",
    "review",
    "events",
    "credits",
    "modules",
    "codes",
    "ministry_sync",
    "learning_plan",
    "societies",
    "statuses",
    "ministry_mock",
]
MODEL_REFERENCE = re.compile(r"^(?P<app>[a-z_]+)\.[A-Z]\w*$")


def project_apps() -> set[str]:
    return {config.name for config in django_apps.get_app_configs() if (ROOT / config.name).is_dir()}


def references(tree: ast.AST) -> list[tuple[str, int]]:
    """The top-level names of every module this code imports or refers to by a lazy reference, with lines."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if match := MODEL_REFERENCE.match(node.value):
                found.append((match["app"], node.lineno))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "get_model" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((first.value.split(".")[0], node.lineno))
    return found


def app_graph() -> dict[str, dict[str, list[str]]]:
    """app -> the apps it reaches -> where (file:line), composition roots and migrations left out."""
    names = project_apps()
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for app in names:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if "/migrations/" in relative or relative in COMPOSITION_ROOTS:
                continue
            for target, line in references(ast.parse(path.read_text(encoding="utf-8"))):
                if target in names and target != app:
                    graph[app][target].append(f"{relative}:{line}")
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> set[tuple[str, ...]]:
    """Every strongly connected group of two or more apps (Tarjan), as sorted tuples."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: set[tuple[str, ...]] = set()

    def visit(app: str) -> None:
        index[app] = low[app] = len(index)
        stack.append(app)
        on_stack.add(app)
        for target in graph.get(app, {}):
            if target not in index:
                visit(target)
                low[app] = min(low[app], low[target])
            elif target in on_stack:
                low[app] = min(low[app], index[target])
        if low[app] == index[app]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == app:
                    break
            if len(group) > 1:
                groups.add(tuple(sorted(group)))

    for app in sorted(graph):
        if app not in index:
            visit(app)
    return groups


def describe(group: tuple[str, ...], graph: dict[str, dict[str, list[str]]]) -> str:
    lines = [" ↔ ".join(group) + ":"]
    for source in group:
        for target in group:
            if target in graph.get(source, {}):
                lines.append(f"  {source} → {target}: {', '.join(graph[source][target][:5])}")
    return "\n".join(lines)


def test_the_check_sees_imports_inside_functions_and_lazy_model_references():
    code = """
def f():
    from events.models import Event
    import review.services
fk = models.ForeignKey("modules.Module", on_delete=models.PROTECT)
model = apps.get_model("codes", "IcpCode")
task = "credits.tasks.announce_missed"  # a task queued by name is not an import
"""
    assert sorted(target for target, _ in references(ast.parse(code))) == ["codes", "events", "modules", "review"]


def test_the_check_finds_a_circle_of_three_apps_and_leaves_a_chain_alone():
    circle = {"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:1"]}, "c": {"a": ["c.py:1"]}, "d": {"a": ["d.py:1"]}}
    assert cycles(circle) == {("a", "b", "c")}
    assert cycles({"a": {"b": ["a.py:1"]}, "b": {"c": ["b.py:1"]}}) == set()


def test_no_two_apps_import_each_other():
    graph = app_graph()
    found = cycles(graph)
    assert not found, "Apps import each other:\n" + "\n".join(describe(group, graph) for group in sorted(found))


def test_each_app_imports_only_the_layers_below_it():
    graph = app_graph()
    assert set(LAYERS) == project_apps(), "a new app takes its place in LAYERS (and in README's Layout)"
    upward = [
        f"{source} → {target}: {', '.join(places[:5])}"
        for source, targets in sorted(graph.items())
        for target, places in sorted(targets.items())
        if LAYERS.index(target) > LAYERS.index(source)
    ]
    assert not upward, "Imports up the layers:\n" + "\n".join(upward)
