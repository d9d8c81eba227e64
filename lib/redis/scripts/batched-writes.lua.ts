/**
 * The prelude's deferred writes (interpolated into PRELUDE after `bump`,
 * before `leave`): what lets a script that moves many jobs write each
 * shared key once. Uses the prelude's `B`, `s`, `bump`, `counter` and `clock_floor`.
 * @internal
 */
export const BATCHED_WRITES = String.raw`
-- A script that moves many jobs (a claim, a batch of acks) sets DEFER: the
-- per-queue counts, the ready, running and finished sets and the fencing
-- counter are then written once at flush() rather than once a job (a
-- 500-job claim made 2,500 calls besides its reads and HSETs; each call
-- from Lua costs the server more than the work it does). Only for what no
-- read of the same script needs up to date: each_due pages through a ready
-- set knowing its taken members are still there.
local DEFER = nil
local function defer() DEFER = { cnt = {}, zadd = {}, zrem = {} } end
local function count(queue, st, d)
  if not DEFER then
    if d < 0 then bump(B .. 'cnt:' .. queue, st, d) else redis.call('HINCRBY', B .. 'cnt:' .. queue, st, d) end
    return
  end
  local k = B .. 'cnt:' .. queue
  local c = DEFER.cnt[k]
  if not c then c = {}; DEFER.cnt[k] = c end
  c[st] = (c[st] or 0) + d
end
local function zadd(key, score, member)
  if not DEFER then redis.call('ZADD', key, score, member); return end
  local t = DEFER.zadd[key]
  if not t then t = {}; DEFER.zadd[key] = t end
  t[#t + 1] = score
  t[#t + 1] = member
end
local function zrem(key, member)
  if not DEFER then redis.call('ZREM', key, member); return end
  local t = DEFER.zrem[key]
  if not t then t = {}; DEFER.zrem[key] = t end
  t[#t + 1] = member
end
-- Writes what DEFER holds, in commands of at most 1,000 arguments (unpack's stack).
local function flush()
  if not DEFER then return end
  local d = DEFER
  DEFER = nil
  -- 1,000 is even: a ZADD's score and member stay in one command.
  local function each(t, fn)
    for i = 1, #t, 1000 do fn(unpack(t, i, math.min(#t, i + 999))) end
  end
  if d.fence then redis.call('SET', B .. 'fence', s(d.fence)) end
  for key, t in pairs(d.zrem) do each(t, function(...) redis.call('ZREM', key, ...) end) end
  for key, t in pairs(d.zadd) do each(t, function(...) redis.call('ZADD', key, ...) end) end
  for key, c in pairs(d.cnt) do
    for st, n in pairs(c) do
      if n < 0 then bump(key, st, n) elseif n > 0 then redis.call('HINCRBY', key, st, n) end
    end
  end
end

local function next_fence()
  if not DEFER then return counter(B .. 'fence') end
  DEFER.fence = (DEFER.fence or tonumber(redis.call('GET', B .. 'fence') or clock_floor() - 1)) + 1
  return DEFER.fence
end
`;
