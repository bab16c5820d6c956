import pytest

from lambdahost.code.names import parse_entry_name
from lambdahost.core.errors import InvalidParameterValue


@pytest.mark.parametrize(
    ("name", "parts", "is_dir"),
    [
        ("handler.py", ("handler.py",), False),
        ("pkg/mod.py", ("pkg", "mod.py"), False),
        ("pkg/", ("pkg",), True),
        ("./pkg//mod.py", ("pkg", "mod.py"), False),
        ("lib\\util.py", ("lib", "util.py"), False),
        ("lib\\", ("lib",), True),
        ("a..b/c...", ("a..b", "c..."), False),
        ("dir.d/x:y", ("dir.d", "x:y"), False),
    ],
)
def test_safe_names_become_relative_paths(name: str, parts: tuple[str, ...], is_dir: bool) -> None:
    path = parse_entry_name(name)
    assert path.parts == parts
    assert path.is_dir is is_dir
    assert path.text == "/".join(parts)


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("/etc/passwd", "absolute path"),
        ("\\windows\\evil.dll", "absolute path"),
        ("//server/share/x", "absolute path"),
        ("C:/evil.py", "drive letter"),
        ("c:evil.py", "drive letter"),
        ("../evil.py", "'..' component"),
        ("a/../../evil.py", "'..' component"),
        ("a/b/..", "'..' component"),
        ("..\\evil.py", "'..' component"),
        ("a\\..\\..\\evil.py", "'..' component"),
        ("a/\x00.py", "NUL character"),
        ("./", "empty name"),
        ("x" * 256, "longer than 255 bytes"),
        ("a/" * 2001, "longer than 4000 bytes"),
    ],
)
def test_unsafe_names_are_rejected_naming_the_entry(name: str, problem: str) -> None:
    with pytest.raises(InvalidParameterValue) as caught:
        parse_entry_name(name)
    assert problem in caught.value.message
    assert caught.value.message.startswith(f"Zip entry {name!r} ")
    assert caught.value.status == 400
