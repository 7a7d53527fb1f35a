"""Every cassette recorded through LlamaIndex replays through the real framework, with
llmtap-openai off and on, and gives records equal to its truth file: one generation
per HTTP call, the step tree LlamaIndex ran, and token sums equal to the traffic's."""

from __future__ import annotations

import asyncio
from typing import Any

import llama_index.core
import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.llms import ChatMessage
from llama_index.core.schema import TextNode
from llama_index.core.tools import FunctionTool
from llamaindex_support import (
    by_id,
    check_layers,
    of_integration,
    openai_embedding,
    openai_llm,
    text_of,
    token_sums,
)
from pydantic import BaseModel, Field

from support.cassettes import SHARED_CASSETTES, load_cassette, records_of, replay, request_body

FOLDER = SHARED_CASSETTES / "llamaindex"
if not FOLDER.is_dir():
    pytest.skip("../shared/cassettes is not present", allow_module_level=True)

LEGACY = llama_index.core.__version__.startswith("0.12.")


def _truth(name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    cassette, truth = load_cassette(FOLDER / f"{name}.yaml")
    return [request_body(i) for i in cassette["interactions"]], truth


def _assert_generations(gens: list[dict[str, Any]], truth: dict[str, Any]) -> None:
    calls = [i for i in truth["interactions"] if i.get("operation")]
    assert len(gens) == truth["expected_llm_calls"] == len(calls)
    for gen, call in zip(gens, calls, strict=True):
        assert gen["status"] == "ok"
        assert gen["provider"] == "openai"
        assert gen["request_model"] == call["request_model"]
        assert gen["response_model"] == call["response_model"]
        assert gen["usage"]["input_tokens"] == call["input_tokens"]
        assert gen["usage"]["output_tokens"] == call["output_tokens"]
        if call["operation"] == "chat":
            assert gen["operation"] == "chat"
            assert gen["response_id"] == call["response_id"]
            assert gen["finish_reason"] == call["finish_reasons"][0]
            assert text_of(gen) == (call.get("output_text") or "")
            names = [c["name"] for c in gen["tool_calls"] or ()]
            assert names == call.get("tool_calls", [])
        else:
            assert gen["operation"] == "embeddings"
            assert gen["metadata"]["embedding_count"] == call["embedding_count"]
    assert token_sums(gens) == (truth["sum_input_tokens"], truth["sum_output_tokens"])


def test_rag_query_embeds_retrieves_and_answers(memory: Any, provider_layer: bool) -> None:
    bodies, truth = _truth("openai_rag_embeddings_then_chat")
    with replay(FOLDER / "openai_rag_embeddings_then_chat.yaml"):
        nodes = [TextNode(text=text) for text in bodies[0]["input"]]
        index = VectorStoreIndex(nodes, embed_model=openai_embedding("text-embedding-3-large"))
        engine = index.as_query_engine(llm=openai_llm("gpt-3.5-turbo"))
        answer = engine.query("What did the author do growing up?")
    assert str(answer) == truth["output_text"]

    records = records_of(memory)
    gens = check_layers(records, provider_layer)
    _assert_generations(gens, truth)
    assert token_sums(records) == (truth["sum_input_tokens"], truth["sum_output_tokens"])

    ours = of_integration(records, "llmtap-llamaindex")
    index_embed, query, retrieve, query_embed, synthesize, chat = ours
    assert [r["name"] for r in ours] == [
        "embeddings text-embedding-3-large",
        "RetrieverQueryEngine.query",
        "VectorIndexRetriever.retrieve",
        "embeddings text-embedding-3-large",
        "CompactAndRefine.synthesize",
        "chat gpt-3.5-turbo",
    ]
    assert index_embed["parent_id"] is None
    assert query["parent_id"] is None
    assert retrieve["parent_id"] == synthesize["parent_id"] == query["id"]
    assert query_embed["parent_id"] == retrieve["id"]
    assert chat["parent_id"] == synthesize["id"]
    assert len({r["trace_id"] for r in (query, retrieve, query_embed, synthesize, chat)}) == 1
    assert query["input"][0]["parts"][0]["content"] == "What did the author do growing up?"
    assert text_of(query) == truth["output_text"]
    assert retrieve["kind"] == "retrieval"
    documents = retrieve["metadata"]["documents"]
    assert len(documents) == 2  # similarity_top_k
    assert {d["id"] for d in documents} <= {n.node_id for n in nodes}
    assert all(isinstance(d["score"], float) for d in documents)
    assert query_embed["metadata"]["embedding_dimensions"] == 3072
    assert index_embed["metadata"]["embedding_count"] == 22


class Invoice(BaseModel):
    """Example model for structured output testing."""

    invoice_id: str = Field(description="Invoice identifier")
    amount: float = Field(description="Invoice amount")
    customer_name: str = Field(description="Customer name")


def test_structured_llm(memory: Any, provider_layer: bool) -> None:
    _, truth = _truth("openai_structured_llm")
    options: dict[str, Any] = {"temperature": 0.7}
    if LEGACY:  # 0.12 asks for a tool call; the recording answered with JSON text
        from llama_index.core.types import PydanticProgramMode

        options["pydantic_program_mode"] = PydanticProgramMode.LLM
    with replay(FOLDER / "openai_structured_llm.yaml"):
        structured = openai_llm("gpt-4o", **options).as_structured_llm(Invoice)
        response = structured.chat(
            [
                ChatMessage(role="system", content="Extract invoice information from the text."),
                ChatMessage(role="user", content="Invoice #12345 for $199.99 to John Smith"),
            ]
        )
    assert response.raw == Invoice(invoice_id="12345", amount=199.99, customer_name="John Smith")

    records = records_of(memory)
    gens = check_layers(records, provider_layer)
    _assert_generations(gens, truth)
    ours = by_id(of_integration(records, "llmtap-llamaindex"))
    # StructuredLLM.chat wraps structured_predict, which wraps OpenAI.chat.
    outer = next(r for r in ours.values() if r["parent_id"] is None)
    assert outer["kind"] == "llm"
    assert outer["usage"]["input_tokens"] is None
    predict = next(r for r in ours.values() if r["name"] == "OpenAI.structured_predict")
    assert predict["parent_id"] == outer["id"]
    assert "invoice_id='12345'" in text_of(predict)
    assert token_sums(records) == (truth["sum_input_tokens"], truth["sum_output_tokens"])


def test_tool_call_with_predict_and_call(memory: Any, provider_layer: bool) -> None:
    _, truth = _truth("openai_tool_call")

    def get_weather(location: str) -> str:
        """Useful for getting the weather for a given location."""
        return f"Sunny in {location}"

    tool = FunctionTool.from_defaults(fn=get_weather)
    with replay(FOLDER / "openai_tool_call.yaml"):
        llm = openai_llm("gpt-4o-mini", temperature=0.1)
        result = llm.predict_and_call([tool], user_msg="what's the weather in San Francisco?")
    assert str(result) == "Sunny in San Francisco"

    records = records_of(memory)
    gens = check_layers(records, provider_layer)
    _assert_generations(gens, truth)
    assert gens[0]["tool_calls"][0]["arguments"] == {"location": "San Francisco"}
    ours = of_integration(records, "llmtap-llamaindex")
    chain = next(r for r in ours if r["name"] == "OpenAI.predict_and_call")
    tool_record = next(r for r in ours if r["kind"] == "tool")
    assert tool_record["name"] == "execute_tool get_weather"
    assert tool_record["operation"] == "execute_tool"
    assert tool_record["parent_id"] == chain["id"]
    assert tool_record["input"][0]["parts"][0]["content"] == '{"location": "San Francisco"}'
    assert text_of(tool_record) == "Sunny in San Francisco"
    chat = next(r for r in ours if r["operation"] == "chat")
    assert chat["parent_id"] == chain["id"]
    assert [t["name"] for t in chat["tools"]] == ["get_weather"]


def multiply(a: int, b: int) -> int:
    """Multiply two integers and returns the result integer"""
    return a * b


def _run_react_agent(question: str) -> str:
    llm = openai_llm("gpt-3.5-turbo-0613", temperature=0.1)
    tool = FunctionTool.from_defaults(fn=multiply)
    if LEGACY:
        from llama_index.core.agent import ReActAgent

        return str(ReActAgent.from_tools([tool], llm=llm).chat(question))
    from llama_index.core.agent.workflow import ReActAgent

    # The recording is of non-streamed calls; the workflow agent streams by default.
    agent = ReActAgent(tools=[tool], llm=llm, streaming=False)

    async def run() -> str:
        return str(await agent.run(question))

    return asyncio.run(run())


def test_react_agent_with_a_tool(memory: Any, provider_layer: bool) -> None:
    _, truth = _truth("openai_react_agent")
    with replay(FOLDER / "openai_react_agent.yaml"):
        answer = _run_react_agent("What is 2 times 3?")
    assert answer.endswith("2 times 3 is 6.")

    records = records_of(memory)
    gens = check_layers(records, provider_layer)
    _assert_generations(gens, truth)
    ours = of_integration(records, "llmtap-llamaindex")
    agent = next(r for r in ours if r["kind"] == "agent")
    assert agent["name"] == "invoke_agent ReActAgent"
    assert agent["operation"] == "invoke_agent"
    assert agent["parent_id"] is None
    assert agent["input"][0]["parts"][0]["content"] == "What is 2 times 3?"
    assert text_of(agent).endswith("2 times 3 is 6.")
    tool = next(r for r in ours if r["kind"] == "tool")
    assert tool["name"] == "execute_tool multiply"
    assert tool["parent_id"] == agent["id"]
    assert text_of(tool) == "6"
    chats = [r for r in ours if r["operation"] == "chat"]
    assert [c["parent_id"] for c in chats] == [agent["id"], agent["id"]]
    assert chats[0]["start_time"] < tool["start_time"] < chats[1]["start_time"]
    assert token_sums(records) == (truth["sum_input_tokens"], truth["sum_output_tokens"])
