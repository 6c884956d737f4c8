#!/usr/bin/python3
"""python3-pychromecast, the reference sender, against the test's Chromecast
(cast_receiver.py): finds it by mDNS under its name, plays a URL with a
WebVTT track, waits until it plays, then stops it. Prints one JSON object a
step; exits 0 only if every step worked."""

import json
import sys
import time

import pychromecast


def main():
    name, url, vtt = sys.argv[1], sys.argv[2], sys.argv[3]
    casts, browser = pychromecast.get_listed_chromecasts(friendly_names=[name], discovery_timeout=10)
    if not casts:
        print(json.dumps({"step": "discover", "ok": False}), flush=True)
        return 1
    cast = casts[0]
    print(json.dumps({"step": "discover", "ok": True, "host": cast.cast_info.host if hasattr(cast, "cast_info") else None,
                      "model": cast.model_name}), flush=True)
    cast.wait(timeout=15)
    print(json.dumps({"step": "connect", "ok": cast.status is not None}), flush=True)
    mc = cast.media_controller
    mc.play_media(url, "video/mp4", title="Reference sender", subtitles=vtt, subtitles_lang="en", subtitles_mime="text/vtt")
    mc.block_until_active(timeout=20)
    state = None
    for _ in range(100):
        state = mc.status.player_state if mc.status else None
        if state == "PLAYING":
            break
        time.sleep(0.2)
        mc.update_status()
    print(json.dumps({"step": "play", "ok": state == "PLAYING", "state": state,
                      "time": mc.status.current_time if mc.status else None}), flush=True)
    mc.stop()
    time.sleep(0.5)
    cast.quit_app()
    time.sleep(0.5)
    print(json.dumps({"step": "stop", "ok": True}), flush=True)
    browser.stop_discovery()
    cast.disconnect(timeout=5)
    return 0 if state == "PLAYING" else 1


if __name__ == "__main__":
    sys.exit(main())
