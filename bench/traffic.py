#!/usr/bin/env python3
"""Helpers of bench/traffic.sh (python3's standard library only).

  traffic.py paths URL DATABASE OUT   the reader paths for bench/traffic.lua
  traffic.py write URL TOKEN PATHS SECONDS SEED
                                      the newsroom and the voters, while wrk reads; prints
                                      a JSON summary

`paths` takes every article's canonical URL from the server's sitemaps (/sitemap.xml and the
files it names), ranks them newest first by their publish time in the SQLite file (read-only),
and takes the category pages from /sitemap-sections.xml, each with the last page that surely
exists (its own articles in the sitemap, 20 a page, at most 50).

`write`, for SECONDS: a rating vote every 0.5 s (the form as a reader's browser sends it, each
reader behind the trusted proxy at its own address, so the per-address cap is not reached), an
article edit every 10 s and a new article every 60 s (the JSON API with an administrator's
token). After each change it fetches the page and checks the change is there (the new count,
the new title and lead, the new article on its page, the home page and its category page),
every 50 ms for at most a second: an answer without it after a second is stale.
"""

import html
import json
import random
import re
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
PER_PAGE = 20  # the default `per_page` setting
DEEPEST = 50
WITHIN = 1.0  # seconds a change may take to show
VOTE_EVERY, EDIT_EVERY, NEW_EVERY = 0.5, 10.0, 60.0


def get(url, headers=None, timeout=10):
    """Status and text of a GET; error statuses are answers too."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            return res.status, res.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def locs(url):
    status, text = get(url, timeout=300)  # large sitemaps on a busy host
    assert status == 200, f"{url}: {status}"
    return [e.text for e in ET.fromstring(text).iter(SITEMAP + "loc")]


def path_of(url):
    p = urllib.parse.urlsplit(url)
    return p.path + ("?" + p.query if p.query else "")


def paths(base, database, out):
    articles, sections = [], []
    for sitemap in locs(base + "/sitemap.xml"):
        if "/sitemap-articles-" in sitemap:
            articles += [path_of(u) for u in locs(sitemap)]
        elif sitemap.endswith("/sitemap-sections.xml"):
            sections = [path_of(u) for u in locs(sitemap)]
    ids = {int(re.search(r"-(\d+)\.html$", p).group(1)): p for p in articles}
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    ranked = [r[0] for r in db.execute("SELECT id FROM articles ORDER BY publish_at DESC, id DESC")]
    ranked = [ids[i] for i in ranked if i in ids]
    own = {}
    for p in articles:
        own[p.split("/")[1]] = own.get(p.split("/")[1], 0) + 1
    categories = [p for p in sections if p != "/" and not p.startswith(("/tag/", "/tac-gia/"))]
    with open(out, "w") as f:
        for c in categories:
            last = max(1, min(DEEPEST, own.get(c.strip("/"), 0) // PER_PAGE))
            f.write(f"c {c} {last}\n")
        for p in ranked:
            f.write(f"a {p}\n")
    print(f"{len(ranked)} articles, {len(categories)} categories", file=sys.stderr)


class Writer:
    def __init__(self, base, token, paths_file, seconds, seed):
        self.base, self.token, self.seconds = base, token, seconds
        # One generator per writer thread, so each one's choices repeat from run to run.
        self.rng = {k: random.Random(f"{seed}-{k}") for k in ("vote", "edit", "new")}
        self.articles = [l.split()[1] for l in open(paths_file) if l.startswith("a ")]
        weights = [1 / k for k in range(1, len(self.articles) + 1)]
        self.cumulative = list(_accumulate(weights))
        self.lock = threading.Lock()
        self.counts = {k: {"changes": 0, "fresh_at_once": 0, "stale": 0, "errors": 0, "slowest_ms": 0.0}
                       for k in ("vote", "edit", "new")}
        self.problems = []
        self.votes = 0

    # -- the three writers -------------------------------------------------------------

    def vote(self, n):
        path = self.pick("vote")
        status, page = get(self.base + path)
        assert status == 200, f"{path}: {status}"
        token = re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
        action = re.search(r'action="(/rate/\d+)"', page).group(1)
        body = urllib.parse.urlencode({"point": self.rng["vote"].randint(1, 5), "token": token}).encode()
        # A reader behind the site's reverse proxy, which appends the reader's address.
        address = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        req = urllib.request.Request(self.base + action, data=body, headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Sec-Fetch-Site": "same-origin",
            "Origin": self.base,
            "X-Forwarded-For": address,
        })
        with urllib.request.urlopen(req, timeout=10) as res:
            reply = json.load(res)
        want = f"Tổng số điểm của bài viết là: {reply['total']} trong {reply['count']} đánh giá"
        self.check("vote", [(path, [want])])

    def edit(self, n):
        path = self.pick("edit")
        aid = re.search(r"-(\d+)\.html$", path).group(1)
        auth = {"Authorization": "Bearer " + self.token}
        status, text = get(f"{self.base}/api/v1/articles/{aid}", auth)
        assert status == 200, f"article {aid}: {status}"
        a = json.loads(text)
        stamp = f"(cập nhật {n})"
        title = re.sub(r" \(cập nhật \d+\)$", "", a["title"])[:280] + " " + stamp
        lead = re.sub(r"^Cập nhật \d+: ", "", a["lead"])
        lead = f"Cập nhật {n}: {lead}"
        fields = ("slug", "author", "source", "category_id", "extra_category_ids", "image_url",
                  "image_alt", "image_caption", "publish_at", "expire_at", "expiry_action",
                  "allow_rating", "show_on_home", "tags", "revision")
        update = {k: a[k] for k in fields if a[k] is not None}  # absent, not null
        update.update(title=title, lead=lead, body=a["body_html"])
        out = self.api("PUT", f"/api/v1/articles/{aid}", update)
        self.check("edit", [(out["url"], [title, lead])])

    def new(self, n):
        cats = json.loads(get(self.base + "/api/v1/categories")[1])["items"]
        cat = self.rng["new"].choice(cats)
        title = f"Bài mới số {n} của bài đo tải lúc {time.strftime('%H:%M:%S')}"
        draft = self.api("POST", "/api/v1/articles", {
            "title": title,
            "category_id": cat["id"],
            "lead": f"Tóm tắt của bài mới số {n}.",
            "body": f"<p>Nội dung của bài mới số {n}, đăng trong khi đo tải.</p>",
        })
        out = self.api("POST", f"/api/v1/articles/{draft['id']}/publish", None)
        url = out["url"]
        self.check("new", [(url, [title]), ("/", [url]), (cat["url"], [url])])

    # -- plumbing ----------------------------------------------------------------------

    def pick(self, kind):
        x = self.rng[kind].random() * self.cumulative[-1]
        lo, hi = 0, len(self.cumulative) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cumulative[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return self.articles[lo]

    def api(self, method, path, value):
        data = json.dumps(value).encode() if value is not None else None
        headers = {"Authorization": "Bearer " + self.token, "Content-Type": "application/json"}
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=10) as res:
            return json.load(res)

    def check(self, kind, pages):
        """Fetches each page until it shows every wanted text, for at most WITHIN seconds."""
        start = time.monotonic()
        pending = list(pages)
        first = True
        while True:
            left = []
            for path, wants in pending:
                status, text = get(self.base + path)
                text = html.unescape(text)
                if status != 200 or not all(w in text for w in wants):
                    left.append((path, wants))
            elapsed = time.monotonic() - start
            if not left or elapsed > WITHIN:
                break
            first = False
            pending = left
            time.sleep(0.05)
        with self.lock:
            c = self.counts[kind]
            c["changes"] += 1
            c["fresh_at_once"] += first and not left
            c["slowest_ms"] = max(c["slowest_ms"], round(elapsed * 1000, 1))
            if left:
                c["stale"] += 1
                self.problems.append(f"{kind}: stale after {elapsed:.2f} s: {left[0][0]}")

    def every(self, kind, interval, offset, deadline):
        n = 0
        next_at = time.monotonic() + offset
        while next_at < deadline:
            time.sleep(max(0.0, next_at - time.monotonic()))
            n += 1
            try:
                getattr(self, kind)(n)
            except Exception as e:  # noqa: BLE001 — every failure is counted and shown
                detail = e.read().decode("utf-8", "replace")[:200] if isinstance(e, urllib.error.HTTPError) else ""
                with self.lock:
                    self.counts[kind]["errors"] += 1
                    self.problems.append(f"{kind} {n}: {e!r} {detail}")
            next_at += interval

    def run(self):
        deadline = time.monotonic() + self.seconds
        threads = [threading.Thread(target=self.every, args=(k, i, o, deadline))
                   for k, i, o in (("vote", VOTE_EVERY, 0.25, ), ("edit", EDIT_EVERY, 5.0),
                                   ("new", NEW_EVERY, 30.0))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps({"counts": self.counts, "problems": self.problems[:20]}, ensure_ascii=False))


def _accumulate(xs):
    s = 0.0
    for x in xs:
        s += x
        yield s


if __name__ == "__main__":
    if sys.argv[1] == "paths":
        paths(*sys.argv[2:5])
    elif sys.argv[1] == "write":
        base, token, paths_file, seconds, seed = sys.argv[2:7]
        Writer(base, token, paths_file, float(seconds), int(seed)).run()
    else:
        sys.exit(__doc__)
