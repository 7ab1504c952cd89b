//! Server basics: start-up and the handshake.

use banter_proto::Frame;
use banter_tests::*;

#[test]
fn hello_gets_welcome() {
    let s = Server::start(&[]);
    let mut c = s.connect();
    c.hello("ada", "", 0);
    match c.expect_welcome() {
        Frame::Welcome {
            version,
            name,
            token,
            resumed,
            ..
        } => {
            assert_eq!((version, name.as_str(), resumed), (1, "ada", 0));
            assert_ne!(token, 0);
        }
        _ => unreachable!(),
    }
}
