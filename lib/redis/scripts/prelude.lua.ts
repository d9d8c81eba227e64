import { BATCHED_WRITES } from './batched-writes.lua.js';

/**
 * What every script of the Redis store starts with: its key layout and the
 * moves of one job between states, which keep every index right. A job is
 * one hash (`job:<id>`); absent fields are `null`, or for tags, meta,
 * misfired and the fencing token their default (see decodeJob): inserts
 * leave those out while they hold it. Every key lives under
 * `KEYS[1]`, the store's hash-tagged base (`{prefix}:`), so that one Redis
 * Cluster slot holds them all and a script may touch any of them.
 * @internal
 */
export const PRELUDE = String.raw`
local B = KEYS[1]
-- A ready set's score: priority bands 2^49 ms wide, run time offset from
-- year 1, so both fit a double exactly; equal scores order by member (the
-- zero-padded id), which is insertion order.
local BAND = 562949953421312
local OFF = 62135596800000
local function s(n) return string.format('%d', n) end
local function clock_floor() local t = redis.call('TIME'); return tonumber(t[1]) * 1000000 + tonumber(t[2]) end
local function jk(id) return B .. 'job:' .. id end
local function pad(id) return string.format('%016d', tonumber(id)) end
local function unpad(m) return s(tonumber(m)) end
local function score(h) return tonumber(h.priority) * BAND + tonumber(h.runAt) + OFF end
-- INCR of an id or token counter. One found missing (a new dataset, or one a
-- restart without persistence or a FLUSHALL wiped) starts at the server's
-- clock in microseconds, not 1: a node that outlived the wipe still holds
-- attempts of the old ids, whose acknowledgements must not fit new jobs.
local function counter(key)
  local v = redis.call('INCR', key)
  if v ~= 1 then return v end
  v = clock_floor()
  redis.call('SET', key, s(v))
  return v
end

local function load(id)
  local flat = redis.call('HGETALL', jk(id))
  if #flat == 0 then return nil end
  local h = {}
  for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
  return h
end
local function read(id) return redis.call('HGETALL', jk(id)) end
-- A job's hash as HGETALL answers it (in another order), from its table:
-- after move() the table is the hash, so a claim need not read it again.
local function flat(h)
  local out = {}
  for k, v in pairs(h) do
    out[#out + 1] = k
    out[#out + 1] = v
  end
  return out
end

-- A node's last claim of a queue is remembered for a minute with its
-- client-made token: a claim whose answer was lost is sent again by the
-- client with the same token, and must answer the jobs it took rather than
-- take more (those would stay running, unknown to any node, until rescued).
-- One key per node and queue (a runner has one claim under way), so the
-- keys are as many as the live runners, whatever the claim rate.
local function claim_key(node, queue) return B .. 'claim:' .. node .. ':' .. queue end
local function claim_replay(token, node, queue)
  local last = redis.call('GET', claim_key(node, queue))
  if not last or string.sub(last, 1, #token + 1) ~= token .. '|' then return nil end
  local out = {}
  for id, attempt in string.gmatch(string.sub(last, #token + 2), '(%d+):(%d+)') do
    local h = load(id)
    if h and h.state == 'running' and h.node == node and h.attempt == attempt then out[#out + 1] = h end
  end
  return out
end
local function claim_remember(token, node, queue, taken)
  if #taken > 0 then redis.call('SET', claim_key(node, queue), token .. '|' .. table.concat(taken, ','), 'PX', 60000) end
end

local function bump(key, field, d)
  if redis.call('HINCRBY', key, field, d) <= 0 then redis.call('HDEL', key, field) end
end
local function dead_stats(h, d)
  local k = B .. 'dstat'
  bump(k, 't', d); bump(k, 'q:' .. h.queue, d); bump(k, 'n:' .. h.name, d); bump(k, 'c:' .. (h.ec or 'unclassified'), d)
end
-- A dead letter is also kept in a set of its queue, of its name and of its
-- error class, so that a filtered list or retry walks the smallest of them
-- rather than every dead letter (see dead_walk_set).
local function dead_sets(h) return { B .. 'dq:' .. h.queue, B .. 'dn:' .. h.name, B .. 'dc:' .. (h.ec or 'unclassified') } end

${BATCHED_WRITES}
local function leave(id, h)
  local st = h.state
  count(h.queue, st, -1)
  if st == 'available' then
    zrem(B .. 'ready:' .. h.queue, pad(id))
    if h.serialKey then redis.call('ZREM', B .. 'sw:' .. h.serialKey, id) end
  elseif st == 'running' then
    zrem(B .. 'running', id)
    if h.serialKey and redis.call('HGET', B .. 'srun', h.serialKey) == id then redis.call('HDEL', B .. 'srun', h.serialKey) end
  else
    zrem(B .. 'fin:' .. st, id)
    if st == 'dead' then
      redis.call('ZREM', B .. 'dead', pad(id))
      for _, k in ipairs(dead_sets(h)) do redis.call('ZREM', k, pad(id)) end
      dead_stats(h, -1)
      local alert = id .. ':' .. h.finishedAt
      redis.call('ZREM', B .. 'alerts', alert)
      redis.call('HDEL', B .. 'atries', alert)
    end
  end
end

-- Whether any name is paused, asked once a script (no script that claims pauses a name).
local ANY_PAUSED = nil
-- Whether the job's name or schedule is paused.
local function paused(h)
  if ANY_PAUSED == nil then ANY_PAUSED = redis.call('SCARD', B .. 'paused') > 0 end
  if not ANY_PAUSED then return false end
  return redis.call('SISMEMBER', B .. 'paused', h.name) == 1 or (h.schedule and redis.call('SISMEMBER', B .. 'paused', h.schedule) == 1)
end
-- A paused job's ready entry is parked: its score less PARKED, below every
-- band a claim walks (they start at 0), so that claims no longer read each
-- paused job to pass over it. Every score stays within a double's exact
-- integers (|score| < 10 bands < 2^53); the member is the same, so a ZREM
-- of any build still finds it. See PARK and docs/redis.md.
local PARKED = 10 * BAND
local function ready_score(h)
  local sc = score(h)
  if paused(h) then return sc - PARKED end
  return sc
end

local function enter(id, h)
  local st = h.state
  count(h.queue, st, 1)
  if st == 'available' then
    redis.call('ZADD', B .. 'ready:' .. h.queue, s(ready_score(h)), pad(id))
    if h.serialKey then redis.call('ZADD', B .. 'sw:' .. h.serialKey, id, id) end
  elseif st == 'running' then
    zadd(B .. 'running', h.heartbeatAt, id)
    if h.serialKey then redis.call('HSET', B .. 'srun', h.serialKey, id) end
  else
    zadd(B .. 'fin:' .. st, h.finishedAt, id)
    -- A final job frees its unique key, unless it completed and its states keep completed holders (bit 8).
    if h.uniqueKey and redis.call('HGET', B .. 'uniq', h.uniqueKey) == id then
      if not (st == 'completed' and math.floor(tonumber(h.um or '7') / 8) % 2 == 1) then redis.call('HDEL', B .. 'uniq', h.uniqueKey) end
    end
    if st == 'dead' then
      redis.call('ZADD', B .. 'dead', h.finishedAt, pad(id))
      for _, k in ipairs(dead_sets(h)) do redis.call('ZADD', k, h.finishedAt, pad(id)) end
      dead_stats(h, 1)
      redis.call('ZADD', B .. 'alerts', h.finishedAt, id .. ':' .. h.finishedAt)
    end
  end
end

-- patch: field -> string, or false to delete the field. h is the whole
-- hash as load() read it, so a field it lacks needs no HDEL.
local function move(id, h, state, patch)
  leave(id, h)
  h.state = state
  local set, del = { 'state', state }, {}
  for k, v in pairs(patch) do
    if v == false then
      if h[k] ~= nil then del[#del + 1] = k end
      h[k] = nil
    else
      h[k] = v
      set[#set + 1] = k
      set[#set + 1] = v
    end
  end
  redis.call('HSET', jk(id), unpack(set))
  if #del > 0 then redis.call('HDEL', jk(id), unpack(del)) end
  enter(id, h)
end

local function forget(id, h)
  leave(id, h)
  if h.tickKey and redis.call('HGET', B .. 'tick', h.tickKey) == id then redis.call('HDEL', B .. 'tick', h.tickKey) end
  if h.uniqueKey and redis.call('HGET', B .. 'uniq', h.uniqueKey) == id then redis.call('HDEL', B .. 'uniq', h.uniqueKey) end
  redis.call('ZREM', B .. 'all', id)
  redis.call('ZREM', B .. 'n:' .. h.name, id)
  if h.schedule then redis.call('ZREM', B .. 's:' .. h.schedule, id) end
  redis.call('DEL', jk(id))
end

-- Errors are kept as JSON texts joined by newlines (JSON never holds a raw
-- newline), the last 20 only; 'ec' is the class of the last one.
local function push_error(h, patch, e, class)
  local errs = h.errors
  local n = tonumber(h.ne or '0') + 1
  if errs == nil or errs == '' then errs = e else errs = errs .. '\n' .. e end
  if n > 20 then
    errs = string.sub(errs, string.find(errs, '\n', 1, true) + 1)
    n = 20
  end
  patch.errors = errs
  patch.ne = s(n)
  patch.ec = (class ~= nil and class ~= '') and class or false
end
local function count_kind(h, kind)
  local n, errs, pos = 0, h.errors or '', 1
  local needle = '"kind":"' .. kind .. '"'
  while true do
    local at = string.find(errs, needle, pos, true)
    if not at then return n end
    n = n + 1
    pos = at + #needle
  end
end
local function err_json(attempt, at, name, message, kind)
  return '{"attempt":' .. attempt .. ',"at":' .. s(at) .. ',"name":"' .. name .. '","message":' .. cjson.encode(message) .. ',"kind":"' .. kind .. '"}'
end

local function iso(ms)
  local t = math.floor(ms / 1000)
  local milli = ms - t * 1000
  local days = math.floor(t / 86400)
  local secs = t - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(secs / 3600), math.floor(secs % 3600 / 60), secs % 60, milli)
end

-- A paused job is parked (see PARKED), but one an earlier build entered, or
-- one a pause's walk has not reached yet, is still in a claimable band.
local function blocked(h, node)
  if h.pinnedNode and h.pinnedNode ~= node then return true end
  if paused(h) then return true end
  return h.serialKey ~= nil and redis.call('HEXISTS', B .. 'srun', h.serialKey) == 1
end

-- member: the job's entry in its ready set, when the caller has it.
local function start(id, h, node, now, starts, member)
  local attempt, at, fence = s(tonumber(h.attempt) + 1), s(now), s(next_fence())
  if h.state ~= 'available' or h.serialKey then
    move(id, h, 'running', { attempt = attempt, heartbeatAt = at, node = node, fencingToken = fence, startedAt = starts and at or false })
    return
  end
  -- What move() does for an available job without a serial key (nearly
  -- every claimed one), written out: a claim runs this for each job, and in
  -- Lua the generic move's tables and loops cost as much as its HSET.
  count(h.queue, 'available', -1)
  count(h.queue, 'running', 1)
  zrem(B .. 'ready:' .. h.queue, member or pad(id))
  zadd(B .. 'running', at, id)
  h.state, h.attempt, h.heartbeatAt, h.node, h.fencingToken = 'running', attempt, at, node, fence
  local key = jk(id)
  if starts then
    h.startedAt = at
    redis.call('HSET', key, 'state', 'running', 'attempt', attempt, 'heartbeatAt', at, 'node', node, 'fencingToken', fence, 'startedAt', at)
  else
    redis.call('HSET', key, 'state', 'running', 'attempt', attempt, 'heartbeatAt', at, 'node', node, 'fencingToken', fence)
    if h.startedAt then
      h.startedAt = nil
      redis.call('HDEL', key, 'startedAt')
    end
  end
end

-- The holder of a unique key that blocks a job with states 'mask' and
-- 'period' (ms, or nil) at 'now', or nil.
local function unique_holder(key, mask, period, now)
  local hid = redis.call('HGET', B .. 'uniq', key)
  if not hid then return nil end
  local hm = redis.call('HMGET', jk(hid), 'state', 'runAt', 'us')
  if not hm[1] then return nil end
  if period and tonumber(hm[3]) + period <= now then return nil end
  local bit = 0
  if hm[1] == 'available' then
    bit = tonumber(hm[2]) > now and 1 or 2
  elseif hm[1] == 'running' then
    bit = 4
  elseif hm[1] == 'completed' then
    bit = 8
  end
  if bit > 0 and math.floor(mask / bit) % 2 == 1 then return hid end
  return nil
end

-- Calls fn(id, h, member) for the due jobs of a queue in claim order; fn answers
-- 'taken' (it left the ready set), 'stop', or anything else (left in place).
local function each_due(queue, now, maxp, fn)
  local key = B .. 'ready:' .. queue
  for p = 0, maxp do
    local lo, hi, skip = s(p * BAND), s(p * BAND + now + OFF), 0
    while true do
      local batch = redis.call('ZRANGEBYSCORE', key, lo, hi, 'LIMIT', skip, 100)
      for _, m in ipairs(batch) do
        local id = unpad(m)
        local h = load(id)
        if not h then
          -- A member whose job is gone (evicted, deleted by hand) would fail every claim of the queue: it leaves the set.
          redis.call('ZREM', key, m)
        else
          local r = fn(id, h, m)
          if r == 'stop' then return end
          -- A taken job leaves the set, unless DEFER holds its removal.
          if r ~= 'taken' or DEFER then skip = skip + 1 end
        end
      end
      if #batch < 100 then break end
    end
  end
end
`;
