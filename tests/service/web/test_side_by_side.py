"""The page with two models of one form: `sentiment`, whose report names `topic` as its teacher
and is wide (three metrics, four batch sizes), and `topic`. In headless Chromium at 1,400 px the
model card's table fits the page, the teacher is preselected to compare with, and one submit
shows both answers, each with its own latency, side by side (stacked at phone width)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from bench.harness.server import python_server
from tests.service.web.browser import KEY, choose_model, chromium, missing_browser, open_page, texts, wait

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {KEY}"}
WIDE = 1400
RECORD = """
window.sentBodies = [];
const realFetch = window.fetch.bind(window);
window.fetch = async (input, init) => {
  if (init && init.body) window.sentBodies.push({url: String(input), body: JSON.parse(init.body)});
  return realFetch(input, init);
};
"""


def wide_report() -> dict:
    """A report as wide as a token-classification build's: three metrics, four batch sizes, long
    row names and numbers; its teacher is a path whose last part is `topic`."""
    metrics = {"entity_f1": "entity F1", "entity_precision": "entity precision", "entity_recall": "entity recall"}
    names = ["teacher (PyTorch)", "student (PyTorch)", "student ONNX fp32", "student ONNX fp16",
             "student ONNX int8 (static, per-channel)"]
    sizes = ["1", "8", "32", "128"]
    rows = [{"name": name, **{key: 0.91 - 0.01 * i for key in metrics}, "parameters": 109_482_240 // (i + 1),
             "size_bytes": 438_000_000 // (i + 1), "latency_ms": {s: 1234.56 / (i + 1) * int(s) for s in sizes}}
            for i, name in enumerate(names)]
    return {"task": "text-classification", "teacher": "runs/conll/topic", "student_layers": 3,
            "layer_map": [0, 5, 11], "metric_names": metrics, "models": rows}


@pytest.fixture(scope="module")
def server(repository, tmp_path_factory) -> Iterator[str]:
    reason = missing_browser()
    if reason is not None:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("side_by_side")
    for name in ("sentiment", "topic"):
        shutil.copytree(repository / name, root / name)
    (root / "sentiment" / "report.json").write_text(json.dumps(wide_report()))
    args = ["-m", "service", "--model-repository", str(root), "--models", "sentiment,topic", "--api-key", KEY,
            "--intra-op-threads", "1", "--warmup-batches", "1"]
    with python_server(args, root / "serve.log", ready_timeout=60) as started:
        yield started.url


def rect(driver, element) -> dict:
    return driver.execute_script("const r = arguments[0].getBoundingClientRect(); "
                                 "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom};", element)


def test_the_card_table_fits_the_page_at_1400_px(server, tmp_path):
    from selenium.webdriver.common.by import By

    with chromium(tmp_path / "profile", width=WIDE, height=900) as driver:
        open_page(driver, server)
        choose_model(driver, "sentiment")
        table = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#card-table tbody tr") and
                     d.find_element(By.ID, "card-table"), "the card table")
        assert len(texts(driver, "#card-table tbody th")) == 5
        viewport = driver.execute_script("return document.documentElement.clientWidth")
        assert viewport <= WIDE
        assert rect(driver, table)["right"] <= viewport  # the whole table is on the page,
        box = driver.find_element(By.CSS_SELECTOR, "#card .scroll")
        assert driver.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", box)  # none hidden
        assert driver.execute_script("return document.documentElement.scrollWidth <= arguments[0]", viewport)
        # numbers keep to one line: every cell of a row is as tall as the row's first number
        heights = {round(rect(driver, c)["bottom"] - rect(driver, c)["top"])
                   for c in driver.find_elements(By.CSS_SELECTOR, "#card-table tbody tr:nth-child(2) td")}
        assert len(heights) == 1
        headings = texts(driver, "#card-table thead th")
        assert headings[:3] == ["model", "entity F1", "entity precision"] and "batch 128" in headings
        driver.save_screenshot(str(tmp_path / "card.png"))


def scores(driver, column) -> list[tuple[str, float]]:
    from selenium.webdriver.common.by import By

    return [(line.split("\n")[0], float(line.split("\n")[1]))
            for line in (li.text for li in column.find_elements(By.CSS_SELECTOR, ".scores li"))]


def test_compare_sends_one_input_to_both_and_shows_both_answers_and_latencies(server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    text = "a wonderful and moving film"
    expected = {name: httpx.post(f"{server}/v1/classify", headers=AUTH,
                                 json={"model": name, "inputs": text, "top_k": None}).json()
                for name in ("sentiment", "topic")}
    with chromium(tmp_path / "profile", width=WIDE, height=900) as driver:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD})
        open_page(driver, server)
        choose_model(driver, "sentiment")
        # the card names runs/conll/topic as the teacher: it is preselected
        wait(driver, lambda d: d.find_element(By.ID, "compare-select").get_attribute("value") == "topic",
             "the teacher preselected")
        assert texts(driver, "#compare-select option") == ["none", "topic"]
        driver.find_element(By.ID, "play-text").send_keys(text)
        driver.find_element(By.CSS_SELECTOR, "#classify-form button[type=submit]").click()
        columns = wait(driver, lambda d: (c := d.find_elements(By.CSS_SELECTOR, "#play-output .compare .answer"))
                       and len(c) == 2 and all(x.find_elements(By.CSS_SELECTOR, ".scores li") for x in c) and c,
                       "two answers")
        assert [c.find_element(By.TAG_NAME, "h3").text for c in columns] == ["sentiment", "topic"]
        for column, name in zip(columns, ("sentiment", "topic")):
            assert scores(driver, column) == [(s["label"], pytest.approx(s["score"], abs=5e-5)) for s in expected[name]]
            latency = column.find_element(By.CSS_SELECTOR, ".timing").text
            assert latency.startswith("round trip ") and " ms · queue " in latency and "batch size 1" in latency
        sent = [s for s in driver.execute_script("return window.sentBodies") if s["url"].endswith("v1/classify")]
        assert sorted(s["body"]["model"] for s in sent) == ["sentiment", "topic"]
        assert all(s["body"]["inputs"] == text for s in sent)
        first, second = (rect(driver, c) for c in columns)
        assert second["left"] >= first["right"] and second["top"] == first["top"]  # side by side

        driver.set_window_size(390, 844)
        wait(driver, lambda d: rect(d, columns[1])["top"] >= rect(d, columns[0])["bottom"], "stacked on a phone")

        Select(driver.find_element(By.ID, "compare-select")).select_by_value("")
        driver.find_element(By.CSS_SELECTOR, "#classify-form button[type=submit]").click()
        wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "#play-output .compare") and
             texts(d, "#play-output .scores li"), "one answer again")
        assert texts(driver, "#play-output .timing")[0].startswith("round trip ")

        choose_model(driver, "topic")  # no card, no teacher: none, with sentiment to choose
        wait(driver, lambda d: texts(d, "#compare-select option") == ["none", "sentiment"], "topic's choices")
        assert driver.find_element(By.ID, "compare-select").get_attribute("value") == ""


def test_script_logic_of_comparing(server, tmp_path):
    script = """
const done = arguments[arguments.length - 1];
const load = (name) => import(new URL("web/static/" + name, document.baseURI).href);
Promise.all([load("compare.js"), load("playground.js")]).then(([cmp, play]) => {
  const models = [
    {name: "s", form: "classify", pairs: false}, {name: "t", form: "classify", pairs: false},
    {name: "nli", form: "classify", pairs: true}, {name: "qa", form: "qa"}, {name: "qa2", form: "qa"},
    {name: "S-Teacher", form: "classify"}];
  const names = (list) => list.map((m) => m.name);
  const teacher = (model, card) => (cmp.teacherAmong(model, card, cmp.comparable(model, models)) || {}).name || null;
  done({
    forS: names(cmp.comparable(models[0], models)), forNli: names(cmp.comparable(models[2], models)),
    forQa: names(cmp.comparable(models[3], models)),
    byPath: teacher(models[0], {teacher: "runs/sst2/T/"}), exact: teacher(models[0], {teacher: "t"}),
    byEntry: teacher({...models[0], teacher: "hub/t"}, null), bySuffix: teacher(models[0], {teacher: "x"}),
    none: teacher(models[3], {teacher: "bert-base"}),
    full: cmp.latencyText({roundTripMs: 12.345, timing: {queueMs: "0.1", inferenceMs: "2.5", batchSize: "3"}}),
    bare: cmp.latencyText({roundTripMs: 4, timing: {queueMs: null}}),
    request: play.requestFor({name: "t", endpoint: "/v1/classify"}, {model: "s", inputs: "x", top_k: 1}),
  });
}).catch((e) => done({error: String(e)}));
"""
    with chromium(tmp_path / "profile") as driver:
        driver.get(server + "/")
        got = driver.execute_async_script(script)
    assert "error" not in got, got
    assert got["forS"] == ["t", "S-Teacher"] and got["forNli"] == [] and got["forQa"] == ["qa2"]
    assert (got["byPath"], got["exact"], got["byEntry"], got["bySuffix"], got["none"]) == ("t", "t", "t", "S-Teacher", None)
    assert got["full"] == "round trip 12.3 ms · queue 0.1 ms · inference 2.5 ms · batch size 3"
    assert got["bare"] == "round trip 4.0 ms"
    assert got["request"] == {"path": "v1/classify", "body": {"model": "t", "inputs": "x", "top_k": 1}}
