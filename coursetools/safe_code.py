"""Decide, without running it, whether a student's cell may run in the recheck.

The recheck runs the student's own cells again in a process of its own. To
trust what it reads back, student code there must not be able to reach the
recheck's machinery: no imports beyond NumPy and math, no classes (so no
`__eq__` tricks), no attribute assignment (so no patched `np.allclose`), no
dunder names, no `getattr`/`globals`/`exec`, no IPython (`get_ipython`,
`In`, magics). Everything an honest answer to this assignment needs is
allowed: assignments, arithmetic, lists, loops, comprehensions, functions,
`sum`/`zip`, `@`, NumPy's array functions and `print`.
"""

import ast
import builtins

from IPython.core.inputtransformer2 import TransformerManager

ALLOWED_MODULES = {"numpy", "math"}

SAFE_BUILTINS = {
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "format", "int", "isinstance",
    "iter", "len", "list", "map", "max", "min", "next", "pow", "print", "range", "repr", "reversed", "round", "set",
    "sorted", "str", "sum", "tuple", "zip", "True", "False", "None",
}
SAFE_BUILTINS |= {name for name in dir(builtins) if name.endswith(("Error", "Exception", "Warning"))}

# Attribute names student code may use, on modules and on values alike
ALLOWED_ATTRIBUTES = {
    # numpy functions and constants
    "dot", "array", "asarray", "matmul", "sum", "add", "multiply", "subtract", "divide", "transpose", "zeros",
    "ones", "arange", "round", "float64", "int64", "isclose", "allclose", "shape", "ndim", "inner", "outer",
    "vdot", "stack", "vstack", "hstack", "column_stack", "concatenate", "reshape", "mean", "abs", "maximum",
    "minimum", "exp", "tanh", "newaxis", "set_printoptions", "around", "prod", "size", "dtype",
    # math
    "fsum", "sqrt", "pi", "e", "floor", "ceil",
    # methods on lists, arrays and strings
    "append", "extend", "insert", "pop", "index", "count", "copy", "T", "tolist", "item", "astype", "format",
    "join", "items", "keys", "values",
}


class Rejected(Exception):
    """The reason a cell may not run in the recheck, phrased for the instructor."""


ALLOWED_NODES = (
    ast.Module, ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.While, ast.If, ast.Pass,
    ast.Break, ast.Continue, ast.FunctionDef, ast.Return, ast.Lambda, ast.arguments, ast.arg, ast.Delete,
    ast.Raise, ast.Assert, ast.Try, ast.ExceptHandler, ast.Import, ast.ImportFrom, ast.alias,
    ast.Constant, ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Starred, ast.List, ast.Tuple,
    ast.Dict, ast.Set, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.comprehension, ast.JoinedStr,
    ast.FormattedValue, ast.NamedExpr, ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop,
)


def check_node(node: ast.AST, defined: set[str]) -> None:
    if not isinstance(node, ALLOWED_NODES):
        raise Rejected(f"uses `{type(node).__name__}` (line {getattr(node, 'lineno', '?')}), "
                       "which the autograder does not allow")
    if isinstance(node, ast.Name):
        if node.id.startswith("_") and node.id != "_":
            raise Rejected(f"uses the name `{node.id}`")
        if isinstance(node.ctx, ast.Load) and hasattr(builtins, node.id) and node.id not in SAFE_BUILTINS \
                and node.id not in defined:
            raise Rejected(f"calls the built-in `{node.id}`")
        if node.id in ("get_ipython", "In", "Out", "exit", "quit", "display"):
            raise Rejected(f"uses IPython's `{node.id}`")
    elif isinstance(node, ast.Attribute):
        if node.attr not in ALLOWED_ATTRIBUTES:
            raise Rejected(f"uses the attribute `.{node.attr}`")
        if not isinstance(node.ctx, ast.Load):
            raise Rejected(f"assigns to the attribute `.{node.attr}`")
    elif isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_MODULES:
                raise Rejected(f"imports `{alias.name}`")
    elif isinstance(node, ast.ImportFrom):
        if node.module not in ALLOWED_MODULES or node.level:
            raise Rejected(f"imports from `{node.module}`")
        for alias in node.names:
            if alias.name not in ALLOWED_ATTRIBUTES:
                raise Rejected(f"imports `{alias.name}` from `{node.module}`")
    elif isinstance(node, ast.FunctionDef) and node.decorator_list:
        raise Rejected(f"decorates the function `{node.name}`")
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
        raise Rejected("mentions a dunder name in a string")
    for child in ast.iter_child_nodes(node):
        check_node(child, defined)


def assigned_names(tree: ast.AST) -> set[str]:
    """Names the code binds itself, which may then shadow a built-in."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.arg)):
            names.add(node.name if isinstance(node, ast.FunctionDef) else node.arg)
    return names


def as_python(source: str) -> str:
    """IPython syntax (magics, `!` commands) turned into the plain Python it runs as."""
    return TransformerManager().transform_cell(source)


def check_cell(source: str, defined: set[str]) -> set[str]:
    """Raise Rejected if the cell may not run; else return the names it defines."""
    try:
        tree = ast.parse(as_python(source))
    except SyntaxError as error:
        raise Rejected(f"has a syntax error on line {error.lineno}") from None
    names = assigned_names(tree)
    check_node(tree, defined | names)
    return names
