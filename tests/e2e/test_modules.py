"""The small front-end modules in Chromium, without a server (same routing as test_drawing):
keys and buttons for answers, and one answer per trial. (Notation is the server's: acuity.notation.)"""

import pytest

from tests.support.browser import ORIGIN, serve_from_disk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{ORIGIN}/**", serve_from_disk)
    page.goto(f"{ORIGIN}/")
    yield page
    context.close()


def test_keys_mean_symbols_of_the_set_only(page):
    keys = page.evaluate(
        """async () => {
            const a = await import('/static/js/answers.js');
            const key = (k, extra = {}) => ({key: k, ctrlKey: false, metaKey: false, altKey: false, ...extra});
            const sloan = ['C','D','H','K','N','O','R','S','V','Z'];
            const c8 = ['right','up-right','up','up-left','left','down-left','down','down-right'];
            const e4 = ['right','up','left','down'];
            return {
                letter: a.symbolForKey(key('k'), sloan), notInSet: a.symbolForKey(key('e'), sloan) ?? 'undefined',
                space: a.symbolForKey(key(' '), sloan), ctrl: a.symbolForKey(key('k', {ctrlKey: true}), sloan) ?? 'undefined',
                arrow: a.symbolForKey(key('ArrowUp'), e4), pageUp: a.symbolForKey(key('PageUp'), c8),
                numpad1: a.symbolForKey(key('1'), c8), diagonalInFour: a.symbolForKey(key('Home'), e4) ?? 'undefined',
                buttons: a.answerButtons(c8, () => {}).map(b => b.dataset?.answer ?? '-'),
            };
        }"""
    )
    assert keys["letter"] == "K" and keys["notInSet"] == "undefined"
    assert keys["space"] is None  # "not sure"
    assert keys["ctrl"] == "undefined"  # browser shortcuts are left alone
    assert keys["arrow"] == "up" and keys["pageUp"] == "up-right" and keys["numpad1"] == "down-left"
    assert keys["diagonalInFour"] == "undefined"
    # A compass for the 8-position Landolt C, the middle cell empty, then "not sure".
    assert keys["buttons"] == [
        "up-left",
        "up",
        "up-right",
        "left",
        "-",
        "right",
        "down-left",
        "down",
        "down-right",
        "not-sure",
    ]


def test_a_row_is_sent_once_with_every_symbol_and_undo_works(page):
    sent = page.evaluate(
        """async () => {
            const {AnswerCollector} = await import('/static/js/answers.js');
            const c = new AnswerCollector();
            const out = [];
            c.addEventListener('complete', (e) => out.push(e.detail));
            c.start({trial_id: 'right-2', seq: 7, count: 3});
            c.add('D'); c.add('K'); c.undo(); c.add('N'); c.add(null);
            c.add('S');  // after completion: ignored
            c.start({trial_id: 'right-2', seq: 7, count: 3});  // the same request again: no restart
            c.add('Z');
            return out;
        }"""
    )
    assert len(sent) == 1
    assert sent[0]["trial_id"] == "right-2" and sent[0]["seq"] == 7
    assert sent[0]["responses"] == ["D", "N", None]
    assert sent[0]["response_time_ms"] >= 0
