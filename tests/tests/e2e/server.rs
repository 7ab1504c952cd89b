//! Server basics, and the map of which test covers which error code of the
//! spec (§4 "Limits and errors"), with its fatal/non-fatal rule: a fatal
//! code is checked with `expect_fatal` (the ERROR, then only the close), a
//! non-fatal one with `expect_error` followed by more traffic on the same
//! connection.
//!
//! | code | name | fatal | covered by |
//! |---|---|---|---|
//! | 1 | BAD_FRAME | no (yes for len 0) | handshake::malformed_hello_is_a_fatal_bad_frame (fatal before WELCOME), handshake::second_hello_is_a_non_fatal_bad_frame, limits::malformed_bodies_after_welcome_are_non_fatal_bad_frames, limits::len_zero_is_a_fatal_bad_frame_about_0 |
//! | 2 | TOO_LARGE | yes | limits::before_welcome_1024_is_the_limit, limits::after_welcome_max_frame_is_the_limit |
//! | 3 | BAD_VERSION | yes | handshake::bad_version_is_checked_first_and_fatal, handshake::checks_run_in_the_spec_order |
//! | 4 | HELLO_FIRST | yes | handshake::any_first_frame_but_hello_is_hello_first |
//! | 5 | NAME_INVALID | yes | handshake::invalid_names_are_refused_fatally |
//! | 6 | NAME_TAKEN | yes | handshake::name_taken_case_insensitively_and_the_owner_is_unaffected, accounts::name_taken_is_checked_before_the_password, sessions::resume_within_the_linger_keeps_rooms_and_sends_no_presence (lingering) |
//! | 7 | AUTH_FAILED | yes | accounts::a_registered_name_needs_its_password, accounts::a_resume_of_a_registered_name_checks_the_password_too |
//! | 8 | SERVER_FULL | yes | limits::server_full_refuses_the_extra_connection, limits::max_clients_comes_from_the_environment_too, slow::a_closing_connection_no_longer_counts_toward_max_clients |
//! | 9 | TIMEOUT | yes | heartbeat::a_client_that_never_answers_is_dropped_with_timeout, handshake::unfinished_handshake_times_out_after_heartbeat_ms, sessions::a_timed_out_connection_lingers_and_resumes |
//! | 10 | SHUTTING_DOWN | yes | shutdown::sigterm_says_shutting_down_to_everyone_and_exits_0, shutdown::sigint_does_the_same |
//! | 11 | SLOW_CONSUMER | yes | slow::a_never_reading_client_is_dropped_and_others_keep_up, slow::a_closing_connection_no_longer_counts_toward_max_clients |
//! | 12 | ROOM_INVALID | no | rooms::invalid_room_names |
//! | 13 | NOT_IN_ROOM | no | rooms::invalid_room_names, rooms::leave_answers_left_and_tells_the_others, messages::not_in_room_is_checked_before_text_invalid, history::history_of_a_room_not_joined_is_not_in_room, typing::typing_outside_a_room_is_not_in_room |
//! | 14 | TEXT_INVALID | no | messages::text_rules_are_enforced_with_the_seq, messages::not_in_room_is_checked_before_text_invalid |
//! | 15 | RATE_LIMITED | no | limits::rate_limit_refuses_beyond_the_burst_then_refills, messages::rate_limited_is_checked_before_not_in_room |
//! | 16 | UNKNOWN_TYPE | no | limits::unknown_types_are_skipped_with_unknown_type |
//! | 17 | TOO_MANY_ROOMS | no | rooms::the_101st_room_is_too_many |
//! | 18 | ALREADY_REGISTERED | no | accounts::register_binds_the_name_once |
//! | 19 | SUPERSEDED | yes | sessions::takeover_supersedes_the_open_connection_silently_for_others |
//! | 20 | AUTH_REQUIRED | yes | NOT HERE: needs --accounts-only, which needs --db (the SQLite tests) |
//! | 21 | PASSWORD_WEAK | no | accounts::register_binds_the_name_once |
//! | 22 | STORAGE | no | NOT HERE: a database failure (the SQLite tests) |
//! | 25 | FILE_REFUSED | no | files::every_refusal_has_its_code |
//! | 26 | FILE_UNKNOWN | no | files::every_refusal_has_its_code, files::only_members_may_fetch |
//! | 24 | NO_SUCH_USER | no | direct::two_accounts_talk_privately_and_others_are_refused |
//! | 23 | TLS_REQUIRED | yes | tls::passwords_travel_only_over_tls_outside_trust_plain, tls::require_tls_refuses_plain_connections_and_http |
//!
//! (Module names above drop the `server_` prefix.)

use banter_proto::{ErrorCode, ServerFrame};
use banter_tests::*;

#[test]
fn hello_gets_welcome() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.hello("ada", "", 0);
    match c.expect_welcome() {
        ServerFrame::Welcome { version, name, token, resumed, .. } => {
            assert_eq!((version, name.as_str(), resumed), (1, "ada", 0));
            assert_ne!(token, 0);
        }
        _ => unreachable!(),
    }
}

/// The codes this suite covers, and the two it leaves to the SQLite tests;
/// fails if the spec's list and this map drift apart.
#[test]
fn every_error_code_is_accounted_for() {
    let covered: [u16; 24] =
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 23, 24, 25, 26];
    let elsewhere = [ErrorCode::AuthRequired, ErrorCode::Storage];
    for c in ErrorCode::ALL {
        let here = covered.contains(&c.code());
        assert!(here != elsewhere.contains(&c), "{c} listed twice or not at all");
    }
    let fatal: Vec<u16> = covered
        .iter()
        .filter(|&&n| ErrorCode::from_code(n).is_some_and(|c| c.is_fatal()))
        .copied()
        .collect();
    assert_eq!(fatal, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 19, 23], "spec's fatal column");
}
