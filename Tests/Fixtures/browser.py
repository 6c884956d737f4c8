#!/usr/bin/python3
"""Drives Debian's headless Chromium through Matinee's web UI (selenium).

browser.py --url BASE --shots DIR --search WORD --title-ref REF

Walks the screens a person would, with the keyboard only where it says so,
saves a screenshot of each, and prints one JSON line of what it saw.
Exits non-zero with a message on stderr if a step cannot be done.
"""
import argparse
import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys


def wait(fn, timeout=30, what="condition"):
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            v = fn()
            if v:
                return v
        except Exception as e:  # element not there yet
            last = e
        time.sleep(0.2)
    raise SystemExit("timed out waiting for %s (%s)" % (what, last))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--shots", required=True)
    ap.add_argument("--search", required=True)
    ap.add_argument("--title-ref", required=True)
    a = ap.parse_args()

    o = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--disable-dev-shm-usage"]:
        o.add_argument(arg)
    o.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    seen = {}
    try:
        d.get(a.url)
        # Home: rows of posters.
        wait(lambda: d.find_elements(By.CSS_SELECTOR, "#rows .tile"), what="posters on the home page")
        seen["homeTiles"] = len(d.find_elements(By.CSS_SELECTOR, "#rows .tile"))
        seen["homePosterImages"] = len(d.find_elements(By.CSS_SELECTOR, "#rows .tile img"))
        seen["rows"] = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#rows .row h2")]
        d.save_screenshot(a.shots + "/1-home.png")

        # Search as you type.
        box = d.find_element(By.ID, "search")
        box.send_keys(a.search)
        wait(lambda: not d.find_element(By.ID, "results").get_attribute("hidden")
             and d.find_elements(By.CSS_SELECTOR, "#results .tile"), what="search results")
        seen["searchRefs"] = [e.get_attribute("data-ref") for e in d.find_elements(By.CSS_SELECTOR, "#results .tile")]
        d.save_screenshot(a.shots + "/2-search.png")

        # Keyboard only: from the search box, down to the first result,
        # Enter opens the title, Enter on the focused Play starts it.
        box.send_keys(Keys.ARROW_DOWN)
        wait(lambda: d.switch_to.active_element.get_attribute("data-ref") == a.title_ref, what="focus on the result")
        d.switch_to.active_element.send_keys(Keys.ENTER)
        wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="the title page")
        seen["titleName"] = d.find_element(By.CSS_SELECTOR, "#title .name").text
        seen["synopsisText"] = d.find_element(By.CSS_SELECTOR, "#title .synopsis").text
        seen["synopsisHasElements"] = len(d.find_elements(By.CSS_SELECTOR, "#title .synopsis *"))
        seen["focusOnPlay"] = "play" in (d.switch_to.active_element.get_attribute("class") or "")
        d.save_screenshot(a.shots + "/3-title.png")
        d.switch_to.active_element.send_keys(Keys.ENTER)

        # The player: the video plays.
        wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the player")
        video = d.find_element(By.CSS_SELECTOR, "#player video")
        start = time.time()
        t = wait(lambda: (lambda v: v if v >= 3 else None)(d.execute_script("return arguments[0].currentTime", video)),
                 timeout=60, what="the video to play 3 seconds")
        seen["currentTime"] = t
        seen["track"] = d.execute_script(
            "const t = arguments[0].querySelector('track');"
            "return t ? {ready: t.readyState, label: t.label, cues: t.track.cues ? Array.from(t.track.cues).map(c => c.text) : []} : null",
            video)
        wait(lambda: "peers" in d.find_element(By.CSS_SELECTOR, "#player .stats").text, what="the live overlay")
        seen["overlay"] = d.find_element(By.CSS_SELECTOR, "#player .stats").text
        seen["videoError"] = d.execute_script("return arguments[0].error && arguments[0].error.code", video)
        d.save_screenshot(a.shots + "/4-player.png")

        # Seek to the middle: it plays from there.
        duration = d.execute_script("return arguments[0].duration", video)
        d.execute_script("arguments[0].currentTime = arguments[0].duration / 2", video)
        mid = duration / 2
        seen["afterSeek"] = wait(lambda: (lambda v: v if v >= mid + 1 else None)(
            d.execute_script("return arguments[0].currentTime", video)), timeout=60, what="playing after the seek")
        seen["duration"] = duration

        # Esc goes back to the title page (saving where we stopped).
        seen["stoppedAt"] = d.execute_script("return arguments[0].currentTime", video)
        d.switch_to.active_element.send_keys(Keys.ESCAPE)
        wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="back to the title page")

        # After a reload, Continue watching shows the title and resumes it.
        d.refresh()
        wait(lambda: d.find_elements(By.CSS_SELECTOR, "#continue .tile"), what="the Continue watching row")
        seen["continueRefs"] = [e.get_attribute("data-ref") for e in d.find_elements(By.CSS_SELECTOR, "#continue .tile")]
        d.save_screenshot(a.shots + "/5-continue.png")
        wait(lambda: d.switch_to.active_element.get_attribute("data-ref") == a.title_ref, what="focus on Continue watching")
        d.switch_to.active_element.send_keys(Keys.ENTER)
        wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="the title page again")
        d.switch_to.active_element.send_keys(Keys.ENTER)
        wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the player again")
        video = d.find_element(By.CSS_SELECTOR, "#player video")
        seen["resumedAt"] = wait(lambda: (lambda v: v if v > 0 else None)(
            d.execute_script("return arguments[0].readyState >= 2 ? arguments[0].currentTime : 0", video)), what="the resumed video")
        # Errors so far (the channels page below provokes a 422 on purpose).
        seen["logs"] = [e["message"] for e in d.get_log("browser") if e.get("level") == "SEVERE"]

        # The channels page: state of each, a bad address refused, one removed.
        d.find_element(By.CSS_SELECTOR, "#player .back").click() if not d.find_element(By.ID, "player").get_attribute("hidden") else None
        d.find_element(By.ID, "nav-channels").click()
        wait(lambda: d.find_elements(By.CSS_SELECTOR, "#channels tbody tr"), what="the channels page")
        rows = lambda: [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in d.find_elements(By.CSS_SELECTOR, "#channels tbody tr")]
        seen["channels"] = [[r[0].split("\n")[0], r[3]] for r in rows()]
        d.find_element(By.ID, "channel-address").send_keys("not a channel")
        d.find_element(By.CSS_SELECTOR, "#add-channel button").click()
        wait(lambda: "not a channel address" in d.find_element(By.CSS_SELECTOR, "#channels .status").text, what="the refusal")
        seen["addRefusal"] = d.find_element(By.CSS_SELECTOR, "#channels .status").text
        d.save_screenshot(a.shots + "/6-channels.png")
        for tr in d.find_elements(By.CSS_SELECTOR, "#channels tbody tr"):
            if tr.find_elements(By.TAG_NAME, "td")[0].text.startswith("Open Films"):
                [b for b in tr.find_elements(By.TAG_NAME, "button") if b.text == "Remove"][0].click()
                break
        wait(lambda: not any(r[0].startswith("Open Films") for r in rows()), what="Open Films removed")
        seen["channelsAfterRemove"] = [r[0].split("\n")[0] for r in rows()]
    except SystemExit as e:
        d.save_screenshot(a.shots + "/failure.png")
        print(json.dumps(seen), flush=True)
        sys.stderr.write(str(e) + "\n")
        sys.exit(1)
    finally:
        d.quit()
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    main()
