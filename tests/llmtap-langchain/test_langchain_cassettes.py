"""Every cassette recorded through LangChain replays through the real LangChain, rebuilt
from its request bodies (tools bound, structured output, history, LCEL, LangGraph), and
gives records equal to its truth file, with llmtap's provider layer off and on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypedDict

import pytest
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_openai import ChatOpenAI
from langchain_truth import (
    assert_matches_truth,
    by_id,
    calls_of,
    generations,
    response_tool_call_ids,
    wanted_input_tokens,
)
from langgraph.graph import StateGraph
from pydantic import BaseModel, Field

from support.cassettes import SHARED_CASSETTES, load_cassette, replay, request_body

CASSETTES = SHARED_CASSETTES / "langchain"


def _body(name: str) -> dict[str, Any]:
    cassette, _ = load_cassette(CASSETTES / f"{name}.yaml")
    return request_body(cassette["interactions"][0])


def _openai(body: dict[str, Any], **options: Any) -> ChatOpenAI:
    return ChatOpenAI(model=body["model"], api_key="sk-test", max_retries=0, **options)


def _run(runnable: Any, value: Any, config: dict[str, Any], is_async: bool, stream: bool) -> Any:
    """Invoke or stream `runnable` as a caller would, sync or async; return the result."""
    if not is_async:
        if stream:
            return list(runnable.stream(value, config=config))
        return runnable.invoke(value, config=config)

    async def go() -> Any:
        if stream:
            return [chunk async for chunk in runnable.astream(value, config=config)]
        return await runnable.ainvoke(value, config=config)

    return asyncio.run(go())


def chatanthropic_tool_use(config: dict[str, Any], is_async: bool) -> Any:
    body = _body("chatanthropic_tool_use")
    llm = ChatAnthropic(
        model=body["model"], max_tokens=body["max_tokens"], api_key="sk-test", max_retries=0
    )
    question = body["messages"][0]["content"]
    return _run(llm.bind_tools(body["tools"]), question, config, is_async, stream=False)


def chatopenai_lcel_stream_no_usage(config: dict[str, Any], is_async: bool) -> Any:
    body = _body("chatopenai_lcel_stream_no_usage")
    prompt = ChatPromptTemplate.from_template("write 10 lines of random text about ${product}")
    chain = prompt | _openai(body, temperature=0) | StrOutputParser()
    config = {**config, "run_name": "socks_chain"}
    return "".join(_run(chain, {"product": "colorful socks"}, config, is_async, stream=True))


def chatopenai_parallel_tool_calls(config: dict[str, Any], is_async: bool) -> Any:
    body = _body("chatopenai_parallel_tool_calls")
    llm = _openai(body).bind_tools(body["tools"])
    return _run(llm, body["messages"][0]["content"], config, is_async, stream=False)


def chatopenai_stream_include_usage(config: dict[str, Any], is_async: bool) -> Any:
    body = _body("chatopenai_stream_include_usage")
    llm = _openai(body, temperature=body["temperature"], stream_usage=True)
    return _run(llm, body["messages"][0]["content"], config, is_async, stream=True)


class FoodAnalysis(BaseModel):
    name: str = Field(description="The name of the food item")
    healthy: bool = Field(description="Whether the food is good for you")
    calories: int = Field(description="Estimated calories per serving")
    taste_profile: list[str] = Field(description="List of taste characteristics")


def chatopenai_structured_output(config: dict[str, Any], is_async: bool) -> Any:
    body = _body("chatopenai_structured_output")
    llm = _openai(body, temperature=0).with_structured_output(
        FoodAnalysis, method="json_schema", strict=True
    )
    return _run(llm, body["messages"][0]["content"], config, is_async, stream=False)


def chatopenai_tool_calls_with_history(config: dict[str, Any], is_async: bool) -> Any:
    body = _body("chatopenai_tool_calls_with_history")
    system, question, assistant, tool, follow_up = body["messages"]
    call = assistant["tool_calls"][0]
    history = [
        SystemMessage(system["content"]),
        HumanMessage(question["content"]),
        AIMessage(
            "",
            tool_calls=[
                {"name": "get_weather", "args": {"location": "San Francisco"}, "id": call["id"]}
            ],
        ),
        ToolMessage(tool["content"], tool_call_id=tool["tool_call_id"]),
        HumanMessage(follow_up["content"]),
    ]
    llm = _openai(body, temperature=0).bind_tools(body["tools"])
    return _run(llm, history, config, is_async, stream=False)


class MathState(TypedDict):
    request: str
    result: str


def langgraph_chatopenai_invoke(config: dict[str, Any], is_async: bool) -> Any:
    body = _body("langgraph_chatopenai_invoke")
    llm = _openai(body)
    system, user = body["messages"]

    def calculate(state: MathState) -> dict[str, str]:
        answer = llm.invoke([("system", system["content"]), ("user", state["request"])])
        return {"result": str(answer.content)}

    async def acalculate(state: MathState) -> dict[str, str]:
        answer = await llm.ainvoke([("system", system["content"]), ("user", state["request"])])
        return {"result": str(answer.content)}

    workflow = StateGraph(MathState)
    workflow.add_node("calculate", acalculate if is_async else calculate)
    workflow.set_entry_point("calculate")
    graph = workflow.compile()
    return _run(graph, {"request": user["content"]}, config, is_async, stream=False)


CASES: dict[str, Callable[[dict[str, Any], bool], Any]] = {
    case.__name__: case
    for case in (
        chatanthropic_tool_use,
        chatopenai_lcel_stream_no_usage,
        chatopenai_parallel_tool_calls,
        chatopenai_stream_include_usage,
        chatopenai_structured_output,
        chatopenai_tool_calls_with_history,
        langgraph_chatopenai_invoke,
    )
}


def test_every_cassette_has_a_case() -> None:
    assert sorted(CASES) == sorted(p.stem for p in CASSETTES.glob("*.yaml"))


def _replay_case(name: str, handler: Any, is_async: bool) -> tuple[Any, dict[str, Any]]:
    path = CASSETTES / f"{name}.yaml"
    config = {"callbacks": [handler], "tags": ["replay"], "metadata": {"case": name}}
    with replay(path):
        result = CASES[name](config, is_async)
    return result, calls_of(path)[0]


def _langchain_step(records: list[dict[str, Any]]) -> dict[str, Any]:
    (step,) = [r for r in records if r["integration"] == "llmtap-langchain" and r["operation"]]
    return step


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_cassette_replays_through_langchain(
    name: str, is_async: bool, layers: str, handler: Any, records: Any
) -> None:
    _, truth = _replay_case(name, handler, is_async)
    path = CASSETTES / f"{name}.yaml"
    cassette, _ = load_cassette(path)
    all_records = records()

    (generation,) = generations(all_records)
    assert_matches_truth(generation, truth, response_tool_call_ids(cassette["interactions"][0]))
    step = _langchain_step(all_records)
    assert step["request_model"] == truth["request_model"]
    assert step["provider"] == truth["provider"]
    assert step["operation"] == "chat"
    assert "replay" in step["tags"]
    assert step["metadata"]["case"] == name
    if layers == "langchain":
        assert generation is step
    else:
        # The provider layer saw the call: it carries the usage, under LangChain's step.
        assert step["kind"] == "llm"
        assert generation["parent_id"] == step["id"]
        assert generation["integration"] == f"llmtap-{truth['provider']}"
        assert all(count is None for count in step["usage"].values())
        assert generation["tags"] == step["tags"]
        assert generation["metadata"]["case"] == name
    # Tokens summed over every record equal the traffic's: nothing counted twice.
    inputs = [r["usage"]["input_tokens"] for r in all_records]
    outputs = [r["usage"]["output_tokens"] for r in all_records]
    if truth["input_tokens"] is None:
        assert inputs == [None] * len(all_records)
    else:
        assert sum(n or 0 for n in inputs) == wanted_input_tokens(truth)
        assert sum(n or 0 for n in outputs) == truth["output_tokens"]
    # Every record belongs to one trace, and every parent is in it.
    ids = by_id(all_records)
    assert len({r["trace_id"] for r in all_records}) == 1
    assert [r for r in all_records if r["parent_id"] not in ids and r["parent_id"]] == []


def test_lcel_chain_nests_prompt_model_and_parser_under_its_run_name(
    handler: Any, records: Any
) -> None:
    text, truth = _replay_case("chatopenai_lcel_stream_no_usage", handler, is_async=False)
    assert text == truth["output_text"]
    chain, prompt, step, parser = records()
    assert (chain["name"], chain["kind"], chain["parent_id"]) == ("socks_chain", "chain", None)
    assert chain["input"][0]["parts"][0]["content"] == '{"product": "colorful socks"}'
    assert chain["output"][0]["parts"][0]["content"] == truth["output_text"]
    assert [prompt["name"], step["name"], parser["name"]] == [
        "ChatPromptTemplate",
        "ChatOpenAI",
        "StrOutputParser",
    ]
    assert {prompt["parent_id"], step["parent_id"], parser["parent_id"]} == {chain["id"]}
    assert step["input"] == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "write 10 lines of random text about $colorful socks"}
            ],
        }
    ]
    assert step["settings"]["temperature"] == 0
    assert step["stream"] is True
    assert step["chunks"] >= truth["sse_data_events"] - 2  # LangChain skips [DONE] and may skip one
    assert [r["status"] for r in records()] == ["ok"] * 4


def test_history_with_tool_results_becomes_genai_messages(handler: Any, records: Any) -> None:
    _replay_case("chatopenai_tool_calls_with_history", handler, is_async=False)
    (step,) = records()
    assert step["system_instructions"] == [{"type": "text", "content": "Be crisp and friendly."}]
    assert step["input"] == [
        {
            "role": "user",
            "parts": [{"type": "text", "content": "Hey, what's the weather in San Francisco?"}],
        },
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "tool_123",
                    "name": "get_weather",
                    "arguments": {"location": "San Francisco"},
                }
            ],
        },
        {
            "role": "tool",
            "parts": [
                {"type": "tool_call_response", "id": "tool_123", "response": "Sunny as always!"}
            ],
        },
        {"role": "user", "parts": [{"type": "text", "content": "What's the weather in London?"}]},
    ]
    assert step["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "",
            "parameters": {
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
                "type": "object",
            },
        }
    ]
    assert step["output"][0]["parts"] == [
        {
            "type": "tool_call",
            "id": "call_2qfKWu088l6a3jVZYNUFM0mH",
            "name": "get_weather",
            "arguments": {"location": "London"},
        }
    ]


def test_anthropic_tool_use_keeps_text_and_call_in_order(handler: Any, records: Any) -> None:
    _replay_case("chatanthropic_tool_use", handler, is_async=False)
    (step,) = records()
    text, call = step["output"][0]["parts"]
    assert text["type"] == "text"
    assert call == {
        "type": "tool_call",
        "id": "toolu_016q9vtSd8CY2vnZSpEp1j4o",
        "name": "get_weather",
        "arguments": {"location": "San Francisco"},
    }
    assert [t["name"] for t in step["tools"]] == ["get_weather", "get_news"]
    assert step["settings"]["max_tokens"] == 1024
    assert step["provider_usage"]["input_tokens"] == 374


def test_structured_output_is_parsed_and_recorded(handler: Any, records: Any) -> None:
    result, truth = _replay_case("chatopenai_structured_output", handler, is_async=False)
    assert result == FoodAnalysis(
        name="Avocado",
        healthy=True,
        calories=160,
        taste_profile=["creamy", "buttery", "nutty", "slightly sweet"],
    )
    step = _langchain_step(records())
    assert step["settings"]["response_format"] == "FoodAnalysis"
    assert step["response_id"] == truth["response_id"]


def test_langgraph_nodes_nest_by_run_id(handler: Any, records: Any) -> None:
    result, truth = _replay_case("langgraph_chatopenai_invoke", handler, is_async=True)
    assert result["result"] == truth["output_text"]
    graph, node, step = records()
    assert (graph["name"], graph["kind"], graph["parent_id"]) == ("LangGraph", "chain", None)
    assert (node["name"], node["parent_id"]) == ("calculate", graph["id"])
    assert node["metadata"]["langgraph_node"] == "calculate"
    assert step["parent_id"] == node["id"]
    assert step["system_instructions"] == [{"type": "text", "content": "You are a mathematician."}]
