import { PRELUDE } from './prelude.lua.js';

/**
 * Refiles the ready entries of up to ARGV[4] jobs of name ARGV[1] (ARGV[2]
 * 'n') or of schedule ARGV[1] ('s'), with ids above ARGV[3]: each available
 * one moves to the score its pause calls for, parked while its name or
 * schedule is paused, claimable otherwise (see PARKED). The walk follows
 * the name's set by id, so jobs added or removed meanwhile never shift it.
 * Answers the last id read, or -1 when the walk is done.
 * @internal
 */
export const PARK = `${PRELUDE}
local which, after, n = ARGV[2], ARGV[3], tonumber(ARGV[4])
local ids = redis.call('ZRANGEBYSCORE', B .. which .. ':' .. ARGV[1], '(' .. after, '+inf', 'LIMIT', 0, n)
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', jk(id), 'state', 'queue', 'priority', 'runAt', 'name', 'schedule')
  if f[1] == 'available' then
    local h = { queue = f[2], priority = f[3], runAt = f[4], name = f[5], schedule = f[6] or nil }
    -- XX: only an entry the job has (an earlier build's cancel may have left the set without it).
    redis.call('ZADD', B .. 'ready:' .. h.queue, 'XX', s(ready_score(h)), pad(id))
  end
end
if #ids < n then return -1 end
return ids[#ids]
`;

/**
 * Refiles, in queue ARGV[2]'s ready set, the entries of the jobs of name or
 * schedule ARGV[1] among up to ARGV[5] entries from rank ARGV[4] of its
 * claimable band (ARGV[3] 'c': scores from 0 up, where a pause finds them)
 * or of its parked band ('p': below 0, where a resume does). An entry
 * refiled leaves the band, so the next slice starts at the rank given plus
 * the entries left in place. Answers that rank, or -1 when the band is done.
 * @internal
 */
export const PARK_BAND = `${PRELUDE}
local name, key, band, from, n = ARGV[1], B .. 'ready:' .. ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local lo, hi = '0', '+inf'
if band == 'p' then lo, hi = '-inf', '(0' end
local page = redis.call('ZRANGEBYSCORE', key, lo, hi, 'WITHSCORES', 'LIMIT', from, n)
local kept = 0
for i = 1, #page, 2 do
  local id = unpad(page[i])
  local f = redis.call('HMGET', jk(id), 'state', 'priority', 'runAt', 'name', 'schedule')
  local want = nil
  if f[1] == 'available' and (f[4] == name or f[5] == name) then
    want = ready_score({ queue = ARGV[2], priority = f[2], runAt = f[3], name = f[4], schedule = f[5] or nil })
  end
  if want ~= nil and want ~= tonumber(page[i + 1]) then redis.call('ZADD', key, s(want), page[i]) else kept = kept + 1 end
end
if #page < 2 * n then return -1 end
return from + kept
`;

/**
 * How to refile the jobs of name or schedule ARGV[1]: the jobs of that name
 * and schedule (their sets, history included), or the band of the ready
 * sets where its pause finds their entries (claimable while paused, parked
 * once resumed), whichever holds fewer. Answers 'n' or 'c' / 'p'.
 * @internal
 */
export const PARK_PLAN = `
local B, name = KEYS[1], ARGV[1]
local own = redis.call('ZCARD', B .. 'n:' .. name) + redis.call('ZCARD', B .. 's:' .. name)
local paused = redis.call('SISMEMBER', B .. 'paused', name) == 1
local lo, hi = '0', '+inf'
if not paused then lo, hi = '-inf', '(0' end
local band = 0
for _, q in ipairs(redis.call('SMEMBERS', B .. 'queues')) do
  band = band + redis.call('ZCOUNT', B .. 'ready:' .. q, lo, hi)
  if band >= own then return 'n' end
end
if paused then return 'c' end
return 'p'
`;

/**
 * Starts the refiles owed: a pause that a build that does not park changed
 * (\`paused\` and \`pmirror\` differ) is taken into \`pmirror\` and owed a
 * refile. Answers \`prefile\` as name, generation pairs.
 * @internal
 */
export const PARK_OWED = `
local B = KEYS[1]
for _, name in ipairs(redis.call('SDIFF', B .. 'paused', B .. 'pmirror')) do
  redis.call('SADD', B .. 'pmirror', name)
  redis.call('HINCRBY', B .. 'prefile', name, 1)
end
for _, name in ipairs(redis.call('SDIFF', B .. 'pmirror', B .. 'paused')) do
  redis.call('SREM', B .. 'pmirror', name)
  redis.call('HINCRBY', B .. 'prefile', name, 1)
end
return redis.call('HGETALL', B .. 'prefile')
`;

/**
 * A refile of name ARGV[1] walked to its end: it is no longer owed, unless
 * its pause changed again since generation ARGV[2] (a walk after that change owes it).
 * @internal
 */
export const PARK_DONE = `
local B = KEYS[1]
if redis.call('HGET', B .. 'prefile', ARGV[1]) == ARGV[2] then redis.call('HDEL', B .. 'prefile', ARGV[1]) end
return 'OK'
`;
