"""Start-up checks of the observability settings."""

from chat.observability.checks import check_observability


def ids(settings) -> list[str]:
    return [message.id for message in check_observability(None)]


def test_good_settings_pass(settings):
    settings.LANGSMITH_TRACING = True
    settings.LANGSMITH_API_KEY = "lsv2_pt_x"
    settings.CHAT_TRACE_URL = "https://smith.langchain.com/o/1/r/{run_id}"
    settings.CHAT_METRICS_TOKEN = "a-long-random-metrics-token-0123"
    assert ids(settings) == []


def test_tracing_without_a_key_is_reported(settings):
    settings.LANGSMITH_TRACING = True
    settings.LANGSMITH_API_KEY = ""
    assert ids(settings) == ["chat.W301"]


def test_a_trace_url_without_the_run_id_is_reported(settings):
    settings.CHAT_TRACE_URL = "https://smith.langchain.com/o/1/projects"
    assert ids(settings) == ["chat.W302"]


def test_a_short_metrics_token_is_reported(settings):
    settings.CHAT_METRICS_TOKEN = "short"
    assert ids(settings) == ["chat.W303"]
