#!/usr/bin/env python3
"""Image bytes a 390 px-wide phone downloads for the seed article (and the first page of its
category, a list of thumbnails), measured in headless Chromium (through chromedriver's WebDriver
HTTP API; Python standard library only).

Usage: bench/media-phone.py BASE_URL [DEMO_MEDIA_DIR]

For device pixel ratios 1, 2 and 3 it opens the seed article in a fresh browser emulating a
390x844 screen, reads the Resource Timing entries of the pictures the page loaded (first
screen), scrolls to the bottom and reads them again (every lazy picture loaded), and compares
the bytes with the three demo JPEGs, which is what the page served before the library.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:18090"
DEMO = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
    os.path.dirname(__file__), "..", "crates", "bantin-app", "demo", "media", "2022_10")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def call(port, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def seed_url():
    # The demo loads the seed article first (id 1); its category page lists it.
    html = urllib.request.urlopen(BASE + "/xay-dung-dang/", timeout=30).read().decode()
    m = re.search(r'href="(/[^"]*dang-bo-thanh-pho-hoc-tap-va-lam-theo-guong-bac-\d+\.html)"', html)
    return BASE + (m.group(1) if m else
                   "/xay-dung-dang/dang-bo-thanh-pho-hoc-tap-va-lam-theo-guong-bac-1.html")


IMAGES = """
return performance.getEntriesByType('resource')
  .filter(e => e.initiatorType === 'img' || /\\.(webp|jpe?g|png|gif)$/.test(e.name))
  .filter(e => e.name.includes('/media/'))
  .map(e => [e.name.replace(location.origin, ''), e.encodedBodySize, e.transferSize]);
"""

SCROLL = """
const done = arguments[arguments.length - 1];
let y = 0;
const step = () => {
  y += window.innerHeight / 2;
  window.scrollTo(0, y);
  if (y < document.body.scrollHeight) setTimeout(step, 150); else setTimeout(done, 1500);
};
step();
"""


def measure(port, url, dpr):
    caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disk-cache-size=1", "--incognito"],
        "mobileEmulation": {"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": dpr,
                                              "touch": True}},
    }}}}
    sid = call(port, "POST", "/session", caps)["value"]["sessionId"]
    try:
        call(port, "POST", f"/session/{sid}/url", {"url": url})
        time.sleep(1.5)
        first = call(port, "POST", f"/session/{sid}/execute/sync", {"script": IMAGES, "args": []})["value"]
        width = call(port, "POST", f"/session/{sid}/execute/sync",
                     {"script": "return [window.innerWidth, devicePixelRatio, "
                                "document.querySelector('.article .body img, .article img')"
                                "?.getBoundingClientRect().width]", "args": []})["value"]
        call(port, "POST", f"/session/{sid}/execute/async", {"script": SCROLL, "args": []})
        every = call(port, "POST", f"/session/{sid}/execute/sync", {"script": IMAGES, "args": []})["value"]
        picked = call(port, "POST", f"/session/{sid}/execute/sync",
                      {"script": "return [...document.querySelectorAll('.article img')]"
                                 ".map(i => [i.currentSrc.replace(location.origin, ''), "
                                 "i.getBoundingClientRect().width])", "args": []})["value"]
    finally:
        call(port, "DELETE", f"/session/{sid}")
    return first, every, width, picked


def main():
    originals = sum(os.path.getsize(os.path.join(DEMO, f)) for f in os.listdir(DEMO))
    url = seed_url()
    port = free_port()
    driver = subprocess.Popen(["chromedriver", f"--port={port}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                call(port, "GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        lists = BASE + "/xay-dung-dang/"
        print(f"list page: {lists}")
        for dpr in (1, 2, 3):
            first, every, _, _ = measure(port, lists, dpr)
            a = sum(e[1] for e in first)
            b = sum(e[1] for e in every)
            print(f"  DPR {dpr}: first screen {a} B ({len(first)} pictures); "
                  f"after scrolling {b} B ({len(every)} pictures)")
        print(f"page: {url}")
        print(f"originals (the three demo JPEGs): {originals} B")
        for dpr in (1, 2, 3):
            first, every, (vw, ratio, slot), picked = measure(port, url, dpr)
            a = sum(e[1] for e in first)
            b = sum(e[1] for e in every)
            print(f"DPR {dpr}: viewport {vw} CSS px, ratio {ratio}, picture slot {slot} CSS px")
            for src, w in picked:
                size = next((e[1] for e in every if e[0] == src), None)
                print(f"    {src} shown {w:.0f} px wide, {size} B")
            print(f"  first screen {a} B ({100 * (1 - a / originals):.0f} % fewer); "
                  f"after scrolling through all {b} B ({100 * (1 - b / originals):.0f} % fewer)")
    finally:
        driver.terminate()


if __name__ == "__main__":
    main()
