import { PRELUDE } from './prelude.lua.js';

/**
 * One job. ARGV: id.
 * @internal
 */
export const GET = `${PRELUDE}
return read(ARGV[1])
`;

/**
 * Deletes jobs. ARGV: the states to delete in (comma-separated; empty: any), then the ids. Answers how many were deleted.
 * @internal
 */
export const DELETE = `${PRELUDE}
local n = 0
local states = ARGV[1]
for i = 2, #ARGV do
  local id = ARGV[i]
  local h = load(id)
  if h and (states == '' or string.find(',' .. states .. ',', ',' .. h.state .. ',', 1, true)) then
    forget(id, h)
    n = n + 1
  end
end
return n
`;

/**
 * Deletes up to ARGV[2] finished jobs in the states ARGV[3..] that finished before ARGV[1], oldest finish first.
 * @internal
 */
export const PRUNE = `${PRELUDE}
local before, limit = '(' .. ARGV[1], tonumber(ARGV[2])
if limit <= 0 then return 0 end
local found = {}
for i = 3, #ARGV do
  local st = ARGV[i]
  if st == 'completed' or st == 'dead' or st == 'discarded' or st == 'cancelled' then
    local hits = redis.call('ZRANGEBYSCORE', B .. 'fin:' .. st, '-inf', before, 'WITHSCORES', 'LIMIT', 0, limit)
    for k = 1, #hits, 2 do found[#found + 1] = { id = hits[k], at = tonumber(hits[k + 1]) } end
  end
end
table.sort(found, function(a, b)
  if a.at ~= b.at then return a.at < b.at end
  return tonumber(a.id) < tonumber(b.id)
end)
local n = 0
for _, f in ipairs(found) do
  if n >= limit then break end
  forget(f.id, load(f.id))
  n = n + 1
end
return n
`;

/**
 * Lists or counts jobs. ARGV: mode ('list' or 'count'), filter JSON
 * ({name, nameOrSchedule, queue, states, finishedBefore, limit, desc, afterId,
 * nameContains, tags, args: [{path, value}], cap}); a count stops at `cap`.
 * The args and tags of a job are read (and decoded) only once its other fields match.
 * The walk starts from the narrowest index there is: the jobs of a name
 * (`n:<name>`, merged with those of a schedule, `s:<schedule>`, for
 * nameOrSchedule), the running jobs, or every job (`all`), in id order.
 * @internal
 */
export const LIST = `${PRELUDE}
local count = ARGV[1] == 'count'
local f = cjson.decode(ARGV[2])
local desc = f.desc
local states = nil
if f.states then
  states = {}
  for _, st in ipairs(f.states) do states[st] = true end
end
local limit = f.limit or -1
-- Keyset paging: the walk starts past afterId (scores are ids).
local lo, hi = '-inf', '+inf'
if f.afterId then
  if desc then hi = '(' .. f.afterId else lo = '(' .. f.afterId end
end

-- A cursor over one sorted set of ids (score = id), 200 at a time.
local function cursor(key)
  return { key = key, buf = {}, i = 1, start = 0, done = false }
end
local function peek(c)
  if c.i > #c.buf then
    if c.done then return nil end
    if desc then c.buf = redis.call('ZREVRANGEBYSCORE', c.key, hi, lo, 'LIMIT', c.start, 200) else c.buf = redis.call('ZRANGEBYSCORE', c.key, lo, hi, 'LIMIT', c.start, 200) end
    c.start = c.start + 200
    c.i = 1
    if #c.buf < 200 then c.done = true end
    if #c.buf == 0 then return nil end
  end
  return c.buf[c.i]
end
local function before(a, b)
  if desc then return tonumber(a) > tonumber(b) end
  return tonumber(a) < tonumber(b)
end

local sources
local only_running = states ~= nil and next(states) == 'running' and next(states, 'running') == nil
if f.name then
  sources = { cursor(B .. 'n:' .. f.name) }
elseif f.nameOrSchedule then
  sources = { cursor(B .. 'n:' .. f.nameOrSchedule), cursor(B .. 's:' .. f.nameOrSchedule) }
elseif only_running then
  -- Running jobs are few (at most the nodes' concurrency and buffers): read and order them here.
  local ids = redis.call('ZRANGE', B .. 'running', 0, -1)
  table.sort(ids, before)
  sources = { { buf = ids, i = 1, done = true } }
else
  sources = { cursor(B .. 'all') }
end

-- The next id in order over every source, each id once.
local function next_id()
  local best = nil
  for _, c in ipairs(sources) do
    local id = peek(c)
    if id and (not best or before(id, best)) then best = id end
  end
  if not best then return nil end
  for _, c in ipairs(sources) do
    if peek(c) == best then c.i = c.i + 1 end
  end
  return best
end

local needles = {}
for _, text in ipairs(f.nameContains or {}) do needles[#needles + 1] = string.lower(text) end
local function name_match(name)
  local lowered = string.lower(name)
  for _, needle in ipairs(needles) do
    if not string.find(lowered, needle, 1, true) then return false end
  end
  return true
end
-- The value at each path (object keys; cjson gives an array numeric keys, so a key never indexes one) equals, same type.
local function args_match(id)
  local args = cjson.decode(redis.call('HGET', jk(id), 'args'))
  for _, cond in ipairs(f.args) do
    local at = args
    for _, key in ipairs(cond.path) do
      if type(at) ~= 'table' then return false end
      at = at[key]
    end
    if type(at) ~= type(cond.value) or at ~= cond.value then return false end
  end
  return true
end
local function tags_match(id)
  local have, tags = {}, redis.call('HGET', jk(id), 'tags')
  -- A job without tags has no field (inserts leave empty ones out).
  if not tags then return false end
  for _, tag in ipairs(cjson.decode(tags)) do have[tag] = true end
  for _, tag in ipairs(f.tags) do
    if not have[tag] then return false end
  end
  return true
end

local out, n = {}, 0
while true do
  local id = next_id()
  if not id then break end
  local hm = redis.call('HMGET', jk(id), 'name', 'schedule', 'queue', 'state', 'finishedAt')
  -- string.lower folds ASCII only, as SQLite's and PostgreSQL's (C collation) lower() do.
  local ok = hm[1] ~= false
    and (not f.name or hm[1] == f.name)
    and (not f.nameOrSchedule or hm[1] == f.nameOrSchedule or hm[2] == f.nameOrSchedule)
    and (not f.queue or hm[3] == f.queue)
    and (not states or states[hm[4]])
    and (not f.finishedBefore or (hm[5] and tonumber(hm[5]) < f.finishedBefore))
    and (not f.afterId or before(f.afterId, id))
    and name_match(hm[1])
    and (not f.tags or tags_match(id))
    and (not f.args or args_match(id))
  if ok then
    n = n + 1
    if count and f.cap and n >= f.cap then return n end
    if not count then
      out[#out + 1] = read(id)
      if limit >= 0 and #out >= limit then return out end
    end
  end
end
if count then return n end
return out
`;

/**
 * Counts by queue and state. ARGV: now. Answers, per queue with jobs or a
 * stored state: name, due available jobs, then state/count pairs.
 * @internal
 */
export const QUEUE_COUNTS = `${PRELUDE}
local now = tonumber(ARGV[1])
local names = redis.call('SUNION', B .. 'queues', B .. 'qnames')
local out = {}
for _, q in ipairs(names) do
  local counts = redis.call('HGETALL', B .. 'cnt:' .. q)
  if #counts > 0 or redis.call('SISMEMBER', B .. 'qnames', q) == 1 then
    local due = 0
    -- Parked (paused) jobs count as available too, as on every store.
    for _, off in ipairs({ 0, PARKED }) do
      for p = 0, 9 do due = due + redis.call('ZCOUNT', B .. 'ready:' .. q, s(p * BAND - off), s(p * BAND + now + OFF - off)) end
    end
    out[#out + 1] = { q, due, counts }
  end
end
return out
`;

/**
 * The earliest run time of an available job in queue ARGV[1], or nil. Parked
 * jobs (a paused name's or schedule's) wait on purpose and are left out;
 * one whose pause has not been filed yet (a walk still owed) still counts.
 * @internal
 */
export const NEXT_RUN = `${PRELUDE}
local best = nil
for p = 0, 9 do
  local first = redis.call('ZRANGEBYSCORE', B .. 'ready:' .. ARGV[1], s(p * BAND), '(' .. s((p + 1) * BAND), 'WITHSCORES', 'LIMIT', 0, 1)
  if #first > 0 then
    local at = tonumber(first[2]) - p * BAND - OFF
    if not best or at < best then best = at end
  end
end
if best then return s(best) end
return nil
`;

/**
 * Available job ARGV[1] due after ARGV[2] (ms) becomes due then. Answers its hash, or nil when it is not available.
 * @internal
 */
export const MAKE_DUE = `${PRELUDE}
local id, now = ARGV[1], ARGV[2]
local h = load(id)
if not h or h.state ~= 'available' then return nil end
if tonumber(h.runAt) > tonumber(now) then move(id, h, 'available', { runAt = now }) end
return read(id)
`;

/**
 * Jobs a breaker held until ARGV[2] (ms) become due at ARGV[3]: available jobs named one of ARGV[4..] with that run time. Answers their queues.
 * @internal
 */
export const RELEASE_HELD = `${PRELUDE}
local heldUntil, now = tonumber(ARGV[2]), ARGV[3]
local names = {}
for i = 4, #ARGV do names[ARGV[i]] = true end
local queues = {}
for _, q in ipairs(redis.call('SMEMBERS', B .. 'queues')) do
  -- Parked (paused) jobs too: a pause does not end a breaker's hold.
  for _, off in ipairs({ 0, PARKED }) do
    for p = 0, 9 do
      local at = s(p * BAND + heldUntil + OFF - off)
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', B .. 'ready:' .. q, at, at)) do
        local id = unpad(m)
        local h = load(id)
        if names[h.name] then
          move(id, h, 'available', { runAt = now })
          queues[q] = true
        end
      end
    end
  end
end
local out = {}
for q in pairs(queues) do out[#out + 1] = q end
table.sort(out)
return out
`;
