import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from chat.errors import TooLong
from chat.llm.tokens import count_messages
from chat.llm.trimming import trim_history

MODEL = "demo"  # estimated counts: deterministic, no tokenizer files needed
REPLY = 100
SYSTEM = [SystemMessage("You are a helpful, concise assistant. Answer in Markdown.")]
NEW = HumanMessage("And what about the last one?")


def conversation(turns: int) -> list:
    """Alternating questions and answers, oldest first."""
    history = []
    for i in range(turns):
        history.append(HumanMessage(f"Question number {i}: what is {i} squared?"))
        history.append(AIMessage(f"The square of {i} is {i * i}. Anything else?"))
    return history


def needed(history: list) -> int:
    """The window that fits everything exactly, with the reply budget."""
    return count_messages([*SYSTEM, *history, NEW], MODEL) + REPLY


def trim(history: list, window: int, new=NEW):
    return trim_history(
        SYSTEM, history, new, window=window, reply_budget=REPLY, model=MODEL
    )


def test_everything_is_kept_when_it_fits_exactly():
    history = conversation(4)
    result = trim(history, needed(history))
    assert result.messages == [*SYSTEM, *history, NEW]
    assert result.dropped == 0
    assert result.input_tokens == needed(history) - REPLY


def test_one_token_over_drops_the_oldest_question_with_its_answer():
    history = conversation(4)
    result = trim(history, needed(history) - 1)
    assert result.messages == [*SYSTEM, *history[2:], NEW]
    assert result.dropped == 2
    assert result.input_tokens == count_messages(result.messages, MODEL)
    assert result.input_tokens <= needed(history) - 1 - REPLY


def test_far_over_keeps_only_the_system_prompt_and_the_new_message():
    history = conversation(50)
    window = needed([]) + 10
    result = trim(history, window)
    assert result.messages == [*SYSTEM, NEW]
    assert result.dropped == 100
    assert result.input_tokens <= window - REPLY


@pytest.mark.parametrize("spare", [0, 1, 7, 30, 200])
def test_the_newest_turns_are_kept_and_never_half_a_turn(spare):
    history = conversation(6)
    result = trim(history, needed(history[6:]) + spare)
    kept = result.messages[1:-1]
    assert result.messages[0] is SYSTEM[0] and result.messages[-1] is NEW
    assert kept == history[len(history) - len(kept) :]  # a suffix, in order
    assert len(kept) % 2 == 0  # whole question-and-answer pairs
    assert len(kept) >= 6
    assert result.input_tokens <= needed(history[6:]) + spare - REPLY


def test_an_answer_is_not_kept_without_its_question():
    # The answer alone would fit, its question would not: both go.
    history = [HumanMessage("long question " * 200), AIMessage("Short answer.")]
    result = trim(history, needed([history[1]]))
    assert result.messages == [*SYSTEM, NEW]
    assert result.dropped == 2


def test_tool_calls_stay_with_the_question_that_caused_them():
    call = {"name": "lookup", "args": {"q": "x"}, "id": "call_1"}
    turn = [
        HumanMessage("Look this up."),
        AIMessage("", tool_calls=[call]),
        ToolMessage("result", tool_call_id="call_1"),
        AIMessage("Here it is."),
    ]
    history = conversation(3) + turn
    result = trim(history, needed(turn))
    assert result.messages == [*SYSTEM, *turn, NEW]


def test_a_leading_greeting_is_a_turn_of_its_own():
    history = [AIMessage("Hi! How can I help?"), *conversation(2)]
    result = trim(history, needed(history) - 1)
    assert result.messages == [*SYSTEM, *history[1:], NEW]
    assert result.dropped == 1


def test_the_system_prompt_is_always_kept():
    history = conversation(3)
    for window in (needed([]), needed(history[4:]), needed(history)):
        assert trim(history, window).messages[: len(SYSTEM)] == SYSTEM


def test_a_message_that_cannot_fit_is_refused_in_words():
    huge = HumanMessage("word " * 5000)
    window = 2048
    with pytest.raises(TooLong) as info:
        trim(conversation(2), window, new=huge)
    total = count_messages([*SYSTEM, huge], MODEL)
    assert info.value.code == "too_long"
    assert info.value.message == (
        f"This message is too long for the model: about {total:,} tokens, "
        f"the limit is {window - REPLY:,}."
    )
    assert "," in f"{total:,}"  # thousands are grouped for people


def test_a_message_that_exactly_fits_alone_is_accepted():
    result = trim(conversation(2), needed([]))
    assert result.messages == [*SYSTEM, NEW]
    with pytest.raises(TooLong):
        trim(conversation(2), needed([]) - 1)


def test_a_reply_budget_as_large_as_the_window_is_a_programming_error():
    with pytest.raises(ValueError, match="reply budget"):
        trim_history(SYSTEM, [], NEW, window=100, reply_budget=100, model=MODEL)
