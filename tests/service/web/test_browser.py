"""The web page in a real browser: headless Chromium loads it from a live `serve` process with tiny
models, runs a classification, a question and a text to tag through the forms, and checks what is
drawn against the answers the API gives for the same requests; a screenshot at phone width is kept
in tmp_path."""

from __future__ import annotations

import threading
from typing import Iterator

import httpx
import pytest

from bench.harness.server import python_server
from tests.service.web.browser import KEY, choose_model, chromium, missing_browser, open_page, texts, wait
from tests.service.web.reports import classification_report

pytestmark = pytest.mark.slow

QA_CONTEXT = "the museum opens at first light . the cafe is by the river : begin at zurich end of day last"
# Pretend the sentiment model takes sentence pairs, and record every request body the page sends.
AUTH = {"Authorization": f"Bearer {KEY}"}
PAIRS_AND_RECORD = """
window.sentBodies = [];
const realFetch = window.fetch.bind(window);
window.fetch = async (input, init) => {
  const url = String(input);
  if (init && init.body) window.sentBodies.push({url, body: JSON.parse(init.body)});
  const response = await realFetch(input, init);
  if (!url.endsWith("v1/models") || !response.ok) return response;
  const data = await response.json();
  for (const m of data.models) if (m.name === "sentiment") m.pairs = true;
  return new Response(JSON.stringify(data), {status: response.status, headers: response.headers});
};
"""


@pytest.fixture(scope="module")
def server(web_repository, tmp_path_factory) -> Iterator[str]:
    reason = missing_browser()
    if reason is not None:
        pytest.skip(reason)
    args = ["-m", "service", "--model-repository", str(web_repository), "--models", "sentiment,qa,ner,embed", "--api-key", KEY,
            "--intra-op-threads", "1", "--warmup-batches", "1", "--web-refresh-s", "0.5"]
    log = tmp_path_factory.mktemp("browser") / "serve.log"
    with python_server(args, log, ready_timeout=60) as started:
        yield started.url


def classify_through_page(driver, text: str, top_k: str = "") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    box = driver.find_element(By.ID, "play-text")
    box.clear()
    box.send_keys(text)
    Select(driver.find_element(By.ID, "play-top-k")).select_by_value(top_k)
    driver.find_element(By.CSS_SELECTOR, "#classify-form button[type=submit]").click()


def test_classification_card_qa_and_live_panel(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    text = "a wonderful and moving film"
    expected = httpx.post(f"{server}/v1/classify", headers=AUTH,
                          json={"model": "sentiment", "inputs": text, "top_k": None}).json()
    with chromium(tmp_path / "profile", width=390, height=844) as driver:
        open_page(driver, server)
        wait(driver, lambda d: "ready" == d.find_element(By.ID, "readiness").text, "the page says ready")
        rows = wait(driver, lambda d: texts(d, "#models tbody tr") if len(texts(d, "#models tbody tr")) == 4 else None,
                    "four model rows")
        assert [row.split(" ")[:2] for row in rows] == [
            ["embed", "feature-extraction"], ["ner", "token-classification"], ["qa", "question-answering"],
            ["sentiment", "text-classification"]]
        assert all(row.endswith("ready") for row in rows)

        choose_model(driver, "sentiment")
        classify_through_page(driver, text)
        wait(driver, lambda d: len(texts(d, "#play-output .scores li")) == len(expected), "score bars")
        drawn = [line.split("\n") for line in texts(driver, "#play-output .scores li")]
        assert [(label, float(score)) for label, score in drawn] == [
            (s["label"], pytest.approx(s["score"], abs=5e-5)) for s in expected]
        assert "batch size" in driver.find_element(By.CSS_SELECTOR, "#play-output .timing").text

        too_long = " ".join(["great"] * 50)
        refusal = httpx.post(f"{server}/v1/classify", headers=AUTH, json={"model": "sentiment", "inputs": too_long}).json()["error"]
        classify_through_page(driver, too_long, top_k="1")
        shown = wait(driver, lambda d: d.find_element(By.ID, "play-error").text, "the service's error")
        assert shown == f"422 {refusal['type']}: {refusal['message']}"

        card_rows = wait(driver, lambda d: texts(d, "#card-table tbody tr") or None, "the model card")
        report = classification_report()
        assert texts(driver, "#card-table tbody th") == [row["name"] for row in report["models"]]
        assert "0, 2" in texts(driver, "#card .facts dd")  # the layer map
        assert "2.00×" in card_rows[1]  # teacher 5.0 ms / student 2.5 ms at batch 1 in the report
        wait(driver, lambda d: all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i)
                                   for i in d.find_elements(By.CSS_SELECTOR, "#card figure img")) and
             len(d.find_elements(By.CSS_SELECTOR, "#card figure img")) == 2, "both plots drawn")

        question = "where is the cafe"
        answers = httpx.post(f"{server}/v1/qa", headers=AUTH, json={"question": question, "context": QA_CONTEXT, "top_k": 3}).json()
        choose_model(driver, "qa")
        wait(driver, lambda d: d.find_elements(By.ID, "play-question"), "the QA form")
        driver.find_element(By.ID, "play-context").send_keys(QA_CONTEXT)
        driver.find_element(By.ID, "play-question").send_keys(question, Keys.ENTER)  # keyboard submit
        mark = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#play-output mark"), "the highlight")[0]
        best = answers[0]
        assert mark.text == best["answer"] == QA_CONTEXT[best["start"]:best["end"]]
        assert driver.find_element(By.CSS_SELECTOR, "#play-output .context").text == QA_CONTEXT
        listed = texts(driver, "#play-output .answers li")
        assert len(listed) == len(answers) and all(a["answer"] in line for a, line in zip(answers, listed))

        _wait_for_live_rates(driver, server)
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1")
        driver.save_screenshot(str(tmp_path / "page.png"))
    assert (tmp_path / "page.png").read_bytes().startswith(b"\x89PNG")


def test_token_classification_form_marks_the_entities(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    text = "Grüße an Angela Merkel aus Zürich und Paris"
    for strategy in ("first", "none"):
        entities = httpx.post(f"{server}/v1/token-classification", headers=AUTH,
                              json={"model": "ner", "inputs": text, "aggregation_strategy": strategy}).json()
        with chromium(tmp_path / f"profile-{strategy}") as driver:
            open_page(driver, server)
            choose_model(driver, "ner")
            box = wait(driver, lambda d: d.find_elements(By.ID, "play-tokens-text"), "the token form")[0]
            box.send_keys(text)
            Select(driver.find_element(By.ID, "play-aggregation")).select_by_value(strategy)
            driver.find_element(By.CSS_SELECTOR, "#tokens-form button[type=submit]").click()
            marks = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#play-output mark"), "the marks")
            drawn = [(m.text[:len(e["word"])], m.text[len(e["word"]):].strip()) for m, e in zip(marks, entities)]
            assert len(marks) == len(entities) > 2
            assert drawn == [(text[e["start"]:e["end"]], e.get("entity_group") or e["entity"]) for e in entities]


def test_similarity_form_shows_the_cosine_of_two_sentences(server, tmp_path):
    from selenium.webdriver.common.by import By

    first, second = "A man is playing a guitar.", "Someone plays an instrument."
    answer = httpx.post(f"{server}/v1/embeddings", headers=AUTH,
                        json={"model": "embed", "input": [first, second]}).json()
    a, b = (d["embedding"] for d in answer["data"])
    expected = sum(x * y for x, y in zip(a, b))  # unit vectors: the dot product is the cosine
    with chromium(tmp_path / "profile") as driver:
        open_page(driver, server)
        choose_model(driver, "embed")
        wait(driver, lambda d: d.find_elements(By.ID, "play-sim-first"), "the similarity form")[0].send_keys(first)
        driver.find_element(By.ID, "play-sim-second").send_keys(second)
        driver.find_element(By.CSS_SELECTOR, "#similarity-form button[type=submit]").click()
        shown = wait(driver, lambda d: d.find_elements(By.ID, "play-cosine"), "the cosine")[0].text
        assert float(shown) == pytest.approx(expected, abs=6e-5) and -1 <= float(shown) <= 1
        assert f"{len(a)} dimensions" in driver.find_element(By.ID, "play-dimensions").text


def _wait_for_live_rates(driver, server: str) -> None:
    """Load one route while the live panel shows a positive rate and a p50 for it."""
    stop = threading.Event()

    def load() -> None:
        with httpx.Client() as client:
            while not stop.is_set():
                client.post(f"{server}/v1/sentiment", headers=AUTH, json={"inputs": "a dull film"})

    def live_row(d):
        for row in texts(d, "#live-routes tbody tr"):
            cells = row.split(" ")
            if cells[:2] == ["sentiment", "/v1/sentiment"] and cells[2] != "–" and float(cells[2]) > 0 and cells[4] != "–":
                return row
        return None

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    try:
        wait(driver, live_row, "a live rate for /v1/sentiment")
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_pair_model_gets_two_boxes_and_sends_text_pairs(server, tmp_path):
    from selenium.webdriver.common.by import By

    with chromium(tmp_path / "profile") as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PAIRS_AND_RECORD})
        open_page(driver, server)
        choose_model(driver, "sentiment")
        wait(driver, lambda d: d.find_elements(By.ID, "play-text-pair"), "a second box")
        labels = texts(driver, "#classify-form label")
        assert labels[:2] == ["First text", "Second text"]
        assert "yes" in texts(driver, "#models tbody tr")[-1].split(" ")
        driver.find_element(By.ID, "play-text").send_keys("a man plays a guitar")
        driver.find_element(By.ID, "play-text-pair").send_keys("someone makes music")
        driver.find_element(By.CSS_SELECTOR, "#classify-form button[type=submit]").click()
        sent = wait(driver, lambda d: [s for s in d.execute_script("return window.sentBodies")
                                       if s["url"].endswith("v1/classify")], "the request")[-1]["body"]
        assert sent["inputs"] == [{"text": "a man plays a guitar", "text_pair": "someone makes music"}]
        reply = httpx.post(f"{server}/v1/classify", headers=AUTH, json=sent)
        if reply.status_code == 200:  # the service takes pairs: bars for the pair's labels
            wait(driver, lambda d: len(texts(d, "#play-output .scores li")) == len(reply.json()[0]), "score bars")
        else:  # it does not yet: its refusal, as sent
            error = reply.json()["error"]
            shown = wait(driver, lambda d: d.find_element(By.ID, "play-error").text, "the error")
            assert shown == f"{error['status']} {error['type']}: {error['message']}"


def test_script_logic_quantiles_rates_and_request_bodies(server, tmp_path):
    script = """
const done = arguments[arguments.length - 1];
const load = (name) => import(new URL("web/static/" + name, document.baseURI).href);
Promise.all([load("live.js"), load("playground.js")]).then(([live, play]) => {
  const h = {bounds: [0.001, 0.002, 0.005], counts: [0, 10, 20, 20]};
  const prev = {time: 10, models: [], routes: [{model: "m", route: "/r", requests: 5, errors: 1,
                duration: {bounds: [1, 2], counts: [5, 5, 5], sum: 1}}]};
  const cur = {time: 12, models: [], routes: [{model: "m", route: "/r", requests: 9, errors: 2,
               duration: {bounds: [1, 2], counts: [5, 9, 9], sum: 7}}]};
  done({
    p50: live.quantile(0.5, h.bounds, h.counts), p99: live.quantile(0.99, h.bounds, h.counts),
    empty: live.quantile(0.5, [1], [0, 0]), overflow: live.quantile(0.5, [1, 2], [0, 0, 4]),
    window: live.windowStats(prev, cur).routes[0],
    pair: play.classifyBody({name: "nli", pairs: true}, {text: "a", textPair: "b", topK: null, functionToApply: "softmax"}),
    single: play.classifyBody({name: "s"}, {text: "a", textPair: "", topK: 1, functionToApply: "none"}),
  });
}).catch((e) => done({error: String(e)}));
"""
    with chromium(tmp_path / "profile") as driver:
        driver.get(server + "/")
        got = driver.execute_async_script(script)
    assert "error" not in got, got
    # Bucket (0.001, 0.002] holds ranks 1-10: rank 10 of 20 is at its top; rank 19.8 lies 98% into (0.002, 0.005].
    assert got["p50"] == pytest.approx(0.002) and got["p99"] == pytest.approx(0.002 + 0.003 * 0.98)
    assert got["empty"] is None and got["overflow"] == 2  # +Inf bucket: the highest finite bound
    # 4 requests and 1 error in 2 s; the 4 new durations all fall in (1, 2]: the median is halfway.
    assert got["window"]["requestsPerS"] == 2 and got["window"]["errorsPerS"] == 0.5
    assert got["window"]["p50"] == pytest.approx(1.5)
    assert got["pair"]["inputs"] == [{"text": "a", "text_pair": "b"}] and got["pair"]["top_k"] is None
    assert got["single"] == {"model": "s", "inputs": "a", "top_k": 1, "function_to_apply": "none"}
