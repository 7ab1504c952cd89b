//! The Lua scripts that make each cluster step atomic in Redis. Each runs
//! whole or not at all, so a message's id, its place in the room's log and
//! its publication never come apart, a name is claimed by one session
//! only, and a dead node's sessions end once.
//!
//! Keys (all under `b:`): `nodes` (set of node ids), `node:{id}` (alive,
//! with a TTL), `node:{id}:s` (its sessions), `dead:{id}` (when it was
//! first seen dead); `n:{name key}` (the session owning a name); `s:{sid}`
//! (hash: name, key, token, node, acct), `s:{sid}:rooms`, `s:{sid}:ack`
//! (seq → "id ts room"), `s:{sid}:mk` (a guest's markers); `acct` (name
//! key → "Name\tphc"); `r:{room}:seq` (last id), `r:{room}:ev` (last
//! event number), `r:{room}:log` (stream, entry `{id}-0`, fields `f` and
//! `r`), `r:{room}:m` (zset sid → join order), `r:{room}:names`; `mk:{key}`
//! (an account's markers: `r:{room}` read, `d:{room}` delivered);
//! `conv:{key}` (an account's conversations); `online` (sids); `f:{hash}`
//! (rooms a file was posted in), `fm:{hash}` ("size mime"), `used` (key →
//! bytes). Channels: `b:r:{room}` (a room's events), `b:u:{key}` (an
//! account's conversations' events), `b:node:{id}` (to one node).
//!
//! Numbers pass through Lua's doubles: ids and event numbers are exact
//! below 10^14, which no room reaches; the core clamps what peers send.

/// Helpers every script starts with.
const PRELUDE: &str = r#"
local function ns(s) s = tostring(s) return #s .. ':' .. s end
local function int(x) return math.floor(tonumber(x) or 0) end
local function str(n) return string.format('%d', n) end
local function parties(room)
  local bar = string.find(room, '|', 2, true)
  return string.sub(room, 2, bar - 1), string.sub(room, bar + 1)
end
local function chans(room)
  if string.sub(room, 1, 1) == '@' then
    local a, b = parties(room)
    return {'b:u:' .. a, 'b:u:' .. b}
  end
  return {'b:r:' .. room}
end
local function pub(room, kind, body)
  local ev = redis.call('INCR', 'b:r:' .. room .. ':ev')
  local rec = kind .. ns(str(ev)) .. ns(room) .. body
  for _, c in ipairs(chans(room)) do redis.call('PUBLISH', c, rec) end
  return ev
end
local function mkkey(sid)
  local s = redis.call('HMGET', 'b:s:' .. sid, 'acct', 'key')
  if s[1] == '1' then return 'b:mk:' .. s[2] end
  return 'b:s:' .. sid .. ':mk'
end
local function last_of(room) return int(redis.call('GET', 'b:r:' .. room .. ':seq')) end
local function page(room, after, before, limit, last)
  local hi = last
  if before > 0 and before - 1 < hi then hi = before - 1 end
  local floor = after + 1
  limit = math.min(limit, 1000)
  if hi < floor or limit <= 0 then
    if hi >= floor then return {}, 1 end
    return {}, 0
  end
  local lo = math.max(floor, hi + 1 - limit)
  local out = {}
  for _, e in ipairs(redis.call('XRANGE', 'b:r:' .. room .. ':log', str(lo) .. '-0', str(hi) .. '-0')) do
    out[#out + 1] = e[2][4]
  end
  if lo > floor then return out, 1 end
  return out, 0
end
local function names_of(room, sids)
  local out = {}
  for i = 1, #sids, 1000 do
    local part = {}
    for j = i, math.min(i + 999, #sids) do part[#part + 1] = sids[j] end
    for _, n in ipairs(redis.call('HMGET', 'b:r:' .. room .. ':names', unpack(part))) do out[#out + 1] = n end
  end
  return out
end
local function left(room, sid)
  redis.call('HDEL', 'b:r:' .. room .. ':names', sid)
  if redis.call('EXISTS', 'b:r:' .. room .. ':m', 'b:r:' .. room .. ':seq') == 0 then
    redis.call('DEL', 'b:r:' .. room .. ':ev')
  end
end
local function finish(sid, event, reason)
  local s = 'b:s:' .. sid
  local h = redis.call('HMGET', s, 'name', 'key', 'node')
  if not h[1] then return 0 end
  local body = ns(h[1]) .. ns(event) .. ns(reason) .. ns(sid)
  for _, r in ipairs(redis.call('SMEMBERS', s .. ':rooms')) do
    if redis.call('ZREM', 'b:r:' .. r .. ':m', sid) == 1 then
      pub(r, 'P', body)
      left(r, sid)
    end
  end
  if redis.call('GET', 'b:n:' .. h[2]) == sid then redis.call('DEL', 'b:n:' .. h[2]) end
  redis.call('SREM', 'b:node:' .. h[3] .. ':s', sid)
  redis.call('SREM', 'b:online', sid)
  redis.call('DEL', s, s .. ':rooms', s .. ':ack', s .. ':mk')
  return 1
end
"#;

/// SAY (and a finished upload): unless the session's seq was stored
/// already (then its ACK memory), the room's next id, the log entry, the
/// record on every channel, the ACK memory; for a file, who may fetch it
/// and the sender's quota. ARGV: room, sid, seq, from, ts, body, then for
/// a file: hash, "size mime", account key, size. Returns {stored (1) or
/// repeated (0), "id ts room"}.
const SAY: &str = r#"
local room, sid, seq = ARGV[1], ARGV[2], ARGV[3]
local acks = 'b:s:' .. sid .. ':ack'
local seen = redis.call('HGET', acks, seq)
if seen then return {0, seen} end
local id = redis.call('INCR', 'b:r:' .. room .. ':seq')
local ev = redis.call('INCR', 'b:r:' .. room .. ':ev')
local rec = 'M' .. ns(str(ev)) .. ns(room) .. ns(str(id)) .. ARGV[6]
redis.call('XADD', 'b:r:' .. room .. ':log', str(id) .. '-0', 'f', ARGV[4], 'r', rec)
for _, c in ipairs(chans(room)) do redis.call('PUBLISH', c, rec) end
local a = str(id) .. ' ' .. ARGV[5] .. ' ' .. room
redis.call('HSET', acks, seq, a)
if int(seq) > 1024 then redis.call('HDEL', acks, str(int(seq) - 1024)) end
if string.sub(room, 1, 1) == '@' then
  local x, y = parties(room)
  redis.call('SADD', 'b:conv:' .. x, room)
  redis.call('SADD', 'b:conv:' .. y, room)
end
if ARGV[7] then
  redis.call('SADD', 'b:f:' .. ARGV[7], room)
  redis.call('SET', 'b:fm:' .. ARGV[7], ARGV[8])
  redis.call('HINCRBY', 'b:used', ARGV[9], ARGV[10])
end
return {1, a}
"#;

/// HELLO, first step: who owns the name (session and token) and the
/// account, if any. ARGV: name key. Returns {sid, token, "Name\tphc"}
/// (each false when absent).
const LOOKUP: &str = r#"
local owner = redis.call('GET', 'b:n:' .. ARGV[1])
local token = false
if owner then token = redis.call('HGET', 'b:s:' .. owner, 'token') or false end
return {owner or false, token, redis.call('HGET', 'b:acct', ARGV[1]) or false}
"#;

/// HELLO, last step: claims a free name for a new session, or takes over
/// the session whose token is `resume` (telling its old node). ARGV: name
/// key, new sid, resume token, node, new token, name, account (0/1).
/// Returns {'new', sid, online} | {'taken'} | {'resumed', sid, old node,
/// account, online, rooms, ACK memory (flat seq, "id ts room" pairs),
/// name}.
const CLAIM: &str = r#"
local key, sid, node = ARGV[1], ARGV[2], ARGV[4]
local owner = redis.call('GET', 'b:n:' .. key)
if not owner then
  redis.call('SET', 'b:n:' .. key, sid)
  redis.call('HSET', 'b:s:' .. sid, 'name', ARGV[6], 'token', ARGV[5], 'node', node, 'acct', ARGV[7], 'key', key)
  redis.call('SADD', 'b:node:' .. node .. ':s', sid)
  redis.call('SADD', 'b:online', sid)
  return {'new', sid, redis.call('SCARD', 'b:online')}
end
local s = 'b:s:' .. owner
if ARGV[3] == '0' or redis.call('HGET', s, 'token') ~= ARGV[3] then return {'taken'} end
local old = redis.call('HGET', s, 'node')
local acct = redis.call('HGET', s, 'acct')
if ARGV[7] == '1' then acct = '1' end
redis.call('HSET', s, 'token', ARGV[5], 'node', node, 'acct', acct)
redis.call('SREM', 'b:node:' .. old .. ':s', owner)
redis.call('SADD', 'b:node:' .. node .. ':s', owner)
if old ~= node then redis.call('PUBLISH', 'b:node:' .. old, 'S' .. ns('0') .. ns('') .. ns(owner)) end
return {'resumed', owner, old, acct, redis.call('SCARD', 'b:online'), redis.call('SMEMBERS', s .. ':rooms'),
  redis.call('HGETALL', s .. ':ack'), redis.call('HGET', s, 'name')}
"#;

/// JOIN of a room: membership (PRESENCE joined to the others when new),
/// then the answer: the room's event number after it, the newest id, the
/// roster in join order, the joiner's marker, the replay page, and in a
/// room of at most 100 the other members' markers. ARGV: room, sid, name,
/// since, limit. Returns {added, ev, last, names, read, more, page,
/// flat name/marker pairs}.
const JOIN: &str = r#"
local room, sid = ARGV[1], ARGV[2]
local m = 'b:r:' .. room .. ':m'
local added = 0
if not redis.call('ZSCORE', m, sid) then
  added = 1
  redis.call('ZADD', m, redis.call('INCR', 'b:joinseq'), sid)
  redis.call('HSET', 'b:r:' .. room .. ':names', sid, ARGV[3])
  redis.call('SADD', 'b:s:' .. sid .. ':rooms', room)
  pub(room, 'P', ns(ARGV[3]) .. ns('1') .. ns('') .. ns(sid))
end
local ev = int(redis.call('GET', 'b:r:' .. room .. ':ev'))
local last = last_of(room)
local sids = redis.call('ZRANGE', m, 0, -1)
local names = names_of(room, sids)
local read = redis.call('HGET', mkkey(sid), 'r:' .. room) or '0'
local msgs, more = page(room, int(ARGV[4]), 0, int(ARGV[5]), last)
local marks = {}
if #sids <= 100 then
  for i, o in ipairs(sids) do
    local v = o ~= sid and redis.call('HGET', mkkey(o), 'r:' .. room)
    if v then marks[#marks + 1] = names[i]; marks[#marks + 1] = v end
  end
end
return {added, ev, last, names, read, more, msgs, marks}
"#;

/// JOIN of a conversation: no membership, the answer only. ARGV: internal
/// name, the joiner's key, the other's key, since, limit. Returns {ev,
/// last, read, more, page, the other's read, the other's delivered}.
const JOIN_CONV: &str = r#"
local room = ARGV[1]
local ev = int(redis.call('GET', 'b:r:' .. room .. ':ev'))
local last = last_of(room)
local mine = redis.call('HGET', 'b:mk:' .. ARGV[2], 'r:' .. room) or '0'
local msgs, more = page(room, int(ARGV[4]), 0, int(ARGV[5]), last)
local theirs = redis.call('HMGET', 'b:mk:' .. ARGV[3], 'r:' .. room, 'd:' .. room)
return {ev, last, mine, more, msgs, theirs[1] or '0', theirs[2] or '0'}
"#;

/// WHO: the roster in join order. ARGV: room.
const WHO: &str = r#"
return names_of(ARGV[1], redis.call('ZRANGE', 'b:r:' .. ARGV[1] .. ':m', 0, -1))
"#;

/// HISTORY: a page. ARGV: room, before, limit. Returns {more, page}.
const HISTORY: &str = r#"
local msgs, more = page(ARGV[1], 0, int(ARGV[2]), int(ARGV[3]), last_of(ARGV[1]))
return {more, msgs}
"#;

/// Messages after an id, to fill a gap: at most 1000. ARGV: room, after.
const AFTER: &str = r#"
local out = {}
local lo = str(int(ARGV[2]) + 1) .. '-0'
for _, e in ipairs(redis.call('XRANGE', 'b:r:' .. ARGV[1] .. ':log', lo, '+', 'COUNT', 1000)) do out[#out + 1] = e[2][4] end
return out
"#;

/// LEAVE: membership removed, PRESENCE left to the others. ARGV: room,
/// sid, name.
const LEAVE: &str = r#"
local room, sid = ARGV[1], ARGV[2]
if redis.call('ZREM', 'b:r:' .. room .. ':m', sid) == 1 then
  pub(room, 'P', ns(ARGV[3]) .. ns('2') .. ns('') .. ns(sid))
  left(room, sid)
end
redis.call('SREM', 'b:s:' .. sid .. ':rooms', room)
return 1
"#;

/// Ends a session for good (QUIT, a linger's end): it leaves every room
/// with PRESENCE, its name is free. Only while `node` owns it (a session
/// resumed elsewhere meanwhile is not ended). ARGV: sid, node, event,
/// reason.
const END: &str = r#"
if redis.call('HGET', 'b:s:' .. ARGV[1], 'node') ~= ARGV[2] then return 0 end
return finish(ARGV[1], ARGV[3], ARGV[4])
"#;

/// Renews this node's liveness. ARGV: node, ttl ms.
const RENEW: &str = r#"
redis.call('SET', 'b:node:' .. ARGV[1], '1', 'PX', ARGV[2])
redis.call('SADD', 'b:nodes', ARGV[1])
redis.call('DEL', 'b:dead:' .. ARGV[1])
return 1
"#;

/// Reaps dead nodes: one whose liveness key is gone is noted dead, and a
/// linger after that its sessions still there end with PRESENCE lost,
/// once, whichever node runs this first. ARGV: this node, linger ms.
/// Returns the sessions ended.
const REAP: &str = r#"
local t = redis.call('TIME')
local now = int(t[1]) * 1000 + math.floor(int(t[2]) / 1000)
local reaped = 0
for _, n in ipairs(redis.call('SMEMBERS', 'b:nodes')) do
  if n ~= ARGV[1] and redis.call('EXISTS', 'b:node:' .. n) == 0 then
    local since = int(redis.call('GET', 'b:dead:' .. n))
    if since == 0 then
      redis.call('SET', 'b:dead:' .. n, str(now))
      since = now
    end
    if now - since >= int(ARGV[2]) then
      for _, sid in ipairs(redis.call('SMEMBERS', 'b:node:' .. n .. ':s')) do
        if redis.call('HGET', 'b:s:' .. sid, 'node') == n then reaped = reaped + finish(sid, '4', '') end
      end
      redis.call('DEL', 'b:node:' .. n .. ':s', 'b:dead:' .. n)
      redis.call('SREM', 'b:nodes', n)
    end
  end
end
return reaped
"#;

/// Whenever a node's command link comes up (its start, or Redis back
/// after a loss): the sessions Redis holds for this node id that the node
/// does not (an earlier run's, or ones whose end or claim was lost with
/// the link) end with PRESENCE lost. ARGV: node, then the sids it keeps.
const ORPHANS: &str = r#"
local keep = {}
for i = 2, #ARGV do keep[ARGV[i]] = true end
local ended = 0
for _, sid in ipairs(redis.call('SMEMBERS', 'b:node:' .. ARGV[1] .. ':s')) do
  if not keep[sid] and redis.call('HGET', 'b:s:' .. sid, 'node') == ARGV[1] then
    ended = ended + finish(sid, '4', '')
  end
end
return ended
"#;

/// Publishes a numbered event (TYPING, READ). ARGV: room, kind, body.
const PUBLISH: &str = r#"
return pub(ARGV[1], ARGV[2], ARGV[3])
"#;

/// MARK: moves the marker forward (a value past the newest id is the
/// newest id). ARGV: room, sid, id. Returns {new marker or 0, members}.
const MARK: &str = r#"
local room = ARGV[1]
local id = math.min(int(ARGV[3]), last_of(room))
local k = mkkey(ARGV[2])
if id <= int(redis.call('HGET', k, 'r:' .. room)) then return {0, 0} end
redis.call('HSET', k, 'r:' .. room, str(id))
return {id, redis.call('ZCARD', 'b:r:' .. room .. ':m')}
"#;

/// DELIVERED: stores how far a party was handed a conversation and, when
/// `tell` is 1, tells the author's nodes. ARGV: room, party key, author
/// key, id, tell.
const DELIVERED: &str = r#"
local k = 'b:mk:' .. ARGV[2]
if int(ARGV[4]) > int(redis.call('HGET', k, 'd:' .. ARGV[1])) then
  redis.call('HSET', k, 'd:' .. ARGV[1], ARGV[4])
end
if ARGV[5] == '1' then
  redis.call('PUBLISH', 'b:u:' .. ARGV[3], 'D' .. ns('0') .. ns(ARGV[1]) .. ns(ARGV[4]) .. ns(ARGV[2]))
end
return 1
"#;

/// After WELCOME of an account: per conversation with messages from the
/// other party past the marker, {name, count, last, read}. ARGV: key.
const UNREAD: &str = r#"
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', 'b:conv:' .. ARGV[1])) do
  local last = last_of(room)
  local read = int(redis.call('HGET', 'b:mk:' .. ARGV[1], 'r:' .. room))
  if last > read then
    local me = string.lower(string.match(redis.call('HGET', 'b:acct', ARGV[1]) or ARGV[1], '^[^\t]*'))
    local count = 0
    for _, e in ipairs(redis.call('XRANGE', 'b:r:' .. room .. ':log', str(read + 1) .. '-0', '+')) do
      if string.lower(e[2][2]) ~= me then count = count + 1 end
    end
    if count > 0 then out[#out + 1] = {room, count, last, read} end
  end
end
return out
"#;

/// An account, if registered. ARGV: key. Returns "Name\tphc" or nil.
const ACCOUNT: &str = r#"
return redis.call('HGET', 'b:acct', ARGV[1])
"#;

/// REGISTER (and an account made at login): stores it unless the name is
/// registered already; the session, if any, is signed in from now on.
/// ARGV: key, "Name\tphc", sid (0: none). Returns 1 or 0.
const REGISTER: &str = r#"
if redis.call('HSETNX', 'b:acct', ARGV[1], ARGV[2]) == 0 then return 0 end
if ARGV[3] ~= '0' then redis.call('HSET', 'b:s:' .. ARGV[3], 'acct', '1') end
return 1
"#;

/// What FETCH and UPLOAD need of a file and an account: the rooms the
/// file was posted in, its "size mime", the account's stored bytes.
/// ARGV: hash, account key.
const FILES: &str = r#"
return {redis.call('SMEMBERS', 'b:f:' .. ARGV[1]), redis.call('GET', 'b:fm:' .. ARGV[1]) or '',
  redis.call('HGET', 'b:used', ARGV[2]) or '0'}
"#;

/// Which script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    Say,
    Lookup,
    Claim,
    Join,
    JoinConv,
    Who,
    History,
    After,
    Leave,
    End,
    Renew,
    Reap,
    Orphans,
    Publish,
    Mark,
    Delivered,
    Unread,
    Account,
    Register,
    Files,
}

/// Every script, in [`Script`] order, without its prelude.
const ALL: [&str; 20] = [
    SAY, LOOKUP, CLAIM, JOIN, JOIN_CONV, WHO, HISTORY, AFTER, LEAVE, END, RENEW, REAP, ORPHANS,
    PUBLISH, MARK, DELIVERED, UNREAD, ACCOUNT, REGISTER, FILES,
];

/// Every script with its prelude, in [`Script`] order.
pub fn sources() -> Vec<String> {
    ALL.iter().map(|s| format!("{PRELUDE}{s}")).collect()
}
