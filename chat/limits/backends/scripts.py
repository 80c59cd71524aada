"""The Lua scripts behind RedisBackend. Each runs atomically on the server; memory.py
mirrors each one step by step. Times are epoch seconds from the app's clock, passed
in (so tests control them) and printed back with %.17g (so no precision is lost);
amounts are integer strings, so HINCRBY never sees a float."""

_NUM = "local function num(x) return string.format('%.17g', x) end\n"

# A period counter's use (t, c) and live holds (h:<id> -> "tokens cost until"). A
# hold whose lease ran out belongs to a dead process and counts as spent in full;
# with `charge` it is also written so (the admission check does; display does not).
_TALLY = """
local function tally(key, now, charge)
  local flat = redis.call('HGETALL', key)
  local ut, uc, ht, hc = 0, 0, 0, 0
  for j = 1, #flat, 2 do
    local field, value = flat[j], flat[j + 1]
    if field == 't' then
      ut = ut + tonumber(value)
    elseif field == 'c' then
      uc = uc + tonumber(value)
    else
      local t, c, untl = string.match(value, '^(%d+) (%d+) (%S+)$')
      if tonumber(untl) <= now then
        if charge then
          redis.call('HINCRBY', key, 't', t)
          redis.call('HINCRBY', key, 'c', c)
          redis.call('HDEL', key, field)
        end
        ut, uc = ut + tonumber(t), uc + tonumber(c)
      else
        ht, hc = ht + tonumber(t), hc + tonumber(c)
      end
    end
  end
  return #flat > 0, ut, uc, ht, hc
end
"""

# KEYS: rate, slots, counter...
# ARGV: now, id, lease_until, max_concurrent, tokens, cost, slot_ttl, nrules,
#       (limit, window) per rule, then (tokens_limit, cost_limit) per counter,
#       -1 meaning no limit.
USER_ADMIT = (
    _NUM
    + _TALLY
    + """
local now = tonumber(ARGV[1])
local id, lease_until = ARGV[2], ARGV[3]
local max_concurrent = tonumber(ARGV[4])
local need_t, need_c = tonumber(ARGV[5]), tonumber(ARGV[6])
local nrules = tonumber(ARGV[8])
local rate, slots = KEYS[1], KEYS[2]

-- Slots whose lease ran out belong to processes that died.
redis.call('ZREMRANGEBYSCORE', slots, '-inf', ARGV[1])

local missing, exhausted, held = {}, {}, {}
local arg = 9 + 2 * nrules
for i = 3, #KEYS do
  local tl, cl = tonumber(ARGV[arg]), tonumber(ARGV[arg + 1])
  arg = arg + 2
  local exists, ut, uc, ht, hc = tally(KEYS[i], now, true)
  if not exists then
    missing[#missing + 1] = (i - 3) .. ':'
  else
    local over_t = tl >= 0 and ut + need_t > tl
    local over_c = cl >= 0 and uc + need_c > cl
    if over_t or over_c then
      exhausted[#exhausted + 1] = (i - 3) .. ':' .. (over_t and 't' or '')
        .. (over_c and 'c' or '')
    elseif (tl >= 0 and ut + ht + need_t > tl)
        or (cl >= 0 and uc + hc + need_c > cl) then
      held[#held + 1] = (i - 3) .. ':'
    end
  end
end
if #missing > 0 then return {'seed', '0', unpack(missing)} end
if #exhausted > 0 then return {'budget', '0', unpack(exhausted)} end

local wait, longest = 0, 0
if nrules > 0 then
  for r = 0, nrules - 1 do
    local window = tonumber(ARGV[10 + 2 * r])
    if window > longest then longest = window end
  end
  redis.call('ZREMRANGEBYSCORE', rate, '-inf', num(now - longest))
  for r = 0, nrules - 1 do
    local limit, window = tonumber(ARGV[9 + 2 * r]), tonumber(ARGV[10 + 2 * r])
    local since = '(' .. num(now - window)
    local count = redis.call('ZCOUNT', rate, since, '+inf')
    if count >= limit then
      -- Allowed again when the entry that brings the count under the limit leaves.
      local untl = now + window
      local k = count - limit
      if k < count then
        local entry = redis.call('ZRANGEBYSCORE', rate, since, '+inf', 'WITHSCORES',
          'LIMIT', k, 1)
        untl = tonumber(entry[2]) + window
      end
      if untl - now > wait then wait = untl - now end
    end
  end
end
if wait > 0 then return {'rate', num(wait)} end
if redis.call('ZCARD', slots) >= max_concurrent then return {'busy', '0'} end
if #held > 0 then return {'held', '0', unpack(held)} end

if nrules > 0 then
  redis.call('ZADD', rate, ARGV[1], id)
  redis.call('EXPIRE', rate, math.floor(longest) + 2)
end
redis.call('ZADD', slots, lease_until, id)
redis.call('EXPIRE', slots, ARGV[7])
local hold = ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. lease_until
for i = 3, #KEYS do
  redis.call('HSET', KEYS[i], 'h:' .. id, hold)
end
return {'ok', '0'}
"""
)

# KEYS: slots, counter...   ARGV: id, until, ttl
USER_RENEW = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local field = 'h:' .. ARGV[1]
for i = 2, #KEYS do
  local hold = redis.call('HGET', KEYS[i], field)
  if hold then
    local t, c = string.match(hold, '^(%d+) (%d+) ')
    redis.call('HSET', KEYS[i], field, t .. ' ' .. c .. ' ' .. ARGV[2])
  end
end
return 1
"""

# KEYS: slots, counter...   ARGV: id, tokens, cost
USER_SETTLE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local settled = 0
for i = 2, #KEYS do
  if redis.call('HDEL', KEYS[i], 'h:' .. ARGV[1]) == 1 then
    redis.call('HINCRBY', KEYS[i], 't', ARGV[2])
    redis.call('HINCRBY', KEYS[i], 'c', ARGV[3])
    settled = settled + 1
  end
end
return settled
"""

# KEYS: counter   ARGV: tokens, cost, ttl
COUNTER_SEED = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'c', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
"""

# KEYS: counter   ARGV: ttl
COUNTER_RESET = """
local new = redis.call('EXISTS', KEYS[1]) == 0
redis.call('HSET', KEYS[1], 't', '0', 'c', '0')
if new then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return 1
"""

# KEYS: counter...   ARGV: now
# Returns five numbers per counter: exists, used tokens, used cost, held tokens,
# held cost (an expired hold counts as used, as the next admission will make it).
COUNTER_READ = (
    _NUM
    + _TALLY
    + """
local now = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local exists, ut, uc, ht, hc = tally(KEYS[i], now, false)
  out[#out + 1] = exists and '1' or '0'
  out[#out + 1] = num(ut)
  out[#out + 1] = num(uc)
  out[#out + 1] = num(ht)
  out[#out + 1] = num(hc)
end
return out
"""
)

# KEYS: queue, waiters, seq, inflight, log, pause, tokens
# ARGV: now, ticket, queue_max, waiter_until, lease_until, max_inflight, rpm, tpm,
#       tokens, ttl (-1 meaning no limit)
# Returns {outcome, 0-based position, known wait}.
UPSTREAM_ACQUIRE = (
    _NUM
    + """
local queue, waiters, seq = KEYS[1], KEYS[2], KEYS[3]
local inflight, log, pause, tokens_key = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local now, ticket = tonumber(ARGV[1]), ARGV[2]
local max_inflight, rpm, tpm = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local tokens = tonumber(ARGV[9])
local function weight(member) return tonumber(string.match(member, '^(%d+):')) end

-- Forget waiters that stopped asking (their process died) and lapsed slots.
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', waiters, '-inf', ARGV[1])) do
  redis.call('ZREM', queue, gone)
end
redis.call('ZREMRANGEBYSCORE', waiters, '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', inflight, '-inf', ARGV[1])

-- The last minute's requests, and their tokens: a running total, so no check
-- walks the whole log.
local total = tonumber(redis.call('GET', tokens_key) or '-1')  -- -1: unknown
local old = redis.call('ZRANGEBYSCORE', log, '-inf', num(now - 60))
if #old > 0 then
  redis.call('ZREMRANGEBYSCORE', log, '-inf', num(now - 60))
  if total >= 0 then
    for _, member in ipairs(old) do total = total - weight(member) end
  end
end
local count = redis.call('ZCARD', log)
if count == 0 then
  total = 0
elseif total < 0 then
  total = 0
  for _, member in ipairs(redis.call('ZRANGE', log, 0, -1)) do
    total = total + weight(member)
  end
end

local rank = redis.call('ZRANK', queue, ticket)
local queued = rank ~= false
if not queued then rank = redis.call('ZCARD', queue) end

local outcome, wait = 'ok', 0
local paused = tonumber(redis.call('GET', pause) or '0')
if paused > now then
  outcome, wait = 'paused', paused - now
elseif rank > 0 then
  outcome = 'wait'
else
  if max_inflight >= 0 and redis.call('ZCARD', inflight) >= max_inflight then
    outcome = 'wait'
  end
  if rpm >= 0 and count >= rpm then
    -- Allowed when the entry that brings the count under the limit leaves.
    outcome = 'wait'
    local at = now + 60
    if rpm > 0 then
      at = tonumber(redis.call('ZRANGE', log, count - rpm, count - rpm,
        'WITHSCORES')[2]) + 60
    end
    if at - now > wait then wait = at - now end
  end
  if tpm >= 0 and total > 0 and total + tokens > tpm then
    outcome = 'wait'
    local at, left = now, total
    local entries = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
    for j = 1, #entries, 2 do
      if left == 0 or left + tokens <= tpm then break end
      left = left - weight(entries[j])
      at = tonumber(entries[j + 1]) + 60
    end
    if at - now > wait then wait = at - now end
  end
end

local function touch()
  for _, key in ipairs({queue, waiters, seq, inflight, log, tokens_key}) do
    redis.call('EXPIRE', key, ARGV[10])
  end
end
if outcome == 'ok' then
  redis.call('ZREM', queue, ticket)
  redis.call('ZREM', waiters, ticket)
  redis.call('ZADD', inflight, ARGV[5], ticket)
  redis.call('ZADD', log, ARGV[1], ARGV[9] .. ':' .. ticket)
  redis.call('SET', tokens_key, total + tokens)
  touch()
  return {'ok', 0, '0'}
end
redis.call('SET', tokens_key, total)
if not queued then
  if rank >= tonumber(ARGV[3]) then
    touch()
    return {'full', rank, num(wait)}
  end
  redis.call('ZADD', queue, redis.call('INCR', seq), ticket)
end
redis.call('ZADD', waiters, ARGV[4], ticket)
touch()
return {outcome, rank, num(wait)}
"""
)

# KEYS: inflight   ARGV: ticket, until
UPSTREAM_RENEW = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""

# KEYS: queue, waiters, inflight, log, tokens
# ARGV: ticket, log member to forget or ''
UPSTREAM_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if ARGV[2] ~= '' and redis.call('ZREM', KEYS[4], ARGV[2]) == 1 then
  local total = tonumber(redis.call('GET', KEYS[5]) or '0')
  local weight = tonumber(string.match(ARGV[2], '^(%d+):'))
  redis.call('SET', KEYS[5], math.max(0, total - weight), 'KEEPTTL')
end
return 1
"""

# KEYS: pause   ARGV: until, ttl in milliseconds
UPSTREAM_PAUSE = (
    _NUM
    + """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return num(current)
"""
)

# KEYS: waiters, inflight, pause   ARGV: now
UPSTREAM_STATE = """
return {
  redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[1], '+inf'),
  redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[1], '+inf'),
  redis.call('GET', KEYS[3]) or '0',
}
"""
