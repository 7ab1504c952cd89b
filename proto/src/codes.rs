//! The error codes of `ERROR.code` (version 1 and its extensions) and which
//! of them end the connection.
//!
//! This module only names codes; deciding when to send one is the server's.

/// Every error code of protocol version 1 (§4 of the spec) and of its
/// extensions (§7–§10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ErrorCode {
    BadFrame = 1,
    TooLarge = 2,
    BadVersion = 3,
    HelloFirst = 4,
    NameInvalid = 5,
    NameTaken = 6,
    AuthFailed = 7,
    ServerFull = 8,
    Timeout = 9,
    ShuttingDown = 10,
    SlowConsumer = 11,
    RoomInvalid = 12,
    NotInRoom = 13,
    TextInvalid = 14,
    RateLimited = 15,
    UnknownType = 16,
    TooManyRooms = 17,
    AlreadyRegistered = 18,
    Superseded = 19,
    AuthRequired = 20,
    PasswordWeak = 21,
    Storage = 22,
    TlsRequired = 23,
    NoSuchUser = 24,
    FileRefused = 25,
    FileUnknown = 26,
}

impl ErrorCode {
    /// All codes, in numeric order.
    pub const ALL: [ErrorCode; 26] = [
        Self::BadFrame,
        Self::TooLarge,
        Self::BadVersion,
        Self::HelloFirst,
        Self::NameInvalid,
        Self::NameTaken,
        Self::AuthFailed,
        Self::ServerFull,
        Self::Timeout,
        Self::ShuttingDown,
        Self::SlowConsumer,
        Self::RoomInvalid,
        Self::NotInRoom,
        Self::TextInvalid,
        Self::RateLimited,
        Self::UnknownType,
        Self::TooManyRooms,
        Self::AlreadyRegistered,
        Self::Superseded,
        Self::AuthRequired,
        Self::PasswordWeak,
        Self::Storage,
        Self::TlsRequired,
        Self::NoSuchUser,
        Self::FileRefused,
        Self::FileUnknown,
    ];

    /// The code as it travels in `ERROR.code`.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The code for a number, `None` for one this version does not know.
    pub fn from_code(code: u16) -> Option<Self> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// Whether the server closes the connection after sending this error.
    /// `BadFrame` is fatal only for `len = 0` (and before WELCOME), and
    /// `AuthRequired` is not fatal for a direct message (§8): the sender
    /// decides those.
    pub fn is_fatal(self) -> bool {
        matches!(
            self,
            Self::TooLarge
                | Self::BadVersion
                | Self::HelloFirst
                | Self::NameInvalid
                | Self::NameTaken
                | Self::AuthFailed
                | Self::ServerFull
                | Self::Timeout
                | Self::ShuttingDown
                | Self::SlowConsumer
                | Self::Superseded
                | Self::AuthRequired
                | Self::TlsRequired
        )
    }

    /// The spec's upper-case name, e.g. `NOT_IN_ROOM`.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadFrame => "BAD_FRAME",
            Self::TooLarge => "TOO_LARGE",
            Self::BadVersion => "BAD_VERSION",
            Self::HelloFirst => "HELLO_FIRST",
            Self::NameInvalid => "NAME_INVALID",
            Self::NameTaken => "NAME_TAKEN",
            Self::AuthFailed => "AUTH_FAILED",
            Self::ServerFull => "SERVER_FULL",
            Self::Timeout => "TIMEOUT",
            Self::ShuttingDown => "SHUTTING_DOWN",
            Self::SlowConsumer => "SLOW_CONSUMER",
            Self::RoomInvalid => "ROOM_INVALID",
            Self::NotInRoom => "NOT_IN_ROOM",
            Self::TextInvalid => "TEXT_INVALID",
            Self::RateLimited => "RATE_LIMITED",
            Self::UnknownType => "UNKNOWN_TYPE",
            Self::TooManyRooms => "TOO_MANY_ROOMS",
            Self::AlreadyRegistered => "ALREADY_REGISTERED",
            Self::Superseded => "SUPERSEDED",
            Self::AuthRequired => "AUTH_REQUIRED",
            Self::PasswordWeak => "PASSWORD_WEAK",
            Self::Storage => "STORAGE",
            Self::TlsRequired => "TLS_REQUIRED",
            Self::NoSuchUser => "NO_SUCH_USER",
            Self::FileRefused => "FILE_REFUSED",
            Self::FileUnknown => "FILE_UNKNOWN",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_dense() {
        for (i, c) in ErrorCode::ALL.iter().enumerate() {
            assert_eq!(c.code() as usize, i + 1);
            assert_eq!(ErrorCode::from_code(c.code()), Some(*c));
        }
        assert_eq!(ErrorCode::from_code(0), None);
        assert_eq!(ErrorCode::from_code(27), None);
    }

    #[test]
    fn fatal_column_matches_spec() {
        let fatal: Vec<u16> =
            ErrorCode::ALL.iter().filter(|c| c.is_fatal()).map(|c| c.code()).collect();
        assert_eq!(fatal, vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19, 20, 23]);
    }
}
