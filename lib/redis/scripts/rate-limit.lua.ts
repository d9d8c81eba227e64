import { PRELUDE } from './prelude.lua.js';

/**
 * Token buckets in one hash (`rl`, field `kind:name`, value `tokens at`),
 * refilled from the callers' times (the scheduler judges time by the
 * store's clock, see `RedisStore.clockNow`); time never runs backwards for
 * a bucket. A new bucket is full.
 */
const BUCKETS = `
local function bucket(now, kind, name, cap, rate)
  local f = kind .. ':' .. name
  local b = { f = f, cap = cap, rate = rate, tokens = cap, at = now }
  local v = redis.call('HGET', B .. 'rl', f)
  if v then
    local sp = string.find(v, ' ', 1, true)
    b.tokens = math.min(cap, tonumber(string.sub(v, 1, sp - 1)))
    b.at = tonumber(string.sub(v, sp + 1))
  end
  if now > b.at then
    b.tokens = math.min(cap, b.tokens + (now - b.at) / 1000 * rate)
    b.at = now
  end
  return b
end
local function whole(b) return math.floor(b.tokens + 1e-9) end
local function next_token(b, now)
  local t = b.tokens + 1e-9
  if t >= 1 then return now end
  return now + math.ceil((1 - t) / b.rate * 1000)
end
local function save(b) redis.call('HSET', B .. 'rl', b.f, string.format('%.17g %d', b.tokens, b.at)) end
`;

/**
 * A bucket now. ARGV: kind, name, capacity, refill per second, now. Answers its tokens as text.
 * @internal
 */
export const BUCKET_STATUS = `${PRELUDE}${BUCKETS}
local b = bucket(tonumber(ARGV[5]), ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
return string.format('%.17g', b.tokens)
`;

/**
 * A rate-limited claim (see \`JobRateLimits.claim\`): the plain claim's
 * order and skips, taking a token from every bucket that applies to each
 * job, in the same atomic step. ARGV: queue, limit, node, now, maxPriority,
 * start, the claim's token (a claim sent again answers the jobs it took,
 * and no held ones), global capacity and refill ('' '' for none), queue capacity and
 * refill, then name, capacity, refill triples. Answers {claimed jobs, held
 * jobs, retryAt ('' for none)}, each job as one JSON object of its
 * hash's fields, as the plain claim answers (see decodeJobJson).
 * @internal
 */
export const CLAIM_LIMITED = `${PRELUDE}${BUCKETS}
local queue, limit, node, now, maxp, starts, token = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local replay = claim_replay(token, node, queue)
if replay then
  local again = {}
  for _, h in ipairs(replay) do again[#again + 1] = cjson.encode(h) end
  return { again, {}, '' }
end
local shared, touched, specs, own, taken = {}, {}, {}, {}, {}
if ARGV[8] ~= '' then shared[#shared + 1] = bucket(now, 'global', '', tonumber(ARGV[8]), tonumber(ARGV[9])) end
if ARGV[10] ~= '' then shared[#shared + 1] = bucket(now, 'queues', queue, tonumber(ARGV[10]), tonumber(ARGV[11])) end
for i = 12, #ARGV, 3 do specs[ARGV[i]] = { tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]) } end
for _, b in ipairs(shared) do touched[#touched + 1] = b end
local claimed, held = {}, {}
each_due(queue, now, maxp, function(id, h, member)
  if blocked(h, node) then return 'left' end
  local mine = nil
  local spec = specs[h.name]
  if spec then
    mine = own[h.name]
    if not mine then
      mine = bucket(now, 'jobs', h.name, spec[1], spec[2])
      own[h.name] = mine
      touched[#touched + 1] = mine
    end
    -- A name whose bucket is empty never stands in front of other names' jobs.
    if whole(mine) < 1 then
      if #held < limit then held[#held + 1] = { h = h, b = mine } end
      return 'left'
    end
  end
  for _, b in ipairs(shared) do
    if whole(b) < 1 then
      held[#held + 1] = { h = h, b = mine }
      if #claimed + #held >= limit then return 'stop' end
      return 'left'
    end
  end
  for _, b in ipairs(shared) do b.tokens = b.tokens - 1 end
  if mine then mine.tokens = mine.tokens - 1 end
  start(id, h, node, now, #claimed < starts, member)
  claimed[#claimed + 1] = cjson.encode(h)
  taken[#taken + 1] = id .. ':' .. h.attempt
  if #claimed >= limit then return 'stop' end
  return 'taken'
end)
for _, b in ipairs(touched) do save(b) end
claim_remember(token, node, queue, taken)
local sharedNext = now
for _, b in ipairs(shared) do sharedNext = math.max(sharedNext, next_token(b, now)) end
local heldJobs, retryAt = {}, nil
for i, entry in ipairs(held) do
  if i > limit - #claimed then break end
  heldJobs[#heldJobs + 1] = cjson.encode(entry.h)
  local at = math.max(sharedNext, entry.b and next_token(entry.b, now) or now)
  if not retryAt or at < retryAt then retryAt = at end
end
return { claimed, heldJobs, retryAt and s(retryAt) or '' }
`;
