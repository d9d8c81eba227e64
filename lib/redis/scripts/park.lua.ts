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
