// Tafsiri's web page: plain JavaScript, no build step, no third party. Text from the
// service or the user is only ever set as textContent (never as HTML).
"use strict";

const $ = (id) => document.getElementById(id);
const TERMINAL = ["done", "error", "timeout", "needs_human"];
const MODES = ["text", "files", "workflow"];
const MAX_TARGETS = 8;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MAX_CHARS = Number(document.body.dataset.maxChars) || 5000;
const CORRECTIONS = document.body.dataset.correctionsEnabled === "on";

const state = {
  mode: "text",
  ready: false, // languages loaded: the URL may be written
  languages: new Map(), // code -> language
  aliases: new Map(), // any accepted code, lower case -> FLORES-200 code
  lastTranslation: null, // {text, source, target, translation} of the last single answer
  copyText: "",
  detected: "", // the source detected for the last text, for swap
};

// ---- the API ------------------------------------------------------------------------------

// The API's error format: {detail, errors: [{field, message, code}], request_id, timestamp}.
function messageOf(data, fallback) {
  if (data && typeof data.detail === "string" && data.detail) {
    const first = Array.isArray(data.errors) ? data.errors[0] : null;
    const extra =
      first && first.message && first.message !== data.detail
        ? ` (${first.field ? `${first.field}: ` : ""}${first.message})`
        : "";
    return `${data.detail}${extra}`;
  }
  return fallback;
}

async function errorOf(response) {
  const data = await response.json().catch(() => null);
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ""}`;
  return new Error(messageOf(data, `The service answered ${status}.`));
}

// The caller's API key, where the server has auth on: this tab's only (sessionStorage).
const KEY_ITEM = "tafsiri-api-key";
const apiKey = () => sessionStorage.getItem(KEY_ITEM) || "";

async function send(method, path, { json, form } = {}) {
  const init = { method, headers: {} };
  if (apiKey()) init.headers.Authorization = `Bearer ${apiKey()}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new Error("Could not reach the service: check the connection and try again.");
  }
  if (response.status === 401) $("key-settings").open = true; // where to give one
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function api(method, path, json) {
  const response = await send(method, path, { json });
  return response.status === 204 ? null : response.json();
}

// ---- small helpers ------------------------------------------------------------------------

function option(value, label) {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  return o;
}

function item(tag, text, className) {
  const element = document.createElement(tag);
  if (text !== undefined) element.textContent = text;
  if (className) element.className = className;
  return element;
}

function say(id, text, isError = false) {
  const element = $(id);
  element.textContent = text;
  element.classList.toggle("error", isError);
}

const percent = (x) => `${(x * 100).toFixed(0)}%`;
const nameOf = (code) => (state.languages.get(code) || {}).name || code;
// A BCP 47 tag for a FLORES-200 code, so that screen readers read each text in its language.
function langTag(code) {
  const language = state.languages.get(code);
  return language ? language.iso639_1 || language.iso639_3 : "";
}

async function busy(button, work, onError) {
  button.disabled = true;
  try {
    await work();
  } catch (error) {
    onError(error);
  } finally {
    button.disabled = false;
  }
}

// ---- languages, pickers and the URL ------------------------------------------------------

function resolveCode(value) {
  if (!value) return "";
  return state.aliases.get(value.trim().toLowerCase()) || "";
}

async function loadLanguages() {
  const data = await api("GET", "/api/v1/languages");
  const template = document.createDocumentFragment();
  for (const language of data.languages) {
    state.languages.set(language.code, language);
    for (const alias of [language.code, language.iso639_1, language.iso639_3]) {
      if (alias && !state.aliases.has(alias.toLowerCase())) {
        state.aliases.set(alias.toLowerCase(), language.code);
      }
    }
    const native =
      language.native_name && language.native_name !== language.name
        ? ` — ${language.native_name}`
        : "";
    const o = option(language.code, `${language.name}${native}`);
    o.dataset.search = [
      language.name,
      language.native_name,
      language.code,
      language.iso639_1,
      language.iso639_3,
    ]
      .filter(Boolean)
      .join(" ")
      .toLowerCase();
    template.append(o);
  }
  for (const select of document.querySelectorAll("#source, #target, .also")) {
    select.append(template.cloneNode(true));
  }
  $("target").value = "eng_Latn";
  readUrl();
  state.ready = true;
  writeUrl();
  document.body.dataset.languages = String(data.total);
}

function targets() {
  const codes = [$("target").value, ...[...document.querySelectorAll(".also")].map((s) => s.value)];
  return codes.filter((code, i, all) => code && all.indexOf(code) === i);
}

// Search a picker by name, native name or any code: the list narrows to the matches and the
// best one is picked (an exact code first, then a name that starts so, then any match).
function filterPicker(input, select) {
  const query = input.value.trim().toLowerCase();
  let exact = resolveCode(query);
  let starts = "";
  let any = "";
  for (const o of select.options) {
    if (!o.value) {
      o.hidden = Boolean(query);
      continue;
    }
    const words = o.dataset.search || "";
    const match = !query || words.includes(query);
    o.hidden = !match;
    if (match && !any) any = o.value;
    if (match && !starts && o.textContent.toLowerCase().startsWith(query)) starts = o.value;
  }
  if (exact && select.querySelector(`option[value="${CSS.escape(exact)}"]`) === null) exact = "";
  const pick = query ? exact || starts || any : "";
  if (pick && select.value !== pick) {
    select.value = pick;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }
  input.setCustomValidity(query && !pick ? "No language matches" : "");
}

function wireSearch(inputId, selectId) {
  const input = $(inputId);
  const select = $(selectId);
  input.addEventListener("input", () => filterPicker(input, select));
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === "Escape") {
      event.preventDefault();
      input.value = "";
      filterPicker(input, select);
      if (event.key === "Enter") select.focus();
    }
  });
}

function addTarget(code = "") {
  const extras = document.querySelectorAll(".also");
  if (extras.length >= MAX_TARGETS - 1) {
    say("options-status", `At most ${MAX_TARGETS} targets in one request.`, true);
    return null;
  }
  const n = extras.length + 1;
  const box = item("div", undefined, "picker extra");
  const label = item("label", `Also into (${n})`);
  label.htmlFor = `also-${n}`;
  const row = item("div", undefined, "extra-row");
  const select = item("select", undefined, "also");
  select.id = `also-${n}`;
  select.append(option("", "(none)"));
  for (const o of $("also").querySelectorAll("option[value]:not([value=''])")) {
    select.append(option(o.value, o.textContent));
  }
  select.value = code;
  const remove = item("button", "Remove", "secondary");
  remove.type = "button";
  remove.setAttribute("aria-label", `Remove target ${n}`);
  remove.addEventListener("click", () => {
    box.remove();
    writeUrl();
    $("add-target").focus();
  });
  row.append(select, remove);
  box.append(label, row);
  $("add-target").before(box);
  return select;
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  const source = params.get("source");
  if (source && source !== "auto" && resolveCode(source)) $("source").value = resolveCode(source);
  const wanted = (params.get("target") || "")
    .split(",")
    .map(resolveCode)
    .filter((code, i, all) => code && all.indexOf(code) === i)
    .slice(0, MAX_TARGETS);
  if (wanted.length) {
    $("target").value = wanted[0];
    $("also").value = wanted[1] || "";
    for (const code of wanted.slice(2)) addTarget(code);
  }
  if (params.get("html") === "1") $("html").checked = true;
}

function writeUrl() {
  if (!state.ready) return;
  const params = new URLSearchParams();
  params.set("source", $("source").value || "auto");
  params.set("target", targets().join(","));
  params.set("mode", state.mode);
  if ($("html").checked) params.set("html", "1");
  history.replaceState(null, "", `${location.pathname}?${params}`);
}

function setMode(mode, focus = false) {
  state.mode = MODES.includes(mode) ? mode : "text";
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    const selected = tab.dataset.mode === state.mode;
    tab.setAttribute("aria-selected", String(selected));
    tab.tabIndex = selected ? 0 : -1;
    $(tab.getAttribute("aria-controls")).hidden = !selected;
    if (selected && focus) tab.focus();
  }
  $("languages").hidden = state.mode === "workflow";
  document.body.dataset.mode = state.mode;
  writeUrl();
}

function swap() {
  const source = $("source").value || state.detected;
  const target = $("target").value;
  if (!source) {
    showError(new Error("Pick the source language first: Auto-detect cannot be a target."));
    return;
  }
  $("source").value = target;
  $("target").value = source;
  const translated = state.lastTranslation && state.lastTranslation.translation;
  if (translated && targets().length === 1) {
    const original = $("text").value;
    $("text").value = translated;
    renderTexts([[source, original]], false);
    state.lastTranslation = null;
    $("correct-row").hidden = true;
  }
  state.detected = "";
  countCharacters();
  writeUrl();
  showMeta(`Swapped: ${nameOf(target)} → ${nameOf(source)}`);
}

// ---- text ---------------------------------------------------------------------------------

function countCharacters() {
  const length = $("text").value.length;
  const counter = $("counter");
  counter.textContent = `${length.toLocaleString("en")} / ${MAX_CHARS.toLocaleString("en")}`;
  counter.classList.toggle("near", length >= MAX_CHARS * 0.9 && length <= MAX_CHARS);
  counter.classList.toggle("over", length > MAX_CHARS);
  counter.title = length > MAX_CHARS ? "Longer than the server takes in one request" : "";
}

function showError(error) {
  say("translate-meta", error.message || String(error), true);
}

function showMeta(text) {
  say("translate-meta", text, false);
}

function failText(error) {
  // A failed request leaves no stale result beside a new text: the reason is shown instead.
  const result = $("result");
  result.textContent = "";
  result.dataset.error = "true";
  state.copyText = "";
  for (const id of ["quality", "terms", "memory-matches"]) $(id).hidden = true;
  showError(error);
}

// The result pane: one block per target, each marked with its language.
function renderTexts(items, labelled) {
  const result = $("result");
  result.textContent = "";
  delete result.dataset.error;
  delete result.dataset.streamed;
  for (const [code, text] of items) {
    const block = item("div", labelled ? `${code}: ${text}` : text, "item");
    if (langTag(code)) block.lang = langTag(code);
    result.append(block);
  }
  state.copyText = items.map(([, text]) => text).join("\n\n");
}

function qualityText(entry) {
  if (!entry.quality) return "n/a"; // a correction is a person's translation: no model score
  const flags = entry.quality.flags.length
    ? ` ⚑ ${entry.quality.flags.join(", ").replaceAll("_", " ")}`
    : "";
  return `${entry.quality.score.toFixed(2)}${flags}`;
}

function renderList(id, rows) {
  const list = $(id);
  list.textContent = "";
  for (const [text, className] of rows) list.append(item("li", text, className));
  list.hidden = rows.length === 0;
}

function renderDetection(found) {
  const box = $("detection");
  box.textContent = "";
  box.hidden = !found;
  if (!found) return;
  const head = item(
    "span",
    `Detected ${found.language_name || "an unknown language"} (${found.language}), ${percent(found.confidence)}`,
  );
  const reliability = item(
    "span",
    found.reliable ? "reliable" : "unreliable: check the source",
    found.reliable ? "reliable" : "error",
  );
  box.dataset.reliable = String(found.reliable);
  box.append(head, reliability);
  for (const candidate of found.candidates || []) {
    if (!state.languages.has(candidate.language)) continue;
    const use = item(
      "button",
      `${candidate.language_name} ${percent(candidate.confidence)}`,
      "secondary",
    );
    use.type = "button";
    use.dataset.language = candidate.language;
    use.title = `Translate from ${candidate.language_name}`;
    use.setAttribute("aria-label", `Use ${candidate.language_name} as the source`);
    use.addEventListener("click", () => {
      $("source").value = candidate.language;
      writeUrl();
      $("translate").click();
    });
    box.append(use);
  }
}

function translationBody(text) {
  const wanted = targets();
  const body = { text, target_language: wanted.length > 1 ? wanted : wanted[0] };
  if ($("source").value) body.source_language = $("source").value;
  if ($("html").checked) body.format = "html";
  if ($("glossary").value) body.glossary_id = $("glossary").value;
  if ($("memory").value) body.memory_id = $("memory").value;
  return body;
}

async function translate() {
  const text = $("text").value;
  if (!text.trim()) throw new Error("Type or paste a text to translate first.");
  const body = { ...translationBody(text), quality: true };
  const wanted = targets();
  // With Auto-detect, the detector's candidates are asked for beside the translation.
  const detecting = body.source_language
    ? Promise.resolve(null)
    : api("POST", "/api/v1/detect-language", { text, top_k: 3 }).catch(() => null);
  $("result").setAttribute("aria-busy", "true");
  let r;
  try {
    r = await api("POST", "/api/v1/translate", body);
  } finally {
    $("result").removeAttribute("aria-busy");
  }
  const entries = r.translations ? Object.entries(r.translations) : [[r.target_language, r]];
  const first = entries[0][1];
  const shown = (entry) =>
    entry.translated_text ?? "(withheld: below the quality asked for, no text was given)";
  renderTexts(
    entries.map(([code, entry]) => [code, shown(entry)]),
    Boolean(r.translations),
  );
  const quality = entries
    .map(([code, entry]) => `${entries.length > 1 ? `${code} ` : ""}${qualityText(entry)}`)
    .join("; ");
  $("result").dataset.quality = quality;
  renderList(
    "quality",
    entries.map(([code, entry]) => [
      `${nameOf(code)}: quality ${qualityText(entry)}`,
      entry.quality && entry.quality.flags.length ? "flagged" : "",
    ]),
  );
  state.lastTranslation = {
    text,
    source: first.source_language,
    target: wanted[0],
    translation: first.translated_text,
  };
  state.detected = first.source_language_detected ? first.source_language : "";
  $("better").value = first.translated_text || "";
  $("correct-row").hidden = !CORRECTIONS;
  const terms = entries
    .flatMap(([, entry]) => entry.glossary_terms || [])
    .map((t) => `${t.source} → ${t.target} ${t.applied ? "✓" : "✗"}`);
  renderList(
    "terms",
    terms.map((t) => [`glossary: ${t}`, t.endsWith("✗") ? "flagged" : ""]),
  );
  const matches = entries.flatMap(([code, entry]) =>
    (entry.memory_matches || []).map((m) => [
      `${entries.length > 1 ? `${code}, ` : ""}sentence ${m.sentence + 1}: “${m.source}” → “${m.translation}” (${percent(m.score)}, ${m.served ? "used" : "suggested"})`,
      "",
    ]),
  );
  renderList("memory-matches", matches);
  const detected = first.source_language_detected
    ? ` (detected, ${percent(first.detection_confidence || 0)})`
    : "";
  const model = r.model_is_fallback
    ? "⚠ OFFLINE FALLBACK MODEL (not a real translation): "
    : "model ";
  const repaired = r.repaired_sentences
    ? ` · ${r.repaired_sentences} sentence(s) translated around a span the model lost`
    : "";
  showMeta(
    `${first.source_language}${detected} → ${(r.target_languages || [r.target_language]).join(", ")}` +
      ` · ${r.character_count} characters · ${(r.total_time * 1000).toFixed(0)} ms` +
      ` · ${model}${r.model}${repaired} · quality ${quality}` +
      `${terms.length ? ` · glossary: ${terms.join(", ")}` : ""}` +
      `${first.correction_id ? " · your correction" : ""}`,
  );
  renderDetection(await detecting);
}

async function detect() {
  const text = $("text").value;
  if (!text.trim()) throw new Error("Type or paste a text to detect its language first.");
  const r = await api("POST", "/api/v1/detect-language", { text, top_k: 3 });
  $("result").dataset.language = r.language;
  const others = r.candidates
    .slice(1)
    .map((c) => `${c.language_name} ${percent(c.confidence)}`);
  showMeta(
    `Detected: ${r.language_name || "unknown"} (${r.language}), ${percent(r.confidence)}` +
      `${r.reliable ? " — reliable" : " — unreliable"}` +
      `${others.length ? ` · other candidates: ${others.join(", ")}` : ""}`,
  );
  renderDetection(r);
  if (state.languages.has(r.language)) {
    $("source").value = r.language;
    writeUrl();
  }
}

async function stream() {
  const text = $("text").value;
  if (!text.trim()) throw new Error("Type or paste a text to translate first.");
  const body = translationBody(text);
  body.target_language = targets()[0];
  const response = await send("POST", "/api/v1/translate/stream", { json: body });
  const result = $("result");
  renderTexts([[body.target_language, ""]], false);
  const block = result.firstChild;
  result.setAttribute("aria-busy", "true");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let sentences = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut = buffer.indexOf("\n");
      while (cut >= 0) {
        const line = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 1);
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) {
          const data = JSON.parse(line.slice(6));
          if (event === "sentence") {
            block.textContent += data.delta;
            sentences += 1;
            showMeta(`streaming: ${sentences} sentence(s) so far`);
          } else if (event === "done") {
            block.textContent = data.translated_text;
            state.copyText = data.translated_text;
            showMeta(`streamed ${data.sentences} sentences from ${data.source_language}`);
          } else if (event === "error") {
            throw new Error(messageOf(data, "The stream stopped on an error."));
          }
        }
        cut = buffer.indexOf("\n");
      }
    }
  } finally {
    result.removeAttribute("aria-busy");
  }
  result.dataset.streamed = String(sentences);
}

async function copyResult() {
  const text = state.copyText;
  if (!text) {
    say("copy-status", "Nothing to copy yet.", true);
    return;
  }
  try {
    await navigator.clipboard.writeText(text);
    say("copy-status", "Copied.");
  } catch {
    // The browser refused the clipboard: select the text so that Ctrl+C copies it.
    const range = document.createRange();
    range.selectNodeContents($("result"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    say("copy-status", "Selected: press Ctrl+C to copy.", true);
  }
}

async function saveCorrection() {
  const t = state.lastTranslation;
  if (!t) throw new Error("Translate a text first.");
  await api("POST", "/api/v1/corrections", {
    text: t.text,
    translation: $("better").value,
    source_language: t.source,
    target_language: t.target,
    original: t.translation,
  });
  showMeta("Correction saved: this text gets it from now on.");
}

// ---- glossaries and memories ---------------------------------------------------------------

async function loadGlossaries() {
  const data = await api("GET", "/api/v1/glossaries");
  for (const g of data.glossaries) $("glossary").append(option(g.id, `${g.name} (${g.entry_count})`));
  document.body.dataset.glossaries = String(data.glossaries.length);
}

async function loadMemories() {
  const data = await api("GET", "/api/v1/memories");
  for (const m of data.memories) $("memory").append(option(m.id, `${m.name} (${m.entry_count})`));
  document.body.dataset.memories = String(data.memories.length);
}

async function createGlossary() {
  const body = { name: $("glossary-name").value.trim(), entries_csv: $("glossary-csv").value };
  if ($("source").value) body.source_language = $("source").value;
  if ($("target").value) body.target_language = $("target").value;
  const made = await api("POST", "/api/v1/glossaries", body);
  $("glossary").append(option(made.id, `${made.name} (${made.entry_count})`));
  $("glossary").value = made.id;
  document.body.dataset.glossaries = String($("glossary").options.length - 1);
  $("glossary-form").reset();
  $("glossary-form").hidden = true;
  $("new-glossary").setAttribute("aria-expanded", "false");
  say("options-status", `Glossary “${made.name}” created with ${made.entry_count} terms, and picked.`);
}

async function uploadMemory() {
  const file = $("memory-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  say("options-status", `Uploading ${file.name}…`);
  try {
    const made = await (await send("POST", "/api/v1/memories", { form })).json();
    $("memory").append(option(made.id, `${made.name} (${made.entry_count})`));
    $("memory").value = made.id;
    const skipped = made.skipped ? `, ${made.skipped} skipped` : "";
    say("options-status", `Memory “${made.name}”: ${made.entry_count} units${skipped}, picked.`);
  } finally {
    $("memory-file").value = "";
  }
}

// ---- files --------------------------------------------------------------------------------

// A document job's integrity report: what became of its segments, so that a file that
// came back untranslated is seen (its warnings above the table).
function renderReport(report) {
  const table = $("document-report");
  const warnings = $("document-warnings");
  table.hidden = warnings.hidden = !report;
  if (!report) return;
  const body = table.querySelector("tbody");
  body.textContent = "";
  const rows = [
    ["Segments", report.segments],
    ["Translated", report.translated],
    ["Unchanged (read as the source)", report.unchanged],
    ["Withheld (source kept or no translation)", report.withheld],
    ["From translation memory", report.from_memory],
    ["Repaired sentences", report.repaired_sentences],
    ["Flagged by quality", report.flagged],
    [
      "Placeholders and tags in / out",
      `${report.codes_in} / ${report.codes_out}${report.codes_mismatched ? ` (${report.codes_mismatched} segments differ)` : ""}`,
    ],
    [
      "Output language checked",
      `${percent(report.language_checked_share)}${report.wrong_language ? ` (${report.wrong_language} wrong)` : ""}`,
    ],
    [
      "Quality min / median",
      report.quality_min == null
        ? "not measured"
        : `${report.quality_min.toFixed(2)} / ${report.quality_median.toFixed(2)}`,
    ],
  ];
  for (const [label, value] of rows) {
    const row = body.insertRow();
    const th = item("th", label);
    th.scope = "row";
    row.append(th);
    row.insertCell().textContent = String(value);
  }
  warnings.textContent = "";
  for (const text of report.warnings || []) warnings.append(item("li", `⚠ ${text}`));
  warnings.hidden = !(report.warnings || []).length;
  table.dataset.translated = String(report.translated);
}

function setProgress(value) {
  const bar = $("document-progress");
  bar.hidden = value === null;
  if (value !== null) bar.value = value;
}

async function uploadDocument() {
  const file = $("document").files[0];
  if (!file) throw new Error("Choose a file first.");
  const target = targets()[0];
  $("download").hidden = true;
  renderReport(null);
  setProgress(0);
  say("document-status", `Uploading ${file.name}…`);
  const form = new FormData();
  form.append("file", file);
  form.append("target_language", target);
  if ($("source").value) form.append("source_language", $("source").value);
  if ($("glossary").value) form.append("glossary_id", $("glossary").value);
  if ($("memory").value) form.append("memory_id", $("memory").value);
  form.append("quality", "true");
  const accepted = await (await send("POST", "/api/v1/documents", { form })).json();
  let job;
  do {
    await sleep(300);
    job = await api("GET", accepted.status_url);
    const p = job.progress;
    if (p) setProgress(p.percent);
    say("document-status", `${job.status}${p ? ` ${p.done}/${p.total} sentences` : ""}`);
  } while (!TERMINAL.includes(job.status));
  renderReport(job.report);
  if (job.status !== "done") throw new Error(job.error_message || `The job ended ${job.status}.`);
  setProgress(100);
  const dot = file.name.lastIndexOf(".");
  const stem = dot > 0 ? file.name.slice(0, dot) : file.name;
  const extension = dot > 0 ? file.name.slice(dot) : "";
  const shown = extension.toLowerCase() === ".pdf" ? ".txt" : extension;
  const link = $("download");
  link.href = `/api/v1/documents/${encodeURIComponent(accepted.token)}/result`;
  link.download = `${stem}.${target.split("_")[0]}${shown}`;
  link.textContent = `Download ${link.download}`;
  link.hidden = false;
  const extra = targets().length > 1 ? ` (into ${nameOf(target)}, the first target)` : "";
  say("document-status", `${job.status}${extra}: ${job.progress ? `${job.progress.done}/${job.progress.total} sentences` : ""}`);
}

function failDocument(error) {
  setProgress(null);
  say("document-status", error.message || String(error), true);
}

// ---- workflows ----------------------------------------------------------------------------

function renderTasks(tasks) {
  const body = $("tasks").querySelector("tbody");
  body.textContent = "";
  for (const [id, task] of Object.entries(tasks || {})) {
    const row = body.insertRow();
    row.insertCell().textContent = id;
    row.insertCell().textContent = task.status;
    const cell = row.insertCell();
    const image = task.output && task.output.image;
    if (image) {
      const img = document.createElement("img");
      img.src = `/api/v1/artifacts/${encodeURIComponent(image.split("/").pop())}`;
      img.alt = `${task.output.type} chart`;
      cell.append(img);
    } else {
      cell.textContent = task.error || JSON.stringify(task.output || {}).slice(0, 160);
    }
  }
  $("tasks").hidden = false;
}

async function runDsl(dsl) {
  const status = $("workflow-status");
  delete status.dataset.final;
  $("dsl").textContent = dsl;
  $("dsl").hidden = false;
  const run = await api("POST", "/api/v1/workflows/dsl", { dsl_yaml: dsl, client_id: "web" });
  let found;
  do {
    await sleep(300);
    found = await api("GET", `/api/v1/workflows/${encodeURIComponent(run.workflow_id)}`);
    say("workflow-status", `${found.status} (${found.progress.done}/${found.progress.total})`);
    renderTasks(found.tasks);
  } while (!TERMINAL.includes(found.status));
  say("workflow-status", found.status, found.status !== "done");
  status.dataset.final = found.status;
}

async function plan() {
  const status = $("workflow-status");
  delete status.dataset.final;
  say("workflow-status", "planning…");
  const accepted = await api("POST", "/api/v1/workflows/translate", {
    natural_language: $("request").value,
    client_id: "web",
  });
  let job;
  do {
    await sleep(300);
    job = await api("GET", `/api/v1/translation/${encodeURIComponent(accepted.token)}`);
  } while (!TERMINAL.includes(job.status));
  if (job.status !== "done") {
    say("workflow-status", `${job.status}: ${job.error_message}`, true);
    status.dataset.final = job.status;
    return;
  }
  await runDsl(job.dsl);
}

async function suggestWorkflows() {
  const r = await api("POST", "/api/v1/workflows/suggest", { context: $("request").value });
  const list = $("suggestions");
  list.textContent = "";
  for (const s of r.suggestions) {
    const row = item("li");
    row.append(item("span", `${s.title}: ${s.description} (about ${s.estimated_minutes} min)`));
    const run = item("button", "Run", "secondary");
    run.type = "button";
    run.setAttribute("aria-label", `Run “${s.title}”`);
    run.addEventListener("click", () =>
      busy(run, () => runDsl(s.dsl), (e) => say("workflow-status", e.message, true)),
    );
    row.append(run);
    list.append(row);
  }
  list.hidden = !r.suggestions.length;
  say("workflow-status", `${r.suggestions.length} suggestion(s)`);
}

// ---- health: the fallback-model warning ----------------------------------------------------

async function checkHealth() {
  let health;
  try {
    health = await (await fetch("/health")).json();
  } catch {
    return; // the page's own requests say so when the service cannot be reached
  }
  const fallbacks = Object.entries(health.components || {}).filter(([, c]) => c && c.fallback);
  const banner = $("fallback-banner");
  banner.hidden = fallbacks.length === 0;
  banner.textContent = fallbacks.length
    ? `⚠ This server runs the offline fallback model: its output is not a real translation. ` +
      fallbacks.map(([name, c]) => `${name}: ${c.fallback}`).join("; ")
    : "";
}

// ---- wiring -------------------------------------------------------------------------------

function wire() {
  const text = $("text");
  text.maxLength = MAX_CHARS;
  text.addEventListener("input", countCharacters);
  countCharacters();
  const key = $("api-key");
  key.value = apiKey();
  key.addEventListener("change", () => {
    if (key.value.trim()) sessionStorage.setItem(KEY_ITEM, key.value.trim());
    else sessionStorage.removeItem(KEY_ITEM);
  });
  // With a key, the translated file is fetched with it (a plain link sends no header).
  $("download").addEventListener("click", (event) => {
    if (!apiKey()) return;
    event.preventDefault();
    const link = event.currentTarget;
    busy(link, async () => {
      const blob = await (await send("GET", link.getAttribute("href"))).blob();
      const save = document.createElement("a");
      save.href = URL.createObjectURL(blob);
      save.download = link.download;
      save.click();
      setTimeout(() => URL.revokeObjectURL(save.href), 10_000);
    }, (error) => say("document-status", error.message || String(error), true));
  });
  $("clear").addEventListener("click", () => {
    text.value = "";
    countCharacters();
    renderTexts([], false);
    text.focus();
  });
  wireSearch("source-search", "source");
  wireSearch("target-search", "target");
  for (const id of ["source", "target", "html"]) $(id).addEventListener("change", writeUrl);
  $("extra-targets").addEventListener("change", writeUrl);
  $("add-target").addEventListener("click", () => {
    const select = addTarget();
    if (select) select.focus();
  });
  $("swap").addEventListener("click", swap);
  const onText = (e) => failText(e);
  $("translate").addEventListener("click", () => busy($("translate"), translate, onText));
  $("detect").addEventListener("click", () => busy($("detect"), detect, showError));
  $("stream").addEventListener("click", () => busy($("stream"), stream, onText));
  $("copy").addEventListener("click", copyResult);
  $("suggest").addEventListener("click", () => busy($("suggest"), saveCorrection, showError));
  $("upload").addEventListener("click", () => busy($("upload"), uploadDocument, failDocument));
  $("plan").addEventListener("click", () =>
    busy($("plan"), plan, (e) => {
      say("workflow-status", e.message, true);
      $("workflow-status").dataset.final = "error";
    }),
  );
  $("suggest-workflows").addEventListener("click", () =>
    busy($("suggest-workflows"), suggestWorkflows, (e) => say("workflow-status", e.message, true)),
  );
  $("new-glossary").addEventListener("click", () => {
    const form = $("glossary-form");
    form.hidden = !form.hidden;
    $("new-glossary").setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) $("glossary-name").focus();
  });
  $("glossary-file").addEventListener("change", async () => {
    const file = $("glossary-file").files[0];
    if (file) $("glossary-csv").value = await file.text();
  });
  $("glossary-form").addEventListener("submit", (event) => {
    event.preventDefault();
    busy($("create-glossary"), createGlossary, (e) => say("options-status", e.message, true));
  });
  $("memory-file").addEventListener("change", () =>
    uploadMemory().catch((e) => say("options-status", e.message, true)),
  );
  // Tabs: click, or arrows and Home/End when a tab has focus.
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const tab of tabs) {
    tab.addEventListener("click", () => setMode(tab.dataset.mode));
    tab.addEventListener("keydown", (event) => {
      const at = tabs.indexOf(tab);
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      setMode(tabs[(to + tabs.length) % tabs.length].dataset.mode, true);
    });
  }
  // Ctrl+Enter (⌘+Enter on a Mac) runs the current tab's main action.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const button = { text: "translate", files: "upload", workflow: "plan" }[state.mode];
    event.preventDefault();
    if (!$(button).disabled) $(button).click();
  });
  // A file dropped anywhere on the drop zone is the one to translate.
  const drop = $("drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) $("document").files = event.dataTransfer.files;
  });
}

wire();
setMode(new URLSearchParams(location.search).get("mode") || "text");
loadLanguages().catch(showError);
loadGlossaries().catch((e) => say("options-status", e.message, true));
loadMemories().catch((e) => say("options-status", e.message, true));
checkHealth();
setInterval(checkHealth, 60_000);
