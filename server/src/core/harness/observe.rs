//! What the harness's peers were sent, checked as it arrives: whole,
//! decodable frames; no live MSG for a room the peer is not in; within a
//! room, the ids a member learns live (MSGs of others, ACKs of its own)
//! follow on from JOINED's `last_id` without a gap; each history answer's
//! HISTORY_END counts its MSGs.

use banter_proto::{check, decode_server, ServerFrame};
use std::collections::{BTreeSet, HashMap};

/// A room as one peer sees it.
#[derive(Debug, Default, Clone)]
pub struct Track {
    /// JOINED's `last_id`, if the peer got a JOINED (an inherited
    /// membership after a resume is not tracked for gaps).
    pub base: Option<u64>,
    /// Ids learnt live since.
    pub seen: BTreeSet<u64>,
}

/// One peer's view of the stream.
#[derive(Debug, Default)]
pub struct View {
    /// Bytes not yet a whole frame.
    buf: Vec<u8>,
    /// Its session's name and token, after WELCOME.
    pub welcome: Option<(String, u64, bool)>,
    /// Rooms it is in, as far as it was told.
    pub rooms: HashMap<String, Track>,
    /// History MSGs since the last HISTORY_END.
    replayed: u16,
    /// Whether it was sent a fatal ERROR.
    pub fatal: bool,
    /// Rooms this view was told it joined or left: after a resume, the
    /// session's other rooms carried over untold, so a MSG of a room never
    /// mentioned here is taken as a membership that carried over.
    told: std::collections::HashSet<String>,
}

impl View {
    /// Takes bytes the peer's transport wrote; returns the frames they
    /// complete, or why the stream is broken.
    pub fn take(&mut self, bytes: &[u8]) -> Result<Vec<ServerFrame>, String> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut at = 0;
        while at < self.buf.len() {
            match check(&self.buf[at..], u32::MAX) {
                Ok(n) => {
                    let f = decode_server(&self.buf[at..at + n])
                        .map_err(|e| format!("undecodable frame: {e}"))?;
                    self.see(&f)?;
                    frames.push(f);
                    at += n;
                }
                Err(banter_proto::DecodeError::Incomplete) => break,
                Err(e) => return Err(format!("framing: {e}")),
            }
        }
        self.buf.drain(..at);
        Ok(frames)
    }

    fn see(&mut self, f: &ServerFrame) -> Result<(), String> {
        match f {
            ServerFrame::Welcome { name, token, resumed, .. } => {
                self.welcome = Some((name.clone(), *token, *resumed == 1));
            }
            ServerFrame::Joined { room, last_id, .. } => {
                let t = Track { base: Some(*last_id), seen: BTreeSet::new() };
                self.rooms.insert(room.clone(), t);
                self.told.insert(room.clone());
            }
            ServerFrame::Left { room } => {
                self.rooms.remove(room);
                self.told.insert(room.clone());
            }
            ServerFrame::Msg { room, id, flags, .. } if flags & 1 == 0 => {
                let resumed = self.welcome.as_ref().is_some_and(|w| w.2);
                // A conversation's parties are its members without a JOIN.
                if room.starts_with('@') || resumed && !self.told.contains(room) {
                    self.rooms.entry(room.clone()).or_default(); // carried over
                }
                let Some(t) = self.rooms.get_mut(room) else {
                    return Err(format!("MSG {id} of {room} to a non-member"));
                };
                learn(t, *id, room)?;
            }
            ServerFrame::Msg { .. } => self.replayed = self.replayed.saturating_add(1),
            ServerFrame::HistoryEnd { count, room, .. } => {
                if *count != self.replayed {
                    return Err(format!(
                        "HISTORY_END of {room} counts {count}, sent {}",
                        self.replayed
                    ));
                }
                self.replayed = 0;
            }
            ServerFrame::Ack { room, id, .. } => {
                if let Some(t) = self.rooms.get_mut(room) {
                    if t.base.is_some_and(|b| *id > b) {
                        t.seen.insert(*id);
                    }
                }
            }
            ServerFrame::Error { code, .. } => {
                let fatal = banter_proto::ErrorCode::from_code(*code).is_some_and(|c| c.is_fatal());
                self.fatal |= fatal;
            }
            _ => {}
        }
        Ok(())
    }

    /// Once everything owed was read: each tracked room's ids are gapless.
    pub fn gapless(&self) -> Result<(), String> {
        for (room, t) in &self.rooms {
            let Some(base) = t.base else { continue };
            let want = (base + 1..=base + t.seen.len() as u64).collect::<BTreeSet<_>>();
            if t.seen != want {
                return Err(format!("ids of {room} after {base}: {:?}", t.seen));
            }
        }
        Ok(())
    }
}

/// A live MSG id for a tracked room.
fn learn(t: &mut Track, id: u64, room: &str) -> Result<(), String> {
    if let Some(base) = t.base {
        if id <= base || !t.seen.insert(id) {
            return Err(format!("MSG {id} of {room} again or from before JOINED ({base})"));
        }
    }
    Ok(())
}
