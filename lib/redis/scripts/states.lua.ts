/**
 * Schedules, schedule states and queue states: small records, each change
 * one script so that a state and the sets claims read (`paused`) agree.
 * Every script takes KEYS[1], the store's base.
 */

/**
 * Saves (ARGV[1] name, ARGV[2] definition JSON) a runtime schedule.
 * @internal
 */
export const SAVE_SCHEDULE = `
redis.call('HSET', KEYS[1] .. 'sched', ARGV[1], ARGV[2])
return 'OK'
`;

// A pause or resume also changes \`pmirror\` (the pauses the parked ready
// entries follow, see PARK) and, when either set changed, bumps the name's
// generation in \`prefile\`: its jobs' ready entries are to be refiled.
const SET_PAUSED = `
local function set_paused(B, name, on)
  local verb = on and 'SADD' or 'SREM'
  local changed = redis.call(verb, B .. 'paused', name) + redis.call(verb, B .. 'pmirror', name)
  if changed > 0 then return redis.call('HINCRBY', B .. 'prefile', name, 1) end
  return 0
end
`;

/**
 * Deletes schedule ARGV[1] and its state (which resumes it). Answers
 * {existed (1 or 0), the refile generation or 0}.
 * @internal
 */
export const DELETE_SCHEDULE = `${SET_PAUSED}
local B, name = KEYS[1], ARGV[1]
local existed = redis.call('HDEL', B .. 'sched', name)
redis.call('SREM', B .. 'snames', name)
local refile = set_paused(B, name, false)
redis.call('HDEL', B .. 'splanned', name)
return { existed, refile }
`;

/**
 * Upserts a schedule state. ARGV: name, paused ('1', '0', '' unchanged),
 * plannedUntil (ms, 'null', '' unchanged). Answers the refile generation
 * when the pause changed, else 0.
 * @internal
 */
export const SET_SCHEDULE_STATE = `${SET_PAUSED}
local B, name = KEYS[1], ARGV[1]
redis.call('SADD', B .. 'snames', name)
local refile = 0
if ARGV[2] == '1' then refile = set_paused(B, name, true) elseif ARGV[2] == '0' then refile = set_paused(B, name, false) end
if ARGV[3] == 'null' then redis.call('HDEL', B .. 'splanned', name) elseif ARGV[3] ~= '' then redis.call('HSET', B .. 'splanned', name, ARGV[3]) end
return refile
`;

/**
 * Every schedule state: {name, paused, plannedUntil or false} triples, then
 * 1 when ready entries wait to be refiled (a walk unfinished, or a pause a
 * build that does not park changed: \`paused\` and \`pmirror\` differ), else 0.
 * @internal
 */
export const SCHEDULE_STATES = `
local B, out = KEYS[1], {}
for _, name in ipairs(redis.call('SMEMBERS', B .. 'snames')) do
  out[#out + 1] = { name, redis.call('SISMEMBER', B .. 'paused', name), redis.call('HGET', B .. 'splanned', name) }
end
local pending = redis.call('HLEN', B .. 'prefile') > 0
  or #redis.call('SDIFF', B .. 'paused', B .. 'pmirror') > 0 or #redis.call('SDIFF', B .. 'pmirror', B .. 'paused') > 0
out[#out + 1] = pending and 1 or 0
return out
`;

/**
 * Upserts a queue state. ARGV: name, paused ('1', '0', ''), concurrency (a number, 'null', '').
 * @internal
 */
export const SET_QUEUE_STATE = `
local B, name = KEYS[1], ARGV[1]
redis.call('SADD', B .. 'qnames', name)
if ARGV[2] == '1' then redis.call('SADD', B .. 'qpaused', name) elseif ARGV[2] == '0' then redis.call('SREM', B .. 'qpaused', name) end
if ARGV[3] == 'null' then redis.call('HDEL', B .. 'qconc', name) elseif ARGV[3] ~= '' then redis.call('HSET', B .. 'qconc', name, ARGV[3]) end
return 'OK'
`;

/**
 * Every queue state: {name, paused, concurrency or false} triples.
 * @internal
 */
export const QUEUE_STATES = `
local B, out = KEYS[1], {}
for _, name in ipairs(redis.call('SMEMBERS', B .. 'qnames')) do
  out[#out + 1] = { name, redis.call('SISMEMBER', B .. 'qpaused', name), redis.call('HGET', B .. 'qconc', name) }
end
return out
`;

/**
 * Compare-and-set of one field of a hash: sets KEYS[1] .. ARGV[1] field
 * ARGV[2] to ARGV[4] only while it still holds ARGV[3] ('' for absent).
 * Answers 1 when it was set. Used for breakers, whose state machine runs in
 * the caller (lib/breakers/breaker.machine.ts), retried on a lost race.
 * @internal
 */
export const CAS_FIELD = `
local key = KEYS[1] .. ARGV[1]
local current = redis.call('HGET', key, ARGV[2]) or ''
if current ~= ARGV[3] then return 0 end
redis.call('HSET', key, ARGV[2], ARGV[4])
return 1
`;

/**
 * Deletes lock KEYS[1] .. ARGV[1] when it still holds token ARGV[2].
 * @internal
 */
export const UNLOCK = `
local key = KEYS[1] .. ARGV[1]
if redis.call('GET', key) == ARGV[2] then redis.call('DEL', key) end
return 'OK'
`;
