//! `banter`: the terminal client of the Banter chat system. Parses the
//! command line and runs the full-screen UI on a terminal, line mode otherwise.

mod actions;
mod apply;
mod args;
mod clock;
mod commands;
mod config;
mod conn;
mod editor;
mod inbound;
mod keys;
mod layout;
mod linefmt;
mod linemode;
mod logfile;
mod marks;
mod net;
mod reconnect;
mod render;
mod sanitize;
mod scroll;
mod secret;
mod session;
mod status;
mod stdin;
mod term;
mod tls;
mod transfer;
mod tui;
mod tui_keys;
mod tui_submit;
mod view;
mod width;

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv, &args::Env::from_process()) {
        Ok(args::Parsed::Run(a)) => a,
        Ok(args::Parsed::Print(text)) => {
            println!("{text}");
            return;
        }
        Err(e) => {
            eprintln!("banter: {e} (try --help)");
            std::process::exit(2);
        }
    };
    let tls = match args.tls.then(|| tls::TlsTarget::new(&args.host, args.ca.as_deref())) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("banter: {e}");
            std::process::exit(2);
        }
    };
    let code = if stdin::is_tty(0) && stdin::is_tty(1) {
        tui::run(args, tls)
    } else {
        linemode::run(args, tls)
    };
    std::process::exit(code);
}
