import { PRELUDE } from './prelude.lua.js';

/** Dead letters a bulk script reads at a time: one call reads about what it moves or lists, not the whole set. */
const DEAD_PAGE = 500;

/** Brings a dead, discarded or cancelled job back (see `JobStore.resurrect`): 'DUP' when another job holds its unique key. */
const RESURRECT_ONE = `
local function resurrect(id, now)
  local h = load(id)
  if not h or (h.state ~= 'dead' and h.state ~= 'discarded' and h.state ~= 'cancelled') then return nil end
  if h.uniqueKey and unique_holder(h.uniqueKey, 7, nil, now) then return 'DUP' end
  -- As many attempts as the job had at its first retry, not its last (grown) budget.
  local budget = tonumber(h.retryBudget) or math.max(1, tonumber(h.maxAttempts))
  local patch = { runAt = s(now), finishedAt = false, maxAttempts = s(tonumber(h.attempt) + budget), retryBudget = s(budget) }
  if h.uniqueKey then
    -- It takes its key back with the default states and no period.
    patch.um = '7'
    patch.us = s(now)
    redis.call('HSET', B .. 'uniq', h.uniqueKey, id)
  end
  move(id, h, 'available', patch)
  return read(id)
end
`;

/**
 * One job back. ARGV: id, now. Answers the job, nil, or 'DUP'.
 * @internal
 */
export const RESURRECT = `${PRELUDE}${RESURRECT_ONE}
return resurrect(ARGV[1], tonumber(ARGV[2]))
`;

/**
 * Whether a dead letter matches ARGV queue, name, class ('' for any); and
 * the set a filtered walk reads: of the filter's queue, name and class sets
 * (see dead_sets) the smallest whose size is its count in dstat, else every
 * dead letter. A set that disagrees with its count (dead letters made by a
 * build that kept no such sets, not yet indexed: see INDEX_DEAD) is not used.
 */
const DEAD_MATCH = `
local function dead_match(id, queue, name, class)
  local hm = redis.call('HMGET', jk(id), 'state', 'queue', 'name', 'ec')
  return hm[1] == 'dead' and (queue == '' or hm[2] == queue) and (name == '' or hm[3] == name) and (class == '' or (hm[4] or 'unclassified') == class)
end
local function dead_walk_set(queue, name, class)
  local best, size = B .. 'dead', nil
  local function consider(key, field)
    local n = redis.call('ZCARD', key)
    if n == tonumber(redis.call('HGET', B .. 'dstat', field) or '0') and (size == nil or n < size) then best, size = key, n end
  end
  if queue ~= '' then consider(B .. 'dq:' .. queue, 'q:' .. queue) end
  if name ~= '' then consider(B .. 'dn:' .. name, 'n:' .. name) end
  if class ~= '' then consider(B .. 'dc:' .. class, 'c:' .. class) end
  return best
end
`;

/**
 * Puts up to ARGV[2] dead letters, from rank ARGV[1] (oldest first), into
 * their queue, name and class sets: for dead letters written before the
 * sets were kept. Answers the next rank, or -1 when the walk is done.
 * @internal
 */
export const INDEX_DEAD = `${PRELUDE}
local from, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local page = redis.call('ZRANGE', B .. 'dead', from, from + n - 1, 'WITHSCORES')
for i = 1, #page, 2 do
  local hm = redis.call('HMGET', jk(unpad(page[i])), 'state', 'queue', 'name', 'ec')
  if hm[1] == 'dead' and hm[2] and hm[3] then
    for _, k in ipairs(dead_sets({ queue = hm[2], name = hm[3], ec = hm[4] or nil })) do redis.call('ZADD', k, page[i + 1], page[i]) end
  end
end
if #page < 2 * n then return -1 end
return from + n
`;

/**
 * Whether every queue, name and class set of the dead letters holds as many
 * as \`dstat\` counts (1) or not (0): a store written by a build that kept
 * no such sets needs INDEX_DEAD.
 * @internal
 */
export const DEAD_INDEXED = `${PRELUDE}
local flat = redis.call('HGETALL', B .. 'dstat')
local sets = { q = 'dq:', n = 'dn:', c = 'dc:' }
for i = 1, #flat, 2 do
  local f = flat[i]
  local prefix = sets[string.sub(f, 1, 1)]
  if prefix and string.sub(f, 2, 2) == ':' and redis.call('ZCARD', B .. prefix .. string.sub(f, 3)) ~= tonumber(flat[i + 1]) then return 0 end
end
return 1
`;

/**
 * Dead letters back in bulk, oldest death first. ARGV: queue, name, class, limit, now.
 * @internal
 */
export const RESURRECT_DEAD = `${PRELUDE}${RESURRECT_ONE}${DEAD_MATCH}
local queue, name, class, limit, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local out, from, set = {}, 0, dead_walk_set(queue, name, class)
-- A page of the oldest at a time, so that a call reads about what it moves; each one moved leaves the set, the page after starts that much lower.
while #out < limit do
  local page = redis.call('ZRANGE', set, from, from + ${DEAD_PAGE - 1})
  local moved = 0
  for _, m in ipairs(page) do
    if #out >= limit then break end
    local id = unpad(m)
    if dead_match(id, queue, name, class) then
      local job = resurrect(id, now)
      if type(job) == 'table' then
        out[#out + 1] = job
        moved = moved + 1
      end
    end
  end
  if #page < ${DEAD_PAGE} then break end
  from = from + #page - moved
end
return out
`;

/**
 * Dead letters, newest death first. ARGV: queue, name, class, limit, offset.
 * @internal
 */
export const LIST_DEAD = `${PRELUDE}${DEAD_MATCH}
local queue, name, class, limit, offset = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local out, seen, from, set = {}, 0, 0, dead_walk_set(queue, name, class)
while #out < limit do
  local page = redis.call('ZREVRANGE', set, from, from + ${DEAD_PAGE - 1})
  for _, m in ipairs(page) do
    if #out >= limit then break end
    local id = unpad(m)
    if dead_match(id, queue, name, class) then
      seen = seen + 1
      if seen > offset then out[#out + 1] = read(id) end
    end
  end
  if #page < ${DEAD_PAGE} then break end
  from = from + ${DEAD_PAGE}
end
return out
`;

/**
 * Prunes dead letters. ARGV: before ('' for any age), keep, limit.
 * @internal
 */
export const PRUNE_DEAD = `${PRELUDE}
local keep, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if limit <= 0 then return 0 end
-- The keep newest are the top ranks: the doomed are the oldest ranks below them that died before ARGV[1], at most limit.
local last = math.min(redis.call('ZCARD', B .. 'dead') - math.max(keep, 0), limit) - 1
if last < 0 then return 0 end
local before = ARGV[1] ~= '' and tonumber(ARGV[1]) or nil
local oldest = redis.call('ZRANGE', B .. 'dead', 0, last, 'WITHSCORES')
local n = 0
for i = 1, #oldest, 2 do
  if before and tonumber(oldest[i + 1]) >= before then break end
  local id = unpad(oldest[i])
  forget(id, load(id))
  n = n + 1
end
return n
`;

/**
 * Hands out due dead-letter alerts. ARGV: now, leaseMs, limit. Answers {job, tries} pairs.
 * @internal
 */
export const TAKE_ALERTS = `${PRELUDE}
local now, lease, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
if limit <= 0 then return out end
-- A bounded read: alerts of deaths that are gone are dropped on the way, and those past it wait for the next call.
for _, alert in ipairs(redis.call('ZRANGEBYSCORE', B .. 'alerts', '-inf', s(now), 'LIMIT', 0, limit * 2 + ${DEAD_PAGE})) do
  if #out >= limit then break end
  local sep = string.find(alert, ':', 1, true)
  local id, died = string.sub(alert, 1, sep - 1), string.sub(alert, sep + 1)
  local hm = redis.call('HMGET', jk(id), 'state', 'finishedAt')
  if hm[1] == 'dead' and hm[2] == died then
    local tries = redis.call('HINCRBY', B .. 'atries', alert, 1)
    redis.call('ZADD', B .. 'alerts', s(now + lease), alert)
    out[#out + 1] = { read(id), tries }
  else
    -- The death it was for is gone (the job was retried or deleted).
    redis.call('ZREM', B .. 'alerts', alert)
    redis.call('HDEL', B .. 'atries', alert)
  end
end
return out
`;

/**
 * Settles one death's alert. ARGV: id, diedAt, retryAt ('' ends it).
 * @internal
 */
export const SETTLE_ALERT = `${PRELUDE}
local alert = ARGV[1] .. ':' .. ARGV[2]
if ARGV[3] == '' then
  redis.call('ZREM', B .. 'alerts', alert)
  redis.call('HDEL', B .. 'atries', alert)
elseif redis.call('ZSCORE', B .. 'alerts', alert) then
  redis.call('ZADD', B .. 'alerts', ARGV[3], alert)
end
return 'OK'
`;
