//! Envelopes: the unit that travels through mailboxes and ports.
//!
//! The body is JSON text produced by the sending JS thread; the core never parses it on the
//! hot path. A batch handed to a JS thread is one JSON array text `[[kind,from,corr,body],…]`
//! so the receiver decodes a whole batch with a single `JSON.parse`.

/// What an envelope is for. The numeric values are part of the wire format with the JS layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A user message enqueued with `receive` or `ctx.send` (mailbox).
    User = 0,
    /// A request that expects a reply (mailbox); `corr` routes the reply.
    Call = 1,
    /// A system notification (`DOWN`, `EXIT`, `INBOX`) queued in the mailbox.
    System = 2,
    /// The answer to a `Call` (urgent queue of the caller's port). Body `[1,value]` or `[0,reason]`.
    Reply = 3,
    /// Start an incarnation on a worker thread (urgent queue). Body: the start descriptor.
    Init = 4,
    /// Ask an actor to stop politely (urgent queue). Body: the reason as a JSON string.
    Stop = 5,
    /// Host event: an actor emitted a Tier 1 message with `self.send` (body `[msg,data]`).
    Emit = 10,
    /// Host event: an actor reported its own end (body: the reason as a JSON string).
    Exit = 11,
    /// Host event: the per-message deadline of an actor passed (from the timer thread).
    Timeout = 12,
    /// Host event: an actor asks the host to act for it (spawn, terminate a child…).
    Request = 13,
    /// Host event: a message could not be delivered. `from` is its sender, `corr` the target,
    /// body `[reason,message]`.
    DeadLetter = 14,
    /// Host event: a monitor fired. `from` is the watched actor, `corr` the watcher, body the
    /// `DOWN` message.
    Down = 15,
    /// A write request that waited got its box (body `[index,epoch]`) or timed out (body
    /// `null`); urgent, to the writer's port, `corr` = the request.
    BoxGrant = 16,
    /// Host event: a lease expired. `from` is the holder, body `[index,epoch,"writer"|"reader"]`.
    LeaseExpired = 17,
    /// A reader's lease on a box expired: detach its views and release it (urgent, body
    /// `[index,epoch]`).
    Revoke = 18,
    /// Host event: the JS environment of an actor's thread was torn down (no more of its code
    /// can run), usually a few ms before the runtime reports the worker's exit. `from` is the
    /// actor, `corr` its incarnation, body the port id.
    ThreadEnded = 19,
    /// Host event: the core caught a panic of its own (a bug in warden) and went on. `from` and
    /// `corr` are 0, body the reason `internal panic: <where>: <message>` as a JSON string.
    Panic = 20,
}

/// Added to the kind of an envelope whose body is `undefined`.
pub const UNDEFINED_BODY: u8 = 64;

/// One message with its routing header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    /// What the envelope is for.
    pub kind: Kind,
    /// Sender actor id; 0 for the host or the system.
    pub from: u64,
    /// Correlation id (calls and replies), or the incarnation for host events about an actor.
    pub corr: u64,
    /// JSON text; empty means `undefined`.
    pub body: String,
    /// For calls: the port the reply goes to (0 when no reply is expected).
    pub reply_to: u64,
    /// When a sampled message was queued (the tracker's clock, ns); 0 when not sampled.
    pub stamp: u64,
}

impl Envelope {
    /// Builds an envelope.
    pub fn new(kind: Kind, from: u64, corr: u64, body: impl Into<String>) -> Self {
        Envelope {
            kind,
            from,
            corr,
            body: body.into(),
            reply_to: 0,
            stamp: 0,
        }
    }

    /// A call whose reply goes to `reply_to` with correlation id `corr`.
    pub fn call(from: u64, corr: u64, body: impl Into<String>, reply_to: u64) -> Self {
        Envelope {
            reply_to,
            ..Envelope::new(Kind::Call, from, corr, body)
        }
    }

    /// Appends `[kind,from,corr,body]` to `out` (calls add their reply port:
    /// `[kind,from,corr,body,reply_to]`). An empty body (JS `undefined`, which JSON cannot
    /// express) is written as `null` with [`UNDEFINED_BODY`] added to the kind.
    pub fn write_json(&self, out: &mut String) {
        let undefined = self.body.is_empty();
        let kind = self.kind as u8 + if undefined { UNDEFINED_BODY } else { 0 };
        out.push('[');
        push_u64(out, u64::from(kind));
        out.push(',');
        push_u64(out, self.from);
        out.push(',');
        push_u64(out, self.corr);
        out.push(',');
        out.push_str(if undefined { "null" } else { &self.body });
        if self.reply_to != 0 {
            out.push(',');
            push_u64(out, self.reply_to);
        }
        out.push(']');
    }
}

impl Envelope {
    /// Appends what a pool worker needs of this message to a flat batch (see
    /// [`crate::pooled`]): `kind,body`, and for a call `kind,body,corr,reply_to`. No array per
    /// message: a JSON parser builds one per array it reads, and a batch holds many messages.
    /// An empty body is written as `null` with [`UNDEFINED_BODY`] added to the kind.
    pub fn write_flat(&self, out: &mut String) {
        let undefined = self.body.is_empty();
        let kind = self.kind as u8 + if undefined { UNDEFINED_BODY } else { 0 };
        push_u64(out, u64::from(kind));
        out.push(',');
        out.push_str(if undefined { "null" } else { &self.body });
        if self.kind == Kind::Call {
            out.push(',');
            push_u64(out, self.corr);
            out.push(',');
            push_u64(out, self.reply_to);
        }
    }
}

/// Appends the decimal digits of `n` to `out`: what `write!(out, "{}", n)` does, without the
/// formatting machinery (a batch writes three or more numbers per message).
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default()); // (ASCII digits)
}

/// Encodes a batch of envelopes as one JSON array text.
pub fn batch_json<'a>(items: impl IntoIterator<Item = &'a Envelope>) -> String {
    let mut out = String::with_capacity(64);
    out.push('[');
    for (i, e) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        e.write_json(&mut out);
    }
    out.push(']');
    out
}

/// JSON text of a string value (used for reasons).
pub fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An undefined body is flagged in the kind.
    #[test]
    fn batch_is_valid_json() {
        let a = Envelope::new(Kind::User, 0, 0, r#"{"a":1}"#);
        let b = Envelope::call(7, 9, "", 3);
        let text = batch_json([&a, &b]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            v,
            serde_json::json!([[0, 0, 0, {"a": 1}], [65, 7, 9, null, 3]])
        );
    }

    /// The digits written are those of `Display`, at the edges too.
    #[test]
    fn numbers_are_written_as_decimal_digits() {
        for n in [0, 1, 9, 10, 99, 100, 4_294_967_296, (1 << 53) - 1, u64::MAX] {
            let mut out = String::from("x");
            push_u64(&mut out, n);
            assert_eq!(out, format!("x{n}"));
        }
    }

    /// A flat batch entry: kind and body, and a call's correlation id and reply port.
    #[test]
    fn flat_entries_carry_what_a_pool_worker_needs() {
        let mut out = String::from("[");
        Envelope::new(Kind::User, 4, 0, r#"{"a":1}"#).write_flat(&mut out);
        out.push(',');
        Envelope::call(7, 9, "", 3).write_flat(&mut out);
        out.push(',');
        Envelope::new(Kind::System, 0, 0, "[1]").write_flat(&mut out);
        out.push(']');
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v, serde_json::json!([0, {"a": 1}, 65, null, 9, 3, 2, [1]]));
    }

    #[test]
    fn reason_is_escaped() {
        assert_eq!(json_string("error: \"x\""), r#""error: \"x\"""#);
    }
}
