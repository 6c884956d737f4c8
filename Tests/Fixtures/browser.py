#!/usr/bin/python3
"""Drives Debian's headless Chromium through Matinee's web UI (selenium).

browser.py --url BASE --shots DIR --search WORD --title-ref REF
           [--mkv-ref REF --mkv-search WORD] [--series-ref REF --series-search WORD]

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


def act(fn, what="an action"):
    """Does `fn` (find an element and act on it), again if the page redrew
    the element in between (a list that refreshes itself, a menu rebuilt),
    or if it could not be clicked yet (a page still being shown after a
    route change, something over it for a moment): for up to 10 s."""
    from selenium.common.exceptions import (ElementClickInterceptedException, ElementNotInteractableException,
                                            StaleElementReferenceException)
    last = None
    for _ in range(50):
        try:
            return fn()
        except (StaleElementReferenceException, ElementNotInteractableException, ElementClickInterceptedException) as e:
            last = e
            time.sleep(0.2)
    raise SystemExit("%s: the element kept being redrawn or could not be clicked (%s)" % (what, type(last).__name__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--shots", required=True)
    ap.add_argument("--search")
    ap.add_argument("--title-ref")
    ap.add_argument("--update", metavar="VERSION",
                    help="only this: a release is ready; read its banner and Settings' Updates part, install it from the banner, see VERSION come up")
    ap.add_argument("--mkv-ref", help="a title whose file the browser cannot play as it is (MKV, AC3)")
    ap.add_argument("--mkv-search")
    ap.add_argument("--series-ref", help="a series: the end of its first episode offers the next")
    ap.add_argument("--series-search")
    ap.add_argument("--audio-ref", help="a title with two sound tracks: the player offers both, and switches")
    ap.add_argument("--offline-ref", help="a title nobody reachable shares: Play shows its progress, then says offline")
    ap.add_argument("--library-pages", action="store_true", help="also Downloads (removing the MKV title's) and Settings")
    ap.add_argument("--wall-filters", action="store_true", help="also the wall's genre and year filters and sorts (the bundled films and --title-ref)")
    ap.add_argument("--keep-offline", metavar="SERIES_REF",
                    help="only this: Download --title-ref (a film) and season 1 of SERIES_REF for offline; watch them come in, title page and Downloads")
    ap.add_argument("--play-offline", action="store_true",
                    help="only this: with no network, Downloads lists what was kept; Play on the film plays it, and on an episode")
    ap.add_argument("--cast", metavar="REF",
                    help="only this: play REF, Cast to TV…, pick the one TV; the player becomes its remote; pause, play, stop casting")
    ap.add_argument("--sources", action="store_true",
                    help="only this: the work behind --title-ref is listed by several channels; pick the last one's copy and play it")
    a = ap.parse_args()

    o = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
                "--autoplay-policy=no-user-gesture-required", "--mute-audio", "--disable-dev-shm-usage"]:
        o.add_argument(arg)
    o.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    seen = {}
    try:
        if a.keep_offline or a.play_offline:
            (keep_offline if a.keep_offline else play_offline)(d, a, seen)
            print(json.dumps(seen), flush=True)
            return
        if a.sources:
            sources(d, a, seen)
            print(json.dumps(seen), flush=True)
            return
        if a.cast:
            cast(d, a, seen)
            print(json.dumps(seen), flush=True)
            return
        if a.update:
            update(d, a, seen)
            print(json.dumps(seen), flush=True)
            return
        if not (a.search and a.title_ref):
            raise SystemExit("--search and --title-ref are needed")
        d.get(a.url)
        # Home: rows of posters.
        wait(lambda: d.find_elements(By.CSS_SELECTOR, "#rows .tile"), what="posters on the home page")
        seen["homeTiles"] = len(d.find_elements(By.CSS_SELECTOR, "#rows .tile"))
        seen["homePosterImages"] = len(d.find_elements(By.CSS_SELECTOR, "#rows .tile img"))
        seen["rows"] = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#rows .row h2")]
        # Posters that arrived and decoded, by row (the bundled channel's ship with the app).
        wait(lambda: d.execute_script(
            "return [...document.querySelectorAll('#rows .tile img')].every(i => i.complete)"), what="posters loaded")
        seen["postersShown"] = d.execute_script("""
            const out = {};
            for (const r of document.querySelectorAll('#rows .row')) {
              const name = r.querySelector('h2').firstChild.textContent.trim();
              out[name] = [...r.querySelectorAll('.tile img')].filter(i => i.naturalWidth > 0).length;
            }
            return out;""")
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
        seen["swarm"] = wait(lambda: (lambda t: t if t and "looking" not in t else None)(
            d.find_element(By.CSS_SELECTOR, "#title .swarm").text), timeout=40, what="the swarm line")
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
        wait(lambda: " peer" in d.find_element(By.CSS_SELECTOR, "#player .stats").text, what="the live overlay")
        seen["overlay"] = d.find_element(By.CSS_SELECTOR, "#player .stats").text
        seen["videoError"] = d.execute_script("return arguments[0].error && arguments[0].error.code", video)
        d.save_screenshot(a.shots + "/4-player.png")
        # A file the browser plays as it is: its own controls and clock, not a second one.
        seen["directControls"] = [d.execute_script("return arguments[0].controls", video),
                                  d.find_element(By.CSS_SELECTOR, "#player .controls").is_displayed()]
        # Keys people know: m mutes, c hides the subtitles, i the overlay, space pauses.
        body = d.find_element(By.TAG_NAME, "body")
        d.execute_script("document.activeElement.blur()")
        keys = {}
        body.send_keys("m")
        keys["muted"] = d.execute_script("return arguments[0].muted", video)
        body.send_keys("m")
        keys["unmuted"] = not d.execute_script("return arguments[0].muted", video)
        body.send_keys("c")
        keys["subtitlesOff"] = d.execute_script("return arguments[0].textTracks[0].mode", video) != "showing"
        body.send_keys("c")
        keys["subtitlesOn"] = d.execute_script("return arguments[0].textTracks[0].mode", video) == "showing"
        body.send_keys("i")
        keys["overlayHidden"] = not d.find_element(By.CSS_SELECTOR, "#player .overlay").is_displayed()
        body.send_keys("i")
        keys["overlayBack"] = d.find_element(By.CSS_SELECTOR, "#player .overlay").is_displayed()
        body.send_keys(Keys.SPACE)
        keys["paused"] = wait(lambda: d.execute_script("return arguments[0].paused", video) or None, what="space to pause")
        body.send_keys(Keys.SPACE)
        keys["playing"] = wait(lambda: (not d.execute_script("return arguments[0].paused", video)) or None, what="space to play")
        seen["keys"] = keys
        # Subtitles: larger, and 0.3 s later with h (0.1 s each), then 0.1 s earlier with the button.
        d.find_element(By.CSS_SELECTOR, "#player .sub-larger").click()
        d.execute_script("document.activeElement.blur()")
        for _ in range(3):
            body.send_keys("h")
        d.find_element(By.CSS_SELECTOR, "#player .sub-earlier").click()
        seen["subtitleTools"] = d.execute_script(
            "const c = arguments[0].textTracks[0].cues;"
            "return {size: document.querySelector('#player .sub-size').textContent,"
            " style: arguments[0].dataset.cueSize + ' ' + [...document.styleSheets].flatMap(x => [...x.cssRules]).map(r => r.cssText).filter(t => t.includes('data-cue-size=\"' + arguments[0].dataset.cueSize + '\"')).join(' '),"
            " offset: document.querySelector('#player .sub-offset').textContent,"
            " firstCue: c && c.length ? Math.round(c[0].startTime * 1000) : null}", video)
        d.save_screenshot(a.shots + "/4b-subtitles.png")
        d.find_element(By.CSS_SELECTOR, "#player .sub-smaller").click()

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

        # Every page has an address: a reload keeps the title page; the
        # browser's Back goes to the search results it came from, Forward
        # to the title again.
        seen["titleAddress"] = d.execute_script("return location.hash")
        d.refresh()
        wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden")
             and d.find_element(By.CSS_SELECTOR, "#title .name").text, what="the title page after a reload")
        seen["reloadedTitle"] = d.find_element(By.CSS_SELECTOR, "#title .name").text
        d.back()
        wait(lambda: not d.find_element(By.ID, "home").get_attribute("hidden")
             and not d.find_element(By.ID, "results").get_attribute("hidden"), what="Back to the search results")
        seen["backTo"] = [d.execute_script("return location.hash"), d.find_element(By.ID, "search").get_attribute("value")]
        d.forward()
        wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="Forward to the title page")
        seen["forwardTo"] = d.execute_script("return location.hash")

        # Esc goes back up; Continue watching shows the title and resumes it.
        d.switch_to.active_element.send_keys(Keys.ESCAPE)
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
        if a.offline_ref:
            offline_start(d, a, seen)
        if a.wall_filters:
            wall_filters(d, a, seen)

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
                seen["removeConfirm"] = d.switch_to.alert.text
                d.switch_to.alert.accept()
                break
        wait(lambda: not any(r[0].startswith("Open Films") for r in rows()), what="Open Films removed")
        seen["channelsAfterRemove"] = [r[0].split("\n")[0] for r in rows()]

        navigation(d, a, seen)
        if a.mkv_ref:
            converted(d, a, seen)
        if a.audio_ref:
            audio_tracks(d, a, seen)
        if a.series_ref:
            next_episode(d, a, seen)
        if a.library_pages:
            library_pages(d, a, seen)
        phone(d, a, seen)
    except SystemExit as e:
        d.save_screenshot(a.shots + "/failure.png")
        print(json.dumps(seen), flush=True)
        sys.stderr.write(str(e) + "\n")
        sys.exit(1)
    finally:
        d.quit()
    print(json.dumps(seen), flush=True)


def offline_start(d, a, seen):
    """Play on a title nobody reachable shares: what the engine finds shows
    while it looks, with a Cancel; then "offline", and Downloads has no
    ghost of it."""
    d.execute_script("location.hash = arguments[0]", "#/title/" + a.offline_ref)
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden")
         and d.find_element(By.CSS_SELECTOR, "#title .name").text, what="the offline title's page")
    d.find_element(By.CSS_SELECTOR, "#title .play").click()
    status = lambda: d.find_element(By.CSS_SELECTOR, "#title .status").text
    seen["offlineProgress"] = wait(lambda: status() if "Looking for peers" in status() else None, timeout=40,
                                   what="the start's progress")
    seen["offlineCancelShown"] = d.find_element(By.CSS_SELECTOR, "#title .cancel").is_displayed()
    d.save_screenshot(a.shots + "/5b-looking.png")
    seen["offlineMessage"] = wait(lambda: status() if "offline" in status() else None, timeout=60, what="the offline message")
    seen["offlineCancelAfter"] = d.find_element(By.CSS_SELECTOR, "#title .cancel").is_displayed()
    d.save_screenshot(a.shots + "/5c-offline.png")
    d.find_element(By.ID, "nav-downloads").click()
    wait(lambda: not d.find_element(By.ID, "downloads").get_attribute("hidden"), what="the downloads page")
    time.sleep(0.5)
    seen["offlineDownloads"] = [tr.get_attribute("data-infohash") for tr in d.find_elements(By.CSS_SELECTOR, "#downloads tbody tr")]


def navigation(d, a, seen):
    """Esc never throws away typed text; search works from any page and
    Back returns to that page; the player has an address a reload keeps."""
    d.find_element(By.ID, "nav-settings").click()
    form = wait(lambda: (lambda f: f if f.find_element(By.NAME, "downloadDir").get_attribute("value") else None)(
        d.find_element(By.ID, "settings-form")), what="the settings")
    box = form.find_element(By.NAME, "uploadLimitKiB")
    before = box.get_attribute("value")
    box.clear()
    box.send_keys("777")
    box.send_keys(Keys.ESCAPE)  # leaves the field only
    d.switch_to.active_element.send_keys(Keys.ESCAPE)  # warns: unsaved changes
    seen["escapeKeepsSettings"] = [not d.find_element(By.ID, "settings").get_attribute("hidden"), box.get_attribute("value"),
                                   d.find_element(By.CSS_SELECTOR, "#settings .status").text]
    d.save_screenshot(a.shots + "/6b-unsaved.png")
    d.switch_to.active_element.send_keys(Keys.ESCAPE)  # leaves without them
    wait(lambda: d.find_element(By.ID, "settings").get_attribute("hidden"), what="Settings left on the second Esc")
    d.find_element(By.ID, "nav-settings").click()
    wait(lambda: d.find_element(By.NAME, "uploadLimitKiB").get_attribute("value") == before, what="the unsaved change gone")

    # Refusals, each beside its field: an empty number is not sent at all;
    # then the daemon refuses a system folder and a port below 1024.
    form = d.find_element(By.ID, "settings-form")
    errors = lambda: {e.find_element(By.XPATH, "..").find_element(By.TAG_NAME, "input").get_attribute("name"): e.text
                      for e in form.find_elements(By.CSS_SELECTOR, ".field-error")}
    saved_port = form.find_element(By.NAME, "peerPort").get_attribute("value")
    form.find_element(By.NAME, "uploadLimitKiB").clear()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(lambda: errors(), what="the empty field refused")
    seen["settingsEmptyNumber"] = [errors(), d.find_element(By.CSS_SELECTOR, "#settings .status").text]
    form.find_element(By.NAME, "uploadLimitKiB").send_keys(before)
    # How peers are reached in this run (issue 14), said before any change.
    seen["networkState"] = wait(lambda: d.find_element(By.ID, "network-state").text, what="the network line")
    for name, value in [("peerPort", "80"), ("downloadDir", "/etc"), ("proxy", "http://127.0.0.1:3128")]:
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(lambda: len(errors()) == 3, what="the folder, the port and the proxy refused beside them")
    seen["settingsRefused"] = errors()
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", form.find_element(By.NAME, "proxy"))
    d.save_screenshot(a.shots + "/6e-settings-proxy-refused.png")
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", form.find_element(By.NAME, "peerPort"))
    d.save_screenshot(a.shots + "/6c-settings-refused.png")
    d.find_element(By.ID, "nav-home").click()
    d.find_element(By.ID, "nav-settings").click()
    wait(lambda: d.find_element(By.NAME, "peerPort").get_attribute("value") == saved_port
         and d.find_element(By.NAME, "downloadDir").get_attribute("value") != "/etc", what="nothing saved")
    seen["settingsAfterRefusal"] = d.find_element(By.NAME, "peerPort").get_attribute("value")

    d.find_element(By.ID, "nav-channels").click()
    wait(lambda: not d.find_element(By.ID, "channels").get_attribute("hidden"), what="the channels page")
    box = d.find_element(By.ID, "channel-address")
    box.clear()
    box.send_keys("magnet:?xs=half-typed")
    box.send_keys(Keys.ESCAPE)
    seen["escapeKeepsAddress"] = [not d.find_element(By.ID, "channels").get_attribute("hidden"), box.get_attribute("value")]
    box.clear()

    # Typing a search on the channels page shows the results; Back returns.
    search = d.find_element(By.ID, "search")
    search.clear()
    search.send_keys(a.search)
    wait(lambda: d.execute_script("return location.hash").startswith("#/search/")
         and not d.find_element(By.ID, "home").get_attribute("hidden")
         and d.find_elements(By.CSS_SELECTOR, "#results .tile"), what="results of a search typed on the channels page")
    seen["searchFromChannels"] = [d.execute_script("return location.hash"),
                                  [t.get_attribute("data-ref") for t in d.find_elements(By.CSS_SELECTOR, "#results .tile")]]
    d.back()
    wait(lambda: not d.find_element(By.ID, "channels").get_attribute("hidden"), what="Back to the channels page")
    seen["backToChannels"] = d.execute_script("return location.hash")
    search.clear()

    # The player's address: a reload plays the same title again, from
    # where a seek just before it left off (saved on seek and page close).
    d.execute_script("location.hash = arguments[0]", "#/play/" + a.title_ref)
    wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the player from its address")
    video = d.find_element(By.CSS_SELECTOR, "#player video")
    wait(lambda: d.execute_script("return arguments[0].readyState >= 2 && arguments[0].duration > 0", video), timeout=60,
         what="the video to load")
    # Back to 3 s, before where it was left (past the middle): only a save
    # on the seek or on the page's close brings the reload back there.
    d.execute_script("arguments[0].currentTime = 3", video)
    time.sleep(0.3)
    d.refresh()
    wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the player after a reload")
    video = d.find_element(By.CSS_SELECTOR, "#player video")
    resumed = wait(lambda: (lambda v: v if v > 0 else None)(d.execute_script(
        "return arguments[0].readyState >= 2 ? arguments[0].currentTime : 0", video)), timeout=60,
        what="the video playing after a reload")
    seen["playerReloaded"] = [d.execute_script("return location.hash"), resumed > 0]
    seen["playerResumedAt"] = resumed
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="up from the reloaded player")
    seen["upFromPlayer"] = d.execute_script("return location.hash")

    # My list, and watched by hand.
    d.find_element(By.CSS_SELECTOR, "#title .mylist").click()
    wait(lambda: d.find_element(By.CSS_SELECTOR, "#title .mylist").get_attribute("aria-pressed") == "true", what="on my list")
    d.find_element(By.CSS_SELECTOR, "#title .mark-watched").click()
    wait(lambda: d.find_element(By.CSS_SELECTOR, "#title .mark-watched").text == "Mark as unwatched", what="marked watched")
    d.find_element(By.ID, "nav-home").click()
    wait(lambda: d.find_elements(By.CSS_SELECTOR, "#mylist .tile"), what="the My list row")
    seen["myList"] = [t.get_attribute("data-ref") for t in d.find_elements(By.CSS_SELECTOR, "#mylist .tile")]
    seen["continueAfterWatched"] = [t.get_attribute("data-ref") for t in d.find_elements(By.CSS_SELECTOR, "#continue .tile")]
    seen["watchedBadge"] = [t.text for t in d.find_elements(By.CSS_SELECTOR, "#mylist .tile .badge")]
    d.save_screenshot(a.shots + "/6d-my-list.png")


def open_by_search(d, words, ref):
    d.find_element(By.ID, "nav-home").click()
    box = d.find_element(By.ID, "search")
    box.clear()
    box.send_keys(words)
    tile = wait(lambda: [t for t in d.find_elements(By.CSS_SELECTOR, "#results .tile") if t.get_attribute("data-ref") == ref],
                what="%s in the search results" % ref)[0]
    tile.click()
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="the title page of %s" % ref)


def clock(d):
    """The player's own clock, in film time: "0:11 / 0:20" -> (11, 20)."""
    text = d.find_element(By.CSS_SELECTOR, "#player .clock").text
    def secs(x):
        n = 0
        for f in x.strip().split(":"):
            n = n * 60 + int(f)
        return n
    if "/" not in text:
        return (0, 0)
    a, b = text.split("/")
    return (secs(a), secs(b))


def audio_tracks(d, a, seen):
    """A file with two sound tracks: the player names both by language,
    the file's default first, and the other one plays when picked."""
    d.execute_script("location.hash = arguments[0]", "#/play/" + a.audio_ref)
    wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the two-track film")
    label = wait(lambda: (lambda l: l if l.is_displayed() else None)(d.find_element(By.CSS_SELECTOR, "#player .audio-label")),
                 timeout=30, what="the sound menu")
    select = label.find_element(By.TAG_NAME, "select")
    seen["audioOptions"] = [o.text for o in select.find_elements(By.TAG_NAME, "option")]
    seen["audioSelected"] = select.get_attribute("value")
    video = d.find_element(By.CSS_SELECTOR, "#player video")
    seen["audioDirectFirst"] = "/stream/" in d.execute_script("return arguments[0].currentSrc", video)
    other = [o.get_attribute("value") for o in select.find_elements(By.TAG_NAME, "option")][1]
    d.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", select, other)
    wait(lambda: ("audio=%s" % other) in d.execute_script("return arguments[0].currentSrc", video), what="the other track's stream")
    seen["audioAfter"] = wait(lambda: (lambda v: v if v > 1 else None)(d.execute_script(
        "return arguments[0].currentTime", video)), timeout=60, what="the film playing with the other track")
    seen["audioDecoded"] = d.execute_script("return arguments[0].webkitAudioDecodedByteCount", video)
    d.save_screenshot(a.shots + "/7b-sound-menu.png")
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="back from the two-track film")


def converted(d, a, seen):
    """A file the browser cannot play as it is plays converted, with sound,
    and seeking in it plays from there."""
    open_by_search(d, a.mkv_search, a.mkv_ref)
    d.find_element(By.CSS_SELECTOR, "#title .play").click()
    wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the player (MKV)")
    video = d.find_element(By.CSS_SELECTOR, "#player video")
    seen["mkvTime"] = wait(lambda: (lambda v: v if v >= 3 else None)(d.execute_script("return arguments[0].currentTime", video)),
                           timeout=90, what="the MKV to play 3 seconds")
    seen["mkvHow"] = d.find_element(By.CSS_SELECTOR, "#player .how").text
    seen["mkvNativeControls"] = d.execute_script("return arguments[0].controls", video)
    seen["mkvOwnControls"] = d.find_element(By.CSS_SELECTOR, "#player .controls").is_displayed() and \
        d.find_element(By.CSS_SELECTOR, "#player .toggle-play").is_displayed()
    seen["mkvSrc"] = d.execute_script("return arguments[0].currentSrc", video)
    seen["mkvDecoded"] = d.execute_script(
        "return {audio: arguments[0].webkitAudioDecodedByteCount, video: arguments[0].webkitVideoDecodedByteCount}", video)
    seen["mkvTimelineShown"] = d.find_element(By.CSS_SELECTOR, "#player .timeline").is_displayed()
    d.save_screenshot(a.shots + "/7-converted.png")
    # Seek with the player's own timeline to the middle.
    total = clock(d)[1]
    seen["mkvDuration"] = total
    d.execute_script("const t = document.querySelector('#player .timeline'); t.value = String(Math.floor(arguments[0] / 2));"
                     "t.dispatchEvent(new Event('change'))", total)
    seen["mkvAfterSeek"] = wait(lambda: (lambda c: c[0] if c[0] >= total // 2 + 2 else None)(clock(d)),
                                timeout=90, what="the MKV playing after the seek")
    seen["mkvError"] = d.execute_script("return arguments[0].error && arguments[0].error.code", video)
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="back from the MKV")


def next_episode(d, a, seen):
    """At the end of an episode the next one is offered, and Enter plays it;
    the one watched is marked."""
    open_by_search(d, a.series_search, a.series_ref)
    d.find_elements(By.CSS_SELECTOR, "#title .episodes button.ep")[0].click()
    wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the first episode")
    video = d.find_element(By.CSS_SELECTOR, "#player video")
    wait(lambda: d.execute_script("return arguments[0].readyState >= 2 && arguments[0].duration > 0", video), timeout=90,
         what="the first episode to load")
    seen["firstLabel"] = d.find_element(By.CSS_SELECTOR, "#player .label").text
    label = lambda: d.find_element(By.CSS_SELECTOR, "#player .label").text
    d.execute_script("arguments[0].currentTime = arguments[0].duration - 1.5", video)
    nxt = wait(lambda: (lambda b: b if b.is_displayed() else None)(d.find_element(By.CSS_SELECTOR, "#player .next")),
               timeout=60, what="the next episode offered")
    seen["nextOffered"] = nxt.text
    seen["nextFocused"] = d.switch_to.active_element.get_attribute("class") == nxt.get_attribute("class")
    seen["countdown"] = d.find_element(By.CSS_SELECTOR, "#player .countdown").text
    d.save_screenshot(a.shots + "/8-next-episode.png")
    # Nobody presses anything: the countdown plays the next one.
    wait(lambda: label() != seen["firstLabel"], timeout=30, what="the next episode to start by itself")
    seen["secondLabel"] = label()
    wait(lambda: d.execute_script("return arguments[0].readyState >= 2 && arguments[0].duration > 0 && arguments[0].currentTime > 1",
                                  video), timeout=90, what="the next episode to play")
    # Its end: Cancel holds the next one back.
    d.execute_script("arguments[0].currentTime = arguments[0].duration - 1.5", video)
    wait(lambda: d.find_element(By.CSS_SELECTOR, "#player .next-cancel").is_displayed() or None, timeout=60,
         what="the countdown after the second episode")
    d.find_element(By.CSS_SELECTOR, "#player .next-cancel").click()
    time.sleep(10)  # longer than the countdown
    seen["cancelHeld"] = [label(), d.find_element(By.CSS_SELECTOR, "#player .countdown").text]
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="back from the series")
    seen["episodeButtons"] = [b.text for b in d.find_elements(By.CSS_SELECTOR, "#title .episodes button.ep")]
    # Play on the series: the first episode not finished.
    d.find_element(By.CSS_SELECTOR, "#title .play").click()
    wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden") and "S02E01" in label(), timeout=90,
         what="Play to start the next unwatched episode")
    seen["resumedEpisode"] = label()
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="back from the episode after them")
    # Remove from Continue watching, from the title page.
    d.find_element(By.ID, "nav-home").click()
    time.sleep(0.5)  # the wall is drawn again
    tiles = "return [...document.querySelectorAll('#continue .tile .caption')].map(t => t.textContent)"
    seen["continueSeries"] = wait(lambda: d.execute_script(tiles) or None, what="Continue watching")
    d.execute_script("location.hash = arguments[0]", "#/title/" + a.series_ref)
    wait(lambda: d.find_element(By.CSS_SELECTOR, "#title .hide-continue").is_displayed() or None, what="Remove from Continue watching")
    d.find_element(By.CSS_SELECTOR, "#title .hide-continue").click()
    wait(lambda: not d.find_element(By.CSS_SELECTOR, "#title .hide-continue").is_displayed() or None, what="the title removed")
    d.find_element(By.ID, "nav-home").click()
    time.sleep(0.5)
    wait(lambda: d.find_elements(By.CSS_SELECTOR, "#rows .row"), what="the wall")
    seen["continueAfterRemove"] = d.execute_script(
        "return [...document.querySelectorAll('#continue .tile')].map(t => t.dataset.ref)")


def library_pages(d, a, seen):
    """Downloads lists what was played; one is removed with its files.
    Settings are changed, saved, and read back."""
    d.find_element(By.ID, "nav-downloads").click()
    wait(lambda: d.find_elements(By.CSS_SELECTOR, "#downloads tbody tr"), what="the downloads")
    names = lambda: [tr.find_elements(By.TAG_NAME, "td")[0].text.split("\n")[0] for tr in d.find_elements(By.CSS_SELECTOR, "#downloads tbody tr")]
    seen["downloads"] = names()
    seen["downloadsSummary"] = d.find_element(By.CSS_SELECTOR, "#downloads .summary").text
    # The keyboard walks the page: down from the first button reaches the next.
    d.find_element(By.CSS_SELECTOR, "#downloads tbody button").send_keys(Keys.ARROW_DOWN)
    seen["downloadsArrowDown"] = d.switch_to.active_element.text
    d.save_screenshot(a.shots + "/10-downloads.png")
    for tr in d.find_elements(By.CSS_SELECTOR, "#downloads tbody tr"):
        if tr.find_elements(By.TAG_NAME, "td")[0].text.startswith("Signal Test"):
            [b for b in tr.find_elements(By.TAG_NAME, "button") if b.text == "Remove and delete files"][0].click()
            d.switch_to.alert.accept()
            break
    wait(lambda: not any(n.startswith("Signal Test") for n in names()), what="the download removed")
    seen["downloadsAfterRemove"] = names()
    seen["removeMessage"] = d.find_element(By.CSS_SELECTOR, "#downloads .status").text

    d.find_element(By.ID, "nav-settings").click()
    form = wait(lambda: (lambda f: f if f.find_element(By.NAME, "downloadDir").get_attribute("value") else None)(
        d.find_element(By.ID, "settings-form")), what="the settings")
    seen["settingsBefore"] = {n: form.find_element(By.NAME, n).get_attribute("value") for n in ["uploadLimitKiB", "seedRatio", "cacheLimitGiB"]}
    for name, value in [("uploadLimitKiB", "321"), ("cacheLimitGiB", "5")]:
        box = form.find_element(By.NAME, name)
        box.clear()
        box.send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(lambda: "Settings saved" in d.find_element(By.CSS_SELECTOR, "#settings .status").text, what="the settings saved")
    d.save_screenshot(a.shots + "/11-settings.png")
    # A bad value is refused with a line, and nothing is saved.
    box = form.find_element(By.NAME, "downloadDir")
    box.clear()
    box.send_keys("relative/path")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(lambda: "absolute" in d.find_element(By.CSS_SELECTOR, "#settings .status").text, what="the bad folder refused")
    seen["settingsRefusal"] = d.find_element(By.CSS_SELECTOR, "#settings .status").text
    d.find_element(By.ID, "nav-home").click()
    d.find_element(By.ID, "nav-settings").click()
    wait(lambda: d.find_element(By.NAME, "uploadLimitKiB").get_attribute("value") == "321", what="the saved upload cap read back")
    seen["settingsAfter"] = {n: d.find_element(By.NAME, n).get_attribute("value") for n in ["uploadLimitKiB", "cacheLimitGiB", "downloadDir"]}
    # Settings has an address: a reload shows it again, with what was saved.
    d.refresh()
    wait(lambda: not d.find_element(By.ID, "settings").get_attribute("hidden")
         and d.find_element(By.NAME, "uploadLimitKiB").get_attribute("value") == "321", what="Settings after a reload")
    seen["settingsReloaded"] = [d.execute_script("return location.hash"), d.find_element(By.NAME, "uploadLimitKiB").get_attribute("value")]


def cast(d, a, seen):
    """Cast to TV from the player: the renderers listed, one picked, the
    local video paused and the player a remote; Stop casting plays here
    again from where the TV was."""
    d.get(a.url + "#/play/" + a.cast)
    video = lambda: d.find_element(By.CSS_SELECTOR, "#player video")
    wait(lambda: d.execute_script("return arguments[0].currentTime", video()) > 1, timeout=60, what="the film playing here")
    d.find_element(By.CSS_SELECTOR, "#player .cast-open").click()
    seen["renderers"] = [b.text for b in wait(lambda: d.find_elements(By.CSS_SELECTOR, "#player .cast-to .cast-name"), what="the TVs")]
    d.execute_script("document.querySelector('#player .cast-menu').scrollIntoView({block: 'center'})")
    d.save_screenshot(a.shots + "/cast-1-menu.png")
    act(lambda: d.find_elements(By.CSS_SELECTOR, "#player .cast-to")[0].click(), "a TV")
    state = lambda: d.find_element(By.CSS_SELECTOR, "#player .remote-state").text
    seen["remote"] = [wait(lambda: d.find_element(By.CSS_SELECTOR, "#player .remote-what").text, what="the remote"),
                      wait(lambda: (lambda t: t if t.startswith("playing") and not t.startswith("playing · 0:00") else None)(state()),
                           timeout=30, what="the TV playing")]
    seen["pausedHere"] = d.execute_script("return arguments[0].paused", video())
    d.execute_script("document.querySelector('#player .remote').scrollIntoView({block: 'center'})")
    d.save_screenshot(a.shots + "/cast-2-remote.png")
    d.find_element(By.CSS_SELECTOR, "#player .remote-toggle").click()
    seen["pausedOnTV"] = wait(lambda: (lambda t: t if t.startswith("paused") else None)(state()), what="paused on the TV")
    d.find_element(By.CSS_SELECTOR, "#player .remote-toggle").click()
    wait(lambda: state().startswith("playing"), what="playing again on the TV")
    d.find_element(By.CSS_SELECTOR, "#player .remote-stop").click()
    wait(lambda: d.find_element(By.CSS_SELECTOR, "#player .remote").get_attribute("hidden"), what="the remote gone")
    seen["playingHereAgain"] = wait(lambda: not d.execute_script("return arguments[0].paused", video()), what="the film playing here again")


def update(d, a, seen):
    """The "ready" banner with its notes; Settings' About and last check;
    the banner's button installs, and the page reloads from the new version."""
    d.get(a.url)
    banner = wait(lambda: (lambda b: b if b.is_displayed() else None)(d.find_element(By.ID, "update-banner")), what="the update banner")
    seen["banner"] = banner.find_element(By.CSS_SELECTOR, ".text").text
    banner.find_element(By.CSS_SELECTOR, ".notes-toggle").click()
    seen["notes"] = wait(lambda: banner.find_element(By.CSS_SELECTOR, ".notes").text, what="the release notes")
    d.save_screenshot(a.shots + "/12-update-ready.png")
    d.find_element(By.ID, "nav-settings").click()
    seen["aboutBefore"] = wait(lambda: d.find_element(By.ID, "about").text, what="the About line")
    seen["updateState"] = d.find_element(By.ID, "update-state").text
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", d.find_element(By.ID, "about"))
    d.save_screenshot(a.shots + "/13-settings-updates.png")
    d.execute_script("window.scrollTo(0, 0)")  # the banner, below the header again
    banner.find_element(By.CSS_SELECTOR, ".apply").click()
    # The daemon restarts into the new version; the page loads again from it.
    about = lambda: d.find_element(By.ID, "about").get_attribute("textContent")
    wait(lambda: ("Matinee %s " % a.update) in about(), timeout=150, what="the page on the new version")
    seen["aboutAfter"] = about()
    seen["bannerAfter"] = d.find_element(By.ID, "update-banner").is_displayed()
    d.find_element(By.ID, "nav-settings").click()
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", d.find_element(By.ID, "about"))
    d.save_screenshot(a.shots + "/14-updated.png")


def sources(d, a, seen):
    d.get(a.url)
    box = wait(lambda: d.find_element(By.ID, "search"), what="the search box")
    box.send_keys(a.search)
    wait(lambda: a.search in d.find_element(By.CSS_SELECTOR, "#results h2").text, what="results for the whole word")
    tile = wait(lambda: d.find_elements(By.CSS_SELECTOR, "#results .tile"), what="search results")[0]
    seen["results"] = len(d.find_elements(By.CSS_SELECTOR, "#results .tile"))
    seen["resultNames"] = [t.text for t in d.find_elements(By.CSS_SELECTOR, "#results .tile")]
    tile.click()
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="the title page")
    label = d.find_element(By.CSS_SELECTOR, "#title .source-label")
    seen["sourceShown"] = label.is_displayed()
    select = d.find_element(By.CSS_SELECTOR, "#title .source")
    seen["sources"] = [o.text for o in select.find_elements(By.TAG_NAME, "option")]
    seen["firstMeta"] = d.find_element(By.CSS_SELECTOR, "#title .meta").text
    d.save_screenshot(a.shots + "/1-sources.png")
    # The keyboard picks the other channel's copy (a list: arrows change it).
    select.send_keys(Keys.ARROW_DOWN)
    wait(lambda: d.find_element(By.CSS_SELECTOR, "#title .meta").text != seen["firstMeta"], what="the other channel's copy")
    seen["secondMeta"] = d.find_element(By.CSS_SELECTOR, "#title .meta").text
    seen["sourcesAfter"] = [o.text for o in d.find_elements(By.CSS_SELECTOR, "#title .source option")]
    d.find_element(By.CSS_SELECTOR, "#title .play").click()
    wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=90, what="the player")
    video = d.find_element(By.CSS_SELECTOR, "#player video")
    seen["currentTime"] = wait(lambda: (lambda v: v if v >= 2 else None)(d.execute_script("return arguments[0].currentTime", video)),
                               timeout=90, what="the other copy to play")
    seen["label"] = d.find_element(By.CSS_SELECTOR, "#player .label").text
    d.save_screenshot(a.shots + "/2-sources-playing.png")


def wall_filters(d, a, seen):
    """The wall's genre and year filters and its sorts: a grid in place of
    the rows, with an address that survives a reload."""
    from selenium.webdriver.support.ui import Select
    d.find_element(By.CSS_SELECTOR, "#player .back").click() if not d.find_element(By.ID, "player").get_attribute("hidden") else None
    d.find_element(By.ID, "nav-home").click()
    wait(lambda: d.find_elements(By.CSS_SELECTOR, "#rows .tile"), what="the wall")
    wait(lambda: len(d.find_elements(By.CSS_SELECTOR, "#wall-filter select[name=genre] option")) > 1, what="the genre menu")
    grid = lambda: d.execute_script(
        "const b = document.getElementById('browse');"
        "return b.hidden ? null : [b.querySelector('h2').textContent, [...b.querySelectorAll('.tile')].map(t => t.dataset.ref)]")
    act(lambda: Select(d.find_element(By.CSS_SELECTOR, "#wall-filter select[name=genre]")).select_by_value("Animation"), "the genre menu")
    seen["browseGenre"] = wait(lambda: (lambda g: g if g and g[1] else None)(grid()), what="the genre's titles")
    act(lambda: Select(d.find_element(By.CSS_SELECTOR, "#wall-filter select[name=sort]")).select_by_value("title"), "the sort menu")
    seen["browseByTitle"] = wait(lambda: (lambda g: g if g and "by title" in g[0] else None)(grid()), what="sorted by title")
    act(lambda: Select(d.find_element(By.CSS_SELECTOR, "#wall-filter select[name=sort]")).select_by_value("year"), "the sort menu")
    seen["browseByYear"] = wait(lambda: (lambda g: g if g and "newest first" in g[0] else None)(grid()), what="sorted by year")
    act(lambda: Select(d.find_element(By.CSS_SELECTOR, "#wall-filter select[name=year]")).select_by_value("2010"), "the year menu")
    seen["browseYear"] = wait(lambda: (lambda g: g if g and "2010" in g[0] else None)(grid()), what="one year")
    d.save_screenshot(a.shots + "/5b-browse.png")
    seen["browseAddress"] = d.execute_script("return location.hash")
    d.refresh()
    seen["browseReloaded"] = wait(lambda: (lambda g: g if g and g[1] else None)(grid()), what="the grid after a reload")
    seen["browseMenusReloaded"] = d.execute_script(
        "const f = document.getElementById('wall-filter').elements; return [f.genre.value, f.year.value, f.sort.value]")
    d.find_element(By.ID, "nav-home").click()
    wait(lambda: grid() is None and d.find_elements(By.CSS_SELECTOR, "#rows .tile")[0].is_displayed(), what="the rows again")
    seen["browseCleared"] = d.execute_script(
        "const f = document.getElementById('wall-filter').elements; return [f.genre.value, f.year.value, f.sort.value]")


def keep_offline(d, a, seen):
    """Download for offline: a film from its title page, a season of a
    series; progress on the title page and in Downloads until all is ready."""
    d.get(a.url + "#/title/" + a.title_ref)
    button = wait(lambda: (lambda b: b if b.is_displayed() else None)(d.find_element(By.CSS_SELECTOR, "#title .download")),
                  what="the film's Download button")
    seen["filmButton"] = button.text
    button.click()
    seen["filmMessage"] = wait(lambda: d.find_element(By.CSS_SELECTOR, "#title .status").text, what="the download's message")
    seen["filmDone"] = wait(lambda: (lambda t: t if t.startswith("✓") else None)(
        d.find_element(By.CSS_SELECTOR, "#title .download").text), timeout=120, what="the film downloaded")
    d.save_screenshot(a.shots + "/1-film-downloaded.png")
    d.execute_script("location.hash = arguments[0]", "#/title/" + a.keep_offline)
    season = wait(lambda: d.find_element(By.CSS_SELECTOR, "#title .download-season[data-season='1']"), what="Download season")
    season.click()
    seen["seasonMessage"] = wait(lambda: (lambda t: t if "season" in t else None)(
        d.find_element(By.CSS_SELECTOR, "#title .status").text), what="the season's message")
    # Episodes of season 1 show their own progress, then "✓ Offline"; season 2 is not kept.
    downloads = "return [...document.querySelectorAll('#title .ep-download')].map(b => [b.dataset.episode, b.textContent])"
    seen["episodeStates"] = wait(lambda: (lambda v: v if all(t == "✓ Offline" for e, t in v if e.startswith("S01")) else None)(
        d.execute_script(downloads)), timeout=120, what="season 1 downloaded")
    seen["seasonButtonAfter"] = d.execute_script(
        "return [...document.querySelectorAll('#title .download-season')].map(b => !b.hidden)")
    # Mark one episode watched by hand, then unwatched.
    d.find_element(By.CSS_SELECTOR, "#title .ep-watched[data-episode='S02E01']").click()
    seen["markedWatched"] = wait(lambda: d.execute_script(
        "const b = document.querySelector('#title .ep[data-episode=\"S02E01\"]'); return b && b.textContent.endsWith('✓') ? b.textContent : null"),
        what="the episode marked watched")
    d.save_screenshot(a.shots + "/2-season-downloaded.png")
    d.find_element(By.CSS_SELECTOR, "#title .ep-watched[data-episode='S02E01']").click()
    seen["markedUnwatched"] = wait(lambda: d.execute_script(
        "const b = document.querySelector('#title .ep[data-episode=\"S02E01\"]'); return b && !b.textContent.endsWith('✓') ? b.textContent : null"),
        what="the episode marked unwatched")
    d.find_element(By.ID, "nav-downloads").click()
    items = "return [...document.querySelectorAll('#downloads .offline-list li')].map(li => [li.querySelector('.name').textContent, li.dataset.state, li.querySelector('.state').textContent])"
    seen["offlineList"] = wait(lambda: (lambda v: v if len(v) == 3 else None)(d.execute_script(items)), what="Downloads' offline list")
    # The Downloads page after a reload: the same address, the same list.
    d.refresh()
    seen["downloadsReloaded"] = [wait(lambda: d.execute_script("return location.hash"), what="the address"),
                                 wait(lambda: (lambda v: v if len(v) == 3 else None)(d.execute_script(items)), what="the list after a reload")]
    d.save_screenshot(a.shots + "/3-downloads.png")


def play_offline(d, a, seen):
    """No network: Downloads lists what was kept; Play on each plays it."""
    d.get(a.url + "#/downloads")
    items = "return [...document.querySelectorAll('#downloads .offline-list li')].map(li => [li.querySelector('.name').textContent, li.dataset.state])"
    seen["offlineList"] = wait(lambda: (lambda v: v if len(v) == 3 else None)(d.execute_script(items)), what="Downloads' offline list")
    d.save_screenshot(a.shots + "/4-offline-downloads.png")
    played = []
    for i in [0, 2]:
        d.execute_script("location.hash = '#/downloads'")
        wait(lambda: len(d.find_elements(By.CSS_SELECTOR, "#downloads .offline-list li .play-offline")) == 3, what="the Play buttons")
        act(lambda: d.find_elements(By.CSS_SELECTOR, "#downloads .offline-list li .play-offline")[i].click(), "Play offline")
        wait(lambda: not d.find_element(By.ID, "player").get_attribute("hidden"), timeout=60, what="the player, offline")
        video = d.find_element(By.CSS_SELECTOR, "#player video")
        t = wait(lambda: (lambda v: v if v >= 1 else None)(d.execute_script("return arguments[0].currentTime", video)),
                 timeout=60, what="the video to play offline")
        played.append([d.find_element(By.CSS_SELECTOR, "#player .label").text, t])
        if i == 0:
            d.save_screenshot(a.shots + "/5-offline-playing.png")
        d.switch_to.active_element.send_keys(Keys.ESCAPE)
    seen["played"] = played
    seen["logs"] = [e["message"] for e in d.get_log("browser") if e.get("level") == "SEVERE"]


def phone(d, a, seen):
    """A phone-width window: the home page fits, nothing scrolls sideways."""
    d.set_window_size(390, 844)
    d.find_element(By.ID, "nav-home").click()
    wait(lambda: d.find_elements(By.CSS_SELECTOR, "#rows .tile"), what="posters at phone width")
    time.sleep(0.5)
    seen["phoneOverflow"] = d.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    d.save_screenshot(a.shots + "/9-phone.png")
    # The title page at phone width: its text gets the width, and it opens at its top.
    d.execute_script("window.scrollTo(0, 400); location.hash = arguments[0]", "#/title/" + a.title_ref)
    wait(lambda: not d.find_element(By.ID, "title").get_attribute("hidden"), what="the title page at phone width")
    time.sleep(0.5)
    seen["phoneTitle"] = d.execute_script(
        "return {info: document.querySelector('#title .info').getBoundingClientRect().width, window: window.innerWidth,"
        " scrollY: window.scrollY, overflow: document.documentElement.scrollWidth - window.innerWidth}")
    d.save_screenshot(a.shots + "/9b-phone-title.png")
    d.set_window_size(1280, 900)


if __name__ == "__main__":
    main()
