import { PRELUDE } from './prelude.lua.js';

/**
 * Inserts a batch in order, each job checked against tick, unique and
 * serial keys (including those of jobs earlier in the batch).
 * ARGV: now (ms, judges unique keys), insertedAt (ms), claimFor node ('' for
 * none), claimFor now, then one JSON object per job (see `RedisStore.insert`).
 * Answers per job `{conflict or '', job}`, the job as one JSON object of its hash's fields.
 * @internal
 */
export const INSERT = `${PRELUDE}
local now, insertedAt, node, claimNow = tonumber(ARGV[1]), ARGV[2], ARGV[3], tonumber(ARGV[4])
local out = {}
for i = 5, #ARGV do
  local j = cjson.decode(ARGV[i])
  local conflict, hid = nil, nil
  if j.tickKey then
    hid = redis.call('HGET', B .. 'tick', j.tickKey)
    if hid then conflict = 'tick' end
  end
  if not conflict and j.uniqueKey then
    hid = unique_holder(j.uniqueKey, j.um, j.up, now)
    if hid then conflict = 'unique' end
  end
  if not conflict and j.serialKey then
    local waiting = redis.call('ZRANGE', B .. 'sw:' .. j.serialKey, 0, 0)
    if #waiting > 0 then
      hid = waiting[1]
      conflict = 'serial'
    end
  end
  if conflict then
    out[#out + 1] = { conflict, cjson.encode(load(hid) or {}) }
  else
    local id = s(counter(B .. 'seq'))
    local h = {
      id = id, name = j.name, queue = j.queue, args = j.args, state = 'available', priority = s(j.priority),
      attempt = '0', maxAttempts = s(j.maxAttempts), runAt = s(j.runAt), scheduledAt = s(j.scheduledAt),
      insertedAt = insertedAt, tags = j.tags, meta = j.meta,
    }
    if j.misfired then h.misfired = '1' end
    for _, f in ipairs({ 'schedule', 'tickKey', 'uniqueKey', 'serialKey', 'pinnedNode', 'trace', 'preemptible' }) do
      if j[f] then h[f] = j[f] end
    end
    if j.timeout then h.timeout = s(j.timeout) end
    if j.uniqueKey then
      h.um = s(j.um)
      h.us = s(now)
      redis.call('HSET', B .. 'uniq', j.uniqueKey, id)
    end
    if j.tickKey then redis.call('HSET', B .. 'tick', j.tickKey, id) end
    redis.call('HSET', jk(id), unpack(flat(h)))
    redis.call('ZADD', B .. 'all', id, id)
    redis.call('ZADD', B .. 'n:' .. j.name, id, id)
    if j.schedule then redis.call('ZADD', B .. 's:' .. j.schedule, id, id) end
    redis.call('SADD', B .. 'queues', j.queue)
    enter(id, h)
    if node ~= '' and j.claimable and not blocked(h, node) then start(id, h, node, claimNow, true) end
    out[#out + 1] = { '', cjson.encode(h) }
  end
end
return out
`;
