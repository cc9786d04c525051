"""tallyman.config: one loader for TOML and environment variables, refusing unknown keys."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tallyman.config import ConfigError, build, check_keys, env_value, load, read_toml


@dataclass(frozen=True)
class Lane:
    origin: str
    lead_days: float = 1.0


@dataclass(frozen=True)
class Settings:
    http: str = "127.0.0.1:8080"
    workers: int = 2
    ratio: float = 0.5
    debug: bool = False
    name: str | None = None
    tags: tuple[str, ...] = ()
    lanes: list[Lane] = field(default_factory=list)


def write(tmp_path, text: str):
    path = tmp_path / "tallyman.toml"
    path.write_text(text)
    return path


def test_defaults_file_environment_in_that_order(tmp_path):
    path = write(tmp_path, '[up]\nhttp = "0.0.0.0:9000"\nworkers = 4\n[central]\nother = 1\n')
    env = {"TALLYMAN_UP_WORKERS": "8", "TALLYMAN_UP_DEBUG": "true", "UNRELATED": "x"}
    s = load(Settings, path, section="up", env_prefix="TALLYMAN_UP_", environ=env)
    assert s == Settings(http="0.0.0.0:9000", workers=8, debug=True)


def test_a_missing_section_is_all_defaults(tmp_path):
    path = write(tmp_path, "[central]\nx = 1\n")
    assert load(Settings, path, section="up") == Settings()
    assert load(Settings) == Settings()


def test_unknown_key_names_the_key_the_file_and_the_valid_ones(tmp_path):
    path = write(tmp_path, '[up]\nhttp_prot = "x"\n')
    with pytest.raises(ConfigError) as info:
        load(Settings, path, section="up")
    message = str(info.value)
    assert "'http_prot'" in message and f"{path} [up]" in message and "valid: " in message
    assert "workers" in message


def test_unknown_environment_variable(tmp_path):
    with pytest.raises(ConfigError, match="TALLYMAN_UP_WORKRES: unknown setting 'workres'"):
        load(Settings, env_prefix="TALLYMAN_UP_", environ={"TALLYMAN_UP_WORKRES": "3"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"workers": "4"}, "settings.workers: expected a whole number"),
        ({"workers": True}, "expected a whole number"),
        ({"ratio": "high"}, "settings.ratio: expected a number"),
        ({"debug": 1}, "expected true or false"),
        ({"http": 8080}, "expected a string"),
        ({"tags": "a"}, "expected a list"),
        ({"lanes": [{"origin": "DC1", "lead": 2}]}, r"settings.lanes\[0\]: unknown key 'lead'"),
        ({"lanes": [{"lead_days": 2}]}, r"settings.lanes\[0\]"),
    ],
)
def test_values_are_checked(data, message):
    with pytest.raises(ConfigError, match=message):
        build(Settings, data, "settings")


def test_nested_lists_optional_and_numbers():
    s = build(
        Settings,
        {
            "ratio": 1,
            "name": None,
            "tags": ["a", "b"],
            "lanes": [{"origin": "DC1", "lead_days": 3}],
        },
        "x",
    )
    assert s.ratio == 1.0 and isinstance(s.ratio, float)
    assert s.tags == ("a", "b")
    assert s.lanes == [Lane("DC1", 3.0)]


def test_not_a_table():
    with pytest.raises(ConfigError, match="expected a table"):
        build(Settings, ["x"], "here")  # type: ignore[arg-type]


def test_read_toml_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        read_toml(tmp_path / "missing.toml")
    bad = write(tmp_path, "http = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_toml(bad)


def test_env_values_are_toml_when_they_parse():
    assert env_value("8") == 8
    assert env_value("true") is True
    assert env_value('"x"') == "x"
    assert env_value("[1, 2]") == [1, 2]
    assert env_value("0.0.0.0:9000") == "0.0.0.0:9000"
    assert env_value("mqtt://a:b@host") == "mqtt://a:b@host"


def test_check_keys_plural():
    with pytest.raises(ConfigError, match="unknown keys 'a', 'b'"):
        check_keys({"a": 1, "b": 2, "c": 3}, {"c"}, "f.toml")


def test_text_settings_from_the_environment_are_taken_as_written():
    env = {"TALLYMAN_UP_NAME": "2024", "TALLYMAN_UP_HTTP": "true"}
    s = load(Settings, env_prefix="TALLYMAN_UP_", environ=env)
    assert (s.name, s.http) == ("2024", "true")


def test_a_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match=r"^environment variable TALLYMAN_UP_WORKERS: expected"):
        load(Settings, env_prefix="TALLYMAN_UP_", environ={"TALLYMAN_UP_WORKERS": "many"})


def test_a_section_that_is_not_a_table(tmp_path):
    path = write(tmp_path, 'up = "fast"\n')
    with pytest.raises(ConfigError, match=r"\[up\]: expected a table"):
        load(Settings, path, section="up")
