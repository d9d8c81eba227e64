import { PRELUDE } from './prelude.lua.js';

/**
 * Claims up to `limit` due jobs of a queue in claim order (priority, run
 * time, insertion), skipping paused names, other nodes' pinned jobs and
 * running serial keys. ARGV: queue, limit, node, now, maxPriority, start
 * (how many start at once), the claim's token (see claim_replay), then the
 * ids to pick from (none: the whole queue).
 * The counts and the running set are written once for the claim (DEFER).
 * Answers each job as one JSON object of its hash's fields (see decodeJobJson).
 * @internal
 */
export const CLAIM = `${PRELUDE}
local queue, limit, node, now, maxp, starts, token = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local out, taken = {}, {}
local replay = claim_replay(token, node, queue)
if replay then
  for _, h in ipairs(replay) do out[#out + 1] = cjson.encode(h) end
  return out
end
defer()
local function take(id, h, member)
  start(id, h, node, now, #out < starts, member)
  out[#out + 1] = cjson.encode(h)
  taken[#taken + 1] = id .. ':' .. h.attempt
end
if #ARGV > 7 then
  local picks, seen = {}, {}
  for i = 8, #ARGV do
    local id = ARGV[i]
    local h = not seen[id] and load(id)
    seen[id] = true
    if h and h.state == 'available' and h.queue == queue and tonumber(h.runAt) <= now and tonumber(h.priority) <= maxp then
      picks[#picks + 1] = { id = id, h = h, score = score(h) }
    end
  end
  table.sort(picks, function(a, b)
    if a.score ~= b.score then return a.score < b.score end
    return tonumber(a.id) < tonumber(b.id)
  end)
  for _, p in ipairs(picks) do
    if #out >= limit then break end
    if not blocked(p.h, node) then take(p.id, p.h) end
  end
else
  each_due(queue, now, maxp, function(id, h, member)
    if blocked(h, node) then return 'left' end
    take(id, h, member)
    if #out >= limit then return 'stop' end
    return 'taken'
  end)
end
flush()
claim_remember(token, node, queue, taken)
return out
`;
