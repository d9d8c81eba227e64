import { FREE_HANDBACKS } from '../../store/job-store.js';
import { PRELUDE } from './prelude.lua.js';

/**
 * The acknowledgements of one attempt, fenced: `STALE` unless the job runs
 * with that attempt. ARGV: op (`complete`, `forget`, `retry`, `dead`,
 * `discarded`, `release`), id, attempt, time (finish or run time, ms),
 * payload (the result's JSON, '' for null; or the error's JSON), error class.
 * @internal
 */
export const ACK = `${PRELUDE}
local op, id, attempt, at, payload, class = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local h = load(id)
if not h or h.state ~= 'running' or h.attempt ~= attempt then return 'STALE' end
local patch = {}
-- A job claimed ahead and finished before a heartbeat recorded its start: its last heartbeat stands in.
if not h.startedAt then patch.startedAt = h.heartbeatAt end
if op == 'forget' then
  forget(id, h)
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
`;
