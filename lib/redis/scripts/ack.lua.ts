import { FREE_HANDBACKS } from '../../store/job-store.js';
import { PRELUDE } from './prelude.lua.js';

/**
 * The acknowledgement of one attempt, fenced: `STALE` unless the job runs
 * with that attempt. op: `complete`, `forget`, `retry`, `dead`,
 * `discarded`, `release`; at: finish or run time (ms); payload: the
 * result's JSON ('' for null) or the error's JSON; class: the error class.
 */
const ACK_ONE = `
-- What a completion reads and changes: HGETALL of the whole hash (results,
-- args, errors…) cost the server 3-4 times an HMGET of these, and each field
-- asked is a search of the hash. move() needs every field it may delete
-- (result) to be read (see move); forget() the keys it frees.
local COMPLETE_FIELDS = { 'state', 'attempt', 'startedAt', 'heartbeatAt', 'queue', 'serialKey', 'uniqueKey', 'um', 'result' }
local FORGET_FIELDS = { 'state', 'attempt', 'startedAt', 'heartbeatAt', 'queue', 'serialKey', 'uniqueKey', 'tickKey', 'name', 'schedule' }
local function load_done(id, fields)
  local v = redis.call('HMGET', jk(id), unpack(fields))
  local h = {}
  for i, f in ipairs(fields) do
    if v[i] then h[f] = v[i] end
  end
  return h
end
-- What move() does for a completion of a job without serial or unique key
-- (nearly every one), written out: in Lua the generic move's tables and
-- loops cost as much as its HSET.
local function complete(id, h, at, payload, startedAt)
  count(h.queue, 'running', -1)
  count(h.queue, 'completed', 1)
  zrem(B .. 'running', id)
  zadd(B .. 'fin:completed', at, id)
  local key = jk(id)
  local set = { 'state', 'completed', 'finishedAt', at }
  if payload ~= '' then
    set[5], set[6] = 'result', payload
  elseif h.result then
    redis.call('HDEL', key, 'result')
  end
  if startedAt then set[#set + 1], set[#set + 2] = 'startedAt', startedAt end
  redis.call('HSET', key, unpack(set))
end
local function ack(op, id, attempt, at, payload, class)
  local h
  if op == 'complete' then h = load_done(id, COMPLETE_FIELDS)
  elseif op == 'forget' then h = load_done(id, FORGET_FIELDS)
  else h = load(id) end
  if not h or h.state ~= 'running' or h.attempt ~= attempt then return 'STALE' end
  local patch = {}
  -- A job claimed ahead and finished before a heartbeat recorded its start: its last heartbeat stands in.
  if not h.startedAt then patch.startedAt = h.heartbeatAt end
  if op == 'forget' then
    forget(id, h)
  elseif op == 'complete' and not h.serialKey and not h.uniqueKey then
    complete(id, h, at, payload, patch.startedAt)
  elseif op == 'complete' then
    patch.result = payload ~= '' and payload or false
    patch.finishedAt = at
    move(id, h, 'completed', patch)
  elseif op == 'retry' then
    push_error(h, patch, payload, class)
    patch.runAt = at
    move(id, h, 'available', patch)
  elseif op == 'dead' or op == 'discarded' then
    push_error(h, patch, payload, class)
    patch.finishedAt = at
    move(id, h, op, patch)
  else
    -- release: the interrupted attempt counts, but a last one is given back ${FREE_HANDBACKS} times.
    local last = tonumber(h.attempt) >= tonumber(h.maxAttempts)
    local free = count_kind(h, 'shutdown') < ${FREE_HANDBACKS}
    push_error(h, patch, payload, class)
    if last and not free then
      patch.finishedAt = at
      move(id, h, 'dead', patch)
    else
      patch.runAt = at
      if last then patch.maxAttempts = s(tonumber(h.maxAttempts) + 1) end
      move(id, h, 'available', patch)
    end
  end
  return 'OK'
end
`;

/**
 * One acknowledgement (see ACK_ONE). ARGV: op, id, attempt, time, payload, error class.
 * @internal
 */
export const ACK = `${PRELUDE}${ACK_ONE}
return ack(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
`;

/**
 * Acknowledgements of many attempts in one call, in order, each fenced on
 * its own. ARGV: groups of op, id, attempt, time, payload, error class.
 * Answers 'OK' or 'STALE' for each. The counts and the running and finished
 * sets are written once for the batch (DEFER).
 * @internal
 */
export const ACK_MANY = `${PRELUDE}${ACK_ONE}
local out = {}
defer()
for i = 1, #ARGV, 6 do
  out[#out + 1] = ack(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
end
flush()
return out
`;

/**
 * Whether acknowledgements whose answer was lost (the connection dropped
 * after they were sent) had in fact been written: ARGV groups of op, id,
 * attempt, payload (the error's JSON for an ack that appends one). Answers 1
 * or 0 for each: `forget`, the job is gone; `complete`, it is completed
 * with that attempt; any other, its errors hold that exact JSON text (which
 * names the attempt, time, kind and message), wherever the job went since.
 * Reads three fields of each job, nothing else.
 * @internal
 */
export const ACK_LANDED = `
local out = {}
for i = 1, #ARGV, 4 do
  local op, attempt, payload = ARGV[i], ARGV[i + 2], ARGV[i + 3]
  local v = redis.call('HMGET', KEYS[1] .. 'job:' .. ARGV[i + 1], 'state', 'attempt', 'errors')
  local yes
  if op == 'forget' then
    yes = not v[1]
  elseif op == 'complete' then
    yes = v[1] == 'completed' and v[2] == attempt
  else
    yes = v[3] and string.find('\\n' .. v[3] .. '\\n', '\\n' .. payload .. '\\n', 1, true) ~= nil
  end
  out[#out + 1] = yes and 1 or 0
end
return out
`;
