//! SAY, TYPING and receipts in a cluster. A SAY (or a finished upload) is
//! one script: the id, the log entry, the publication and the ACK memory
//! in one atomic step; its ACK goes out when Redis answered, and its MSGs
//! reach every node (this one too) on the room's channel, so each member
//! sees one order. A repeated seq is answered from Redis' ACK memory, so
//! a resend after a crash or a lost reply is never stored twice. TYPING
//! and READ are published; DELIVERED is stored and sent to the author's
//! nodes.

use super::{arg, clamp_id, Wait};
use crate::cluster::event::Event;
use crate::cluster::resp::Value;
use crate::cluster::scripts::Script;
use crate::core::handlers::ReceiptKind;
use crate::core::session::Ack;
use crate::core::Core;
use banter_proto::validate::name_key;
use banter_proto::{types, ErrorCode, FileRef};

/// A SAY between its script and its ACK.
#[derive(Debug)]
pub(in crate::core) struct Saying {
    /// The sender session and its uid and global id.
    s: u32,
    uid: u64,
    sid: u64,
    /// The SAY's (or UPLOAD's) seq.
    seq: u32,
    /// For a file: the file and its sender's name, for the local index.
    file: Option<(FileRef, String)>,
}

impl Core {
    /// A SAY whose seq is on its way to Redis already: it gets the same
    /// ACK when that one is answered. True if so.
    pub(in crate::core) fn c_repeat(&mut self, s: u32, seq: u32) -> bool {
        let sid = self.sessions[s as usize].sid;
        match self.cl().saying.get_mut(&(sid, seq)) {
            Some(n) => {
                *n += 1;
                true
            }
            None => false,
        }
    }

    /// An accepted message of session `s` in room `r`: stored by Redis.
    pub(in crate::core) fn c_say(
        &mut self,
        s: u32,
        seq: u32,
        r: u32,
        text: Box<str>,
        flags: u8,
        file: Option<Box<FileRef>>,
    ) {
        let session = &self.sessions[s as usize];
        let (sid, uid, from) = (session.sid, session.uid, session.name.to_string());
        let room = self.rooms[r as usize].name.to_string();
        let file = file.map(|f| *f);
        let ev = Event::Msg {
            id: 0,
            ts: self.wall,
            from: from.clone(),
            flags,
            text: text.into(),
            sid,
            file: file.clone(),
        };
        let mut args = vec![arg(&room), arg(sid), arg(seq), arg(&from), arg(self.wall), ev.body()];
        if let Some(f) = &file {
            let key = name_key(&from);
            args.extend([
                arg(&f.file),
                arg(format!("{} {}", f.size, f.mime)),
                arg(key),
                arg(f.size),
            ]);
        }
        self.cl().saying.insert((sid, seq), 0);
        let file = file.map(|f| (f, from));
        self.eval(Script::Say, args, Wait::Say(Saying { s, uid, sid, seq, file }));
    }

    pub(super) fn on_said(&mut self, x: Saying, v: Value) {
        let repeats = self.cl().saying.remove(&(x.sid, x.seq)).unwrap_or(0);
        let items = v.items();
        let ack = items.get(1).and_then(Value::as_str).and_then(|a| parse_ack(x.seq, a));
        let Some(ack) = ack else { return self.say_failed_n(&x, "an unreadable answer", repeats) };
        if items.first().and_then(Value::as_int) == Some(1) {
            self.counters.messages += 1;
            if let Some((f, from)) = &x.file {
                self.file_posted(&ack.room, f, from);
            }
        }
        if let Some(p) = self.live(x.s, x.uid) {
            for _ in 0..=repeats {
                self.send_ack(p, &ack);
            }
        }
        if let Some(session) = self.sessions.get_mut(x.s as usize).filter(|y| y.uid == x.uid) {
            session.acks.push(ack);
        }
    }

    pub(super) fn say_failed(&mut self, x: Saying, why: &str) {
        let repeats = self.cl().saying.remove(&(x.sid, x.seq)).unwrap_or(0);
        self.say_failed_n(&x, why, repeats);
    }

    fn say_failed_n(&mut self, x: &Saying, why: &str, repeats: u32) {
        let Some(p) = self.live(x.s, x.uid) else { return };
        let about = if x.file.is_some() { types::UPLOAD } else { types::SAY };
        let detail = format!("message not stored: {why}");
        for _ in 0..=repeats {
            self.send_error(p, ErrorCode::Storage, about, x.seq, &detail);
        }
    }

    /// TYPING of `s` in `r`, to every node with members there.
    pub(in crate::core) fn c_typing(&mut self, s: u32, r: u32, active: u8) {
        let session = &self.sessions[s as usize];
        let body =
            Event::Typing { name: session.name.to_string(), active, sid: session.sid }.body();
        let room = self.rooms[r as usize].name.to_string();
        self.eval(Script::Publish, vec![arg(room), arg("T"), body], Wait::Nothing);
    }

    /// A paced receipt goes out: READ to the room's nodes, DELIVERED
    /// stored and sent to the author's.
    pub(in crate::core) fn c_receipt(&mut self, kind: ReceiptKind, r: u32, who: u32, id: u64) {
        let room = self.rooms[r as usize].name.to_string();
        match kind {
            ReceiptKind::Read => {
                let Some(reader) = self.sessions.get(who as usize) else { return };
                let body =
                    Event::Read { name: reader.name.to_string(), id, sid: reader.sid }.body();
                self.eval(Script::Publish, vec![arg(room), arg("R"), body], Wait::Nothing);
            }
            ReceiptKind::Delivered => {
                let Some(d) = self.rooms[r as usize].direct.as_ref() else { return };
                let (party, author) =
                    (d.keys[who as usize].to_string(), d.keys[1 - who as usize].to_string());
                let args = vec![arg(room), arg(party), arg(author), arg(id), arg(1)];
                self.eval(Script::Delivered, args, Wait::Nothing);
            }
        }
    }

    /// Markers moved this turn (deliveries between paced receipts): stored.
    pub(in crate::core) fn c_store_marks(&mut self) {
        for m in std::mem::take(&mut self.marks_out) {
            let Some(d) = crate::core::room::Direct::from_name(&m.room) else { continue };
            let Some(author) = d.keys.iter().find(|k| ***k != *m.account) else { continue };
            if m.delivered > 0 {
                let args =
                    vec![arg(&m.room), arg(&m.account), arg(author), arg(m.delivered), arg(0)];
                self.eval(Script::Delivered, args, Wait::Nothing);
            }
        }
    }

    /// MARK of `s` in `r` (a member): moved in Redis, READ paced from here.
    pub(in crate::core) fn c_mark(&mut self, s: u32, r: u32, id: u64) {
        let session = &self.sessions[s as usize];
        let (sid, uid) = (session.sid, session.uid);
        let room = self.rooms[r as usize].name.to_string();
        self.eval(
            Script::Mark,
            vec![arg(room), arg(sid), arg(clamp_id(id))],
            Wait::Mark { s, uid, r },
        );
    }

    pub(super) fn on_marked(&mut self, s: u32, uid: u64, r: u32, v: Value) {
        let items = v.items();
        let id = items.first().and_then(Value::as_int).unwrap_or(0).max(0) as u64;
        let members = items.get(1).and_then(Value::as_int).unwrap_or(0).max(0) as usize;
        let live = self.sessions.get(s as usize).is_some_and(|x| x.uid == uid);
        let Some(room) = self.rooms.get(r as usize).filter(|_| live && id > 0) else { return };
        if room.direct.is_some() || members <= crate::core::handlers::READ_MAX_MEMBERS {
            self.pace(ReceiptKind::Read, r, s, id);
        }
    }
}

/// An ACK remembered by Redis ("id ts room") for `seq`.
pub(super) fn parse_ack(seq: u32, a: &str) -> Option<Ack> {
    let mut it = a.splitn(3, ' ');
    let id = it.next()?.parse().ok()?;
    let ts = it.next()?.parse().ok()?;
    Some(Ack { seq, room: it.next()?.into(), id, ts })
}
