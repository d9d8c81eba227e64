import { FREE_HANDBACKS, RESCUE_BACKOFF_BASE, RESCUE_BACKOFF_MAX } from '../../store/job-store.js';
import { PRELUDE } from './prelude.lua.js';

/**
 * Hands never-started claims back. ARGV: runAt ('' keeps it), then id, attempt pairs.
 * @internal
 */
export const UNCLAIM = `${PRELUDE}
local runAt, n = ARGV[1], 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local h = load(id)
  if h and h.state == 'running' and h.attempt == ARGV[i + 1] then
    local patch = { attempt = s(tonumber(h.attempt) - 1), startedAt = false, heartbeatAt = false, node = false }
    if runAt ~= '' then patch.runAt = runAt end
    move(id, h, 'available', patch)
    n = n + 1
  end
end
return n
`;

/**
 * Heartbeats. ARGV: now, then id, attempt, start ('' none yet, else the start in ms) triples. Answers the lost refs' ids and attempts.
 * @internal
 */
export const HEARTBEAT = `${PRELUDE}
local now, lost = ARGV[1], {}
for i = 2, #ARGV, 3 do
  local id, attempt, started = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local hm = redis.call('HMGET', jk(id), 'state', 'attempt', 'startedAt')
  if hm[1] ~= 'running' or hm[2] ~= attempt then
    lost[#lost + 1] = id
    lost[#lost + 1] = attempt
  else
    redis.call('HSET', jk(id), 'heartbeatAt', now)
    redis.call('ZADD', B .. 'running', now, id)
    if not hm[3] and started ~= '' then redis.call('HSET', jk(id), 'startedAt', started) end
  end
end
return lost
`;

/**
 * Cancels an available or running job. ARGV: id, now, reason (JSON text). Answers the job as it was, or nil.
 * @internal
 */
export const CANCEL = `${PRELUDE}
local id, now = ARGV[1], tonumber(ARGV[2])
local h = load(id)
if not h or (h.state ~= 'available' and h.state ~= 'running') then return nil end
local before = read(id)
local patch = { finishedAt = s(now) }
push_error(h, patch, '{"attempt":' .. h.attempt .. ',"at":' .. s(now) .. ',"name":"CancelledError","message":' .. ARGV[3] .. ',"kind":"cancel"}', '')
move(id, h, 'cancelled', patch)
return before
`;

/**
 * Rescues running jobs whose heartbeat is older than ARGV[1], at ARGV[2]
 * (see \`JobStore.rescue\`). Answers the jobs after the change, by id.
 * @internal
 */
export const RESCUE = `${PRELUDE}
local before, now = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', B .. 'running', '-inf', '(' .. s(before))
table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)
local out = {}
for _, id in ipairs(ids) do
  local h = load(id)
  -- A member whose job is gone (evicted, deleted by hand) would fail every rescue pass: it leaves the set.
  if not h then
    redis.call('ZREM', B .. 'running', id)
  else
    local since = iso(tonumber(h.heartbeatAt or h.startedAt))
    local patch = {}
    if not h.startedAt and count_kind(h, 'unstarted') < ${FREE_HANDBACKS} then
      local msg = 'claimed ahead by a node that stopped before starting it (no heartbeat since ' .. since .. '); this attempt is not counted'
      push_error(h, patch, err_json(h.attempt, now, 'RescuedError', msg, 'unstarted'), '')
      patch.runAt = s(now)
      patch.maxAttempts = s(tonumber(h.maxAttempts) + 1)
      move(id, h, 'available', patch)
    else
      local rescues = count_kind(h, 'lease-lost')
      local delay = 0
      if rescues > 0 then delay = math.min(${RESCUE_BACKOFF_BASE} * 2 ^ (rescues - 1), ${RESCUE_BACKOFF_MAX}) end
      push_error(h, patch, err_json(h.attempt, now, 'RescuedError', 'no heartbeat since ' .. since, 'lease-lost'), '')
      if tonumber(h.attempt) < tonumber(h.maxAttempts) then
        patch.runAt = s(now + delay)
        move(id, h, 'available', patch)
      else
        patch.finishedAt = s(now)
        move(id, h, 'dead', patch)
      end
    end
    out[#out + 1] = read(id)
  end
end
return out
`;

/**
 * Records a running attempt's progress. ARGV: id, attempt, progress (JSON). Answers 1, or 0 (nothing written) when the attempt no longer holds its job.
 * @internal
 */
export const PROGRESS = `
local key = KEYS[1] .. 'job:' .. ARGV[1]
local hm = redis.call('HMGET', key, 'state', 'attempt')
if hm[1] ~= 'running' or hm[2] ~= ARGV[2] then return 0 end
redis.call('HSET', key, 'progress', ARGV[3])
return 1
`;
