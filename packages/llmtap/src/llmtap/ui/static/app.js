// llmtap ui: one page, four views chosen by the URL's hash (#/, #/trace/ID, #/thread/ID,
// #/dashboard). Everything is built with DOM calls and textContent, never innerHTML, because
// records hold whatever a model or a user wrote.

const shell = document.getElementById("main");
const POLL_MS = 2000;
let stopView = () => {};

// -- formatting: the same rules as the `llmtap` command's tables (llmtap/table.py) ----------

export const fmt = {
  count: (v) => (v == null ? "-" : Number(v).toLocaleString("en-US")),
  seconds: (v) => (v == null ? "-" : v < 1 ? `${(v * 1000).toFixed(1)}ms` : `${v.toFixed(2)}s`),
  usd: (v) => (v == null ? "unknown" : `$${v.toFixed(6)}`.replace(/0+$/, "").replace(/\.$/, "")),
  time: (iso, withDate = true) => {
    if (!iso) return "";
    const d = new Date(iso);
    const pad = (n, w = 2) => String(n).padStart(w, "0");
    const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
    return withDate ? `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}` : clock;
  },
  rate: (v) => (v == null ? "-" : `${v.toFixed(1)}/s`),
  compact: (v) => new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 }).format(v),
  span: (s) => (s % 86400 === 0 ? `${s / 86400} day` : s % 3600 === 0 ? `${s / 3600} hour` : `${s / 60} min`),
};

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "testid") el.dataset.testid = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

async function api(path) {
  const response = await fetch(`/api/${path}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${response.status}`);
  return body;
}

function statusBadge(status) {
  return h("span", { class: `status ${status}`, testid: "status" }, status);
}

function showError(main, error) {
  main.replaceChildren(h("div", { class: "error-box", testid: "error" }, String(error.message || error)));
}

function hashQuery() {
  const [, query = ""] = location.hash.split("?");
  return new URLSearchParams(query);
}

// -- trace list ----------------------------------------------------------------------------

const FILTERS = [
  ["since", "Since", "select", ["", "15m", "1h", "24h", "7d", "30d"]],
  ["until", "Until", "input"],
  ["provider", "Provider", "select"],
  ["model", "Model", "select"],
  ["status", "Status", "select"],
  ["tag", "Tag", "input"],
  ["thread", "Thread", "input"],
  ["user", "User", "input"],
  ["q", "Search inputs and outputs", "input"],
];

let facetsCache = null;

async function facets() {
  facetsCache = facetsCache || (await api("facets"));
  document.getElementById("store").textContent = facetsCache.store;
  return facetsCache;
}

function filterForm(values, choices, onChange) {
  const form = h("form", { class: "filters", testid: "filters", onsubmit: (e) => e.preventDefault() });
  for (const [name, label, kind, fixed] of FILTERS) {
    let field;
    if (kind === "select") {
      const options = fixed || ["", ...(choices[`${name}s`] || choices[`${name === "status" ? "statuses" : name}`] || [])];
      field = h("select", { name, testid: `filter-${name}` },
        options.map((o) => h("option", { value: o, selected: o === (values.get(name) || "") }, o || (name === "since" ? "all time" : "any"))));
    } else {
      const list = choices[`${name}s`] ? `${name}-choices` : null;
      field = h("input", { name, testid: `filter-${name}`, value: values.get(name) || "", list,
        placeholder: name === "until" ? "2026-11-22T14:00 or 1h" : "" });
      if (list) form.append(h("datalist", { id: list }, choices[`${name}s`].map((o) => h("option", { value: o }))));
    }
    field.addEventListener("change", onChange);
    form.append(h("label", {}, label, field));
  }
  form.append(h("button", { type: "button", testid: "filter-clear", onclick: () => { location.hash = "#/"; } }, "Clear"));
  return form;
}

function traceRow(trace) {
  const open = () => { location.hash = `#/trace/${encodeURIComponent(trace.trace_id)}`; };
  const models = trace.models.length ? trace.models.join(", ") : trace.model || "";
  return h("tr", { class: "row", onclick: open, testid: "trace-row", "data-trace-id": trace.trace_id },
    h("td", { class: "mono" }, fmt.time(trace.start_time)),
    h("td", {}, h("span", { class: "kind" }, trace.kind), trace.name),
    h("td", { testid: "trace-models" }, models),
    h("td", {}, statusBadge(trace.status)),
    h("td", { class: "num", testid: "trace-calls" }, fmt.count(trace.calls)),
    h("td", { class: "num", testid: "trace-input" }, fmt.count(trace.input_tokens)),
    h("td", { class: "num", testid: "trace-output" }, fmt.count(trace.output_tokens)),
    h("td", { class: "num", testid: "trace-cost" }, trace.calls ? fmt.usd(trace.cost_usd) : "-"),
    h("td", { class: "num", testid: "trace-latency" }, fmt.seconds(trace.duration_s)),
    h("td", {}, trace.thread_id ? h("a", { href: `#/thread/${encodeURIComponent(trace.thread_id)}`, onclick: (e) => e.stopPropagation() }, trace.thread_id) : ""),
    h("td", {}, trace.tags.map((t) => h("span", { class: "tag" }, t))),
  );
}

async function listView(main) {
  const values = hashQuery();
  // The first page, the newest rowid and the filter choices are fetched at once.
  const firstPage = api(`traces?${values}`);
  const newest = api("changes");
  firstPage.catch(() => {});
  newest.catch(() => {});
  const choices = await facets();
  const form = filterForm(values, choices, () => {
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) query.set(key, value);
    location.hash = `#/?${query}`;
  });
  const body = h("tbody", { testid: "trace-rows" });
  const note = h("span", { class: "muted", testid: "pager-note" });
  const more = h("button", { testid: "load-more", hidden: true }, "Load more");
  const banner = h("div", { class: "banner", testid: "new-records", hidden: true });
  const head = ["Started", "Name", "Models", "Status", "Calls", "In", "Out", "Cost", "Latency", "Thread", "Tags"];
  main.replaceChildren(
    form, banner,
    h("div", { class: "panel" }, h("table", { testid: "trace-table" },
      h("thead", {}, h("tr", {}, head.map((t, i) => h("th", { class: i >= 4 && i <= 8 ? "num" : null }, t)))), body)),
    h("div", { class: "pager" }, more, note),
  );
  let cursor = null;
  let pages = 0;
  const load = async (reset, fetched = null) => {
    const query = new URLSearchParams(values);
    if (!reset && cursor) query.set("cursor", cursor);
    const page = await (fetched || api(`traces?${query}`));
    if (reset) { body.replaceChildren(); pages = 0; }
    pages += 1;
    body.append(...page.traces.map(traceRow));
    cursor = page.next;
    more.hidden = !cursor;
    const shown = body.children.length;
    note.textContent = page.partial
      ? `${shown} shown; searched back to ${fmt.time(page.searched_to)}. Load more to search further back.`
      : `${shown} trace${shown === 1 ? "" : "s"}${cursor ? "" : ", the end"}`;
    if (!shown && !cursor) body.append(h("tr", {}, h("td", { colspan: head.length, class: "muted" }, "No traces match.")));
  };
  more.addEventListener("click", () => load(false).catch((e) => showError(main, e)));
  await load(true, firstPage);
  // Live: poll the newest rowid; reload the first page, or offer to when more were loaded.
  let last = (await newest).last_rowid;
  if (!shell.contains(main)) return null;  // the user moved on while this page loaded
  const timer = setInterval(async () => {
    try {
      const now = (await api("changes")).last_rowid;
      if (now === last) return;
      last = now;
      if (pages <= 1) await load(true);
      else {
        banner.hidden = false;
        banner.replaceChildren("New records were written. ", h("a", { href: "#", onclick: (e) => { e.preventDefault(); banner.hidden = true; load(true); } }, "Show the newest"));
      }
    } catch { /* the next poll tries again */ }
  }, POLL_MS);
  document.getElementById("live").classList.add("on");
  return () => { clearInterval(timer); document.getElementById("live").classList.remove("on"); };
}

// -- one trace: tree, timeline, detail --------------------------------------------------------

const epoch = (iso) => new Date(iso).getTime() / 1000;

function treeOrder(records) {
  const ids = new Set(records.map((r) => r.id));
  const children = new Map();
  for (const r of records) {
    const parent = r.parent_id && ids.has(r.parent_id) ? r.parent_id : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(r);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const r of children.get(parent) || []) { out.push([r, depth]); walk(r.id, depth + 1); }
  };
  walk(null, 0);
  return out;
}

function partView(part) {
  const label = (text) => h("span", { class: "ptype" }, text);
  switch (part.type) {
    case "text": return h("div", { class: "part", testid: "part-text" }, part.content);
    case "reasoning": return h("div", { class: "part reasoning", testid: "part-reasoning" }, label("reasoning"), part.content);
    case "tool_call": return h("div", { class: "part", testid: "part-tool-call" }, label(`tool call · ${part.name}${part.id ? ` · ${part.id}` : ""}`),
      h("pre", {}, typeof part.arguments === "string" ? part.arguments : JSON.stringify(part.arguments, null, 2)));
    case "tool_call_response": return h("div", { class: "part", testid: "part-tool-result" }, label(`tool result${part.id ? ` · ${part.id}` : ""}`),
      h("pre", {}, typeof part.response === "string" ? part.response : JSON.stringify(part.response, null, 2)));
    case "refusal": return h("div", { class: "part" }, label("refusal"), part.content);
    default: return h("div", { class: "part" }, label(part.type), h("pre", {}, JSON.stringify(part, null, 2)));
  }
}

function messages(list, role) {
  return (list || []).map((m) => h("div", { class: `msg ${m.role || role || ""}`, testid: "message", "data-role": m.role || role },
    h("div", { class: "role" }, m.role || role, m.finish_reason ? h("span", { class: "muted" }, ` · ${m.finish_reason}`) : null),
    (m.parts || [m]).map(partView)));
}

function kv(pairs, testid) {
  return h("dl", { class: "kv", testid }, pairs.filter(([, v]) => v != null && v !== "").flatMap(([k, v, id]) =>
    [h("dt", {}, k), h("dd", { testid: id ? `value-${id}` : null }, v)]));
}

function detailView(r) {
  const u = r.usage || {};
  const parts = [
    h("h2", { testid: "detail-name" }, r.name, " ", statusBadge(r.status)),
    kv([
      ["Kind", r.kind], ["Operation", r.operation], ["Provider", r.provider, "provider"],
      ["Request model", r.request_model], ["Response model", r.response_model, "model"],
      ["Started", fmt.time(r.start_time)], ["Latency", fmt.seconds(r.duration_s), "latency"],
      ["Time to first token", r.time_to_first_token_s == null ? null : fmt.seconds(r.time_to_first_token_s), "ttft"],
      ["Output tokens/s", r.output_tokens_per_s == null ? null : fmt.rate(r.output_tokens_per_s)],
      ["Cost", r.kind === "generation" ? fmt.usd(r.cost_usd) : null, "cost"],
      ["Finish reason", r.finish_reason], ["Stream", r.stream ? `yes, ${fmt.count(r.chunks)} chunks` : null],
      ["Server", r.server_address], ["Thread", r.thread_id ? h("a", { href: `#/thread/${encodeURIComponent(r.thread_id)}` }, r.thread_id) : null],
      ["User", r.user_id], ["Tags", r.tags && r.tags.length ? r.tags.join(", ") : null],
      ["Record id", h("span", { class: "mono" }, r.id)], ["Response id", r.response_id],
    ], "overview"),
  ];
  if (r.error) parts.push(h("h3", {}, "Error"), h("div", { class: "error-box", testid: "detail-error" },
    `${r.error.type}${r.error.status_code ? ` (HTTP ${r.error.status_code})` : ""}: ${r.error.message}`));
  if (Object.values(u).some((v) => v != null)) {
    parts.push(h("h3", {}, "Usage", r.usage_estimated ? " (estimated)" : ""), kv([
      ["Input tokens", fmt.count(u.input_tokens), "input-tokens"],
      ["↳ cached (read)", u.cached_input_tokens == null ? null : fmt.count(u.cached_input_tokens), "cached-tokens"],
      ["↳ cache write", u.cache_creation_input_tokens == null ? null : fmt.count(u.cache_creation_input_tokens), "cache-write-tokens"],
      ["Output tokens", fmt.count(u.output_tokens), "output-tokens"],
      ["↳ reasoning", u.reasoning_tokens == null ? null : fmt.count(u.reasoning_tokens), "reasoning-tokens"],
      ["Total tokens", fmt.count(u.total_tokens), "total-tokens"],
    ], "usage"));
  }
  if (r.system_instructions && r.system_instructions.length) parts.push(h("h3", {}, "System"), messages(r.system_instructions, "system"));
  if (r.input) parts.push(h("h3", {}, "Input"), h("div", { testid: "input-messages" }, messages(r.input)));
  if (r.output) parts.push(h("h3", {}, "Output"), h("div", { testid: "output-messages" }, messages(r.output, "assistant")));
  if (r.tool_calls && r.tool_calls.length) parts.push(h("h3", {}, "Tool calls"), h("div", { testid: "tool-calls" },
    r.tool_calls.map((c) => partView({ type: "tool_call", ...c }))));
  if (r.settings && Object.keys(r.settings).length) parts.push(h("h3", {}, "Settings"),
    kv(Object.entries(r.settings).map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : String(v)]), "settings"));
  if (r.tools && r.tools.length) parts.push(h("details", {}, h("summary", {}, `Tools offered (${r.tools.length})`), h("pre", {}, JSON.stringify(r.tools, null, 2))));
  if (r.metadata && Object.keys(r.metadata).length) parts.push(h("details", {}, h("summary", {}, "Metadata"), h("pre", {}, JSON.stringify(r.metadata, null, 2))));
  if (r.provider_usage) parts.push(h("details", {}, h("summary", {}, "Provider usage (raw)"), h("pre", {}, JSON.stringify(r.provider_usage, null, 2))));
  parts.push(h("details", {}, h("summary", {}, "Record JSON"), h("pre", {}, JSON.stringify(r, null, 2))));
  return parts;
}

async function traceView(main, traceId) {
  const { records } = await api(`traces/${encodeURIComponent(traceId)}`);
  const rows = treeOrder(records);
  const t0 = Math.min(...records.map((r) => epoch(r.start_time)));
  const t1 = Math.max(...records.map((r) => (r.end_time ? epoch(r.end_time) : epoch(r.start_time) + (r.duration_s || 0))));
  const span = Math.max(t1 - t0, 1e-6);
  const pct = (x) => `${(100 * x / span).toFixed(3)}%`;
  const gens = records.filter((r) => r.kind === "generation");
  const sum = (key) => gens.some((r) => r.usage[key] != null) ? gens.reduce((a, r) => a + (r.usage[key] || 0), 0) : null;
  const costs = gens.filter((r) => r.cost_usd != null);
  const detail = h("div", { class: "panel detail", testid: "detail" });
  const rowEls = [];
  const select = (record, el) => {
    rowEls.forEach((e) => e.classList.remove("selected"));
    el.classList.add("selected");
    detail.replaceChildren(...detailView(record).flat());
    history.replaceState(null, "", `#/trace/${encodeURIComponent(traceId)}?record=${encodeURIComponent(record.id)}`);
  };
  const tree = h("div", { class: "panel tree", testid: "tree" },
    h("div", { class: "axis" }, h("span", {}, "0"), h("span", {}, fmt.seconds(span / 2)), h("span", {}, fmt.seconds(span))));
  for (const [r, depth] of rows) {
    const start = epoch(r.start_time) - t0;
    const lane = h("div", { class: "lane" },
      h("div", { class: `bar ${r.kind} ${r.status}`, testid: "bar", style: `left:${pct(start)};width:${pct(r.duration_s || 0)}`,
        title: `${r.name}: starts +${fmt.seconds(start)}, lasts ${fmt.seconds(r.duration_s)}` }));
    if (r.time_to_first_token_s != null) lane.append(h("div", { class: "ttft", testid: "ttft-marker", style: `left:${pct(start + r.time_to_first_token_s)}`,
      title: `first token after ${fmt.seconds(r.time_to_first_token_s)}` }));
    const el = h("div", { class: "span-row", testid: "span-row", "data-record-id": r.id },
      h("div", { class: "span-name", style: `padding-left:${8 + depth * 16}px` },
        h("span", { class: "kind" }, r.kind), r.name,
        r.kind === "generation" ? h("span", { class: "muted" }, ` · ${r.response_model || r.request_model || ""}`) : null,
        r.status !== "ok" ? [" ", statusBadge(r.status)] : null),
      lane);
    el.addEventListener("click", () => select(r, el));
    rowEls.push(el);
    tree.append(el);
  }
  const root = rows[0][0];
  main.replaceChildren(
    h("h1", { testid: "trace-title" }, root.name, " ", h("span", { class: "muted mono" }, traceId)),
    h("div", { class: "cards", testid: "trace-totals" },
      card("Started", fmt.time(root.start_time)), card("Duration", fmt.seconds(span), "trace-duration"),
      card("LLM calls", fmt.count(gens.length), "trace-calls"),
      card("Input tokens", fmt.count(sum("input_tokens")), "trace-input"), card("Output tokens", fmt.count(sum("output_tokens")), "trace-output"),
      card("Cost", gens.length ? fmt.usd(costs.length ? costs.reduce((a, r) => a + r.cost_usd, 0) : null) : "-", "trace-cost"),
      root.thread_id ? card("Thread", h("a", { href: `#/thread/${encodeURIComponent(root.thread_id)}` }, root.thread_id)) : null),
    h("div", { class: "trace" }, tree, detail));
  const wanted = hashQuery().get("record");
  const index = Math.max(0, rows.findIndex(([r]) => (wanted ? r.id === wanted : r.kind === "generation")));
  select(rows[index][0], rowEls[index]);
}

function card(label, value, testid) {
  return h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "value", testid }, value));
}

// -- thread --------------------------------------------------------------------------------

function lastUserMessage(record) {
  const users = (record.input || []).filter((m) => m.role === "user");
  return users.length ? users[users.length - 1] : null;
}

async function threadView(main, threadId) {
  const { records, truncated } = await api(`threads/${encodeURIComponent(threadId)}`);
  const runs = new Map();
  for (const r of records) {
    if (!runs.has(r.trace_id)) runs.set(r.trace_id, []);
    runs.get(r.trace_id).push(r);
  }
  const list = [...runs.entries()].map(([traceId, rs]) => {
    const root = rs.find((r) => !r.parent_id) || rs[0];
    const gens = rs.filter((r) => r.kind === "generation");
    return h("div", { class: "panel run", testid: "thread-run", "data-trace-id": traceId },
      h("div", { class: "run-head" }, h("span", { class: "mono" }, fmt.time(root.start_time)),
        h("a", { href: `#/trace/${encodeURIComponent(traceId)}` }, root.name), statusBadge(root.status),
        h("span", { class: "muted" }, `${gens.length} call${gens.length === 1 ? "" : "s"}`)),
      gens.map((g) => {
        const user = lastUserMessage(g);
        return [user ? messages([user]) : null, messages(g.output, "assistant"),
          g.error ? h("div", { class: "error-box" }, `${g.error.type}: ${g.error.message}`) : null];
      }));
  });
  main.replaceChildren(
    h("h1", { testid: "thread-title" }, "Thread ", h("span", { class: "mono" }, threadId)),
    h("p", { class: "muted" }, `${runs.size} run${runs.size === 1 ? "" : "s"}, oldest first${truncated ? " (the first 2,000 records)" : ""}.`),
    ...list);
}

// -- dashboard -----------------------------------------------------------------------------

const PALETTE = ["#3461d1", "#e4572e", "#1f8a4c", "#b7791f", "#8e44ad", "#17a2b8", "#d63384", "#6c757d", "#20c997", "#6610f2"];

function chart(main, title, buckets, step, seriesList, format, testid, axisFormat = format) {
  const box = h("div", { class: "panel chart", testid }, h("h2", {}, title));
  const width = Math.max(480, Math.floor((main.clientWidth - 40) / 2) - 20);
  const data = [buckets, ...seriesList.map((s) => s.values)];
  const opts = {
    width, height: 220,
    series: [{}, ...seriesList.map((s) => ({ label: s.label, stroke: s.color, dash: s.dash, width: 1.5, spanGaps: false,
      points: { show: true, size: 4 }, value: (u, v) => (v == null ? "-" : format(v)) }))],
    axes: [{}, { values: (u, vals) => vals.map(axisFormat), size: 64 }],
    // The window, not the points, sets the time axis: one bucket still reads as a time.
    scales: { x: { time: true, range: () => [buckets[0], buckets[buckets.length - 1] + step] } },
    legend: { live: false },
  };
  new window.uPlot(opts, data, box);
  return box;
}

async function dashboardView(main) {
  const values = hashQuery();
  const since = values.get("since") || "24h";
  const d = await api(`dashboard?since=${encodeURIComponent(since)}`);
  const pick = (model, get) => d.series[model].map((p) => (p == null ? null : get(p)));
  const perModel = (get, extra = {}, suffix = "") => d.models.map((m, i) => ({ label: `${m || "(none)"}${suffix}`, color: PALETTE[i % PALETTE.length], values: pick(m, get), ...extra }));
  const both = (a, b) => d.models.flatMap((m, i) => [
    { label: `${m} p50`, color: PALETTE[i % PALETTE.length], values: pick(m, a) },
    { label: `${m} p95`, color: PALETTE[i % PALETTE.length], dash: [5, 4], values: pick(m, b) },
  ]);
  const select = h("select", { testid: "dashboard-since", onchange: (e) => { location.hash = `#/dashboard?since=${e.target.value}`; } },
    ["1h", "24h", "7d", "30d", "all"].map((o) => h("option", { value: o, selected: o === since }, o === "all" ? "all time" : `last ${o}`)));
  const t = d.total;
  main.replaceChildren(
    h("div", { class: "filters" }, h("label", {}, "Window", select),
      h("span", { class: "muted" }, `${fmt.time(d.since)} → ${fmt.time(d.until)}, one point per ${fmt.span(d.bucket_s)}`)),
    h("div", { class: "cards", testid: "dashboard-totals" },
      card("LLM calls", fmt.count(t.calls), "total-calls"), card("Errors", `${fmt.count(t.errors)}${t.calls ? ` (${(100 * t.errors / t.calls).toFixed(1)}%)` : ""}`, "total-errors"),
      card("Input tokens", fmt.count(t.input_tokens), "total-input"), card("Output tokens", fmt.count(t.output_tokens), "total-output"),
      card("Cost", fmt.usd(t.cost_usd), "total-cost")));
  if (!d.models.length) { main.append(h("p", { class: "muted", testid: "dashboard-empty" }, "No LLM calls in this window.")); return; }
  const charts = h("div", { class: "charts" });
  main.append(charts);
  const tokens = (v) => fmt.count(Math.round(v));
  charts.append(
    chart(main, "Calls", d.buckets, d.bucket_s, perModel((p) => p.calls), tokens, "chart-calls", fmt.compact),
    chart(main, "Tokens (input solid, output dashed)", d.buckets, d.bucket_s, [...perModel((p) => p.input_tokens, {}, " in"), ...perModel((p) => p.output_tokens, { dash: [5, 4] }, " out")], tokens, "chart-tokens", fmt.compact),
    chart(main, "Cost", d.buckets, d.bucket_s, perModel((p) => p.cost_usd), (v) => fmt.usd(v), "chart-cost"),
    chart(main, "Error rate", d.buckets, d.bucket_s, perModel((p) => (p.calls ? 100 * p.errors / p.calls : null)), (v) => `${v.toFixed(1)}%`, "chart-errors"),
    chart(main, "Latency p50 / p95", d.buckets, d.bucket_s, both((p) => p.latency_p50, (p) => p.latency_p95), fmt.seconds, "chart-latency"),
    chart(main, "Time to first token p50 / p95", d.buckets, d.bucket_s, both((p) => p.ttft_p50, (p) => p.ttft_p95), fmt.seconds, "chart-ttft"),
  );
}

// -- routing -------------------------------------------------------------------------------

async function route() {
  stopView();
  stopView = () => {};
  // Each view draws into its own element: a slow view that finishes after the user moved
  // on draws into an element no longer shown.
  const main = h("div", { class: "view" }, h("p", { class: "muted" }, "Loading…"));
  shell.replaceChildren(main);
  const [path] = location.hash.replace(/^#/, "").split("?");
  const [, view, ...rest] = (path || "/").split("/");
  const arg = decodeURIComponent(rest.join("/"));
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === (view === "dashboard" ? "dashboard" : "traces"));
  try {
    if (view === "trace") await traceView(main, arg);
    else if (view === "thread") await threadView(main, arg);
    else if (view === "dashboard") await dashboardView(main);
    else stopView = (await listView(main)) || stopView;
  } catch (error) {
    showError(main, error);
  }
  if (shell.contains(main)) document.body.dataset.ready = location.hash || "#/";
}

window.addEventListener("hashchange", route);
facets().catch(() => {});
route();
