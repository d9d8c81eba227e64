/**
 * The leader lease: KEYS[1] .. 'leader' holds `token|node` with a PX
 * expiry; the token comes from INCR on KEYS[1] .. 'leader:fence', so every
 * new leadership has a greater one (a fencing token), even after the
 * dataset was wiped (the counter then starts at the server's clock).
 */

/**
 * Takes the lease (when free) or renews it (when this node holds it). ARGV:
 * node, ttl (ms). Answers the holder's token when this node holds it now, else nil.
 * @internal
 */
export const TAKE_LEASE = `
local key = KEYS[1] .. 'leader'
local current = redis.call('GET', key)
if current then
  local sep = string.find(current, '|', 1, true)
  if string.sub(current, sep + 1) ~= ARGV[1] then return nil end
  redis.call('PEXPIRE', key, ARGV[2])
  return string.sub(current, 1, sep - 1)
end
local token = redis.call('INCR', KEYS[1] .. 'leader:fence')
if token == 1 then
  -- A counter found missing (a wiped dataset) starts at the server's clock in µs: tokens never go back.
  local t = redis.call('TIME')
  token = tonumber(t[1]) * 1000000 + tonumber(t[2])
  redis.call('SET', KEYS[1] .. 'leader:fence', string.format('%d', token))
end
token = string.format('%d', token)
redis.call('SET', key, token .. '|' .. ARGV[1], 'PX', ARGV[2])
return token
`;

/**
 * Gives the lease up when this node (ARGV[1]) holds it with token ARGV[2],
 * and tells the followers on channel ARGV[3] (message ARGV[4]). Answers 1 when released.
 * @internal
 */
export const RESIGN_LEASE = `
local key = KEYS[1] .. 'leader'
if redis.call('GET', key) ~= ARGV[2] .. '|' .. ARGV[1] then return 0 end
redis.call('DEL', key)
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
`;
