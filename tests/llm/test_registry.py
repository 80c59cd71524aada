import json
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured

from chat.llm.registry import (
    COST_QUANTUM,
    DEFAULT_MODELS,
    ModelSpec,
    UnknownModel,
    check_models,
    cost,
    get_spec,
    registry,
)

NEW_MODEL = {
    "context_window": 32768,
    "max_output_tokens": 4096,
    "input_per_mtok": "0.20",
    "output_per_mtok": "0.80",
}


@pytest.fixture(autouse=True)
def defaults(settings):
    """Each test starts from the built-in registry, whatever the environment says."""
    settings.CHAT_MODELS = ""
    settings.CHAT_MODELS_FILE = ""
    settings.LLM_BACKEND = "openai"
    settings.LLM_MODEL = "gpt-4o-mini"


@pytest.mark.parametrize("name", sorted(DEFAULT_MODELS))
def test_cost_of_every_model_bills_cached_input_at_the_cached_price(name):
    spec = get_spec(name)
    amount = cost(
        spec,
        input_tokens=3_000_000,
        cached_input_tokens=1_000_000,
        output_tokens=500_000,
    )
    expected = (
        2 * spec.input_per_mtok + spec.cached_input_per_mtok + spec.output_per_mtok / 2
    )
    assert amount == expected.quantize(COST_QUANTUM)
    assert amount.as_tuple().exponent == -8


@pytest.mark.parametrize("name", sorted(DEFAULT_MODELS))
def test_every_model_has_sane_limits_and_prices(name):
    spec = get_spec(name)
    assert spec.name == name
    assert 0 < spec.max_output_tokens <= spec.context_window
    assert 0 <= spec.cached_input_per_mtok <= spec.input_per_mtok
    assert spec.output_per_mtok >= 0


def test_cost_of_a_small_call_in_dollars():
    # 800 uncached x 0.15 + 200 cached x 0.075 + 500 out x 0.60, per million.
    amount = cost(
        get_spec("gpt-4o-mini"),
        input_tokens=1000,
        cached_input_tokens=200,
        output_tokens=500,
    )
    assert amount == Decimal("0.00043500")


def test_cost_is_quantized_to_one_hundred_millionth_of_a_dollar():
    one_token = cost(
        get_spec("gpt-5-nano"), input_tokens=1, cached_input_tokens=0, output_tokens=0
    )
    assert one_token == Decimal("0.00000005")
    assert str(one_token) == "5E-8"


def test_cached_tokens_beyond_the_input_are_not_billed_twice():
    spec = get_spec("gpt-4o")
    assert cost(
        spec, input_tokens=100, cached_input_tokens=500, output_tokens=0
    ) == cost(spec, input_tokens=100, cached_input_tokens=100, output_tokens=0)


def test_local_and_demo_models_are_free():
    for name in ("smollm2", "demo"):
        spec = get_spec(name)
        assert cost(
            spec, input_tokens=10**6, cached_input_tokens=0, output_tokens=10**6
        ) == Decimal(0)
        assert spec.encoding is None
    assert get_spec("smollm2").context_window == 2048


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("o4-mini-2025-04-16", "o4-mini"),
        ("gpt-5-mini-2025-08-07", "gpt-5-mini"),
        ("GPT-4o", "gpt-4o"),
        (" smollm2 ", "smollm2"),
    ],
)
def test_snapshot_names_resolve_to_their_model(name, expected):
    assert get_spec(name).name == expected


@pytest.mark.parametrize("name", ["gpt-4o-audio-preview", "gpt-4", "llama3", ""])
def test_unknown_model_says_how_to_add_one(name):
    with pytest.raises(UnknownModel) as info:
        get_spec(name)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert repr(name) in message
    assert "CHAT_MODELS" in message and "CHAT_MODELS_FILE" in message
    assert "gpt-4o-mini" in message  # the known models are listed


def test_models_are_added_through_the_json_setting(settings):
    settings.CHAT_MODELS = json.dumps({"My-Model": NEW_MODEL})
    spec = get_spec("my-model")
    assert spec == ModelSpec(
        name="my-model",
        context_window=32768,
        max_output_tokens=4096,
        input_per_mtok=Decimal("0.20"),
        cached_input_per_mtok=Decimal("0.20"),  # no cache discount unless stated
        output_per_mtok=Decimal("0.80"),
        encoding=None,
    )
    assert get_spec("my-model-2025-01-01") == spec


def test_an_override_changes_only_the_fields_it_names(settings):
    settings.CHAT_MODELS = json.dumps({"gpt-4o": {"input_per_mtok": 2.2}})
    spec = get_spec("gpt-4o")
    assert spec.input_per_mtok == Decimal("2.2")
    assert spec.output_per_mtok == DEFAULT_MODELS["gpt-4o"].output_per_mtok
    assert spec.encoding == "o200k_base"


def test_the_inline_setting_wins_over_the_file(settings, tmp_path):
    path = tmp_path / "models.json"
    path.write_text(
        json.dumps(
            {
                "file-model": NEW_MODEL,
                "smollm2": {"context_window": 8192, "max_output_tokens": 2048},
            }
        )
    )
    settings.CHAT_MODELS_FILE = str(path)
    settings.CHAT_MODELS = json.dumps({"smollm2": {"context_window": 4096}})
    assert get_spec("file-model").context_window == 32768
    assert get_spec("smollm2").context_window == 4096
    assert get_spec("smollm2").max_output_tokens == 2048


def test_overrides_end_with_the_settings_that_made_them(settings):
    settings.CHAT_MODELS = json.dumps({"gpt-4o": {"output_per_mtok": "1"}})
    assert get_spec("gpt-4o").output_per_mtok == Decimal(1)
    settings.CHAT_MODELS = ""
    assert get_spec("gpt-4o") == DEFAULT_MODELS["gpt-4o"]


def test_the_registry_cannot_be_changed_by_callers():
    with pytest.raises(TypeError):
        registry()["gpt-4o"] = DEFAULT_MODELS["demo"]


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({**NEW_MODEL, "context_window": 0}, "context_window"),
        ({**NEW_MODEL, "context_window": -5}, "context_window"),
        ({**NEW_MODEL, "context_window": "big"}, "context_window"),
        ({**NEW_MODEL, "context_window": True}, "context_window"),
        ({**NEW_MODEL, "max_output_tokens": 1.5}, "max_output_tokens"),
        ({**NEW_MODEL, "max_output_tokens": 40000}, "max_output_tokens"),
        ({**NEW_MODEL, "input_per_mtok": -1}, "input_per_mtok"),
        ({**NEW_MODEL, "output_per_mtok": "cheap"}, "output_per_mtok"),
        ({**NEW_MODEL, "cached_input_per_mtok": "NaN"}, "cached_input_per_mtok"),
        ({**NEW_MODEL, "encoding": 5}, "encoding"),
        ({**NEW_MODEL, "contex_window": 5}, "contex_window"),
        (
            {k: v for k, v in NEW_MODEL.items() if k != "output_per_mtok"},
            "output_per_mtok",
        ),
        (
            {k: v for k, v in NEW_MODEL.items() if k != "context_window"},
            "context_window",
        ),
    ],
)
def test_invalid_entries_name_the_model_and_the_field(settings, entry, field):
    settings.CHAT_MODELS = json.dumps({"bad-model": entry})
    with pytest.raises(ImproperlyConfigured) as info:
        get_spec("gpt-4o")
    assert "'bad-model'" in str(info.value)
    assert repr(field) in str(info.value)


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '{"x": 5}'])
def test_malformed_json_is_reported(settings, raw):
    settings.CHAT_MODELS = raw
    with pytest.raises(ImproperlyConfigured, match="CHAT_MODELS"):
        registry()


def test_an_unreadable_models_file_is_reported(settings, tmp_path):
    settings.CHAT_MODELS_FILE = str(tmp_path / "missing.json")
    with pytest.raises(ImproperlyConfigured, match="missing.json"):
        registry()


def test_check_passes_for_the_defaults():
    assert check_models(None) == []


def test_check_reports_a_misconfigured_registry(settings):
    settings.CHAT_MODELS = json.dumps({"bad": {**NEW_MODEL, "input_per_mtok": -1}})
    [error] = check_models(None)
    assert error.id == "chat.E101"
    assert "'bad'" in error.msg and "'input_per_mtok'" in error.msg


def test_check_reports_an_unknown_llm_model(settings):
    settings.LLM_MODEL = "gpt-17"
    [error] = check_models(None)
    assert error.id == "chat.E102"
    assert "gpt-17" in error.msg and "CHAT_MODELS" in error.hint


def test_check_ignores_llm_model_while_the_demo_model_runs(settings):
    settings.LLM_BACKEND = "demo"
    settings.LLM_MODEL = "gpt-17"
    assert check_models(None) == []
