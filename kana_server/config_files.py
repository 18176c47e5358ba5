"""kana.yaml files: YAML or JSON in, a typed config out, every problem with its line number; and
documents out (exports), written atomically.

Used by the command line (`seed`, `import`, `export`, `validate`), the startup seed and
`--export-on-exit`. Parsing is YAML 1.1 (PyYAML, with libyaml when available); duplicate keys are
refused, as the Kana CLI's YAML parser does.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml

from kana_server.domain.config import ConfigError, ConfigPath, ConfigProblem, KanaConfig, parse_config

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader that refuses duplicate keys (PyYAML would silently keep the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # complex keys are refused by the base class with its own message
            key = (key_node.tag, key_node.value)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key_node.value!r}",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Located:
    """A problem with the line (1-based) it was found on, when known."""

    line: int | None
    message: str

    def render(self, source: str) -> str:
        """`source:line: message`, as compilers print it."""
        return f"{source}:{self.line}: {self.message}" if self.line else f"{source}: {self.message}"


class FileError(ConfigError):
    """A file that is not a valid kana.yaml; `located` holds each problem with its line."""

    def __init__(self, source: str, located: list[Located], problems: list[ConfigProblem]) -> None:
        super().__init__(source, problems)
        self.located = located
        self.message = "\n".join(item.render(source) for item in located)


def is_json(text: str, source: str) -> bool:
    """Whether a document is JSON (by its name, or a leading `{`): parsed with orjson, much faster."""
    return source.endswith(".json") or text.lstrip().startswith("{")


def load_data(text: str, source: str) -> Any:
    """The document's data (YAML or JSON), or FileError with the line of the syntax error."""
    if is_json(text, source):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            located = Located(exc.lineno, f"not valid JSON: {exc.msg} (column {exc.colno})")
            raise FileError(source, [located], [ConfigProblem((), located.message)]) from exc
    split = _split_usage(text)
    if split is not None:
        head, events = split
        data = _load_yaml(head, source)
        if isinstance(data, dict) and "usage" not in data:
            data["usage"] = events
            return data
    return _load_yaml(text, source)


USAGE_BLOCK = "\nusage:\n"


def _split_usage(text: str) -> tuple[str, list[Any]] | None:
    """An export's trailing `usage:` block, one JSON object per line, read with orjson (D57).

    None when the text does not end that way: then the whole text goes through the YAML parser,
    which reads such lines identically (JSON objects are YAML flow mappings), only much slower.
    """
    start = text.rfind(USAGE_BLOCK)
    if start < 0:
        return None
    events: list[Any] = []
    for line in text[start + len(USAGE_BLOCK) :].splitlines():
        if not line.strip():
            continue
        if not line.startswith("- {"):
            return None
        try:
            events.append(orjson.loads(line[2:]))
        except orjson.JSONDecodeError:
            return None
    return text[: start + 1], events


def _load_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        located = Located(mark.line + 1 if mark else None, f"not valid YAML: {detail}")
        raise FileError(source, [located], [ConfigProblem((), located.message)]) from exc
    except yaml.YAMLError as exc:
        located = Located(None, f"not valid YAML: {exc}")
        raise FileError(source, [located], [ConfigProblem((), located.message)]) from exc


LOCATE_LIMIT = 5_000_000
"""Texts longer than this (in characters) are not searched for line numbers: parsing them again into
a node tree to locate a problem would take longer than the whole import."""


class LineFinder:
    """Finds the line of a value in a YAML or JSON text (the node tree is built once, on first use)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._root: yaml.Node | None = None
        self._built = False

    def _tree(self) -> yaml.Node | None:
        if not self._built:
            self._built = True
            if len(self.text) <= LOCATE_LIMIT:
                try:
                    self._root = yaml.compose(self.text, Loader=_BaseLoader)
                except yaml.YAMLError:
                    self._root = None
        return self._root

    def line(self, path: ConfigPath) -> int | None:
        """The line (1-based) of the value at `path` (the deepest part found), or None."""
        node = self._tree()
        if node is None:
            return None
        line: int = node.start_mark.line + 1
        for part in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if key_node.value == str(part):
                        # The last part is reported at its key (an unexpected key is on that line).
                        child = value_node if part != path[-1] else key_node
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line


def located_error(text: str, error: ConfigError) -> FileError:
    """A config error with the line of each problem in the file's text."""
    if isinstance(error, FileError):
        return error
    finder = LineFinder(text)
    located = [Located(finder.line(p.path) if p.path else None, str(p)) for p in error.problems]
    return FileError(error.source, located, error.problems)


def load_config_file_text(text: str, source: str) -> KanaConfig:
    """Parse a kana.yaml (or its JSON form); every problem carries its line number."""
    data = load_data(text, source)
    try:
        return parse_config(data, source)
    except ConfigError as exc:
        raise located_error(text, exc) from exc


_BaseDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render_document(document: dict[str, Any], fmt: str) -> bytes:
    """A document as YAML (leaf entries on one line each, keys in order) or JSON (one line per entry)."""
    if fmt == "json":
        return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"
    header = f"# kana-server export of {document.get('app')}: load it with `kana-server import FILE`\n"
    usage = document.get("usage")
    rest = {key: value for key, value in document.items() if key != "usage"}
    body = yaml.dump(
        rest, Dumper=_BaseDumper, sort_keys=False, default_flow_style=None, allow_unicode=True, width=110
    )
    if usage is None:
        return (header + body).encode()
    # Usage can hold millions of events: one JSON object per line (a valid YAML flow mapping), which
    # is many times faster to write than the general dumper's output, and to read back (`load_data`).
    lines = [b"usage:" + (b" []" if not usage else b"")]
    lines += [
        b"- {"
        + b", ".join(orjson.dumps(key) + b": " + orjson.dumps(value) for key, value in event.items())
        + b"}"
        for event in usage
    ]
    return (header + body).encode() + b"\n".join(lines) + b"\n"


def format_of(path: Path, default: str = "yaml") -> str:
    """json for a `.json` file, yaml for `.yaml`/`.yml`, otherwise the default."""
    suffix = path.suffix.lower()
    return "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else default


def _current_umask() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _current_umask()  # read once, at import: os.umask is process-wide, so never from a worker thread


def _mode_for(path: Path) -> int:
    """The permissions the written file gets: the replaced file's, or what the umask allows."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file so that readers (and a crash at any moment) see the old content or the new one,
    never a mix: a temporary file in the same folder, flushed to disk, then renamed over the target."""
    folder = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(handle, _mode_for(path))
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where the platform allows
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
