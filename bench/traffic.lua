-- Reader traffic for bench/traffic.sh (wrk's Lua): articles over the whole archive with a
-- Zipf-like popularity, the home page, and category pages, some paged deep.
--
--   wrk ... -s bench/traffic.lua URL -- PATHS_FILE SEED [COMPRESSED_SHARE] [ZIPF_EXPONENT]
--
-- COMPRESSED_SHARE (default 0) of requests say `Accept-Encoding: gzip, deflate, br` as browsers
-- and search engines do; the rest ask for the plain bytes.
--
-- PATHS_FILE has one path a line: `a PATH` for articles, newest first (rank 1 is the most
-- popular), and `c PATH LAST_PAGE` for category pages. Each wrk thread draws from its own
-- generator seeded with SEED and its number, so a run's request sequence is repeatable.

local HOME = 0.05      -- share of requests for the home page
local CATEGORY = 0.15  -- share for category pages (the rest: articles)
local DEEP = 0.5       -- share of category requests for pages 2..LAST_PAGE

local ENCODED = { ["Accept-Encoding"] = "gzip, deflate, br" }

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

function init(args)
  local seed = tonumber(args[2] or "1")
  compressed = tonumber(args[3] or "0")
  local s = tonumber(args[4] or "1.0")
  math.randomseed(seed * 7919 + number)
  articles, categories = {}, {}
  for line in io.lines(args[1]) do
    local kind, path, last = line:match("^(%a) (%S+) ?(%d*)$")
    if kind == "a" then
      articles[#articles + 1] = path
    elseif kind == "c" then
      categories[#categories + 1] = { path = path, last = tonumber(last) or 1 }
    end
  end
  -- Popularity of the article of rank k is proportional to 1 / k^s: cumulative weights,
  -- searched by bisection for each request.
  cumulative = {}
  local sum = 0
  for k = 1, #articles do
    sum = sum + 1 / k ^ s
    cumulative[k] = sum
  end
  total = sum
end

local function article()
  local x = math.random() * total
  local lo, hi = 1, #cumulative
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < x then lo = mid + 1 else hi = mid end
  end
  return articles[lo]
end

function request()
  local r = math.random()
  local path
  if r < HOME then
    path = "/"
  elseif r < HOME + CATEGORY then
    local c = categories[math.random(#categories)]
    path = c.path
    if c.last > 1 and math.random() < DEEP then
      path = path .. "?page=" .. math.random(2, c.last)
    end
  else
    path = article()
  end
  if math.random() < compressed then
    return wrk.format("GET", path, ENCODED)
  end
  return wrk.format("GET", path)
end
