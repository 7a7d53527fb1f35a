"""Chains, agents, tools, retrievers and LangGraph graphs as nested records, and how
runs that fail, are abandoned or interrupted end."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, TypedDict

import openai
import pytest
from langchain_core.callbacks import CallbackManagerForChainRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableLambda
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI
from langchain_truth import by_id, calls_of, generations
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.prebuilt import ToolNode, tools_condition

import llmtap
from support.cassettes import SHARED_CASSETTES, replay

ROUNDTRIP = SHARED_CASSETTES / "openai" / "chat_tool_calls_roundtrip.yaml"
SIMPLE = SHARED_CASSETTES / "openai" / "chat_nonstream_gpt4o_mini.yaml"
STREAM = SHARED_CASSETTES / "openai" / "chat_stream_include_usage_gpt4.yaml"
NOT_FOUND = SHARED_CASSETTES / "openai" / "error_chat_404_model_not_found.yaml"

WEATHER = {"Seattle, WA": "50 degrees and raining", "San Francisco, CA": "70 degrees and sunny"}


@tool
def get_current_weather(location: str) -> str:
    """Get the current weather in a given location"""
    return WEATHER[location]


class AgentState(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def _weather_agent() -> Any:
    """The usual LangGraph tool loop: model, tools while it asks for them, model."""
    llm = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", max_retries=0)
    model = llm.bind_tools([get_current_weather], tool_choice="auto")

    async def agent(state: AgentState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    graph = StateGraph(AgentState)
    graph.add_node("agent", agent)
    graph.add_node("tools", ToolNode([get_current_weather]))
    graph.add_edge(START, "agent")
    graph.add_conditional_edges("agent", tools_condition)
    graph.add_edge("tools", "agent")
    return graph.compile()


def test_langgraph_agent_loop_records_model_calls_and_tool_runs(
    layers: str, handler: Any, records: Any
) -> None:
    question = [
        SystemMessage("You're a helpful assistant."),
        HumanMessage("What's the weather in Seattle and San Francisco today?"),
    ]
    config: RunnableConfig = {
        "callbacks": [handler],
        "configurable": {"thread_id": "conversation-7"},
        "run_name": "weather_agent",
    }
    with replay(ROUNDTRIP):
        state = asyncio.run(_weather_agent().ainvoke({"messages": question}, config=config))
    first, second = calls_of(ROUNDTRIP)
    assert state["messages"][-1].content == second["output_text"]

    all_records = records()
    ids = by_id(all_records)
    root = all_records[0]
    assert (root["name"], root["kind"], root["parent_id"]) == ("weather_agent", "chain", None)
    assert {r["thread_id"] for r in all_records} == {"conversation-7"}
    gens = generations(all_records)
    assert [g["usage"]["input_tokens"] for g in gens] == [first["input_tokens"], 99]
    assert [g["usage"]["output_tokens"] for g in gens] == [first["output_tokens"], 25]
    total_in = sum(r["usage"]["input_tokens"] or 0 for r in all_records)
    assert total_in == first["input_tokens"] + second["input_tokens"]

    tools = [r for r in all_records if r["kind"] == "tool"]
    assert [t["name"] for t in tools] == ["get_current_weather"] * 2
    call_ids = [p["id"] for p in gens[0]["tool_calls"]]
    for run, call_id, (location, weather) in zip(tools, call_ids, WEATHER.items(), strict=True):
        assert run["operation"] == "execute_tool"
        assert run["input"][0]["parts"] == [
            {
                "type": "tool_call",
                "id": call_id,
                "name": "get_current_weather",
                "arguments": {"location": location},
            }
        ]
        assert run["output"][0]["parts"] == [
            {"type": "tool_call_response", "id": call_id, "response": weather}
        ]
        node = ids[run["parent_id"]]
        assert (node["name"], node["metadata"]["langgraph_node"]) == ("tools", "tools")
    # The second model call saw the tool results as tool messages.
    steps = [r for r in all_records if r["integration"] == "llmtap-langchain" and r["operation"]]
    chat_steps = [s for s in steps if s["operation"] == "chat"]
    assert [m["role"] for m in chat_steps[1]["input"]] == ["user", "assistant", "tool", "tool"]
    for step in chat_steps:
        assert ids[step["parent_id"]]["metadata"]["langgraph_node"] == "agent"


def test_a_failing_tool_and_its_chain_are_error_records(handler: Any, records: Any) -> None:
    @tool
    def broken(city: str) -> str:
        """Always fails."""
        raise ValueError(f"no weather for {city}")

    chain = RunnableLambda(lambda city: broken.invoke({"city": city})).with_config(
        run_name="lookup"
    )
    with pytest.raises(ValueError, match="no weather for Oslo"):
        chain.invoke("Oslo", config={"callbacks": [handler]})
    chain_record, tool_record = records()
    assert tool_record["parent_id"] == chain_record["id"]
    for record in (chain_record, tool_record):
        assert record["status"] == "error"
        assert record["error"]["type"] == "ValueError"
        assert record["error"]["message"] == "no weather for Oslo"
    assert tool_record["input"][0]["parts"][0]["arguments"] == {"city": "Oslo"}
    assert tool_record["output"] is None


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_an_api_error_is_an_error_generation(
    is_async: bool, layers: str, handler: Any, records: Any
) -> None:
    llm = ChatOpenAI(model="this-model-does-not-exist", api_key="sk-test", max_retries=0)
    config: RunnableConfig = {"callbacks": [handler], "run_name": "doomed"}

    def call() -> None:
        if is_async:
            asyncio.run(llm.ainvoke("hi", config=config))
        else:
            llm.invoke("hi", config=config)

    with replay(NOT_FOUND), pytest.raises(openai.NotFoundError) as raised:
        call()
    all_records = records()
    (generation,) = generations(all_records)
    step = all_records[0]
    assert step["name"] == "doomed"
    for record in all_records:
        assert record["status"] == "error"
        assert record["error"]["status_code"] == 404
    # The SDK raises NotFoundError; langchain-openai 1.x re-raises a subclass of it.
    assert step["error"]["type"] == type(raised.value).__name__
    assert generation["error"]["type"] in ("NotFoundError", type(raised.value).__name__)
    if layers == "langchain":
        assert generation is step
    else:
        assert (step["kind"], generation["parent_id"]) == ("llm", step["id"])


class Library(BaseRetriever):
    """A retriever over a fixed list, as a user would write one."""

    documents: list[Document]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [d for d in self.documents if query.lower() in d.page_content.lower()]


def test_retriever_records_query_and_documents(handler: Any, records: Any) -> None:
    library = Library(
        documents=[
            Document("Socks keep feet warm.", id="d1", metadata={"source": "a.txt"}),
            Document("Hats keep heads warm.", id="d2"),
            Document("Colorful socks are fun.", id="d3"),
        ]
    )
    found = library.invoke("socks", config={"callbacks": [handler]})
    assert [d.id for d in found] == ["d1", "d3"]
    (record,) = records()
    assert (record["kind"], record["name"], record["operation"]) == (
        "retrieval",
        "Library",
        "retrieval",
    )
    assert record["input"] == [{"role": "user", "parts": [{"type": "text", "content": "socks"}]}]
    assert record["output"][0]["parts"] == [
        {
            "type": "document",
            "content": "Socks keep feet warm.",
            "id": "d1",
            "metadata": {"source": "a.txt"},
        },
        {"type": "document", "content": "Colorful socks are fun.", "id": "d3"},
    ]
    assert record["metadata"]["documents"] == 2


def test_a_run_that_reports_agent_actions_is_an_agent(handler: Any, records: Any) -> None:
    from langchain_core.agents import AgentAction

    def plan(question: str, run_manager: CallbackManagerForChainRun) -> str:
        run_manager.on_agent_action(AgentAction("search", question, "searching"))
        return "done"

    RunnableLambda(plan).invoke("q", config={"callbacks": [handler], "run_name": "planner"})
    (record,) = records()
    assert (record["name"], record["kind"], record["status"]) == ("planner", "agent", "ok")


def test_a_root_run_nests_under_the_current_llmtap_span(
    layers: str, handler: Any, records: Any
) -> None:
    llm = ChatOpenAI(model="gpt-4o-mini", api_key="sk-test", max_retries=0)
    with llmtap.span("request", kind="step") as outer, replay(SIMPLE):
        llm.invoke("hi", config={"callbacks": [handler]})
    all_records = records()
    span = next(r for r in all_records if r["id"] == outer.id)
    step = next(r for r in all_records if r["integration"] == "llmtap-langchain")
    assert step["parent_id"] == span["id"]
    assert {r["trace_id"] for r in all_records} == {span["trace_id"]}


def test_a_stream_dropped_before_its_end_is_incomplete(handler: Any, records: Any) -> None:
    llm = ChatOpenAI(model="gpt-4", api_key="sk-test", max_retries=0)
    with replay(STREAM):
        stream = llm.stream("hi", config={"callbacks": [handler]})
        first = next(stream)
        assert first.content == ""
        next(stream)
        stream.close()
    (record,) = records()
    assert record["status"] == "incomplete"
    assert record["error"]["type"] == "GeneratorExit"
    assert record["stream"] is True
    assert record["time_to_first_token_s"] is not None
    assert handler.open_runs == 0


def test_a_langgraph_interrupt_is_incomplete_not_an_error(handler: Any, records: Any) -> None:
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import interrupt

    class State(TypedDict):
        answer: str

    def ask(state: State) -> dict[str, str]:
        return {"answer": interrupt("Approve?")}

    graph = StateGraph(State)
    graph.add_node("ask", ask)
    graph.add_edge(START, "ask")
    graph.add_edge("ask", END)
    app = graph.compile(checkpointer=InMemorySaver())
    config: RunnableConfig = {"callbacks": [handler], "configurable": {"thread_id": "t1"}}
    app.invoke({"answer": ""}, config=config)
    node = next(r for r in records() if r["name"] == "ask")
    assert node["status"] == "incomplete"
    assert node["error"]["type"] == "GraphInterrupt"
