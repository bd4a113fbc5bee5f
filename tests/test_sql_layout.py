"""Where a SQL statement is written (docs/architecture.md, "Small SQL: a file or a literal"): a trivial
one-liner where it is used, as a Python string literal; everything else in sql/, read by name. Enforced both
ways: no file under sql/ is trivial, and every literal the code executes is."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from pipeline.settings import REPO_ROOT
from pipeline.sql import SQL_DIR

_ID = r"[A-Za-z_][A-Za-z0-9_]*"
_TABLE = rf"{_ID}(?:\.{_ID})?"
_COLUMNS = rf"{_ID}(?:\s*,\s*{_ID})*"
_CONSTANT = r"'[^'$?]*'"
_CONDITION = rf"{_ID}\s*(?:=\s*{_CONSTANT}|IS\s+(?:NOT\s+)?NULL)"
_READ = (rf"SELECT\s+(?:DISTINCT\s+)?(?:{_COLUMNS}|\*(?:\s+EXCLUDE\s*\(\s*{_COLUMNS}\s*\))?|count\(\*\))"
         rf"\s+FROM\s+{_TABLE}(?:\s+WHERE\s+{_CONDITION}(?:\s+AND\s+{_CONDITION})*)?(?:\s+ORDER\s+BY\s+{_COLUMNS})?")
_DROP = rf"DROP\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?{_TABLE}"
_TRIVIAL = [re.compile(rf"\s*(?:{form})\s*", re.IGNORECASE) for form in (
    rf"SET\s+{_ID}\s*=\s*(?:[0-9]+|{_CONSTANT}|true|false)",  # a session setting, never a value
    rf"RESET\s+{_ID}",
    r"BEGIN(?:\s+TRANSACTION)?|COMMIT|ROLLBACK",
    rf"CREATE\s+SCHEMA\s+IF\s+NOT\s+EXISTS\s+{_ID}",
    _DROP,
    rf"ALTER\s+TABLE\s+{_TABLE}\s+RENAME\s+TO\s+{_ID}",
    rf"DESCRIBE\s+{_TABLE}",
    _READ,  # one table: column names (or *, * EXCLUDE, DISTINCT, count(*)), constant filters, an order
)]
_ONLY_DROP = re.compile(rf"\s*{_DROP}\s*", re.IGNORECASE)


def is_trivial(sql: str) -> bool:
    """A single parameter-free statement without logic (a setting, a schema, a drop, a rename, a plain read
    of one table), or a few `DROP … IF EXISTS`."""
    statements = [s for s in re.sub(r"--[^\n]*", "", sql).split(";") if s.strip()]
    if len(statements) == 1:
        return any(form.fullmatch(statements[0]) for form in _TRIVIAL)
    return bool(statements) and all(_ONLY_DROP.fullmatch(s) for s in statements)


@pytest.mark.parametrize("sql", [
    "SET threads = 1;", "RESET threads", "SET preserve_insertion_order = false", "BEGIN TRANSACTION",
    "CREATE SCHEMA IF NOT EXISTS comparison;", "DROP TABLE IF EXISTS temp.comparison_input;",
    "DROP TABLE IF EXISTS a;\nDROP TABLE IF EXISTS b;", "ALTER TABLE ingest_checked RENAME TO ingest_result_events",
    "DESCRIBE staging.patients", "SELECT DISTINCT site_id FROM comparison.cohort ORDER BY site_id",
    "-- why\nSELECT a, b FROM t WHERE kind = 'pooled' AND c IS NOT NULL ORDER BY a, b;",
    "SELECT * EXCLUDE (row, site_id) FROM attendance_input ORDER BY row", "SELECT count(*) FROM staging.pro_visits",
])
def test_the_classifier_calls_trivial(sql):
    assert is_trivial(sql)


@pytest.mark.parametrize("sql", [
    "", "SET preserve_insertion_order = $preserve", "DELETE FROM meta.not_estimable WHERE asset = $asset",
    "SELECT a FROM t WHERE b = ?", "SELECT a FROM t WHERE b = '$x'", "SELECT a + 1 FROM t",
    "SELECT a AS b FROM t", "SELECT count(*) > 0 FROM t", "SELECT a FROM t WHERE b > 0",
    "SELECT a FROM t JOIN u USING (k)", "SELECT a, count(*) FROM t GROUP BY a",
    "SELECT a FROM t WHERE b = 'x' OR c = 'y'",
    "WITH x AS (SELECT a FROM t) SELECT a FROM x", "SELECT a FROM (SELECT a FROM t)",
    "CREATE OR REPLACE TEMP TABLE x (a VARCHAR)", "SET threads = 1; RESET threads", "INSERT INTO t SELECT a FROM u",
    "DROP TABLE IF EXISTS a; SELECT a FROM t", "DESCRIBE SELECT * FROM read_parquet($path)",
])
def test_the_classifier_calls_not_trivial(sql):
    assert not is_trivial(sql)


def test_no_sql_file_is_a_trivial_one_liner():
    """A trivial statement is written where it is used; checks are files whatever their size (one CheckSpec,
    one file), and so is a model that another statement prefixes (a staging model's body)."""
    models_kept = {"staging/events"}  # PatientTable body: run_as prefixes it and fingerprints its text
    trivial = [str(p.relative_to(SQL_DIR).with_suffix("")) for p in sorted(SQL_DIR.rglob("*.sql"))
               if p.parent.name != "checks" and is_trivial(p.read_text(encoding="utf-8"))]
    assert [n for n in trivial if n not in models_kept] == []


# The generic machinery that puts identifiers from code (never values from data) into SQL text; nothing else
# builds SQL in Python. (module, function) -> why.
_BUILDS_SQL = {
    ("pipeline/sql.py", "run_as"): "the runner: the text of a named model behind a fixed prefix",
    ("pipeline/warehouse.py", "write_table"): "schema and table from the fixed list of each schema",
    ("pipeline/incremental.py", "_scope_views"): "views and sources of a validated PatientTable",
    ("pipeline/incremental.py", "_drop_scope"): "views of a validated PatientTable",
    ("pipeline/incremental.py", "build"): "the table of a validated PatientTable",
    ("pipeline/reporting/common.py", "read"): "a warehouse table named in the code",
    ("pipeline/adapters/drop.py", "_csv_bytes"): "contract columns and a temporary file written by the adapter",
}
_EXECUTES = {"execute", "executemany", "sql"}


def _strings(value: ast.expr) -> list[str] | None:
    """The statements a module-level constant holds: a string, or a dict whose values are all strings."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [value.value]
    if isinstance(value, ast.Dict) and value.values and all(
            isinstance(v, ast.Constant) and isinstance(v.value, str) for v in value.values):
        return [v.value for v in value.values]  # type: ignore[attr-defined]
    return None


def _module_strings(tree: ast.Module) -> dict[str, list[str]]:
    return {t.id: _strings(node.value) for node in tree.body if isinstance(node, ast.Assign)
            and _strings(node.value) is not None for t in node.targets if isinstance(t, ast.Name)}


def _imported_strings(tree: ast.Module, path: Path) -> dict[str, list[str]]:
    """String constants imported by name from another module of the project (absolute or relative import)."""
    out = {}
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not node.module:
            continue
        if node.level:
            source = path.parents[node.level - 1] / (node.module.replace(".", "/") + ".py")
        elif node.module.split(".")[0] in ("pipeline", "assets"):
            source = REPO_ROOT / (node.module.replace(".", "/") + ".py")
        else:
            continue
        if source.is_file():
            strings = _module_strings(ast.parse(source.read_text(encoding="utf-8")))
            out |= {a.asname or a.name: strings[a.name] for a in node.names if a.name in strings}
    return out


def executed_sql(path: Path) -> list[tuple[str, int, str, str | None]]:
    """(function, line, kind, sql) of every `.execute(`/`.executemany(`/`.sql(` in a module: kind "literal" with
    the statement (a string literal, a module-level string constant, or any value of a module-level dict of
    strings indexed), "by name" (load_sql), or "built" (anything else: f-string, format, concatenation, a
    variable)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    strings = _module_strings(tree) | _imported_strings(tree, path)
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr in _EXECUTES and child.args):
                arg = child.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((function, child.lineno, "literal", arg.value))
                elif isinstance(arg, ast.Name) and arg.id in strings:
                    found.extend((function, child.lineno, "literal", s) for s in strings[arg.id])
                elif (isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name)
                      and len(strings.get(arg.value.id, ())) > 1):
                    found.extend((function, child.lineno, "literal", s) for s in strings[arg.value.id])
                elif (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "load_sql"
                      and all(isinstance(a, ast.Constant | ast.Name) for a in arg.args)):
                    found.append((function, child.lineno, "by name", None))
                else:
                    found.append((function, child.lineno, "built", None))
            visit(child, name)

    visit(tree, "<module>")
    return found


def _code_modules() -> list[Path]:
    return sorted(p for folder in ("pipeline", "assets") for p in (REPO_ROOT / folder).rglob("*.py"))


def test_sql_in_python_is_only_trivial_literals():
    wrong = []
    for path in _code_modules():
        rel = path.relative_to(REPO_ROOT).as_posix()
        for function, line, kind, sql in executed_sql(path):
            if kind == "literal" and not is_trivial(sql):
                wrong.append(f"{rel}:{line} executes SQL with logic or parameters; put it in sql/")
            if kind == "built" and (rel, function) not in _BUILDS_SQL:
                wrong.append(f"{rel}:{line} ({function}) builds SQL in Python; use a literal or sql/ by name")
    assert wrong == []


def test_the_list_of_sql_builders_names_only_functions_that_build_sql():
    built = {(p.relative_to(REPO_ROOT).as_posix(), f) for p in _code_modules()
             for f, _, kind, _ in executed_sql(p) if kind == "built"}
    assert set(_BUILDS_SQL) - built == set()


def test_the_scan_sees_literals_constants_and_built_sql(tmp_path):
    module = tmp_path / "m.py"
    (tmp_path / "other.py").write_text('DROP = "DROP TABLE IF EXISTS x"\n')
    module.write_text(
        'from .other import DROP\nSERIAL = "SET threads = 1"\nKEEP = {"a": "RESET threads", "b": "SELECT $x"}\n'
        'def f(con, t):\n    con.execute(SERIAL)\n    con.execute("SELECT a FROM t WHERE b = $b", {"b": 1})\n'
        '    con.execute(f"SELECT * FROM {t}")\n    con.execute(load_sql("x/y"))\n    con.sql("RESET threads")\n'
        '    con.execute(DROP)\n    con.execute(KEEP[t])\n    con.execute(t)\n    con.execute("SELECT " + t)\n')
    assert executed_sql(module) == [
        ("f", 5, "literal", "SET threads = 1"), ("f", 6, "literal", "SELECT a FROM t WHERE b = $b"),
        ("f", 7, "built", None), ("f", 8, "by name", None), ("f", 9, "literal", "RESET threads"),
        ("f", 10, "literal", "DROP TABLE IF EXISTS x"), ("f", 11, "literal", "RESET threads"),
        ("f", 11, "literal", "SELECT $x"), ("f", 12, "built", None), ("f", 13, "built", None)]
    assert [is_trivial(sql) for _, _, kind, sql in executed_sql(module) if kind == "literal"] == [
        True, False, True, True, True, False]
