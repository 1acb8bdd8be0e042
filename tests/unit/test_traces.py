"""Frames out of real-looking traces in each language, and matching them to repository files."""

from __future__ import annotations

import pytest

from warroom.traces import Frame, best_files, parse_frames, repo_relative, suffix_score

WMF = "/srv/mediawiki/php-1.44.0-wmf.5"

PHP_EXCEPTION = f"""\
[Zx9a@kGQ0Ex] /w/index.php?title=Special:Cart   TypeError: CartTotal::add(): Argument #1 ($n) \
must be of type int, string given, called in {WMF}/includes/Cart.php on line 57
from {WMF}/includes/CartTotal.php(123)
#0 {WMF}/includes/Cart.php(57): CartTotal->add('3')
#1 {WMF}/extensions/Checkout/includes/Hooks.php(40): Cart->total()
#2 {WMF}/includes/HookContainer/HookContainer.php(159): Checkout\\Hooks->onBeforePageDisplay()
#3 {{main}}"""

PHP_FATAL = f"""\
PHP Fatal error:  Uncaught Error: Call to undefined method Foo::bar() in {WMF}/includes/Foo.php:42
Stack trace:
#0 {WMF}/includes/Bar.php(10): Foo->baz()
#1 {{main}}
  thrown in {WMF}/includes/Foo.php on line 42"""

PYTHON = """\
Traceback (most recent call last):
  File "/usr/lib/python3.11/runpy.py", line 198, in _run_module_as_main
    return _run_code(code, main_globals, None,
  File "/app/shop/cli.py", line 14, in main
    print(cart.total())
  File "/app/shop/cart.py", line 3, in total
    return sum(i.price for i in self.items) / self.count
ZeroDivisionError: division by zero"""

PYTHON_CHAINED = """\
Traceback (most recent call last):
  File "/app/shop/db.py", line 20, in fetch
    row = cursor.fetchone()
KeyError: 'id'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/shop/views.py", line 8, in show
    item = fetch(1)
  File "/app/shop/db.py", line 22, in fetch
    raise LookupError("gone")
LookupError: gone"""

JAVA = """\
Exception in thread "main" java.lang.IllegalStateException: total is negative
\tat com.acme.billing.Invoice.total(Invoice.java:88)
\tat com.acme.billing.Invoice$Line.lambda$sum$0(Invoice.java:120)
\tat java.base/java.util.ArrayList.forEach(ArrayList.java:1511)
\tat app//com.acme.web.CartController.show(CartController.kt:31)
\tat sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
Caused by: java.lang.NullPointerException: rate
\tat com.acme.tax.Rates.lookup(Rates.java:12)
\t... 4 more"""

NODE = """\
TypeError: Cannot read properties of undefined (reading 'price')
    at lineTotal (/app/src/cart.js:12:5)
    at Array.map (<anonymous>)
    at /app/src/cart.js:40:3
    at async Promise.all (index 0)
    at Module._compile (node:internal/modules/cjs/loader:1105:14)"""

BROWSER = """\
render@https://shop.example.com/static/js/app.min.js?v=3:1:200
https://shop.example.com/static/js/vendor.js:2:10
    at Object.update (webpack:///./src/components/Cart.vue:33:7)"""


def places(frames: list[Frame]) -> list[tuple[str, int, int]]:
    return [(f.path, f.line, f.depth) for f in frames]


def test_php_exception_log_with_its_trace() -> None:
    frames = parse_frames(PHP_EXCEPTION)
    assert places(frames) == [
        (f"{WMF}/includes/Cart.php", 57, 0),
        (f"{WMF}/includes/CartTotal.php", 123, 0),
        (f"{WMF}/extensions/Checkout/includes/Hooks.php", 40, 2),
        (f"{WMF}/includes/HookContainer/HookContainer.php", 159, 3),
    ]
    assert {f.language for f in frames} == {"php"}
    assert frames[2].function == "Cart->total"


def test_php_fatal_error_lines() -> None:
    frames = parse_frames(PHP_FATAL)
    assert places(frames) == [
        (f"{WMF}/includes/Foo.php", 42, 0),
        (f"{WMF}/includes/Bar.php", 10, 1),
    ]
    single = parse_frames(f"PHP Warning:  Undefined index: x in {WMF}/includes/Foo.php on line 42")
    assert places(single) == [(f"{WMF}/includes/Foo.php", 42, 0)]


def test_python_innermost_frame_is_printed_last() -> None:
    frames = parse_frames(PYTHON)
    assert places(frames) == [
        ("/app/shop/cart.py", 3, 0),
        ("/app/shop/cli.py", 14, 1),
        ("/usr/lib/python3.11/runpy.py", 198, 2),
    ]
    assert frames[0].function == "total" and frames[0].language == "python"


def test_python_chained_tracebacks_are_separate_stacks() -> None:
    frames = parse_frames(PYTHON_CHAINED)
    assert places(frames) == [
        ("/app/shop/db.py", 20, 0),
        ("/app/shop/db.py", 22, 0),
        ("/app/shop/views.py", 8, 1),
    ]


def test_java_paths_are_guessed_from_the_package() -> None:
    frames = parse_frames(JAVA)
    assert places(frames) == [
        ("com/acme/billing/Invoice.java", 88, 0),
        ("com/acme/tax/Rates.java", 12, 0),
        ("com/acme/billing/Invoice.java", 120, 1),
        ("java/util/ArrayList.java", 1511, 2),
        ("com/acme/web/CartController.kt", 31, 3),
    ]
    assert frames[0].function == "com.acme.billing.Invoice.total"


def test_node_frames_with_and_without_a_function() -> None:
    frames = parse_frames(NODE)
    assert places(frames) == [("/app/src/cart.js", 12, 0), ("/app/src/cart.js", 40, 1)]
    assert [f.function for f in frames] == ["lineTotal", ""]


def test_browser_frames_and_urls() -> None:
    frames = parse_frames(BROWSER)
    assert places(frames) == [
        ("https://shop.example.com/static/js/app.min.js", 1, 0),
        ("https://shop.example.com/static/js/vendor.js", 2, 1),
        ("webpack:///./src/components/Cart.vue", 33, 2),
    ]
    assert frames[0].function == "render"
    assert repo_relative(frames[0].path) == ("static/js/app.min.js", False)
    assert repo_relative(frames[2].path) == ("./src/components/Cart.vue", False)


def test_a_trace_escaped_inside_a_json_log_line() -> None:
    line = '{"message": "boom", "trace": "#0 /srv/app/includes/A.php(3): f()\\n#1 {main}"}'
    assert places(parse_frames(line)) == [("/srv/app/includes/A.php", 3, 0)]


def test_text_without_frames() -> None:
    assert parse_frames("") == []
    assert parse_frames("deploy finished in 3.2s; 0 errors\nsee https://example.org/x") == []


def test_deployment_roots_are_cut_off() -> None:
    assert repo_relative(f"{WMF}/includes/Foo.php") == ("includes/Foo.php", True)
    assert repo_relative("/srv/mediawiki/php-master/includes/Foo.php") == ("includes/Foo.php", True)
    assert repo_relative("C:\\app\\src\\x.js") == ("C:/app/src/x.js", False)


@pytest.mark.parametrize(
    ("frame", "repo", "path", "score"),
    [
        (f"{WMF}/includes/Foo.php", "mediawiki", "includes/Foo.php", 2),
        (f"{WMF}/includes/Foo.php", "mediawiki", "Foo.php", 0),  # anchored: not at the root
        (f"{WMF}/extensions/Cart/includes/Hooks.php", "mediawiki", "includes/Hooks.php", 0),
        (f"{WMF}/extensions/Cart/includes/Hooks.php", "Cart", "includes/Hooks.php", 3),
        (f"{WMF}/includes/Hooks.php", "mediawiki/extensions/Cart", "includes/Hooks.php", 0),
        (f"{WMF}/includes/Hooks.php", "Cart", "includes/Hooks.php", 2),  # no name, no knowing
        (
            f"{WMF}/extensions/Cart/includes/Hooks.php",
            "mediawiki/extensions/Cart",
            "includes/Hooks.php",
            3,
        ),
        (
            "com/acme/billing/Invoice.java",
            "billing",
            "src/main/java/com/acme/billing/Invoice.java",
            4,
        ),
        ("/app/src/cart.js", "shop", "src/cart.js", 2),
        ("/app/src/cart.js", "shop", "web/src/cart.js", 2),  # two components in common
        ("/app/src/cart.js", "shop", "lib/cart.js", 0),  # a bare file name is not enough
        ("cart.js", "shop", "lib/cart.js", 1),  # ...unless the trace gives no more
        ("/app/src/cart.js", "shop", "src/cart.ts", 0),
    ],
)
def test_suffix_scores(frame: str, repo: str, path: str, score: int) -> None:
    assert suffix_score(frame, repo, path) == score


def test_the_longest_suffix_wins() -> None:
    frame = Frame("/srv/app/current/web/src/cart.js", 3, "", "js")
    files = [("shop", "src/cart.js"), ("shop", "web/src/cart.js"), ("admin", "cart.js")]
    assert best_files(frame, files) == [("shop", "web/src/cart.js", 3)]
    assert best_files(frame, [("shop", "lib/other.js")]) == []
