use clap::Parser;

fn main() {
    let cli = opsdeck::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("opsdeck: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(opsdeck::cli::main(cli));
    // Pollers may be mid-request: do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    if let Some(sig) = opsdeck::runtime::exit_signal() {
        opsdeck::runtime::terminal::raise_default(sig);
    }
    std::process::exit(code);
}
