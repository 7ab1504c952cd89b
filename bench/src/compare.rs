//! placeholder replaced below
pub fn main(_args: &[String]) -> Result<std::process::ExitCode, String> {
    Err("compare: not built yet".into())
}
