"""Config loading: defaults, tuning, new actions, and errors that point at file:line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trayassist import paths
from trayassist.actions import BUILTIN_ACTIONS
from trayassist.config import (
    Config,
    ConfigError,
    default_config_text,
    load_config,
    write_default_config,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert err.value.path == path
    return err.value


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAYASSIST_HOME", str(tmp_path / "home"))
    config = load_config()
    assert config == Config()
    assert config.model == "smollm2-135m-instruct"
    assert (config.engine, config.threads, config.delivery) == ("auto", None, "auto")
    assert config.translate_to == "English"
    assert dict(config.actions) == BUILTIN_ACTIONS
    assert config.path is None


def test_loading_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("TRAYASSIST_HOME", str(home))
    assert paths.config_file().parent == home
    load_config()
    assert not home.exists()
    assert list(tmp_path.iterdir()) == []


def test_actions_are_read_only() -> None:
    config = Config()
    with pytest.raises(TypeError):
        config.actions["mine"] = BUILTIN_ACTIONS["rewrite"]  # type: ignore[index]
    assert "mine" not in BUILTIN_ACTIONS


def test_full_config(tmp_path: Path) -> None:
    path = write(tmp_path, """
model = "models/tiny.gguf"
engine = "gpt4all"
threads = 4
translate_to = "German"
delivery = "clipboard"
""")
    config = load_config(path)
    assert config.model == str(tmp_path / "models" / "tiny.gguf")  # relative to the file
    assert (config.engine, config.threads, config.translate_to, config.delivery) == (
        "gpt4all", 4, "German", "clipboard")
    assert config.path == path


def test_model_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "user"))  # what Windows reads for ~
    assert load_config(write(tmp_path, 'model = "~/m/x.gguf"')).model == str(
        tmp_path / "user" / "m" / "x.gguf")
    absolute = str(Path(tmp_path.anchor) / "opt" / "m" / "x.gguf")  # "C:\\opt\\..." on Windows
    assert load_config(write(tmp_path, f"model = '{absolute}'")).model == absolute
    assert load_config(write(tmp_path, 'model = "qwen2.5-0.5b"')).model == "qwen2.5-0.5b"


def test_tuning_a_builtin_hotkey_keeps_the_rest(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[actions.rewrite]\nhotkey = "<alt>+<ctrl>+R"\n'))
    rewrite = config.actions["rewrite"]
    assert rewrite.hotkey == "<ctrl>+<alt>+r"  # canonical
    assert rewrite.instruction == BUILTIN_ACTIONS["rewrite"].instruction
    assert rewrite.builtin and rewrite.output_ratio == BUILTIN_ACTIONS["rewrite"].output_ratio
    assert config.actions["proofread"] == BUILTIN_ACTIONS["proofread"]


def test_empty_hotkey_disables_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, '[actions.summarize]\nhotkey = ""\n'))
    assert config.actions["summarize"].hotkey is None
    assert config.actions["summarize"].keep_all_facts is False


def test_new_action(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[actions.formal]
instruction = "Rewrite the text in a formal tone. Output only the rewritten text."
hotkey = "<ctrl>+<alt>+<shift>+f"
max_tokens = 300
temperature = 0.3

[actions]
tldr = { instruction = "One line.", keep_all_facts = false, output_ratio = 0.3 }
"""))
    assert list(config.actions) == [*BUILTIN_ACTIONS, "formal", "tldr"]
    formal = config.actions["formal"]
    assert formal.instruction.startswith("Rewrite the text in a formal tone.")
    assert (formal.hotkey, formal.max_tokens, formal.temperature) == (
        "<ctrl>+<alt>+<shift>+f", 300, 0.3)
    assert not formal.builtin and formal.keep_all_facts
    tldr = config.actions["tldr"]
    assert (tldr.hotkey, tldr.output_ratio, tldr.keep_all_facts) == (None, 0.3, False)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ('model = "x"\n\nmodle = "y"\n', 3,
         'unknown key "modle" (did you mean "model"? allowed: model, engine, threads, '
         "translate_to, delivery, base_url, allow_remote, api_price_input, api_price_output, "
         "actions, apps)"),
        ('engine = "openai"\nbase_url = "127.0.0.1:11434"\n', 2,
         'base_url: expected an http(s) URL like "http://127.0.0.1:11434/v1", '
         'got "127.0.0.1:11434"'),
        ("allow_remote = 1\n", 1, "allow_remote: expected true or false, got 1"),
        ('\nthreads = "four"\n', 2, 'threads: expected an integer 1..64, got "four"'),
        ("threads = 0\n", 1, "threads: expected an integer 1..64, got 0"),
        ("threads = true\n", 1, "threads: expected an integer 1..64, got true"),
        ('\n\nengine = "llama"\n', 3,
         'engine: expected one of "auto", "llama-cpp", "gpt4all", "openai", got "llama"'),
        ('delivery = "type"\n', 1,
         'delivery: expected one of "auto", "review", "paste", "clipboard"'),
        ("api_price_input = -1\n", 1, "api_price_input: expected a number 0..10000, got -1"),
        ('translate_to = "  "\n', 1, "translate_to: expected a language name"),
        ("model = 3\n", 1, "model: expected a catalog model name or a path"),
        ("actions = 5\n", 1, "actions: expected tables like [actions.rewrite], got 5"),
        ('# c\n[actions.rewrite]\n\n\n\n\nhotkey = "<ctrl>+"\n', 7,
         'actions.rewrite.hotkey: "<ctrl>+" is not a hotkey: expected modifiers like <ctrl>'),
        ("[actions.rewrite]\nhotkey = 5\n", 2, "actions.rewrite.hotkey: expected a hotkey like"),
        ('[actions.rewrite]\nhotkye = "x"\n', 2,
         'actions.rewrite: unknown key "hotkye" (did you mean "hotkey"? allowed: instruction,'),
        ("\n[actions.rewrite]\ntemperature = 3\n", 3,
         "actions.rewrite.temperature: expected a number 0..2, got 3"),
        ("[actions.rewrite]\nmax_tokens = 9000\n", 2,
         "actions.rewrite.max_tokens: expected an integer 1..8192, got 9000"),
        ("[actions.rewrite]\nkeep_all_facts = 1\n", 2,
         "actions.rewrite.keep_all_facts: expected true or false, got 1"),
        ('[actions.rewrite]\ninstruction = ""\n', 2,
         'actions.rewrite.instruction: expected a non-empty string, got ""'),
        ('\n\n[actions.formal]\nhotkey = "<ctrl>+<alt>+f"\n', 3,
         "actions.formal: a new action needs an instruction"),
        ('[actions.Formal]\ninstruction = "x"\n', 1,
         "actions.Formal: action names are 1-32 lowercase letters"),
        ("[actions]\nrewrite = 3\n", 2, "actions.rewrite: expected a table"),
        # dotted keys and inline tables: best effort, on the line that holds them
        ('\n[actions]\nrewrite.hotkey = "e"\n', 3,
         'actions.rewrite.hotkey: "e" is not a hotkey: it needs <ctrl>, <alt> or <cmd>'),
        ('\nactions = { rewrite = { hotkey = "<ctrl>+<alt>" } }\n', 2,
         "actions.rewrite.hotkey: \"<ctrl>+<alt>\" is not a hotkey: it has modifiers but no"),
        # a multi-line string's content is not mistaken for keys
        ('[actions.x]\ninstruction = """\nhotkey = 1\n"""\nhotkey = 2\n', 5,
         "actions.x.hotkey: expected a hotkey"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, says: str) -> None:
    err = error(tmp_path, text)
    assert err.line == line
    assert str(err).startswith(f"{tmp_path / 'config.toml'}:{line}: {says}")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("model = smollm\n", 1, "invalid value (column 9); text values need quotes"),
        ('\nmodel = "a"\nmodel = "b"\n', 3, "cannot overwrite a value"),
        ('model = "C:\\models\\x.gguf"\n', 1, "in single quotes \\ is literal"),
        ('threads = 4\n[actions.rewrite\nhotkey = ""\n', 2, ""),
    ],
)
def test_toml_syntax_errors(tmp_path: Path, text: str, line: int, says: str) -> None:
    err = error(tmp_path, text)
    assert err.line == line
    assert str(err).startswith(f"{tmp_path / 'config.toml'}:{line}: not valid TOML: ")
    assert says in str(err)
    assert "(at line" not in str(err)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'model = "a"\n# caf\xe9\n')
    with pytest.raises(ConfigError, match=r"config\.toml:2: not UTF-8"):
        load_config(path)


def test_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('\ufeffthreads = 2\r\n'.encode())
    assert load_config(path).threads == 2


def test_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config") as err:
        load_config(tmp_path)  # a folder
    assert err.value.line is None


@pytest.mark.parametrize(
    ("text", "line", "here", "there"),
    [
        ('[actions.rewrite]\nhotkey = "<shift>+<alt>+<ctrl>+P"\n', 2, "rewrite", "proofread"),
        ('[actions.a]\ninstruction = "x"\nhotkey = "<ctrl>+<alt>+<shift>+s"\n', 3, "a",
         "summarize"),
        ('[actions.b]\ninstruction = "x"\nhotkey = "<ctrl>+<alt>+k"\n\n'
         '[actions.a]\ninstruction = "y"\nhotkey = "<alt>+<ctrl>+K"\n', 7, "a", "b"),
        ('[actions.translate]\nhotkey = "<ctrl>+<alt>+k"\n\n'
         '[actions.rewrite]\nhotkey = "<ctrl>+<alt>+k"\n', 5, "rewrite", "translate"),
    ],
)
def test_duplicate_hotkeys_name_both_actions(
    tmp_path: Path, text: str, line: int, here: str, there: str
) -> None:
    err = error(tmp_path, text)
    assert err.line == line
    assert f":{line}: actions.{here}.hotkey: " in str(err)
    assert f'is also the hotkey of action "{there}"' in str(err)


def test_duplicate_resolved_by_disabling_one(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[actions.mine]
instruction = "x"
hotkey = "<ctrl>+<alt>+<shift>+e"
[actions.rewrite]
hotkey = ""
"""))
    assert config.actions["mine"].hotkey == "<ctrl>+<alt>+<shift>+e"
    assert config.actions["rewrite"].hotkey is None


def test_default_config_text_loads_to_the_defaults(tmp_path: Path) -> None:
    text = default_config_text()
    path = write(tmp_path, text)
    assert load_config(path) == Config(path=path)
    for key in ("model", "engine", "threads", "translate_to", "delivery", "api_price_input",
                "api_price_output"):
        assert re.search(rf"^#.*\b{key} = ", text, re.MULTILINE), key
    # Uncommenting every `#key = value` / `#[table]` line still gives the defaults.
    uncommented = re.sub(r"^#(?=[\[a-z])", "", text, flags=re.MULTILINE)
    assert uncommented != text
    path = write(tmp_path, uncommented)
    assert load_config(path) == Config(path=path)
    for action in BUILTIN_ACTIONS.values():
        assert f"[actions.{action.name}]" in uncommented
        assert f'hotkey = "{action.hotkey}"' in uncommented


def test_write_default_config(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    write_default_config(path)
    assert path.read_text(encoding="utf-8") == default_config_text()
    assert load_config(path) == Config(path=path)


def test_write_refuses_to_overwrite(tmp_path: Path) -> None:
    path = write(tmp_path, "threads = 3\n")
    with pytest.raises(FileExistsError) as err:
        write_default_config(path)
    assert isinstance(err.value, ConfigError)
    assert str(err.value).startswith(f"{path}: a config file is already there")
    assert "trayassist config init" in str(err.value)
    assert path.read_text(encoding="utf-8") == "threads = 3\n"


def test_with_engine_openai_the_model_is_the_servers_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('engine = "openai"\nmodel = "hf.co/org/Model-GGUF:Q4_K_M"\n'
                    'base_url = "http://127.0.0.1:1234/v1/"\nallow_remote = true\n')
    cfg = load_config(path)
    assert cfg.model == "hf.co/org/Model-GGUF:Q4_K_M"  # not taken for a file path
    assert cfg.base_url == "http://127.0.0.1:1234/v1" and cfg.allow_remote is True
    assert Config().allow_remote is False  # the default refuses remote servers


def test_trayassist_engine_openai_keeps_the_model_name_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "config.toml"
    path.write_text('model = "hf.co/org/Model-GGUF:Q4_K_M"\n')
    monkeypatch.setenv("TRAYASSIST_ENGINE", "openai")
    assert load_config(path).model == "hf.co/org/Model-GGUF:Q4_K_M"
