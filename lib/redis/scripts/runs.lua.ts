/**
 * Workflow runs: `run:<id>` hashes (j: the run's JSON, w: workflow, s:
 * state), `runs` (every id by creation) and `runs:fin` (finished ones by
 * finish time). Every script takes KEYS[1], the store's base.
 */

/**
 * Creates a run. ARGV: JSON without id (the script splices it in), workflow, state, finishedAt ('' none). Answers the id.
 * @internal
 */
export const CREATE_RUN = `
local B = KEYS[1]
local id = redis.call('INCR', B .. 'runseq')
if id == 1 then
  -- A counter found missing (a wiped dataset) starts at the server's clock in µs: a run id is never given twice.
  local t = redis.call('TIME')
  id = tonumber(t[1]) * 1000000 + tonumber(t[2])
  redis.call('SET', B .. 'runseq', string.format('%d', id))
end
local sid = string.format('%d', id)
redis.call('HSET', B .. 'run:' .. sid, 'j', '{"id":"' .. sid .. '",' .. string.sub(ARGV[1], 2), 'w', ARGV[2], 's', ARGV[3])
redis.call('ZADD', B .. 'runs', sid, sid)
if ARGV[4] ~= '' then redis.call('ZADD', B .. 'runs:fin', ARGV[4], sid) end
return sid
`;

/**
 * Saves a run only while it is still as read: ARGV: id, JSON read, new JSON, state, finishedAt ('' none). Answers 1 when saved.
 * @internal
 */
export const SAVE_RUN = `
local B, id = KEYS[1], ARGV[1]
if redis.call('HGET', B .. 'run:' .. id, 'j') ~= ARGV[2] then return 0 end
redis.call('HSET', B .. 'run:' .. id, 'j', ARGV[3], 's', ARGV[4])
if ARGV[5] ~= '' then redis.call('ZADD', B .. 'runs:fin', ARGV[5], id) else redis.call('ZREM', B .. 'runs:fin', id) end
return 1
`;

/**
 * Runs newest first. ARGV: workflow ('' any), limit, the id the runs must be older than ('' none), then states (none: any). Answers their JSON texts.
 * @internal
 */
export const LIST_RUNS = `
local B, workflow, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
local max = '+inf'
if ARGV[3] ~= '' then max = '(' .. ARGV[3] end
local states = nil
if #ARGV > 3 then
  states = {}
  for i = 4, #ARGV do states[ARGV[i]] = true end
end
local out = {}
if limit <= 0 then return out end
local total = redis.call('ZCARD', B .. 'runs')
for start = 0, total - 1, 500 do
  for _, id in ipairs(redis.call('ZREVRANGEBYSCORE', B .. 'runs', max, '-inf', 'LIMIT', start, 500)) do
    local r = redis.call('HMGET', B .. 'run:' .. id, 'j', 'w', 's')
    if (workflow == '' or r[2] == workflow) and (not states or states[r[3]]) then
      out[#out + 1] = r[1]
      if #out >= limit then return out end
    end
  end
end
return out
`;

/**
 * Deletes up to ARGV[2] finished runs finished before ARGV[1], oldest first.
 * @internal
 */
export const DELETE_RUNS = `
local B = KEYS[1]
local limit = tonumber(ARGV[2])
if limit <= 0 then return 0 end
local ids = redis.call('ZRANGEBYSCORE', B .. 'runs:fin', '-inf', '(' .. ARGV[1], 'LIMIT', 0, limit)
for _, id in ipairs(ids) do
  redis.call('DEL', B .. 'run:' .. id)
  redis.call('ZREM', B .. 'runs', id)
  redis.call('ZREM', B .. 'runs:fin', id)
end
return #ids
`;
